"""The domain indicator: fit its statistics for a weights folder, and measure how well it separates inputs.

``python -m eval domain fit --weights DIR --data DIR [--limit N]`` reads the full-face photos of a
(synthetic) dataset in any layout, cuts the model inputs the pipeline cuts (:func:`faces.analyse` with
dlib landmarks, then :mod:`models.preprocess`) and writes each model's statistics
(:func:`models.domain.fit_domain`) into its card in ``DIR``. The weights files are not touched.

``python -m eval domain report [--weights DIR] [--out eval/reports/domain.json]`` runs the whole
pipeline (:func:`models.pipeline.assess`) on three sets and reads :func:`models.domain.check_domain` on
the exact tensors each assessment used:

- synthetic test faces: a fresh set rendered from :data:`SYNTH_SEED` (20 subjects x 5 frames, every
  subject with a palsy), never used for anything else;
- real photos: :func:`data.photos.offline_photos`, per part (published figures: ``held_out``);
- non-face inputs: scikit-image sample pictures that show no person and the 100 non-face crops of
  ``lfw_subset()`` enlarged like the faces, run with ``on_no_face="template"`` so they reach the networks;
  split like the photos (even positions development, odd held out).

It reports the AUROC of each model's distance / threshold, and of the combined score (their mean,
:attr:`models.domain.DomainCheck.score`), for (a) synthetic faces against real photos and (b) real photos
against non-faces of the same part, with 95% intervals that resample subjects (a synthetic subject, a
portrait with its variants, one picture) within each group, and the share flagged far.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from eval.metrics import roc_auc

SYNTH_SEED = 2651
SYNTH_SUBJECTS, SYNTH_FRAMES = 20, 5
#: scikit-image sample pictures without a person (``camera`` and ``astronaut`` show people).
NON_FACE_PICTURES = ("coffee", "chelsea", "rocket", "brick", "grass", "gravel", "text", "moon", "page",
                     "clock", "coins", "hubble_deep_field", "immunohistochemistry", "logo", "colorwheel",
                     "cell", "checkerboard", "retina")
COMBINED = "combined"


# ----------------------------------------------------------------------------- inputs


def _rgb(image: np.ndarray, longest: int = 640) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (array > 0).astype(np.uint8) * 255 if array.dtype == bool else array.astype(np.uint8)
    if array.ndim == 2:
        array = cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    array = np.ascontiguousarray(array[:, :, :3])
    scale = longest / max(array.shape[:2])
    if scale < 1:
        array = cv2.resize(array, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return array


def non_face_inputs(size: int = 250) -> list[tuple[str, np.ndarray]]:
    """``(name, RGB uint8)`` pictures without a face: scikit-image samples and lfw_subset()'s non-faces."""
    import skimage.data as samples

    from data.photos import LFW_FACES

    out = [(name, _rgb(getattr(samples, name)())) for name in NON_FACE_PICTURES]
    for index, crop in enumerate(samples.lfw_subset()[LFW_FACES:]):
        grey = np.clip(np.round(crop * 255.0), 0, 255).astype(np.uint8)
        out.append((f"lfw-nonface-{index:03d}", _rgb(cv2.resize(grey, (size, size),
                                                                interpolation=cv2.INTER_CUBIC))))
    return out


def dataset_inputs(data_dir: Path, bundle: Any, *, limit: int | None = None,
                   progress: bool = True) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per model role, uint8 ``(N, 3, H, W)`` inputs cut from a dataset's full-face photos as the
    pipeline cuts them (faces not found are skipped), with each input's subject."""
    from tqdm.auto import tqdm

    import faces
    from data.layouts import load_any
    from data.records import HalfRecord
    from faces.errors import FaceInputError
    from faces.sides import Side
    from models.preprocess import input_image

    records = sorted((r for r in load_any(data_dir) if not isinstance(r, HalfRecord)),
                     key=lambda r: str(r.image_path))
    if limit is not None:
        records = [records[i] for i in np.linspace(0, len(records) - 1, min(limit, len(records))).astype(int)]
    collected: dict[str, list[np.ndarray]] = {role: [] for role in bundle.loaded()}
    subjects: dict[str, list[str]] = {role: [] for role in bundle.loaded()}
    for record in tqdm(records, desc="cutting inputs", unit="photo", disable=not progress):
        try:
            geometry = faces.analyse(record.image_path)
        except FaceInputError:
            continue
        for role, loaded in bundle.loaded().items():
            sources = ([geometry.halves[s] for s in (Side.RIGHT, Side.LEFT)] if role == "pain"
                       else [geometry])
            collected[role].extend(input_image(loaded.spec, source) for source in sources)
            subjects[role].extend([str(record.subject)] * len(sources))
    return {role: (np.stack(images).transpose(0, 3, 1, 2).copy(), subjects[role])
            for role, images in collected.items() if images}


