"""Baselines that stand beside every model on the same examples.

- PSPI: the training mean and the training median, predicted for every example.
- Classes (affected side, pain / no pain): the training majority class, and stratified random guesses
  with the training class proportions (seeded).
- Affected side, training-free: the geometric asymmetry rule of :mod:`faces.asymmetry` (Emotrics-style
  measures), read from the assessment; it may be inconclusive, which counts as not correct.

The landmark-based PSPI estimate (:mod:`faces.au_proxy`, action-unit proxies with a small monotone
model: training-light, no network) is read per photo by :mod:`eval.collect` and shown as a baseline row
when present; :data:`PSPI_TRAINING_FREE` says so when it is not.

Training statistics come from arrays, or from a model card's split summary (``split.leakage.train``),
whose label histogram gives the median of integer PSPI labels exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

PSPI_TRAINING_FREE = ("none available: the landmark-based action-unit estimate (faces.au_proxy) could not "
                      "be read, so no training-free PSPI baseline is reported")


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
