"""Deletion and insertion curves: a map that says where a linear model looks beats random orderings,
its reverse loses to them, and the curves are normalised as documented."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explain.faithfulness import (
    auc,
    block_units,
    blurred,
    curves,
    mirror_pair_units,
    ranking,
    scorer,
    unit_scores,
)
from models.preprocess import InputSpec


def _image(seed: int = 0, shape: tuple[int, int] = (32, 16)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (*shape, 3), dtype=np.uint8)


def _linear_score(weights: np.ndarray, offset: float = 0.0):
    """A 'model' whose output is the weighted sum of the pixels' grey levels (in 0..1) plus ``offset``."""
    def score(images: np.ndarray) -> np.ndarray:
        grey = images.astype(np.float64).mean(axis=3) / 255.0
        return (grey * weights).sum(axis=(1, 2)) + offset
    return score


def test_units_and_unit_scores() -> None:
    units = block_units((10, 6), block=4)
    assert units.shape == (10, 6) and int(units.max()) + 1 == 3 * 2
    assert units[0, 0] == 0 and units[0, 5] == 1 and units[9, 5] == 5
    values = np.zeros((10, 6))
    values[:4, :4] = 2.0
    np.testing.assert_allclose(unit_scores(values, units), [2, 0, 0, 0, 0, 0])


def test_mirror_pairs_join_each_block_with_its_mirror_image() -> None:
    units = mirror_pair_units((16, 32), block=8)
    assert int(units.max()) + 1 == 2 * 2
    np.testing.assert_array_equal(units, units[:, ::-1])  # a block and its mirror share a label
    assert units[0, 0] != units[0, 8] and units[0, 0] != units[8, 0]
    assert int(mirror_pair_units((16, 24), block=8).max()) + 1 == 2 * 2  # the centre column pairs with itself
    with pytest.raises(ValueError, match="divisible"):
        mirror_pair_units((16, 30), block=8)


def test_a_model_that_compares_the_halves_is_tested_in_mirror_pairs() -> None:
    """A 'side model' reading how much one patch of the left half differs from its mirror on the right: the
    map that points at the patch takes the score to 0 at once when the patch goes with its mirror, while the
    left patch replaced alone by a fill unlike the right half makes the halves differ more."""
    image = _image(3, (32, 32))
    image[8:16, 0:8] = 255  # the left patch is white, its mirror light grey
    image[8:16, 24:32] = 200
    fill = np.zeros_like(image)  # black: unlike either

    def score(images: np.ndarray) -> np.ndarray:
        grey = images.astype(np.float64).mean(axis=3) / 255.0
        return np.abs(grey[:, 8:16, 0:8] - grey[:, 8:16, ::-1][:, :, 0:8]).mean(axis=(1, 2))

    where = np.zeros(image.shape[:2])
    where[8:16, 0:8] = 1.0
    single = curves(image, where, score, block=8, steps=8, n_random=10, fill=fill, seed=0)
    paired = curves(image, where, score, units=mirror_pair_units(image.shape[:2], 8), steps=8, n_random=10,
                    fill=fill, seed=0)
    assert paired.deletion_beats_random and paired.deletion[1] == pytest.approx(0.0)
    # the black left patch differs from the grey mirror more than the white one did
    assert single.deletion[1] > single.deletion[0] and single.deletion_auc > paired.deletion_auc


def test_ranking_is_largest_first_with_random_tie_breaks() -> None:
    order = ranking(np.array([0.1, 3.0, 0.1, 2.0]), np.random.default_rng(0))
    assert list(order[:2]) == [1, 3] and set(order[2:]) == {0, 2}


def test_auc_is_the_trapezoid_mean() -> None:
    assert auc(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(0.5)
    assert auc(np.array([1.0, 1.0, 0.0]), np.array([0.0, 0.5, 1.0])) == pytest.approx(0.75)


def test_true_map_beats_random_and_reversed_map_loses() -> None:
    image = _image(1)
    fill = blurred(image)
    weights = np.zeros(image.shape[:2])
    weights[4:12, 2:10] = 1.0  # the model reads one patch
    truth = weights * np.abs(image.mean(axis=2) - fill.mean(axis=2)) / 255.0
    score = _linear_score(weights)
    good = curves(image, truth, score, block=4, steps=8, n_random=10, regression=True, seed=0)
    bad = curves(image, -truth, score, block=4, steps=8, n_random=10, regression=True, seed=0)
    assert good.deletion_beats_random and good.insertion_auc > good.random_insertion_mean
    assert not bad.deletion_beats_random and bad.insertion_auc < bad.random_insertion_mean
    assert len(good.random_deletion_auc) == 10


def test_regression_curves_are_normalised_to_the_fill() -> None:
    image = _image(2)
    weights = np.ones(image.shape[:2]) / image[..., 0].size * 20.0
    result = curves(image, np.ones(image.shape[:2]), _linear_score(weights, offset=5.0), block=8, steps=4,
                    n_random=2, regression=True)
    assert result.deletion[-1] == pytest.approx(0.0, abs=1e-9)  # everything removed = the fill
    assert result.insertion[0] == pytest.approx(0.0, abs=1e-9)
    assert result.normaliser == pytest.approx(max(abs(result.output_input - result.output_fill), 1.0))
    assert result.deletion[0] == pytest.approx((result.output_input - result.output_fill) / result.normaliser)
    unscaled = curves(image, np.ones(image.shape[:2]), _linear_score(weights, offset=5.0), block=8, steps=4,
                      n_random=2, regression=False)
    assert unscaled.deletion[0] == pytest.approx(result.output_input)  # probabilities are used as they are


def test_scorer_batches_a_torch_module() -> None:
    spec = InputSpec.default("half_face", (32, 16))

    class Mean(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = torch.nn.Parameter(torch.zeros(2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            m = x.mean((1, 2, 3))
            return torch.stack([m, -m], dim=1) + self.bias

    images = np.stack([_image(s) for s in range(5)])
    one_by_one = np.concatenate([scorer(Mean(), spec, 1, batch=2)(images[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(scorer(Mean(), spec, 1, batch=2)(images), one_by_one, rtol=1e-6)
    assert one_by_one.shape == (5,)
