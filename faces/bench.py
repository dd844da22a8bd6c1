"""Timing of :func:`faces.analyse` on a one-megapixel photo, step by step.

The photo is scikit-image's astronaut portrait enlarged to 1000 x 1000. Models are loaded (and the
first call discarded) before timing, so the figures are the per-photo cost in a running server.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import cv2
import numpy as np

BENCH_SIDE = 1000


def bench_photo(side: int = BENCH_SIDE) -> np.ndarray:
    """The astronaut portrait enlarged to ``(side, side, 3)`` RGB ``uint8``."""
    from skimage import data

    return cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_CUBIC)


@dataclass(frozen=True)
class BenchResult:
    """Median and 90th percentile of the total, and the median of each step, in milliseconds."""

    repeat: int
    median_ms: float
    p90_ms: float
    step_median_ms: dict[str, float]


def run_bench(repeat: int = 30, photo: np.ndarray | None = None) -> BenchResult:
    """Time ``analyse`` ``repeat`` times on ``photo`` (default: :func:`bench_photo`)."""
    from faces.analyse import analyse

    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    photo = bench_photo() if photo is None else photo
    analyse(photo)
    runs = [analyse(photo).timings_ms for _ in range(repeat)]
    totals = np.array([run["total"] for run in runs])
    steps = {step: statistics.median(run.get(step, 0.0) for run in runs) for step in runs[0]}
    return BenchResult(
        repeat=repeat, median_ms=float(np.median(totals)), p90_ms=float(np.percentile(totals, 90)),
        step_median_ms=steps,
    )


def format_bench(result: BenchResult, photo_shape: tuple[int, ...]) -> str:
    """Plain-text report of a :class:`BenchResult`."""
    lines = [
        f"faces.analyse on a {photo_shape[1]} x {photo_shape[0]} photo, {result.repeat} runs",
        f"  median {result.median_ms:7.1f} ms",
        f"  p90    {result.p90_ms:7.1f} ms",
        "  median per step:",
    ]
    lines += [f"    {step:<10} {ms:7.2f} ms" for step, ms in result.step_median_ms.items() if step != "total"]
    return "\n".join(lines)
