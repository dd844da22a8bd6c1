"""``python -m explain bench``: explanation cost and faithfulness against the references, on the same photos.

Photos: the real face photos shipped with the installed packages (:func:`explain.mirror.sample_photos`),
enlarged to about one megapixel, and fresh synthetic faces (:func:`explain.groundtruth.make_case`,
seed 3030, never used for training), each assessed once. Per stage (side, pain = the scored half), on
the exact inputs of the assessment:

- ``forward``: one forward pass of the deployed model (jitter-averaged; mirror-averaged for the side);
- ``gradcam``: :class:`explain.gradcam.GradCamExplainer` (target <= 3x ``forward``);
- ``integrated_gradients``: :class:`explain.gradcam.IntegratedGradientsExplainer` (8 path points from
  the neutral face; reported against ``forward`` too, no target);
- ``lime``: our LIME at its defaults (facial-region segments, 128 samples, neutral-face fill);
- ``captum_lime``: captum's ``Lime`` at the same defaults;
- ``lime_reference``: the ``lime`` package's own defaults: quickshift segments (kernel 4, max_dist 200,
  ratio 0.2), 1000 samples, each segment's mean colour as the fill;

each with its time and its deletion AUC (:mod:`explain.faithfulness`: 8-pixel blocks, most relevant
first; lower is better) beside the mean of 10 random orderings, with both curve fills: the neutral face
(the fill our LIME also uses, so it favours our LIME) and a blur (the fill neither LIME uses).
Target: our LIME <= 1 s per
stage at a deletion AUC no worse than the reference's. Then the population throughput: batched Grad-CAM,
warp into the canonical frame and accumulation (:mod:`explain.population`) on already assessed faces, in
faces per second (target >= 50), and the same including the assessment.

Printed: one table, median [min, max] over the photos. Threads: 2 unless ``--threads``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import torch

from explain.base import GRADIENT_METHODS, get_explainer
from explain.faithfulness import CURVE_FILLS, explanation_curves
from explain.types import MapSource
from models.pipeline import Assessment, ModelBundle, assess, load_default_models
from models.registry import SIDE_CLASSES

SYNTHETIC_SEED = 3030
REFERENCE = {"segmentation": "quickshift", "n_samples": 1000, "fill": "segment_mean"}
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "gradcam": ("gradcam", {}),
    "integrated_gradients": ("integrated_gradients", {}),
    "lime": ("lime", {}),
    "captum_lime": ("captum_lime", {}),
    "lime_reference": ("lime", REFERENCE),
}


def megapixel(photo: np.ndarray, pixels: float = 1e6) -> np.ndarray:
    """``photo`` enlarged (or reduced) to about ``pixels`` pixels, aspect kept."""
    scale = (pixels / (photo.shape[0] * photo.shape[1])) ** 0.5
    size = (int(round(photo.shape[1] * scale)), int(round(photo.shape[0] * scale)))
    return cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)


def bench_photos(real: int = 4, synthetic: int = 4) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Name -> (photo, true landmarks or None): real photos at about 1 MP, then synthetic faces."""
    from explain.groundtruth import make_case
    from explain.mirror import sample_photos

    photos: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for name, photo in list(sample_photos().items())[:real]:
        photos[name] = (megapixel(photo), None)
    for index in range(synthetic):
        case = make_case(index, SYNTHETIC_SEED)
        photos[f"synthetic_{index}"] = (case.image, case.landmarks)
    return photos


def _timed(call: Callable[[], Any], repeats: int = 1) -> tuple[float, Any]:
    """Median seconds over ``repeats`` calls (after one warm-up when repeating) and the last result."""
    result = call() if repeats > 1 else None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def stage_jobs(assessment: Assessment,
               bundle: ModelBundle) -> dict[str, tuple[Any, torch.Tensor, int, MapSource]]:
    geometry = assessment.geometry
    jobs = {"pain": (bundle.pain, assessment.inputs.halves[assessment.unaffected_side], 0,
                     MapSource(geometry, "pain", assessment.unaffected_side))}
    if bundle.side is not None and assessment.inputs.side is not None:
        jobs["side"] = (bundle.side, assessment.inputs.side, SIDE_CLASSES.index(assessment.affected_side),
                        MapSource(geometry, "side"))
    return jobs


def measure_photo(assessment: Assessment, bundle: ModelBundle, repeats: int) -> dict[str, dict[str, float]]:
    """Per stage: seconds of each measure and deletion AUCs (see the module docstring)."""
    out: dict[str, dict[str, float]] = {}
    explainers = {name: get_explainer(method) for name, (method, _) in METHODS.items()}
    for stage, (model, inputs, target, source) in stage_jobs(assessment, bundle).items():
        row: dict[str, float] = {}
        with torch.no_grad():
            row["forward_s"], _ = _timed(lambda m=model, x=inputs: m.model(x.to(m.device)), repeats)
        for name, (_, params) in METHODS.items():
            seconds, explanation = _timed(
                lambda e=explainers[name], p=params, m=model, x=inputs, t=target, s=source:
                e.attribute(m, x, t, source=s, **p), repeats if name in GRADIENT_METHODS else 1)
            row[f"{name}_s"] = seconds
            for fill in CURVE_FILLS:
                curves = explanation_curves(explanation, model, inputs, fill=fill)
                suffix = "" if fill == CURVE_FILLS[0] else f"_{fill}"
                row[f"{name}_deletion{suffix}"] = curves.deletion_auc
                row[f"{name}_random_deletion{suffix}"] = curves.random_deletion_mean
        row["gradcam_over_forward"] = row["gradcam_s"] / row["forward_s"]
        row["integrated_gradients_over_forward"] = row["integrated_gradients_s"] / row["forward_s"]
        out[stage] = row
    return out