def fit_folder(weights_dir: Path, data_dir: Path, *, limit: int | None = 400,
               progress: bool = True) -> dict[str, Any]:
    """Fit and write the statistics of every model in ``weights_dir``; returns a short summary per role."""
    from models.domain import fit_domain, write_domain_stats
    from models.pipeline import load_bundle

    bundle = load_bundle(weights_dir, device="cpu")
    inputs = dataset_inputs(data_dir, bundle, limit=limit, progress=progress)
    summary = {}
    for role, (images, subjects) in inputs.items():
        loaded = bundle.loaded()[role]
        stats = fit_domain(loaded.network, images, loaded.spec, architecture=loaded.card.architecture,
                           groups=subjects)
        stats["data"] = (f"{len(images)} inputs of {len(set(subjects))} subjects cut with dlib landmarks "
                         f"from {data_dir}")
        write_domain_stats(weights_dir, role, stats)
        summary[role] = {"inputs": len(images), "dimension": stats["dimension"],
                         "threshold_p99": stats["quantiles"][stats["levels"].index(99)]}
    return summary


# ----------------------------------------------------------------------------- measuring


def score_images(items: Sequence[tuple[str, str, Any]], bundle: Any, *, on_no_face: str = "error",
                 progress: bool = True) -> list[dict[str, Any]]:
    """``(name, subject, image)`` -> one row per assessed image: per-role distances and the combined
    score. Images the pipeline refuses are recorded with ``"error"``."""
    from tqdm.auto import tqdm

    from faces.errors import FaceInputError
    from models.domain import check_domain
    from models.pipeline import assess

    rows = []
    for name, subject, image in tqdm(items, desc="assessing", unit="image", disable=not progress):
        try:
            result = assess(image, side="left", models=bundle, on_no_face=on_no_face)
        except FaceInputError as err:
            rows.append({"name": name, "subject": subject, "error": type(err).__name__})
            continue
        check = check_domain(bundle, result.inputs)
        if check is None:
            raise SystemExit("No model card in this weights folder carries domain statistics: run "
                             "python -m eval domain fit first")
        row = {"name": name, "subject": subject, "landmarks": result.geometry.landmark_source,
               COMBINED: round(check.score, 5), "far": check.far}
        row.update({role: round(entry.ratio, 5) for role, entry in check.roles.items()})
        rows.append(row)
    return rows


