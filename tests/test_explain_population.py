"""Population heatmaps: the piecewise-affine warp into the canonical frame, batched Grad-CAM equal to the
one-by-one maps, and the command over a small synthetic dataset in two layouts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from data.synth import SynthConfig, write_dataset
from explain.gradcam import GradCamExplainer
from explain.population import gradcam_batch, main, pspi_band
from explain.warp import CanonicalFrame, with_forehead
from faces.landmarks import MIRROR_PERMUTATION
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle
from models.preprocess import InputSpec
from models.registry import build_model

FRAME = CanonicalFrame(64)


def _ramp(size: int) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    return xs + 0.5 * ys


def test_the_template_face_warps_onto_itself() -> None:
    face = _ramp(64)
    warped = FRAME.warp(face, FRAME.template_landmarks())
    inside = FRAME.inside
    assert inside.mean() > 0.4  # the mesh covers the face, forehead included
    np.testing.assert_allclose(warped[inside], face[inside], atol=1e-3)
    assert np.isnan(warped[~inside]).all()


def test_a_shifted_and_scaled_face_is_carried_back() -> None:
    points = FRAME.template_landmarks()
    moved = points * 1.1 + np.array([3.0, -2.0])
    face = _ramp(90)
    warped = FRAME.warp(face, moved)
    ys, xs = np.nonzero(FRAME.inside)
    expected = (xs * 1.1 + 3.0) + 0.5 * (ys * 1.1 - 2.0)  # the ramp read where the moved face has the pixel
    np.testing.assert_allclose(warped[ys, xs], expected, atol=0.05)


def test_a_mirrored_face_lands_in_canonical_orientation() -> None:
    points = FRAME.template_landmarks() + np.array([1.5, 0.5])
    face = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    mirrored_points = points.copy()
    mirrored_points[:, 0] = 63 - mirrored_points[:, 0]
    mirrored_points = mirrored_points[MIRROR_PERMUTATION]
    direct = FRAME.warp(face, points)
    from_mirror = FRAME.warp(face[:, ::-1], mirrored_points, mirrored=True)
    np.testing.assert_allclose(from_mirror, direct, atol=1e-4, equal_nan=True)


def test_forehead_points_lie_above_the_brows() -> None:
    points = with_forehead(FRAME.template_landmarks())
    assert points.shape == (78, 2)
    assert (points[68:, 1] < points[17:27, 1]).all()


def test_pspi_bands() -> None:
    assert [pspi_band(v) for v in (0.0, 0.4, 2.0, 4.0, 12.0)] == [
        "PSPI 0", "PSPI 0", "PSPI 0.5-3", "PSPI 3-6", "PSPI 6+"]


def _bundle() -> ModelBundle:
    torch.manual_seed(0)
    side_spec = InputSpec.default("aligned_face", (64, 64))
    pain_spec = InputSpec.default("half_face", (64, 32))
    return ModelBundle.from_modules(
        side=build_model("side_cnn", outputs=2).eval(),
        side_card=ModelCard(architecture="side_cnn", task="side", outputs=2, input=side_spec.to_dict()),
        pain=build_model("simple_cnn", outputs=1).eval(),
        pain_card=ModelCard(architecture="simple_cnn", task="pain", outputs=1, input=pain_spec.to_dict()),
        jitter_px=0.0)


@pytest.mark.parametrize("role", ["side", "pain"])
def test_batched_gradcam_equals_the_one_by_one_maps(role) -> None:
    bundle = _bundle()
    model = bundle.side if role == "side" else bundle.pain
    x = torch.randn(3, 3, *model.spec.size)
    targets = [0, 1, 0] if role == "side" else [0, 0, 0]
    batched, params = gradcam_batch(model, x, targets)
    assert params["mirror_averaged"] == (role == "side")
    single = GradCamExplainer()
    for i in range(3):
        expected, _ = single.input_map(model, x[i:i + 1], targets[i])
        np.testing.assert_allclose(batched[i], expected, rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("population")
    write_dataset(root, SynthConfig(subjects=2, frames=2, seed=5, layout="all", size=128, palsy_fraction=1.0),
                  progress=False)
    return root


@pytest.mark.parametrize("layout, stage", [("unbc", "side"), ("halfface", "pain")])
def test_population_command_writes_group_maps_and_region_shares(dataset, tmp_path, monkeypatch, layout,
                                                                 stage) -> None:
    import explain.population as population

    bundle = _bundle()
    monkeypatch.setattr(population, "load_default_models", lambda: bundle)
    out = tmp_path / "out"
    assert main(["--data", str(dataset / layout), "--stage", stage, "--method", "gradcam", "--out", str(out),
                 "--frame", "48"]) == 0
    report = json.loads((out / "population.json").read_text())
    assert report["faces"] + report["skipped"] == 4
    assert report["faces"] >= 1
    for name, group in report["groups"].items():
        assert (out / report["files"][name]).is_file()
        shares = [r["share"] for r in group["regions"]]
        assert all(0.0 <= s <= 1.0 for s in shares) and sum(shares) <= 1.0 + 1e-3
        assert all("patient's" in r["label"] for r in group["regions"])
    if stage == "side":
        assert any(name.startswith("palsy: patient's") for name in report["groups"])
    else:
        assert any(name.startswith("PSPI") for name in report["groups"])


def test_evidence_maps_are_averaged_and_shown_as_evidence(dataset) -> None:
    """A patch-evidence pain model's Grad-CAM maps are non-negative evidence: the population picture takes
    the sequential palette and its caption says so, where a signed map keeps the diverging one."""
    from explain.base import explain
    from explain.population import Population, iter_faces
    from faces.sides import Side
    from models.pipeline import assess

    torch.manual_seed(0)
    spec = InputSpec.default("half_face", (64, 32))
    bundle = ModelBundle.from_modules(
        pain=build_model("patch_evidence", outputs=1).eval(),
        pain_card=ModelCard(architecture="patch_evidence", task="pain", outputs=1, input=spec.to_dict()),
        jitter_px=0.0)
    signed_bundle = _bundle()
    face = next(iter_faces(dataset / "unbc"))
    shown = {}
    for name, models in (("evidence", bundle), ("signed", signed_bundle)):
        assessment = assess(face.image, models=ModelBundle(pain=models.pain), landmarks=face.landmarks,
                            side=face.palsy_side or Side.LEFT)
        [explanation] = explain(assessment, "pain", "gradcam", models=models)
        population = Population(FRAME, signed=True)
        population.add(explanation, assessment, ["all"])
        shown[name] = (population.signed, population.picture("all"))
    assert shown["evidence"][0] is False and shown["signed"][0] is True
    assert shown["evidence"][1].ndim == 3 and shown["evidence"][1].dtype == np.uint8
