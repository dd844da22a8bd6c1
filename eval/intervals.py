"""Cluster (subject) bootstrap: confidence intervals that resample subjects, not frames.

Frames of one person are correlated (400 photos of 40 subjects are 40 independent units, not 400), so
each bootstrap replicate draws ``n_subjects`` subjects with replacement and takes *all* frames of each
draw. Every statistic of one call sees the same replicates, so differences between models (computed
inside the statistic) get paired intervals. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from eval.types import Interval

Statistic = Callable[[np.ndarray], Mapping[str, float]]


def subject_indices(subjects: Sequence[Any]) -> list[np.ndarray]:
    """Row indices per subject, subjects in sorted order (so the order of rows does not matter)."""
    by_subject: dict[str, list[int]] = {}
    for index, subject in enumerate(subjects):
        by_subject.setdefault(str(subject), []).append(index)
    return [np.asarray(by_subject[key], dtype=np.int64) for key in sorted(by_subject)]


def cluster_bootstrap(statistic: Statistic, subjects: Sequence[Any], *, n_boot: int = 1000, seed: int = 0,
                      level: float = 0.95) -> dict[str, Interval]:
    """Intervals for every value ``statistic(rows)`` returns, resampling subjects with replacement.

    Args:
        statistic: maps an index array into the data (rows, repeats allowed) to named floats.
        subjects: the subject of each row.
        n_boot: number of replicates.
        seed: seed of ``numpy.random.default_rng``.
        level: central coverage of the percentile interval.

    Returns:
        name -> :class:`Interval` whose estimate is ``statistic`` on all rows. Replicates where a value is
        nan (e.g. one class only) are left out of that value's interval; with fewer than two subjects the
        bounds are nan.
    """
    groups = subject_indices(subjects)
    full = statistic(np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in full}
    if len(groups) >= 2:
        for _ in range(n_boot):
            chosen = rng.integers(0, len(groups), len(groups))
            values = statistic(np.concatenate([groups[i] for i in chosen]))
            for name in full:
                draws[name].append(float(values[name]))
    tail = (1.0 - level) / 2.0
    result = {}
    for name, estimate in full.items():
        values = np.asarray(draws[name], dtype=np.float64)
        values = values[~np.isnan(values)]
        low, high = ((float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail)))
                     if values.size else (math.nan, math.nan))
        result[name] = Interval(float(estimate), low, high, level, len(groups), int(values.size))
    return result


def intervals_dict(intervals: Mapping[str, Interval]) -> dict[str, dict[str, Any]]:
    """JSON-ready form of :func:`cluster_bootstrap`'s result."""
    return {name: interval.to_dict() for name, interval in intervals.items()}


__all__ = ["cluster_bootstrap", "intervals_dict", "subject_indices"]