def auroc_interval(negatives: list[dict[str, Any]], positives: list[dict[str, Any]], key: str, *,
                   n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """AUROC of ``row[key]`` (positives should score higher), 95% interval resampling subjects within
    each group."""
    def groups(rows: list[dict[str, Any]]) -> list[np.ndarray]:
        by: dict[str, list[float]] = {}
        for row in rows:
            if key in row:
                by.setdefault(str(row["subject"]), []).append(float(row[key]))
        return [np.asarray(v) for _, v in sorted(by.items())]

    neg, pos = groups(negatives), groups(positives)
    if not neg or not pos:
        return {"auroc": None, "n_negative": 0, "n_positive": 0}

    def auc(n: list[np.ndarray], p: list[np.ndarray]) -> float:
        a, b = np.concatenate(n), np.concatenate(p)
        return roc_auc(np.r_[np.zeros(a.size), np.ones(b.size)], np.r_[a, b])

    rng = np.random.default_rng(seed)
    draws = [auc([neg[i] for i in rng.integers(0, len(neg), len(neg))],
                 [pos[i] for i in rng.integers(0, len(pos), len(pos))]) for _ in range(n_boot)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"auroc": round(auc(neg, pos), 4), "ci95": [round(float(low), 4), round(float(high), 4)],
            "n_negative": int(sum(g.size for g in neg)), "n_positive": int(sum(g.size for g in pos)),
            "subjects": [len(neg), len(pos)]}


def far_share(rows: list[dict[str, Any]]) -> float | None:
    scored = [r for r in rows if "far" in r]
    return round(float(np.mean([r["far"] for r in scored])), 4) if scored else None


def _synthetic_items(work: Path, progress: bool) -> list[tuple[str, str, Any]]:
    from data.layouts import load_any
    from eval.demo_report import render_test_set

    folder = render_test_set(work, seed=SYNTH_SEED, subjects=SYNTH_SUBJECTS, frames=SYNTH_FRAMES,
                             progress=progress)
    records = sorted(load_any(folder), key=lambda r: str(r.image_path))
    return [(Path(r.image_path).stem, f"synth-{r.subject}", r.image_path) for r in records]


def _photo_items(part: str) -> list[tuple[str, str, Any]]:
    from data.photos import offline_photos

    return [(p.name, p.name.split("-grey")[0].split("-half-jpeg")[0], p.image) for p in offline_photos(part)]


def build_report(weights_dir: Path | None, work: Path, *, n_boot: int = 1000,
                 progress: bool = True) -> dict[str, Any]:
    """Distances of the three sets and the AUROC tables (see the module docstring)."""
    from models.pipeline import WEIGHTS_DIR, load_bundle

    bundle = load_bundle(weights_dir or WEIGHTS_DIR, device="cpu")
    rows = {
        "synthetic": score_images(_synthetic_items(work, progress), bundle, progress=progress),
        "real_held_out": score_images(_photo_items("held_out"), bundle, progress=progress),
        "real_development": score_images(_photo_items("development"), bundle, progress=progress),
    }
    pictures = [(n, n, im) for n, im in non_face_inputs()]
    for index, part in enumerate(("development", "held_out")):
        rows[f"non_face_{part}"] = score_images(pictures[index::2], bundle, on_no_face="template",
                                                progress=progress)
    keys = [*bundle.loaded(), COMBINED]
    tables: dict[str, Any] = {}
    for part in ("held_out", "development"):
        real = rows[f"real_{part}"]
        tables[part] = {
            "synthetic_vs_real": {k: auroc_interval(rows["synthetic"], real, k, n_boot=n_boot) for k in keys},
            "real_vs_non_face": {k: auroc_interval(real, rows[f"non_face_{part}"], k, n_boot=n_boot)
                                 for k in keys},
        }
    statistics = {role: {k: m.card.domain.get(k) for k in ("data", "calibration", "dimension", "axes_count")}
                  for role, m in bundle.loaded().items() if m.card.domain}
    return {
        "weights": str(weights_dir or WEIGHTS_DIR),
        "statistics": statistics,
        "published": "auroc.held_out (the development part was looked at when choosing the combined score)",
        "score": "per model: distance / its threshold (99th percentile of held-out training inputs); "
                 "combined: their mean (far above 1)",
        "sets": {"synthetic": f"data.synth seed {SYNTH_SEED}, {SYNTH_SUBJECTS} subjects x {SYNTH_FRAMES} "
                              "frames, palsy on every subject",
                 "real": "data.photos.offline_photos, held-out part (published) and development part",
                 "non_face": f"skimage.data {', '.join(NON_FACE_PICTURES)} and lfw_subset()[100:] enlarged "
                             "to 250 px, template landmarks when no face is detected; even positions "
                             "development, odd held out"},
        "far_share": {name: far_share(r) for name, r in rows.items()},
        "refused": {name: sum("error" in row for row in r) for name, r in rows.items()},
        "auroc": tables,
        "rows": rows,
    }


def print_table(report: dict[str, Any], out: Callable[[str], None] = print) -> None:
    for part, table in report["auroc"].items():
        out(f"real photos: {part} part")
        out(f"  {'score':<16} {'synthetic vs real':>26} {'real vs non-face':>26}")
        for key in table["synthetic_vs_real"]:
            cells = []
            for test in ("synthetic_vs_real", "real_vs_non_face"):
                entry = table[test][key]
                ci = entry.get("ci95") or [float("nan")] * 2
                cells.append(f"{entry['auroc']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if entry["auroc"] is not None
                             else "n/a")
            out(f"  {key:<16} {cells[0]:>26} {cells[1]:>26}")
    out("share flagged far: " + ", ".join(f"{k} {v}" for k, v in report["far_share"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval domain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit the statistics of every model in a weights folder")
    fit.add_argument("--weights", type=Path, required=True, help="weights folder whose cards get the stats")
    fit.add_argument("--data", type=Path, required=True, help="dataset of full-face photos (any layout)")
    fit.add_argument("--limit", type=int, default=400, help="photos used (evenly spaced)")
    rep = sub.add_parser("report", help="AUROC of the distances on synthetic, real and non-face inputs")
    rep.add_argument("--weights", type=Path, default=None, help="weights folder (default models/weights)")
    rep.add_argument("--work", type=Path, default=Path("build/domain"), help="folder for rendered faces")
    rep.add_argument("--out", type=Path, default=Path("eval/reports/domain.json"))
    rep.add_argument("--n-boot", type=int, default=1000)
    for p in (fit, rep):
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.command == "fit":
        summary = fit_folder(args.weights, args.data, limit=args.limit, progress=not args.quiet)
        print(json.dumps(summary, indent=1))
        return 0
    report = build_report(args.weights, args.work, n_boot=args.n_boot, progress=not args.quiet)
    report["command"] = "python -m eval domain " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print_table(report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
