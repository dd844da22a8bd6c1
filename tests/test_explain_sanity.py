"""The randomisation check's correlations: the whole map, and within each half of the face."""

from __future__ import annotations

import numpy as np
import pytest

from explain.sanity import mirror_symmetric_part, rank_correlation, within_halves


def _split_map(rng: np.random.Generator) -> np.ndarray:
    """A 16 x 16 map that is positive on the image's right half and negative on its left, with an
    unrelated pattern inside each half."""
    noise = rng.random((16, 16))
    return np.where(np.arange(16)[None, :] >= 8, 1.0 + noise, -1.0 - noise)


def test_a_shared_half_split_correlates_the_whole_maps_but_not_within_the_halves() -> None:
    first, second = _split_map(np.random.default_rng(1)), _split_map(np.random.default_rng(2))
    assert rank_correlation(first, second) > 0.7  # the split alone makes them look alike
    assert abs(within_halves(first, second)) < 0.3  # inside each half they are unrelated


def test_within_halves_sees_the_same_pattern_inside_each_half() -> None:
    first = _split_map(np.random.default_rng(3))
    assert within_halves(first, first) == pytest.approx(1.0)
    assert within_halves(first, -first) == pytest.approx(-1.0)


def test_the_mirror_symmetric_part_drops_the_split_into_halves() -> None:
    rng = np.random.default_rng(0)
    evidence = rng.random((8, 8))  # non-negative evidence per cell, as a half-comparing side network has
    split = np.hstack([-evidence[:, :4], evidence[:, 4:]])  # the named half raises, the other lowers
    other = np.hstack([-rng.random((8, 4)), rng.random((8, 4))])  # unrelated weights, the same split
    assert rank_correlation(split, other) > 0.5  # the split alone correlates them
    symmetric = mirror_symmetric_part(split)
    np.testing.assert_allclose(symmetric, symmetric[:, ::-1])
    assert symmetric.sum() == pytest.approx(split.sum())  # the decision (the map's sum) is all there
    assert abs(rank_correlation(symmetric, mirror_symmetric_part(other))) < 0.5
