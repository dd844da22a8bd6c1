"""The real-photo stress benchmark: how the shipped models behave on edited photographs with known truth.

Each offline photo (:mod:`data.photos`; a fixed development / held-out split) goes through the current
pipeline (:func:`models.pipeline.assess` with :func:`models.pipeline.load_default_models`) unedited and
edited by landmark-driven warps (:mod:`data.realedit`), and the landmark pain estimate
(:mod:`faces.au_proxy`) is read beside the network every time. Per photo:

- **palsy**: a central and a peripheral palsy on each patient side at severities 0.25-1: is the affected
  side found by the side model, and by the geometric asymmetry measures?
- **unedited**: the PSPI reported for the unaffected half (and the full face) of a face not in pain;
- **graded pain**: AU4, AU6, AU7, AU9 and AU10 on both sides at strengths 0-1 (intensity 5 x strength):
  the Spearman correlation of the reported PSPI with the strength;
- **one-sided pain**: the same expression at full strength on one patient side: how far the other half's
  score moves (it should not);
- **stability**: the photo shrunk so the face is 80 and 120 pixels wide, then mirrored (assessed with
  ``mirrored=True``, so patient sides stay put) and rolled by +-8 degrees: how far the PSPI of the same
  patient half moves.

``python -m eval realcheck [--part held_out] [--limit N] [--out FILE]`` writes the JSON (per photo and a
summary per part) and prints a table. Photos in which no face is found are counted and listed.
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

SEVERITIES = (0.25, 0.5, 0.75, 1.0)
PALSY_KINDS = ("central", "peripheral")
STRENGTHS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
FACE_WIDTHS = (80, 120)
ROLL_DEGREES = 8.0
TARGETS = {"side_accuracy_full": 0.95, "unedited_median": 2.0, "unedited_max": 4.0, "spearman": 0.9,
           "spearman_share": 0.9, "other_half": 0.5, "stability": 0.5}


def _half_scores(assessment: Any) -> dict[Any, float]:
    """Clamped PSPI per patient half of an assessment (both halves are always scored)."""
    return {assessment.unaffected_side: assessment.pspi.unaffected_half,
            assessment.affected_side: assessment.pspi.affected_half}


def _landmark_scores(assessment: Any) -> dict[Any, float]:
    from faces.au_proxy import estimate_pain

    geometry = assessment.geometry
    estimates = estimate_pain(geometry.aligned_landmarks, geometry.mirrored)
    return {side: estimate.pspi for side, estimate in estimates.items()}


def _face_width(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[16] - landmarks[0]))


def _roll(image: np.ndarray, landmarks: np.ndarray, degrees: float) -> np.ndarray:
    centre = tuple(float(v) for v in landmarks.mean(axis=0))
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


class PhotoRun:
    """Runs the whole protocol on one photo; ``assess`` is the pipeline call (photo, **kwargs)."""

    def __init__(self, photo: Any, assess: Callable[..., Any]) -> None:
        self.photo, self.assess = photo, assess

    def _try(self, image: np.ndarray | None, **kwargs: Any) -> Any | None:
        """The assessment, or None when no face is found (or the edit could not be made)."""
        from faces.errors import FaceInputError

        if image is None:
            return None
        try:
            return self.assess(image, **kwargs)
        except FaceInputError:
            return None

    def _edit(self, landmarks: np.ndarray, **edit: Any) -> np.ndarray | None:
        """The edited photo, or None when the edit would fold the face mesh (counted as a miss)."""
        from data.realedit import edit_photo

        try:
            return edit_photo(self.photo.image, landmarks=landmarks, **edit).image
        except ValueError:
            return None

    def run(self) -> dict[str, Any]:
        from faces.sides import Side

        photo = self.photo
        record: dict[str, Any] = {"name": photo.name, "part": photo.part, "source": photo.source}
        base = self._try(self.photo.image)
        if base is None:
            record["face_found"] = False
            return record
        record["face_found"] = True
        landmarks = base.geometry.landmarks
        record["face_width_px"] = round(_face_width(landmarks), 1)
        lm_base = _landmark_scores(base)
        net_base = _half_scores(base)
        record["unedited"] = {
            "scored_side": base.unaffected_side.value, "pspi": round(base.pspi.unaffected_half, 3),
            "pspi_full_face": round(base.pspi.full_face, 3),
            "pspi_halves": {s.value: round(v, 3) for s, v in net_base.items()},
            "landmark_pspi": round(lm_base[base.unaffected_side], 3),
            "landmark_halves": {s.value: round(v, 3) for s, v in lm_base.items()},
            "side_model_choice": base.side_model_choice.value if base.side_model_choice else None,
            "side_confidence": (round(max(base.side_probabilities.values()), 3)
                                if base.side_probabilities else None),
        }
        record["palsy"] = self._palsy(landmarks)
        record["graded"] = self._graded(landmarks, base)
        record["one_sided"] = {side.value: self._one_sided(landmarks, side, net_base, lm_base)
                               for side in Side}
        record["stability"] = {str(w): self._stability(landmarks, w) for w in FACE_WIDTHS}
        return record

    def _palsy(self, landmarks: np.ndarray) -> list[dict[str, Any]]:
        from data.synth.aus import Palsy
        from faces.sides import Side

        rows = []
        for kind in PALSY_KINDS:
            for side in Side:
                for severity in SEVERITIES:
                    palsy = Palsy(side, severity, kind)
                    result = self._try(self._edit(landmarks, palsy=palsy))
                    model = None if result is None else result.side_model_choice
                    geometric = None if result is None else result.geometry.asymmetry.points_to
                    rows.append({"kind": kind, "side": side.value, "severity": severity,
                                 "face_found": result is not None,
                                 "model_correct": model is side, "geometry_correct": geometric is side})
        return rows

    def _graded(self, landmarks: np.ndarray, base: Any) -> dict[str, Any]:
        from scipy.stats import spearmanr

        from data.realedit import pain_aus
        from faces.sides import Side

        network, landmark = [], []
        for strength in STRENGTHS:
            if strength == 0:
                result = base
            else:
                aus = {side: pain_aus(strength) for side in Side}
                result = self._try(self._edit(landmarks, aus=aus))
            network.append(math.nan if result is None else result.pspi.unaffected_half)
            landmark.append(math.nan if result is None else _landmark_scores(result)[result.unaffected_side])

        def rho(values: list[float]) -> float:
            if any(math.isnan(v) for v in values) or np.ptp(values) == 0:
                return math.nan
            return float(spearmanr(STRENGTHS, values).statistic)

        return {"strengths": list(STRENGTHS), "pspi": [round(v, 3) for v in network],
                "landmark_pspi": [round(v, 3) for v in landmark],
                "spearman": round(rho(network), 4), "landmark_spearman": round(rho(landmark), 4)}

    def _one_sided(self, landmarks: np.ndarray, side: Any, net_base: dict, lm_base: dict) -> dict[str, Any]:
        from data.realedit import pain_aus

        result = self._try(self._edit(landmarks, aus={side: pain_aus(1.0)}))
        if result is None:
            return {"face_found": False}
        net, lm = _half_scores(result), _landmark_scores(result)
        other = side.opposite
        return {"face_found": True,
                "edited_half_rise": round(net[side] - net_base[side], 3),
                "other_half_moved": round(abs(net[other] - net_base[other]), 3),
                "landmark_edited_half_rise": round(lm[side] - lm_base[side], 3),
                "landmark_other_half_moved": round(abs(lm[other] - lm_base[other]), 3)}

    def _stability(self, landmarks: np.ndarray, width: int) -> dict[str, Any]:
        scale = min(1.0, width / max(_face_width(landmarks), 1.0))
        image = self.photo.image
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_points = landmarks * scale
        base = self._try(small)
        if base is None:
            return {"face_found": False}
        side = base.unaffected_side
        net0, lm0 = _half_scores(base)[side], _landmark_scores(base)[side]
        variants = {"mirror": (np.ascontiguousarray(small[:, ::-1]), True),
                    "roll+8": (_roll(small, small_points, ROLL_DEGREES), False),
                    "roll-8": (_roll(small, small_points, -ROLL_DEGREES), False)}
        moved: dict[str, float | None] = {}
        lm_moved: dict[str, float | None] = {}
        for name, (variant, mirrored) in variants.items():
            result = self._try(variant, mirrored=mirrored)
            moved[name] = None if result is None else round(abs(_half_scores(result)[side] - net0), 3)
            lm_moved[name] = None if result is None else round(abs(_landmark_scores(result)[side] - lm0), 3)
        found = [v for v in moved.values() if v is not None]
        lm_found = [v for v in lm_moved.values() if v is not None]
        return {"face_found": True, "face_width_px": round(_face_width(small_points), 1),
                "pspi": round(net0, 3), "moved": moved, "landmark_moved": lm_moved,
                "max_moved": max(found) if len(found) == len(moved) else None,
                "landmark_max_moved": max(lm_found) if len(lm_found) == len(lm_moved) else None}


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


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The benchmark figures over ``records`` (one part of the split)."""
    found = [r for r in records if r.get("face_found")]
    summary: dict[str, Any] = {"photos": len(records), "faces_found": len(found),
                               "no_face": [r["name"] for r in records if not r.get("face_found")]}
    side: dict[str, Any] = {}
    for kind in PALSY_KINDS:
        for severity in SEVERITIES:
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
    side["full_severity"] = {"n": len(flat), "model": _mean(flat), "model_95ci": _bootstrap_share(full),
                             "geometry": _mean(flat_geometry)}
    summary["side_accuracy"] = side
    summary["unedited"] = {
        "pspi": _stats([r["unedited"]["pspi"] for r in found], TARGETS["unedited_max"]),
        "pspi_full_face": _stats([r["unedited"]["pspi_full_face"] for r in found], TARGETS["unedited_max"]),
        "landmark_pspi": _stats([r["unedited"]["landmark_pspi"] for r in found], TARGETS["unedited_max"]),
    }
    rho = TARGETS["spearman"]
    summary["graded_spearman"] = {
        "network": _stats([r["graded"]["spearman"] for r in found], rho, at_least=True),
        "landmark": _stats([r["graded"]["landmark_spearman"] for r in found], rho, at_least=True),
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
                 "landmark": _stats([r["stability"][str(w)].get("landmark_max_moved") for r in found],
                                    TARGETS["stability"])}
        for w in FACE_WIDTHS}
    return summary


