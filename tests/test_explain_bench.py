"""Sanity check by weight randomisation, and the bench command on tiny models (figures are not asserted,
only that every measure is there and sensible)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explain.bench import format_table, megapixel, run
from explain.gradcam import GradCamExplainer
from explain.groundtruth import make_case
from explain.sanity import THRESHOLD, check, parameterised_layers, randomised_copy, rank_correlation
from explain.types import MapSource
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle, assess, load_default_models, raw_network
from models.preprocess import InputSpec
from models.registry import build_model


def _bundle() -> ModelBundle:
    torch.manual_seed(0)
    side_spec = InputSpec.default("aligned_face", (48, 48))
    pain_spec = InputSpec.default("half_face", (48, 24))
    return ModelBundle.from_modules(
        side=build_model("side_cnn", outputs=2).eval(),
        side_card=ModelCard(architecture="side_cnn", task="side", outputs=2, input=side_spec.to_dict()),
        pain=build_model("simple_cnn", outputs=1).eval(),
        pain_card=ModelCard(architecture="simple_cnn", task="pain", outputs=1, input=pain_spec.to_dict()),
        jitter_px=0.0)


def _parameters(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in raw_network(model.model).parameters()]


def test_full_randomisation_changes_every_layer_and_leaves_the_original_alone() -> None:
    model = _bundle().side
    before = _parameters(model)
    copy = randomised_copy(model, "full", seed=1)
    after = _parameters(copy)
    assert all(torch.equal(a, b) for a, b in zip(before, _parameters(model), strict=True))
    weights = [(a, b) for a, b in zip(before, after, strict=True) if a.dim() > 1]
    assert weights and all(not torch.equal(a, b) for a, b in weights)


def test_cascading_randomisation_starts_at_the_output() -> None:
    model = _bundle().pain
    layers = parameterised_layers(raw_network(model.model))
    copy = randomised_copy(model, "cascading", layers=1, seed=1)
    changed = [name for (name, old), (_, new) in zip(layers, parameterised_layers(raw_network(copy.model)),
                                                     strict=True)
               if not torch.equal(old.weight, new.weight)]
    assert changed == [layers[-1][0]]


def test_rank_correlation() -> None:
    a = np.arange(12.0).reshape(3, 4)
    assert rank_correlation(a, a ** 3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.ones_like(a)) == 0.0


def test_grad_cam_of_the_shipped_pain_model_fails_to_survive_randomisation() -> None:
    """Test-sized acceptance: one fresh face, the trained and randomised maps rank pixels differently."""
    bundle = load_default_models()
    case = make_case(0, seed=11)
    assessment = assess(case.image, models=bundle, landmarks=case.landmarks)
    half = case.unaffected
    result = check(GradCamExplainer(), bundle.pain, assessment.inputs.halves[half], 0,
                   source=MapSource(assessment.geometry, "pain", half))
    assert result.spearman < THRESHOLD and result.passed
    assert result.layers == len(parameterised_layers(bundle.pain.network))


def test_megapixel_keeps_the_aspect() -> None:
    photo = np.zeros((100, 200, 3), np.uint8)
    big = megapixel(photo)
    assert abs(big.shape[0] * big.shape[1] - 1e6) < 2e3 and big.shape[1] == 2 * big.shape[0]


def test_bench_measures_every_method_on_both_stages() -> None:
    report, table = run(real=0, synthetic=1, repeats=1, population_faces=2, bundle=_bundle())
    assert len(report["photos"]) >= 1
    for stages in report["photos"].values():
        for stage in ("side", "pain"):
            row = stages[stage]
            for name in ("gradcam", "lime", "captum_lime", "lime_reference"):
                assert row[f"{name}_s"] > 0 and np.isfinite(row[f"{name}_deletion"])
    assert report["population"]["pain_faces_per_s"] > report["population"]["pain_faces_per_s_with_assessment"]
    assert "lime defaults (quickshift, 1000)" in table and "Grad-CAM / forward" in table
    assert format_table({}, {}).count("\n") == 0
