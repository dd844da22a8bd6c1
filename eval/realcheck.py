"""The real-photo stress benchmark: how the shipped models behave on edited photographs with known truth.

Each offline photo (:mod:`data.photos`; a fixed development / held-out split) is edited as the protocol
of :mod:`data.realrun` lists (palsy on each patient side at graded severity, graded pain-like action
units on both sides, the same on one side, the face shrunk to 80 and 120 pixels and mirrored or rolled)
and each version goes through the current pipeline (:func:`models.pipeline.assess` with
:func:`models.pipeline.load_default_models`), with the landmark pain estimate (:mod:`faces.au_proxy`)
read beside the network. :func:`summarise` turns the per-photo records into the figures the acceptance
criteria name; a photo without a face, or an edit that cannot be made, counts as a miss.

``python -m eval realcheck [--part held_out] [--limit N] [--names a,b] [--quick] [--out FILE]`` writes
the JSON (per photo, and a summary per part) and prints a table with the targets beside the figures.

``--part development --crossfit DIR0 DIR1`` reads the development photos out of fold: each photo goes
through the weights folder of the fold that left it out of training (``python -m models demo-weights
--only ROLE --leave-out-photos K/N``), so that a choice made on the development photos is judged on
photos the retrained models never saw, as the held-out photos will be.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from data.realrun import PhotoRun, RealProtocol
from faces.background import BACKGROUNDS

TARGETS = {"side_accuracy_full": 0.95, "unedited_median": 2.0, "unedited_max": 4.0, "spearman": 0.9,
           "spearman_share": 0.9, "other_half": 0.5, "stability": 0.5}


# ----------------------------------------------------------------------------- summary


def _subject(name: str) -> str:
    """Variants of one portrait (``-grey``, ``-half-jpeg``) show the same person."""
    return name.split("-grey")[0].split("-half-jpeg")[0]


def _bootstrap_share(hits: dict[str, list[bool]], rounds: int = 2000, seed: int = 0) -> list[float] | None:
    """95% interval of a proportion, resampling subjects (``hits``: subject -> outcomes)."""
    groups = [np.asarray(v, dtype=float) for v in hits.values() if v]
    if len(groups) < 2:
        return None
    rng = np.random.default_rng(seed)
    shares = [np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))]).mean()
              for _ in range(rounds)]
    return [round(float(np.percentile(shares, 2.5)), 4), round(float(np.percentile(shares, 97.5)), 4)]


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(float(value))


def _stats(values: Sequence[float | None], limit: float | None = None,
           at_least: bool = False) -> dict[str, Any]:
    """Median and max; with ``limit``, the share within it (None and nan count as misses)."""
    clean = [float(v) for v in values if _known(v)]
    out: dict[str, Any] = {"n": len(values), "median": round(float(np.median(clean)), 4) if clean else None,
                           "max": round(float(np.max(clean)), 4) if clean else None}
    if limit is not None:
        ok = [_known(v) and (float(v) >= limit if at_least else float(v) <= limit) for v in values]
        out["share_within_target"] = round(float(np.mean(ok)), 4) if ok else None
    return out


def _mean(values: Sequence[bool]) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None


def _sides_named(found: Sequence[dict[str, Any]]) -> dict[str, float] | None:
    """On the unedited photos (no palsy drawn): the shares whose side model named the patient's left or
    right clearly (top probability at least the pipeline's ``CLEAR_ABOVE``) and left it unclear (they add
    up to 1; a clear side on a face without a palsy is a false alarm)."""
    from models.pipeline import CLEAR_ABOVE

    rows = [r["unedited"] for r in found if r["unedited"].get("side_confidence") is not None]
    if not rows:
        return None
    named = [u["side_model_choice"] if u["side_confidence"] >= CLEAR_ABOVE else None for u in rows]
    return {"patient_left": _mean([n == "left" for n in named]),
            "patient_right": _mean([n == "right" for n in named]),
            "no_clear_side": _mean([n is None for n in named]), "n": len(rows)}


def _half_switches(found: Sequence[dict[str, Any]], rho: float) -> dict[str, int] | None:
    """Of the photos whose graded PSPI missed the Spearman target, how many had the scored half switch
    along the edit (the side model's choice changed between strengths, or a side became clear or unclear,
    so the curve joins different readings: one half or the mean of both)."""
    graded = [r["graded"] for r in found if "scored_sides" in r["graded"]]
    if not graded:
        return None
    misses = [g for g in graded if not (_known(g["spearman"]) and g["spearman"] >= rho)]
    switched = [g for g in misses if len({s for s in g["scored_sides"] if s is not None}) > 1]
    return {"misses": len(misses), "with_half_switch": len(switched)}


def _both_halves(found: Sequence[dict[str, Any]], rho: float) -> dict[str, Any] | None:
    """Share of photos on which both patient halves' PSPI reach Spearman ``rho`` with the edit strength
    (the edit is drawn on both sides), and the median of the lower half's Spearman."""
    graded = [r["graded"]["half_spearman"] for r in found if "half_spearman" in r["graded"]]
    if not graded:
        return None
    lower = [min((v if _known(v) else -1.0) for v in g.values()) for g in graded]
    return {"share_within_target": _mean([v >= rho for v in lower]),
            "median_lower": round(float(np.median(lower)), 4), "n": len(graded)}


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The benchmark figures over ``records`` (one part of the split)."""
    found = [r for r in records if r.get("face_found")]
    summary: dict[str, Any] = {"photos": len(records), "faces_found": len(found),
                               "no_face": [r["name"] for r in records if not r.get("face_found")]}
    side: dict[str, Any] = {}
    combos = sorted({(row["kind"], row["severity"]) for r in found for row in r["palsy"]})
    for kind, severity in combos:
        rows = [row for r in found for row in r["palsy"]
                if row["kind"] == kind and row["severity"] == severity]
        side[f"{kind}@{severity}"] = {"n": len(rows), "model": _mean([x["model_correct"] for x in rows]),
                                      "geometry": _mean([x["geometry_correct"] for x in rows])}
    full: dict[str, list[bool]] = {}
    full_geometry: dict[str, list[bool]] = {}
    for r in found:
        rows = [row for row in r["palsy"] if row["severity"] == 1.0]
        full.setdefault(_subject(r["name"]), []).extend(x["model_correct"] for x in rows)
        full_geometry.setdefault(_subject(r["name"]), []).extend(x["geometry_correct"] for x in rows)
    flat = [v for values in full.values() for v in values]
    flat_geometry = [v for values in full_geometry.values() for v in values]
    clearly = [row.get("model_named_clearly") for r in found for row in r["palsy"] if row["severity"] == 1.0]
    side["full_severity"] = {"n": len(flat), "model": _mean(flat), "model_95ci": _bootstrap_share(full),
                             "geometry": _mean(flat_geometry),
                             # records written before it was counted lack it
                             "model_named_clearly": _mean(clearly) if None not in clearly else None}
    summary["side_accuracy"] = side
    summary["unedited"] = {
        "pspi": _stats([r["unedited"]["pspi"] for r in found], TARGETS["unedited_max"]),
        "pspi_full_face": _stats([r["unedited"]["pspi_full_face"] for r in found], TARGETS["unedited_max"]),
        "landmark_pspi": _stats([r["unedited"]["landmark_pspi"] for r in found], TARGETS["unedited_max"]),
    }
    summary["unedited"]["side_named"] = _sides_named(found)
    rho = TARGETS["spearman"]
    summary["graded_spearman"] = {
        "network": _stats([r["graded"]["spearman"] for r in found], rho, at_least=True),
        "landmark": _stats([r["graded"]["landmark_spearman"] for r in found], rho, at_least=True),
        "misses_with_half_switch": _half_switches(found, rho),
        # each patient half on its own, whatever the side model chose: the pain model's response alone
        "both_halves_fixed": _both_halves(found, rho),
    }
    sides = [o for r in found for o in r["one_sided"].values()]
    summary["one_sided"] = {
        "other_half_moved": _stats([o.get("other_half_moved") for o in sides], TARGETS["other_half"]),
        "edited_half_rise": _stats([o.get("edited_half_rise") for o in sides]),
        "landmark_other_half_moved": _stats([o.get("landmark_other_half_moved") for o in sides],
                                            TARGETS["other_half"]),
        "landmark_edited_half_rise": _stats([o.get("landmark_edited_half_rise") for o in sides]),
    }
    summary["stability"] = {
        str(w): {"network": _stats([r["stability"][str(w)].get("max_moved") for r in found],
                                   TARGETS["stability"]),
                 # the same patient half, whatever was reported (the pain model's own steadiness)
                 "network_same_half": _stats([r["stability"][str(w)].get("half_max_moved") for r in found],
                                             TARGETS["stability"]),
                 "landmark": _stats([r["stability"][str(w)].get("landmark_max_moved") for r in found],
                                    TARGETS["stability"])}
        for w in sorted({int(k) for r in found for k in r["stability"]})}
    return summary


# ----------------------------------------------------------------------------- command line


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _named_text(summary: dict[str, Any]) -> str | None:
    named = summary["unedited"].get("side_named")  # absent from reports written before it was counted
    if not named:
        return None
    return "/".join(_fmt(named[k]) for k in ("patient_left", "patient_right", "no_clear_side"))


def _switch_text(summary: dict[str, Any]) -> str | None:
    switches = summary["graded_spearman"].get("misses_with_half_switch")
    return f"{switches['with_half_switch']} of {switches['misses']}" if switches else None


def table(summaries: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one row per figure, one column per part, the acceptance target beside it."""
    parts = list(summaries)
    rows: list[tuple[str, list[str], str]] = [
        ("photos with a face / photos", [f"{s['faces_found']}/{s['photos']}" for s in summaries.values()],
         ""),
    ]

    def add(label: str, get: Callable[[dict[str, Any]], Any], target: str = "", digits: int = 2) -> None:
        rows.append((label, [_fmt(get(s), digits) for s in summaries.values()], target))

    # three digits where two would round a miss of the 0.95 target up to it
    for kind in ("central", "peripheral"):
        add(f"side accuracy, {kind} palsy at severity 1 (model)",
            lambda s, k=kind: s["side_accuracy"].get(f"{k}@1.0", {}).get("model"), ">= 0.95", digits=3)
    add("side accuracy at severity 1, all (model)",
        lambda s: s["side_accuracy"]["full_severity"]["model"], ">= 0.95", digits=3)
    add("  95% interval (photos resampled)", lambda s: "-".join(
        _fmt(v) for v in (s["side_accuracy"]["full_severity"]["model_95ci"] or [None])))
    add("  named clearly and right (above the no-clear-side threshold)",
        lambda s: s["side_accuracy"]["full_severity"].get("model_named_clearly"))
    add("  same, geometric asymmetry measures", lambda s: s["side_accuracy"]["full_severity"]["geometry"])
    add("side accuracy at severity 0.5, central (model)",
        lambda s: s["side_accuracy"].get("central@0.5", {}).get("model"))
    add("unedited PSPI, median (network)", lambda s: s["unedited"]["pspi"]["median"], "<= 2")
    add("unedited PSPI, max (network)", lambda s: s["unedited"]["pspi"]["max"], "<= 4")
    add("  landmark estimate, median / max",
        lambda s: f"{_fmt(s['unedited']['landmark_pspi']['median'])}/"
                  f"{_fmt(s['unedited']['landmark_pspi']['max'])}")
    add("unedited full-face PSPI, median", lambda s: s["unedited"]["pspi_full_face"]["median"])
    add("  side named on unedited photos: patient left / right, no clear side", _named_text)
    add("share of photos with Spearman >= 0.9 (network)",
        lambda s: s["graded_spearman"]["network"]["share_within_target"], ">= 0.9")
    add("  median Spearman (network)", lambda s: s["graded_spearman"]["network"]["median"])
    add("  misses whose scored half switched along the edit", _switch_text)
    add("  share with Spearman >= 0.9 on both halves, each half fixed", lambda s: (
        s["graded_spearman"].get("both_halves_fixed") or {}).get("share_within_target"))
    add("  landmark estimate: share / median",
        lambda s: f"{_fmt(s['graded_spearman']['landmark']['share_within_target'])}/"
                  f"{_fmt(s['graded_spearman']['landmark']['median'])}")
    add("one-sided edit: other half moved, median (network)",
        lambda s: s["one_sided"]["other_half_moved"]["median"], "<= 0.5")
    add("  max / share <= 0.5", lambda s: f"{_fmt(s['one_sided']['other_half_moved']['max'])}/"
                                          f"{_fmt(s['one_sided']['other_half_moved']['share_within_target'])}")
    add("  edited half rise, median (network)", lambda s: s["one_sided"]["edited_half_rise"]["median"])
    add("  landmark estimate: other half moved, median",
        lambda s: s["one_sided"]["landmark_other_half_moved"]["median"])
    widths = sorted({int(w) for s in summaries.values() for w in s["stability"]})
    for width in widths:
        def stability(s: dict[str, Any], w: int = width) -> dict[str, Any]:
            return s["stability"].get(str(w), {"network": {}, "landmark": {}})

        add(f"mirror / roll at {width} px: PSPI moved, median (network)",
            lambda s, f=stability: f(s)["network"].get("median"), "<= 0.5")
        add("  max / share <= 0.5", lambda s, f=stability: f"{_fmt(f(s)['network'].get('max'))}/"
            f"{_fmt(f(s)['network'].get('share_within_target'))}")
        add("  same patient half: median / share <= 0.5", lambda s, f=stability: (
            f"{_fmt(f(s).get('network_same_half', {}).get('median'))}/"
            f"{_fmt(f(s).get('network_same_half', {}).get('share_within_target'))}"))
        add("  landmark estimate, median", lambda s, f=stability: f(s)["landmark"].get("median"))
    label_width = max(len(r[0]) for r in rows)
    col = max(12, *(len(p) for p in parts))
    lines = [f"{'':{label_width}}  " + "  ".join(f"{p:>{col}}" for p in parts) + "  target"]
    for label, cells, target in rows:
        lines.append(f"{label:{label_width}}  " + "  ".join(f"{c:>{col}}" for c in cells) + f"  {target}")
    return "\n".join(lines)


