"""Baselines that stand beside every model on the same examples.

- PSPI: the training mean and the training median, predicted for every example.
- Classes (affected side, pain / no pain): the training majority class, and stratified random guesses
  with the training class proportions (seeded).
- Affected side, training-free: the geometric asymmetry rule of :mod:`faces.asymmetry` (Emotrics-style
  measures), read from the assessment; it may be inconclusive, which counts as not correct.

The project has no training-free PSPI estimate yet (the landmark action-unit proxies of the
specification are not built); :data:`PSPI_TRAINING_FREE` says so in every report.

Training statistics come from arrays, or from a model card's split summary (``split.leakage.train``),
whose label histogram gives the median of integer PSPI labels exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

PSPI_TRAINING_FREE = ("none available: the landmark-based action-unit estimate is not built yet, so no "
                      "training-free PSPI baseline is reported")


def constant(value: float, n: int) -> np.ndarray:
    """``n`` copies of ``value`` (float64)."""
    return np.full(n, float(value), dtype=np.float64)


def majority(labels: Sequence[Any]) -> Any:
    """The most frequent label (ties: the smallest)."""
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    return values[int(np.argmax(counts))].item()


def stratified(labels: Sequence[Any], n: int, seed: int = 0) -> np.ndarray:
    """``n`` labels drawn with the proportions of ``labels`` (the training labels), seeded."""
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    return np.random.default_rng(seed).choice(values, size=n, p=counts / counts.sum())


def training_stats_from_card(card: Mapping[str, Any]) -> dict[str, Any]:
    """Label statistics of a model card's training split: PSPI ``mean`` / ``median`` from the histogram
    of integer labels, or class ``counts`` for side labels."""
    labels = card["split"]["leakage"]["train"]["labels"]
    if "histogram" in labels:
        levels = np.array([float(k) for k in labels["histogram"]])
        counts = np.array(list(labels["histogram"].values()), dtype=np.int64)
        order = np.argsort(levels)
        expanded = np.repeat(levels[order], counts[order])
        return {"mean": float(labels["mean"]), "median": float(np.median(expanded)), "n": int(counts.sum()),
                "histogram": {str(k): int(v) for k, v in labels["histogram"].items()}}
    return {"counts": dict(labels["counts"]), "n": int(sum(labels["counts"].values()))}


def fraction_above(histogram: Mapping[str, int], threshold: float) -> float:
    """Fraction of labels above ``threshold`` in a ``{level: count}`` histogram."""
    total = sum(histogram.values())
    return float(sum(c for k, c in histogram.items() if float(k) > threshold) / total) if total else 0.0


__all__ = ["PSPI_TRAINING_FREE", "constant", "fraction_above", "majority", "stratified",
           "training_stats_from_card"]