# ----------------------------------------------------------------------------- command line


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(summaries: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one row per figure, one column per part, the acceptance target beside it."""
    parts = list(summaries)
    rows: list[tuple[str, list[str], str]] = [
        ("photos with a face / photos", [f"{s['faces_found']}/{s['photos']}" for s in summaries.values()],
         ""),
    ]

    def add(label: str, get: Callable[[dict[str, Any]], Any], target: str = "") -> None:
        rows.append((label, [_fmt(get(s)) for s in summaries.values()], target))

    for kind in PALSY_KINDS:
        add(f"side accuracy, {kind} palsy at severity 1 (model)",
            lambda s, k=kind: s["side_accuracy"].get(f"{k}@1.0", {}).get("model"), ">= 0.95")
    add("side accuracy at severity 1, all (model)",
        lambda s: s["side_accuracy"]["full_severity"]["model"], ">= 0.95")
    add("  95% interval (photos resampled)", lambda s: "-".join(
        _fmt(v) for v in (s["side_accuracy"]["full_severity"]["model_95ci"] or [None])))
    add("  same, geometric asymmetry measures", lambda s: s["side_accuracy"]["full_severity"]["geometry"])
    add("side accuracy at severity 0.5, central (model)",
        lambda s: s["side_accuracy"].get("central@0.5", {}).get("model"))
    add("unedited PSPI, median (network)", lambda s: s["unedited"]["pspi"]["median"], "<= 2")
    add("unedited PSPI, max (network)", lambda s: s["unedited"]["pspi"]["max"], "<= 4")
    add("  landmark estimate, median / max",
        lambda s: f"{_fmt(s['unedited']['landmark_pspi']['median'])}/"
                  f"{_fmt(s['unedited']['landmark_pspi']['max'])}")
    add("unedited full-face PSPI, median", lambda s: s["unedited"]["pspi_full_face"]["median"])
    add("share of photos with Spearman >= 0.9 (network)",
        lambda s: s["graded_spearman"]["network"]["share_within_target"], ">= 0.9")
    add("  median Spearman (network)", lambda s: s["graded_spearman"]["network"]["median"])
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
    for width in FACE_WIDTHS:
        add(f"mirror / 8 deg roll at {width} px: PSPI moved, median (network)",
            lambda s, w=width: s["stability"][str(w)]["network"]["median"], "<= 0.5")
        add("  max / share <= 0.5", lambda s, w=width: f"{_fmt(s['stability'][str(w)]['network']['max'])}/"
            f"{_fmt(s['stability'][str(w)]['network']['share_within_target'])}")
        add("  landmark estimate, median", lambda s, w=width: s["stability"][str(w)]["landmark"]["median"])
    label_width = max(len(r[0]) for r in rows)
    col = max(12, *(len(p) for p in parts))
    lines = [f"{'':{label_width}}  " + "  ".join(f"{p:>{col}}" for p in parts) + "  target"]
    for label, cells, target in rows:
        lines.append(f"{label:{label_width}}  " + "  ".join(f"{c:>{col}}" for c in cells) + f"  {target}")
    return "\n".join(lines)


def run(photos: Sequence[Any], assess: Callable[..., Any], progress: bool = True) -> dict[str, Any]:
    """Run the protocol on ``photos`` with the pipeline call ``assess``; records and summaries per part."""
    from tqdm import tqdm

    records = [PhotoRun(photo, assess).run() for photo in tqdm(photos, desc="realcheck", unit="photo",
                                                                disable=not progress)]
    parts = [p for p in ("development", "held_out") if any(r["part"] == p for r in records)]
    return {"summary": {p: summarise([r for r in records if r["part"] == p]) for p in parts},
            "photos": records}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval realcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="held_out", choices=("development", "held_out", "all"),
                        help="which part of the fixed photo split (published figures: held_out)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many photos per run")
    parser.add_argument("--names", default=None, help="only these photos (comma-separated names)")
    parser.add_argument("--lfw-size", type=int, default=250, help="pixels the LFW crops are enlarged to")
    parser.add_argument("--out", default="build/realcheck.json", help="JSON report")
    parser.add_argument("--weights", default=None, help="weights folder (default: the shipped demo weights)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on the current models; print the table and write the JSON."""
    args = build_parser().parse_args(argv)
    import torch

    from data.photos import PARTS, offline_photos
    from models.pipeline import assess, load_default_models

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
    bundle = load_default_models(args.weights)

    def pipeline(image: np.ndarray, **kwargs: Any) -> Any:
        return assess(image, models=bundle, **kwargs)

    report = run(photos, pipeline, progress=not args.quiet)
    report["protocol"] = {
        "split": {p: "see data.photos" for p in PARTS}, "severities": list(SEVERITIES),
        "strengths": list(STRENGTHS), "face_widths_px": list(FACE_WIDTHS), "roll_degrees": ROLL_DEGREES,
        "graded_edit": "AU4, AU6, AU7, AU9, AU10 at 5 x strength on both patient sides",
        "reported_pspi": "the unaffected half's PSPI with the side chosen by the side model",
        "command": "python -m eval realcheck " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    report["models"] = {role: m.describe() for role, m in bundle.loaded().items()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report["summary"]))
    print(f"wrote {out}")
    return 0