def population_throughput(bundle: ModelBundle, faces: int = 64, batch: int = 32) -> dict[str, float]:
    """Faces per second of batched Grad-CAM + warp + accumulation (side and pain), without and with the
    assessment, on fresh synthetic faces."""
    from explain.groundtruth import make_case
    from explain.population import Face, Population, batched_gradcam, groups_of
    from explain.warp import CanonicalFrame

    items = []
    started = time.perf_counter()
    for index in range(faces):
        case = make_case(index, SYNTHETIC_SEED + 1)
        items.append((Face(f"f{index}", case.image, case.landmarks), assess(case.image, models=bundle,
                                                                          landmarks=case.landmarks)))
    assess_seconds = time.perf_counter() - started
    out: dict[str, float] = {}
    for stage in ("side", "pain"):
        population = Population(CanonicalFrame(128), signed=stage != "side")
        started = time.perf_counter()
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            explanations = batched_gradcam(chunk, bundle, stage)
            for (face, assessment), explanation in zip(chunk, explanations, strict=True):
                population.add(explanation, assessment, groups_of(face, assessment, stage))
        seconds = time.perf_counter() - started
        out[f"{stage}_faces_per_s"] = faces / seconds
        out[f"{stage}_faces_per_s_with_assessment"] = faces / (seconds + assess_seconds)
    return out


def _cell(values: list[float], digits: int = 3) -> str:
    return f"{np.median(values):.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]"


def format_table(rows: dict[str, dict[str, dict[str, float]]], throughput: dict[str, float]) -> str:
    lines = [f"{'stage':6} {'measure':46} {'median [min, max] over photos':>36}"]
    for stage in ("side", "pain"):
        per = [r[stage] for r in rows.values() if stage in r]
        if not per:
            continue

        def cell(key: str, digits: int = 3, per: list[dict[str, float]] = per) -> str:
            return _cell([p[key] for p in per], digits)

        lines.append(f"{stage:6} {'forward pass (deployed), s':46} {cell('forward_s', 4):>36}")
        lines.append(f"{stage:6} {'Grad-CAM, s':46} {cell('gradcam_s', 4):>36}")
        ratio = cell("gradcam_over_forward", 2)
        lines.append(f"{stage:6} {'Grad-CAM / forward (target <= 3)':46} {ratio:>36}")
        ratio = cell("integrated_gradients_over_forward", 2)
        lines.append(f"{stage:6} {'integrated gradients / forward':46} {ratio:>36}")
        for name, label in (("lime", "our LIME (regions, 128)"),
                            ("captum_lime", "captum Lime (regions, 128)"),
                            ("lime_reference", "lime defaults (quickshift, 1000)"), ("gradcam", "Grad-CAM"),
                            ("integrated_gradients", "integrated gradients")):
            if name not in GRADIENT_METHODS:
                lines.append(f"{stage:6} {label + ', s':46} {cell(name + '_s'):>36}")
            for fill in CURVE_FILLS:
                suffix = "" if fill == CURVE_FILLS[0] else f"_{fill}"
                if name + "_deletion" + suffix not in per[0]:
                    continue
                text = f"{label}, deletion AUC, {fill}"
                lines.append(f"{stage:6} {text:46} {cell(name + '_deletion' + suffix):>36}")
                random_auc = cell(name + "_random_deletion" + suffix)
                lines.append(f"{stage:6} {'  random orderings, ' + fill:46} {random_auc:>36}")
    for key, value in throughput.items():
        lines.append(f"{'pop.':6} {key.replace('_', ' '):46} {value:>36.1f}")
    return "\n".join(lines)


def run(real: int = 4, synthetic: int = 4, repeats: int = 5, population_faces: int = 64,
        bundle: ModelBundle | None = None) -> tuple[dict[str, Any], str]:
    bundle = bundle or load_default_models()
    rows = {}
    for name, (photo, landmarks) in bench_photos(real, synthetic).items():
        try:
            assessment = assess(photo, models=bundle, landmarks=landmarks)
        except ValueError as error:
            print(f"{name}: skipped ({error})")
            continue
        rows[name] = measure_photo(assessment, bundle, repeats)
    throughput = population_throughput(bundle, population_faces) if population_faces else {}
    return {"photos": rows, "population": throughput}, format_table(rows, throughput)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain bench", description=__doc__.split("\n")[0])
    parser.add_argument("--real", type=int, default=4, help="real photos (about 1 megapixel)")
    parser.add_argument("--synthetic", type=int, default=4, help="fresh synthetic faces")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the forward pass and Grad-CAM")
    parser.add_argument("--population", type=int, default=64, help="faces for the throughput (0: skip)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    report, table = run(args.real, args.synthetic, args.repeats, args.population)
    print(table)
    if args.json:
        import json
        from pathlib import Path

        from explain.regenerate import weights_record

        report["weights"] = weights_record(load_default_models())
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


__all__ = ["METHODS", "REFERENCE", "bench_photos", "format_table", "main", "measure_photo", "megapixel",
           "population_throughput", "run"]
