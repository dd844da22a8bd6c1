"""Grad-CAM: signed, bilinear, on the deployed target, mirror-consistent for the side model, and wired
through explain() with the exact inputs of an assessment."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import faces
from data.synth import Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.base import explain
from explain.gradcam import GradCamExplainer, IntegratedGradientsExplainer, default_layer, layer_cam
from explain.overlay import legend_words
from explain.types import MapSource
from faces.sides import Side
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle, assess, load_default_models
from models.preprocess import InputSpec, flip_tensor
from models.registry import SIDE_CLASSES, build_model


def _card(task: str, kind: str, size: tuple[int, int], outputs: int) -> ModelCard:
    arch = "side_cnn" if task == "side" else "simple_cnn"
    return ModelCard(architecture=arch, task=task, outputs=outputs,
                     input=InputSpec.default(kind, size).to_dict())


class ColourProbe(nn.Module):
    """PSPI stand-in: ``w_red * mean(red) + w_green * mean(green)`` over a 4x-pooled grid of ReLU'd
    colour channels, so Grad-CAM at ``features`` is known: positive on red, negative on green."""

    def __init__(self, w_red: float = 1.0, w_green: float = -1.0, bias: float = 3.0) -> None:
        super().__init__()
        conv = nn.Conv2d(3, 2, 1, bias=False)
        conv.weight.data = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).view(2, 3, 1, 1)
        self.features = nn.Sequential(conv, nn.ReLU(), nn.AvgPool2d(4))
        self.head = nn.Linear(2, 1)
        self.head.weight.data = torch.tensor([[w_red, w_green]])
        self.head.bias.data = torch.tensor([bias])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def geometry() -> faces.FaceGeometry:
    spec = sample_frame_spec(np.random.default_rng(2), sample_identity(9), size=128)
    face = render_face(spec)
    return faces.analyse(face.image, landmarks=face.landmarks, size=128)


def _colour_input() -> torch.Tensor:
    """(1, 3, 32, 16): red in the top-left quarter, green in the bottom-right quarter, else 0."""
    x = torch.zeros(1, 3, 32, 16)
    x[0, 0, :16, :8] = 2.0
    x[0, 1, 16:, 8:] = 2.0
    return x


def test_pain_map_is_signed_localised_and_bilinear(geometry) -> None:
    bundle = ModelBundle.from_modules(pain=ColourProbe(), pain_card=_card("pain", "half_face", (32, 16), 1),
                                      jitter_px=0)
    x = _colour_input()
    result = GradCamExplainer(layer="features", centre=False).attribute(
        bundle.pain, x, 0, source=MapSource(geometry, "pain", Side.RIGHT))
    heat = result.input_map
    assert heat.shape == (32, 16) and result.params["layer_grid"] == [8, 4]
    assert heat[:16, :8].mean() > 0.5 * heat.max() > 0  # raises PSPI where the red is
    assert heat[16:, 8:].mean() < 0.5 * heat.min() < 0  # lowers it where the green is
    assert abs(heat[2:14, 10:14]).max() < 0.05 * heat.max()  # and nothing where neither is
    # bilinear, not 4x4 blocks: edges ramp over several pixels (nearest would jump +max -> 0 -> -max)
    assert len(np.unique(np.round(heat, 6))) >= 9
    assert np.abs(np.diff(heat, axis=0)).max() < 0.3 * heat.max()
    assert np.abs(np.diff(heat, axis=1)).max() < 0.3 * heat.max()
    assert result.prediction == pytest.approx(float(bundle.pain.model(x).detach()[0, 0]), abs=1e-6)
    assert result.target == "pspi" and result.method == "gradcam" and result.seed is None


def test_cells_sum_to_the_output_above_the_bias_at_the_pooled_layer() -> None:
    probe = ColourProbe(w_red=0.7, w_green=-1.3, bias=3.0).eval()
    x = _colour_input() + 0.3 * torch.randn(1, 3, 32, 16, generator=torch.Generator().manual_seed(0))
    cells, grid = layer_cam(probe, probe.features, x, [0], size=(8, 4))
    assert grid == (8, 4)
    with torch.no_grad():
        expected = float(probe(x)[0, 0]) - 3.0
    assert float(cells.sum()) == pytest.approx(expected, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("jitter", [False, True])
def test_side_map_is_mirror_consistent(geometry, jitter) -> None:
    torch.manual_seed(0)
    network = build_model("side_cnn", outputs=2)
    bundle = ModelBundle.from_modules(pain=ColourProbe(), pain_card=_card("pain", "half_face", (32, 16), 1),
                                      side=network, side_card=_card("side", "aligned_face", (64, 64), 2))
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    explainer = GradCamExplainer(jitter=jitter)
    source = MapSource(geometry, "side")
    for target in (0, 1):
        direct = explainer.attribute(bundle.side, x, target, source=source)
        mirrored = explainer.attribute(bundle.side, flip_tensor(x), 1 - target, source=source)
        scale = float(np.abs(direct.input_map).max())
        assert scale > 0
        np.testing.assert_allclose(mirrored.input_map, direct.input_map[:, ::-1], atol=1e-4 * scale)
        assert direct.prediction == pytest.approx(float(bundle.side.model(x).detach()[0, target]), abs=1e-6)
        assert direct.target == f"affected: patient's {SIDE_CLASSES[target].value}"
        assert direct.params["mirror_averaged"] is True


def test_default_layers_resolve_the_face(geometry) -> None:
    assert default_layer("resnet18") == "layer3" and default_layer("side_cnn") == "features.block3"
    assert default_layer("mobilenet_v2") == "features.18"  # others: the registry's last stage
    pain = build_model("resnet18", outputs=1)
    bundle = ModelBundle.from_modules(pain=pain, pain_card=ModelCard(
        architecture="resnet18", task="pain", outputs=1, input=InputSpec.default("half_face").to_dict()),
        jitter_px=0)
    x = torch.randn(1, 3, 128, 64, generator=torch.Generator().manual_seed(3))
    source = MapSource(geometry, "pain", Side.LEFT)
    result = GradCamExplainer().attribute(bundle.pain, x, 0, source=source)
    assert result.params["layer"] == "layer3" and result.params["layer_grid"] == [8, 4]
    # before the last stage a PSPI map is centred: its mean is removed, the structure kept
    assert result.params["centred"] is True and abs(float(result.input_map.mean())) < 1e-6
    raw = GradCamExplainer(centre=False).attribute(bundle.pain, x, 0, source=source)
    np.testing.assert_allclose(result.input_map, raw.input_map - raw.input_map.mean(), atol=1e-6)
    last = GradCamExplainer(layer="layer4").attribute(bundle.pain, x, 0, source=source)
    assert last.params["centred"] is False and last.params["layer_grid"] == [4, 2]


@pytest.mark.parametrize("name, grid", [("resnet18_evidence", (8, 4)), ("patch_evidence", (16, 8))])
def test_evidence_network_map_is_its_score_split_into_places(geometry, name, grid) -> None:
    """On the evidence networks the default layer is the evidence itself: uncentred, never negative, and
    its cells add up to the score."""
    assert default_layer(name) == "evidence"
    torch.manual_seed(4)
    pain = build_model(name, outputs=1).eval()
    with torch.no_grad():
        pain.evidence[2].bias.fill_(1.0)  # a score well above 0 for the random network
    bundle = ModelBundle.from_modules(pain=pain, pain_card=ModelCard(
        architecture=name, task="pain", outputs=1,
        input=InputSpec.default("half_face").to_dict()), jitter_px=0)
    x = torch.randn(1, 3, 128, 64, generator=torch.Generator().manual_seed(5))
    result = GradCamExplainer().attribute(bundle.pain, x, 0, source=MapSource(geometry, "pain", Side.RIGHT))
    assert result.params["layer"] == "evidence" and result.params["layer_grid"] == list(grid)
    assert result.params["centred"] is False
    assert float(result.input_map.min()) >= 0 and float(result.input_map.max()) > 0
    # shown as evidence (the sequential palette), not as raises / lowers; a centred map stays signed
    assert result.params["evidence_map"] is True and not result.signed
    assert legend_words(result) == ("none", "pain evidence (sums to PSPI)")
    centred = GradCamExplainer(centre=True).attribute(bundle.pain, x, 0,
                                                     source=MapSource(geometry, "pain", Side.RIGHT))
    assert centred.params["evidence_map"] is False and centred.signed
    cells, _ = layer_cam(pain, pain.evidence, x, [0], size=grid)
    with torch.no_grad():
        assert float(cells.sum()) == pytest.approx(float(pain(x)[0, 0]), rel=1e-4)
        np.testing.assert_allclose(cells[0].numpy(), pain.evidence_map(x)[0, 0].numpy() / (grid[0] * grid[1]),
                                   rtol=1e-4)


def test_half_evidence_side_map_is_the_log_odds_split_into_the_two_halves(geometry) -> None:
    """On the half-evidence side model Grad-CAM's default layer is the evidence: the map is the named
    side's half evidence minus the other half's, its cells add up to the log-odds, and mirroring the face
    mirrors the map (the model itself is mirror-symmetric)."""
    assert default_layer("side_halves") == "evidence"
    torch.manual_seed(6)
    side = build_model("side_halves", outputs=2).eval()
    card = ModelCard(architecture="side_halves", task="side", outputs=2,
                     input=InputSpec.default("aligned_face", (64, 64)).to_dict())
    bundle = ModelBundle.from_modules(pain=ColourProbe(), pain_card=_card("pain", "half_face", (32, 16), 1),
                                      side=side, side_card=card, jitter_px=0)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(7))
    source = MapSource(geometry, "side")
    with torch.no_grad():
        logits = side(x)[0]
        evidence = side.evidence_map(x)[0]
    for target in (0, 1):
        result = GradCamExplainer().attribute(bundle.side, x, target, source=source)
        assert result.params["layer"] == "evidence" and result.params["layer_grid"] == [4, 4]
        assert result.params["evidence_map"] is True and not result.signed
        cells, _ = layer_cam(side, side.evidence, x, [target], size=(4, 4), log_odds=True)
        expected = (evidence[target] - evidence[1 - target]) / 16
        np.testing.assert_allclose(cells[0].numpy(), expected.numpy(), rtol=1e-4, atol=1e-6)
        margin = float(logits[target] - logits[1 - target])
        assert float(cells.sum()) == pytest.approx(margin, rel=1e-4, abs=1e-6)
        # positive only on the half named affected: the patient's left is the image's right
        named, other = (slice(2, 4), slice(0, 2)) if target == 0 else (slice(0, 2), slice(2, 4))
        assert float(cells[0][:, named].min()) >= 0 and float(cells[0][:, other].max()) <= 0
        mirrored = GradCamExplainer().attribute(bundle.side, flip_tensor(x), 1 - target, source=source)
        scale = float(np.abs(result.input_map).max())
        np.testing.assert_allclose(mirrored.input_map, result.input_map[:, ::-1], atol=1e-4 * scale)
    # integrated gradients run on the whole face (its blocks see the halves as separate images)
    integrated = IntegratedGradientsExplainer().attribute(bundle.side, x, 0, source=source)
    assert integrated.params["layer"] == "face" and integrated.input_map.shape == (64, 64)
    assert float(np.abs(integrated.input_map).max()) > 0


def test_explain_uses_the_assessment_inputs_and_the_decided_side() -> None:
    spec = sample_frame_spec(np.random.default_rng(8), sample_identity(21),
                             palsy=Palsy(Side.LEFT, 1.0, "peripheral"), pspi_target=8)
    face = render_face(spec)
    bundle = load_default_models()
    assessment = assess(face.image, models=bundle, landmarks=face.landmarks)
    side_map, pain_map = explain(assessment, "both", "gradcam", models=bundle)
    affected = assessment.affected_side
    assert side_map.stage == "side" and side_map.target_index == SIDE_CLASSES.index(affected)
    assert side_map.prediction == pytest.approx(assessment.side_probabilities[affected], abs=1e-5)
    assert pain_map.stage == "pain" and pain_map.half is assessment.unaffected_side
    assert pain_map.prediction == pytest.approx(assessment.pspi.raw["unaffected_half"], abs=1e-4)
    # explain() hands the assessment's outputs on; computed afresh they are the same
    for made, inputs in ((side_map, assessment.inputs.side),
                         (pain_map, assessment.inputs.halves[assessment.unaffected_side])):
        model = bundle.side if made.stage == "side" else bundle.pain
        source = MapSource(assessment.geometry, made.stage, made.half)
        fresh = GradCamExplainer().attribute(model, inputs, made.target_index, source=source)
        assert fresh.prediction == pytest.approx(made.prediction, abs=1e-4)
        np.testing.assert_array_equal(fresh.input_map, made.input_map)
    other = [m for k, m in assessment.geometry.regions.items() if k.endswith(affected.value)]
    own = [m for k, m in assessment.geometry.regions.items() if k.endswith(affected.opposite.value)]
    mass = np.abs(pain_map.face_map)
    assert sum(float(mass[m].sum()) for m in other) == 0.0
    # on a face in pain the scored half's regions hold most of the mass; not all of it, since the shipped
    # patch-evidence network keeps a small floor of evidence in every cell, hair and background included (on a
    # face without pain that floor is all there is, spread over the whole half)
    assert sum(float(mass[m].sum()) for m in own) > 0.5 * float(mass.sum())
    both = explain(assessment, "pain", "gradcam", models=bundle, halves="both")
    assert [e.half for e in both] == [affected.opposite, affected]
    asked = explain(assessment, "side", "gradcam", models=bundle, target="right")[0]
    assert asked.target == "affected: patient's right"


@pytest.mark.parametrize("role", ["side", "pain"])
def test_batched_maps_equal_the_single_maps(geometry, role) -> None:
    torch.manual_seed(4)
    side = build_model("side_cnn", outputs=2) if role == "side" else None
    bundle = ModelBundle.from_modules(
        pain=build_model("resnet18", outputs=1), jitter_px=0,
        pain_card=ModelCard(architecture="resnet18", task="pain", outputs=1,
                            input=InputSpec.default("half_face", (64, 32)).to_dict()),
        side=side, side_card=_card("side", "aligned_face", (64, 64), 2) if side is not None else None)
    model = bundle.side if role == "side" else bundle.pain
    shape = (3, 3, 64, 64) if role == "side" else (3, 3, 64, 32)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(5))
    targets = [0, 1, 0] if role == "side" else [0, 0, 0]
    for jitter in (False, True):
        explainer = GradCamExplainer(jitter=jitter)
        batch, params = explainer.input_maps(model, x, targets)
        assert batch.shape == (3, *shape[2:]) and params["centred"] is (role == "pain")
        for i, target in enumerate(targets):
            single, _ = explainer.input_map(model, x[i:i + 1], target)
            np.testing.assert_allclose(batch[i], single, atol=1e-4 * float(np.abs(single).max()))
