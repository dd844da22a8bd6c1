"""Grad-CAM time per stage against one forward pass of the same model, on 1-megapixel photos.

``python -m explain timing`` enlarges real photos shipped with the installed packages to about one
megapixel, assesses each once, and times (median of ``--repeats``), per stage, on the exact inputs of the
assessment:

- ``forward``: one forward pass of the deployed model (what the pipeline runs: jitter-averaged, and
  mirror-averaged for the side model);
- ``network``: one forward pass of the raw network on the same input;
- ``gradcam``: :meth:`GradCamExplainer.attribute` as :func:`explain.base.explain` calls it (map and face
  map; the deployed model's output handed on from the assessment);
- ``alone``: the same call computing that output itself (one more deployed forward pass);
- ``photo_map``: carrying the face map onto the 1-megapixel photo (done on demand, for display).

The target is ``gradcam <= 3 x forward``. Threads: one (``torch.set_num_threads(1)``) unless ``--threads``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cv2
import numpy as np
import torch

from explain.gradcam import GradCamExplainer
from explain.mirror import sample_photos
from explain.types import MapSource
from models.pipeline import assess, load_default_models
from models.registry import SIDE_CLASSES


def _median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def megapixel(photo: np.ndarray) -> np.ndarray:
    """``photo`` resized (aspect kept) to about 1,000,000 pixels."""
    scale = (1_000_000 / (photo.shape[0] * photo.shape[1])) ** 0.5
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    return cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)


def measure(repeats: int = 10, lfw: int = 2) -> list[dict[str, float | str]]:
    """One row per photo and stage with the times in milliseconds and the ratio to the forward pass."""
    bundle = load_default_models()
    explainer = GradCamExplainer()
    rows: list[dict[str, float | str]] = []
    for name, photo in sample_photos(lfw).items():
        big = megapixel(photo)
        assessment = assess(big, models=bundle)
        stages = [("side", bundle.side, assessment.inputs.side, None),
                  ("pain", bundle.pain, assessment.inputs.halves[assessment.unaffected_side],
                   assessment.unaffected_side)]
        for stage, model, inputs, half in stages:
            if model is None or inputs is None:
                continue
            source = MapSource(assessment.geometry, stage, half)
            x = inputs.to(model.device)
            with torch.no_grad():
                forward = _median_seconds(lambda m=model, x=x: m.model(x), repeats)
                network = _median_seconds(lambda m=model, x=x: m.network(x), repeats)
            target = 0 if stage == "pain" else SIDE_CLASSES.index(assessment.affected_side)
            explanation = explainer.attribute(model, inputs, target, source=source)
            known = explanation.prediction
            gradcam = _median_seconds(lambda m=model, i=inputs, t=target, s=source, k=known:
                                      explainer.attribute(m, i, t, source=s, prediction=k), repeats)
            alone = _median_seconds(lambda m=model, i=inputs, t=target, s=source:
                                    explainer.attribute(m, i, t, source=s), repeats)
            photo_map = _median_seconds(lambda e=explanation, g=assessment.geometry: e.photo_map(g), repeats)
            rows.append({"photo": name, "pixels": f"{big.shape[1]}x{big.shape[0]}", "stage": stage,
                         "forward_ms": 1000 * forward, "network_ms": 1000 * network,
                         "gradcam_ms": 1000 * gradcam, "alone_ms": 1000 * alone,
                         "photo_map_ms": 1000 * photo_map,
                         "ratio_to_forward": gradcam / forward, "ratio_to_network": gradcam / network})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain timing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--lfw", type=int, default=2, help="LFW faces to add (default 2)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{'photo':13s} {'size':>9s} {'stage':5s} {'forward':>8s} {'network':>8s} {'gradcam':>8s} "
          f"{'x fwd':>6s} {'x net':>6s} {'alone':>7s} {'to photo':>8s}   (ms, median of {args.repeats})")
    for row in measure(args.repeats, args.lfw):
        print(f"{row['photo']:13s} {row['pixels']:>9s} {row['stage']:5s} {row['forward_ms']:8.1f} "
              f"{row['network_ms']:8.1f} {row['gradcam_ms']:8.1f} {row['ratio_to_forward']:6.2f} "
              f"{row['ratio_to_network']:6.2f} {row['alone_ms']:7.1f} {row['photo_map_ms']:8.1f}")
    return 0


__all__ = ["main", "measure", "megapixel"]
