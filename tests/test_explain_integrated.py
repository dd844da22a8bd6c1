"""Integrated gradients against a relaxed face: its cells add up to the score's change from the neutral
face, it is zero where the input is the neutral face, the side map is mirror-consistent, and on the
shipped demo weights it finds the active AU and orders the half faithfully on a few development faces."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from torch import nn

import faces
from explain.base import GRADIENT_METHODS, explain, get_explainer
from explain.faithfulness import explanation_curves
from explain.gradcam import IntegratedGradientsExplainer, integrated_layer_map, neutral_baselines
from explain.groundtruth import make_case, score_case
from explain.lime import queried_model
from explain.overlay import legend_words
from models.pipeline import ModelBundle, assess, load_default_models
from tests.tiny_models import side_and_pain_bundle, side_map_and_mirror, synthetic_geometry


class Squares(nn.Module):
    """A small non-linear network: ReLU features, then the mean of their squares (one output)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.head(self.features(x)) ** 2).mean(dim=(1, 2, 3))[:, None]


def test_cells_add_up_to_the_change_from_the_reference() -> None:
    network = Squares().eval()
    generator = torch.Generator().manual_seed(0)
    x = 10.0 * torch.rand(1, 3, 12, 8, generator=generator)
    reference = torch.zeros_like(x)
    maps, grid = integrated_layer_map(network, network.features, x, reference, [0], (12, 8), steps=64)
    assert grid == (12, 8)
    with torch.no_grad():
        change = float(network(x) - network(reference))
    assert abs(change) > 0.1
    assert float(maps.sum()) == pytest.approx(change, rel=0.02)
    same, _ = integrated_layer_map(network, network.features, reference, reference, [0], (12, 8))
    assert float(same.abs().max()) == 0.0  # nothing changed from the reference: an empty map


@pytest.fixture(scope="module")
def geometry() -> faces.FaceGeometry:
    return synthetic_geometry()


def test_side_map_is_mirror_consistent_and_recorded(geometry) -> None:
    bundle = side_and_pain_bundle()
    explainer = get_explainer("integrated_gradients")
    assert isinstance(explainer, IntegratedGradientsExplainer) and "integrated_gradients" in GRADIENT_METHODS
    x, source, direct, mirrored = side_map_and_mirror(explainer, bundle, geometry)
    scale = float(np.abs(direct.input_map).max())
    assert scale > 0
    np.testing.assert_allclose(mirrored.input_map, direct.input_map[:, ::-1], atol=2e-3 * scale)
    assert direct.params["layer"] == "features.block1" and direct.params["centred"] is False
    assert direct.params["steps"] == 8 and "relaxed face" in direct.params["reference"]
    again = explainer.attribute(bundle.side, x, 0, source=source)
    np.testing.assert_array_equal(again.input_map, direct.input_map)


@pytest.fixture(scope="module")
def shipped() -> ModelBundle:
    return load_default_models()


def test_the_pain_map_sums_to_the_score_above_a_relaxed_face(shipped) -> None:
    assessment = assess(skimage.data.astronaut(), models=shipped)
    [explanation] = explain(assessment, "pain", "integrated_gradients", models=shipped)
    # the shipped patch-evidence network's stem: 64 x 32 cells on the 128 x 64 half
    assert explanation.params["layer"] == "stem" and explanation.params["layer_grid"] == [64, 32]
    inputs = assessment.inputs.halves[assessment.unaffected_side]
    with torch.no_grad():
        model = queried_model(shipped.pain)
        change = float(model(inputs) - model(neutral_baselines(inputs, shipped.pain.spec)))
    cells = explanation.input_map.sum() / 4.0  # bilinear x2 in each direction
    assert change > 1.0
    assert cells == pytest.approx(change, rel=0.15)
    assert legend_words(explanation) == ("lowers PSPI", "raises vs a relaxed face")


def test_finds_the_active_au_and_orders_the_half_faithfully(shipped) -> None:
    bundle = ModelBundle(pain=shipped.pain)
    explainer = IntegratedGradientsExplainer()
    hits, below = 0, 0
    for index in range(8):
        case = make_case(index, seed=7)
        assessment = assess(case.image, side=case.palsy.side, models=bundle, landmarks=case.landmarks)
        row = score_case(case, assessment, bundle, {"integrated_gradients": explainer}, {})
        hits += row["methods"]["integrated_gradients"]["hit"]
        [explanation] = explain(assessment, "pain", models=bundle, explainer=explainer)
        inputs = assessment.inputs.halves[assessment.unaffected_side]
        curves = explanation_curves(explanation, shipped.pain, inputs, n_random=4)
        below += curves.deletion_beats_random
    # the shipped network: the changed region first on 8 of 8, deletion below the random orderings on 6 of 8
    # (python -m explain reports gives the share on 20 fresh faces)
    assert hits >= 6
    assert below >= 6


def test_layer_comparison_covers_the_candidates_of_either_method(shipped) -> None:
    from explain.layer_choice import CANDIDATES, measure

    found = measure(2, seed=7, bundle=shipped, method="integrated_gradients")
    assert found["method"] == "integrated_gradients"
    pain_architecture = shipped.pain.card.architecture
    assert set(found["pain"]) == {layer for layer, _ in CANDIDATES["integrated_gradients"][pain_architecture]}
    side_architecture = shipped.side.card.architecture
    assert set(found["side"]) == {layer for layer, _ in CANDIDATES["integrated_gradients"][side_architecture]}
    for row in (*found["pain"].values(), *found["side"].values()):
        assert 0.0 <= row["top_raising_hit"] <= 1.0 and 0.0 <= row["deletion_below_random"] <= 1.0
        assert 0.0 < row["area_of_changed"] < 1.0