def run(photos: Sequence[Any], assess: Callable[..., Any], protocol: RealProtocol | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Run ``protocol`` on ``photos`` with the pipeline call ``assess``; records and summaries per part."""
    from tqdm import tqdm

    records = [PhotoRun(photo, assess, protocol).run()
               for photo in tqdm(photos, desc="realcheck", unit="photo", disable=not progress)]
    return {"summary": summaries(records), "photos": records}


def summaries(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A summary per part of the split, and within it for the full-size portraits and the LFW crops
    apart (``"held_out/portraits"``, ``"held_out/lfw"``) when a part has both."""
    out: dict[str, dict[str, Any]] = {}
    for part in ("development", "held_out"):
        chosen = [r for r in records if r["part"] == part]
        if not chosen:
            continue
        out[part] = summarise(chosen)
        lfw = [r for r in chosen if r["name"].startswith("lfw-")]
        portraits = [r for r in chosen if not r["name"].startswith("lfw-")]
        if lfw and portraits:
            out[f"{part}/portraits"], out[f"{part}/lfw"] = summarise(portraits), summarise(lfw)
    return out


def _pipeline(bundle: Any, background: str) -> Callable[..., Any]:
    from models.pipeline import assess

    def pipeline(image: np.ndarray, **kwargs: Any) -> Any:
        return assess(image, models=bundle, background=background, **kwargs)

    return pipeline


def _crossfit_run(photos: Sequence[Any], folds: Sequence[Any], args: argparse.Namespace,
                  protocol: RealProtocol) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each development photo run with the bundle of the fold that left it out (:func:`data.realtrain.
    photo_fold`); refuses a fold folder none of whose models left that fold out. Returns the report and,
    per fold, the models and which of them are out of fold."""
    from data.photos import offline_photos
    from data.realtrain import left_out, photo_fold

    development = offline_photos("development", lfw_size=args.lfw_size)  # folds as in training
    records: list[dict[str, Any]] = []
    described: dict[str, Any] = {}
    for fold, bundle in enumerate(folds):
        names = {p.name for p in photo_fold(development, fold, len(folds))}
        unseen = [role for role, m in bundle.loaded().items() if left_out(m.card.training_data, names)]
        if not unseen:
            raise SystemExit(f"{args.crossfit[fold]}: none of its models left out fold {fold} of "
                             f"{len(folds)} of the development photos (demo-weights --leave-out-photos)")
        chosen = [p for p in photos if p.name in names]
        found = run(chosen, _pipeline(bundle, args.background), protocol, progress=not args.quiet)
        records += found["photos"]
        described[f"fold {fold}"] = {"out_of_fold": unseen,
                                     **{role: m.describe() for role, m in bundle.loaded().items()}}
    return {"summary": summaries(records), "photos": records}, described


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval realcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="held_out", choices=("development", "held_out", "all"),
                        help="which part of the fixed photo split (published figures: held_out)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many photos per run")
    parser.add_argument("--names", default=None, help="only these photos (comma-separated names)")
    parser.add_argument("--lfw-size", type=int, default=250, help="pixels the LFW crops are enlarged to")
    parser.add_argument("--out", default="build/realcheck.json", help="JSON report")
    parser.add_argument("--weights", default=None, help="weights folder (default: the shipped demo weights)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced protocol for smoke tests (full-severity peripheral palsy, two "
                        "strengths, 80 px)")
    parser.add_argument("--background", default="keep", choices=BACKGROUNDS,
                        help="set everything outside the head to white before scoring (faces.background)")
    parser.add_argument("--crossfit", nargs="+", default=[], metavar="DIR",
                        help="with --part development: one weights folder per fold (models demo-weights "
                        "--leave-out-photos K/N, K = 0, 1, ...); each photo is read by the fold's models, "
                        "of which those retrained never learned from it")
    parser.add_argument("--no-balance", action="store_true",
                        help="read the side model's face without half balancing (faces.pose.HalfBalance)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--summarise", metavar="JSON", default=None,
                        help="only re-summarise and print the records of an earlier run's JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on the current models; print the table and write the JSON."""
    args = build_parser().parse_args(argv)
    if args.summarise:
        records = json.loads(Path(args.summarise).read_text())["photos"]
        print(table(summaries(records)))
        return 0
    import torch

    from data.photos import offline_photos
    from models.pipeline import load_default_models

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    photos = offline_photos(args.part, lfw_size=args.lfw_size)
    if args.names:
        wanted = {name.strip() for name in args.names.split(",")}
        photos = [p for p in photos if p.name in wanted]
    if args.limit is not None:
        photos = photos[:args.limit]
    if not photos:
        print("error: no photos to run", file=sys.stderr)
        return 2
    protocol = RealProtocol.quick() if args.quick else RealProtocol()
    if args.crossfit:
        if args.part != "development" or len(args.crossfit) < 2:
            print("error: --crossfit reads the development photos with two or more fold folders",
                  file=sys.stderr)
            return 2
        folds = [load_default_models(folder) for folder in args.crossfit]
        if args.no_balance:
            folds = [fold.with_half_balance(False) for fold in folds]
        report, described = _crossfit_run(photos, folds, args, protocol)
    else:
        bundle = load_default_models(args.weights)
        if args.no_balance:
            bundle = bundle.with_half_balance(False)
        report = run(photos, _pipeline(bundle, args.background), protocol, progress=not args.quiet)
        described = {role: m.describe() for role, m in bundle.loaded().items()}
    report["protocol"] = {
        **protocol.to_dict(),
        "split": "fixed, see data.photos: development = astronaut and variants, LFW even indices; "
                 "held_out = Grace Hopper and variants, LFW odd indices",
        "command": "python -m eval realcheck " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    report["models"] = described
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report["summary"]))
    print(f"wrote {out}")
    return 0
