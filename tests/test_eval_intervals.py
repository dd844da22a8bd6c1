"""The subject bootstrap resamples whole subjects, is deterministic and pairs the statistics."""

from __future__ import annotations

import numpy as np
import pytest

from eval.intervals import cluster_bootstrap, subject_indices


def _data(subjects: int, frames: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    per_subject = rng.normal(0, 1, subjects)
    values = np.repeat(per_subject, frames) + rng.normal(0, 0.01, subjects * frames)
    return values, [f"s{i}" for i in range(subjects) for _ in range(frames)]


def test_intervals_are_deterministic_and_contain_the_estimate() -> None:
    values, subjects = _data(12, 5)
    stat = lambda idx: {"mean": float(values[idx].mean())}  # noqa: E731
    a = cluster_bootstrap(stat, subjects, n_boot=300, seed=3)
    b = cluster_bootstrap(stat, subjects, n_boot=300, seed=3)
    assert a == b
    assert a["mean"].low < a["mean"].estimate < a["mean"].high
    assert a["mean"].n_units == 12 and a["mean"].n_boot == 300
    assert a["mean"].estimate == pytest.approx(values.mean())


def test_resampling_subjects_widens_the_interval_for_correlated_frames() -> None:
    """Frames of one subject are near copies: 12 subjects x 20 frames is about 12 units, not 240."""
    values, subjects = _data(12, 20)
    stat = lambda idx: {"mean": float(values[idx].mean())}  # noqa: E731
    by_subject = cluster_bootstrap(stat, subjects, n_boot=400, seed=0)["mean"]
    by_frame = cluster_bootstrap(stat, [str(i) for i in range(len(values))], n_boot=400, seed=0)["mean"]
    assert (by_subject.high - by_subject.low) > 3 * (by_frame.high - by_frame.low)


def test_each_replicate_takes_all_frames_of_a_drawn_subject() -> None:
    subjects = ["b", "a", "b", "c", "a", "b"]
    seen = []

    def stat(idx):
        seen.append(sorted(idx.tolist()))
        return {"n": float(len(idx))}

    cluster_bootstrap(stat, subjects, n_boot=20, seed=0)
    groups = [set(g.tolist()) for g in subject_indices(subjects)]
    assert [sorted(g) for g in groups] == [[1, 4], [0, 2, 5], [3]]
    for idx in seen:
        for group in groups:  # a subject is in a replicate with all of its rows, or not at all
            count = sum(i in group for i in idx)
            assert count % len(group) == 0


def test_nan_replicates_are_left_out() -> None:
    labels = np.array([0, 0, 1, 1, 0, 1])
    subjects = ["a", "a", "b", "b", "c", "c"]

    def stat(idx):
        y = labels[idx]
        return {"rate": float(y.mean()) if 0 < y.mean() < 1 else float("nan")}

    result = cluster_bootstrap(stat, subjects, n_boot=200, seed=1)["rate"]
    assert 0 < result.n_boot < 200
    assert not np.isnan(result.low)
