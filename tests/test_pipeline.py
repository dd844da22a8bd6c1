"""The two-stage pipeline: laterality, mirroring, overrides, clamping, mirror consistency, JSON fields.

Models here are small stand-ins injected through :class:`ModelBundle`, so the pipeline's logic is pinned
without shipped weights; the face is a synthetic face with a known palsy side.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import faces
from data.synth import Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from faces.landmarks import mirror_landmarks
from faces.sides import Side
from models.checkpoint import ModelCard, save_checkpoint
from models.pipeline import (
    DEMO_NOTE,
    AssessmentError,
    JitterAveraged,
    MirrorConsistentSide,
    ModelBundle,
    assess,
    deployed,
    load_bundle,
    raw_network,
)
from models.preprocess import InputSpec
from models.registry import build_model


class DimSideIsAffected(nn.Module):
    """Side stand-in: the darker image half of the canonical face is the affected one.

    Canonical face: image left = patient right. Logits (patient-left affected, patient-right affected).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.shape[-1]
        left_image, right_image = x[..., : w // 2].mean((1, 2, 3)), x[..., w // 2:].mean((1, 2, 3))
        return torch.stack([left_image - right_image, right_image - left_image], 1) * 10


class Brightness(nn.Module):
    """Pain stand-in: PSPI = scale * mean input + offset (brighter half -> higher score)."""

    def __init__(self, scale: float = 4.0, offset: float = 8.0) -> None:
        super().__init__()
        self.scale, self.offset = scale, offset
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the stand-in a device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.mean((1, 2, 3)) * self.scale + self.offset)[:, None] + self.anchor


def _card(task: str, kind: str, size: tuple[int, int], arch: str, outputs: int) -> ModelCard:
    spec = InputSpec.default(kind, size)
    return ModelCard(architecture=arch, task=task, outputs=outputs, input=spec.to_dict())


SIDE_CARD = _card("side", "aligned_face", (64, 64), "side_cnn", 2)
PAIN_CARD = _card("pain", "half_face", (64, 32), "simple_cnn", 1)


def _bundle(side: nn.Module | None = None, pain: nn.Module | None = None, full: nn.Module | None = None,
            ) -> ModelBundle:
    full_card = _card("pain", "aligned_face", (64, 64), "simple_cnn", 1) if full else None
    return ModelBundle.from_modules(
        pain=pain or Brightness(), pain_card=PAIN_CARD, side=side, side_card=SIDE_CARD if side else None,
        full_face_pain=full, full_face_card=full_card,
    )


@pytest.fixture(scope="module")
def face() -> tuple[np.ndarray, np.ndarray]:
    """A synthetic face with palsy of the patient's left, and its true landmarks."""
    rng = np.random.default_rng(3)
    spec = sample_frame_spec(rng, sample_identity(7), palsy=Palsy(Side.LEFT, 1.0, "peripheral"), size=256)
    rendered = render_face(spec)
    return rendered.image, rendered.landmarks


def _lit(image: np.ndarray, image_side: str) -> np.ndarray:
    """Brighten one image half strongly (makes the other half 'dim' for the side stand-in)."""
    out = image.astype(np.int16)
    w = image.shape[1]
    columns = slice(0, w // 2) if image_side == "left" else slice(w // 2, w)
    out[:, columns] += 90
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("lit_image_side, affected, scored", [
    ("left", Side.LEFT, Side.RIGHT),   # image left = patient right is bright: patient left is affected
    ("right", Side.RIGHT, Side.LEFT),
])
def test_the_unaffected_half_is_scored(face, lit_image_side, affected, scored) -> None:
    image, landmarks = face
    bundle = _bundle(side=DimSideIsAffected())
    result = assess(_lit(image, lit_image_side), models=bundle, landmarks=landmarks)
    assert result.affected_side is affected and result.side_source == "model"
    assert result.unaffected_side is scored
    assert result.unaffected_half is result.geometry.halves[scored]
    assert result.affected_half is result.geometry.halves[affected]
    assert result.side_probabilities[affected] > 0.9
    # the scored number is the (jitter-averaged) pain model's output on the unaffected half's own input
    with torch.no_grad():
        expected = float(bundle.pain.model(result.inputs.halves[scored])[0, 0])
    assert result.pspi.unaffected_half == pytest.approx(expected, abs=1e-5)
    assert result.pspi.unaffected_half > result.pspi.affected_half  # the lit (unaffected) half scores higher


def test_override_wins_and_is_recorded(face) -> None:
    image, landmarks = face
    result = assess(_lit(image, "left"), side="right", models=_bundle(side=DimSideIsAffected()),
                    landmarks=landmarks)
    assert result.affected_side is Side.RIGHT and result.side_source == "override"
    assert result.side_model_choice is Side.LEFT  # what the model said is kept
    assert result.unaffected_half is result.geometry.halves[Side.LEFT]
    assert any("set by hand" in w for w in result.warnings)
    no_model = assess(image, side=Side.LEFT, models=_bundle(), landmarks=landmarks)
    assert no_model.side_source == "override" and no_model.side_probabilities is None
    assert no_model.unaffected_half is no_model.geometry.halves[Side.RIGHT]


def test_mirrored_photo_flips_image_sides_not_patient_sides(face) -> None:
    image, landmarks = face
    lit = _lit(image, "left")
    bundle = _bundle(side=DimSideIsAffected())
    plain = assess(lit, models=bundle, landmarks=landmarks)
    flipped = np.ascontiguousarray(lit[:, ::-1])
    mirrored = assess(flipped, mirrored=True, models=bundle,
                      landmarks=mirror_landmarks(landmarks, lit.shape[1]))
    assert plain.affected_side is mirrored.affected_side is Side.LEFT
    assert plain.unaffected_side is mirrored.unaffected_side is Side.RIGHT
    p_left = plain.side_probabilities[Side.LEFT]
    assert mirrored.side_probabilities[Side.LEFT] == pytest.approx(p_left, abs=0.02)
    assert mirrored.pspi.unaffected_half == pytest.approx(plain.pspi.unaffected_half, abs=0.05)
    assert plain.to_dict()["affected_side"]["description"] == "patient's left (image right)"
    assert mirrored.to_dict()["affected_side"]["description"] == "patient's left (image left)"


def test_side_probabilities_are_mirror_consistent_exactly() -> None:
    torch.manual_seed(0)
    wrapped = MirrorConsistentSide(build_model("side_cnn", outputs=2).eval()).eval()
    x = torch.randn(5, 3, 48, 48)
    with torch.no_grad():
        p, p_flipped = wrapped(x), wrapped(torch.flip(x, dims=(-1,)))
    assert torch.equal(p_flipped[:, 0], p[:, 1]) and torch.equal(p_flipped[:, 1], p[:, 0])
    assert torch.allclose(p.sum(1), torch.ones(5))


class PixelAt(nn.Module):
    """Reads channel 0 at one pixel: shows exactly which shifted copies the jitter average used."""

    def __init__(self, row: int, col: int) -> None:
        super().__init__()
        self.row, self.col = row, col

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0, self.row, self.col][:, None]


def test_jitter_average_is_the_mean_over_the_pixel_and_its_four_neighbours() -> None:
    x = torch.arange(2 * 3 * 9 * 7, dtype=torch.float32).reshape(2, 3, 9, 7) ** 1.5
    with torch.no_grad():
        out = JitterAveraged(PixelAt(4, 3), shift_px=1.0)(x)
    plane = x[:, 0]
    expected = (plane[:, 4, 3] + plane[:, 4, 2] + plane[:, 4, 4] + plane[:, 3, 3] + plane[:, 5, 3]) / 5
    assert out.shape == (2, 1)
    assert torch.allclose(out[:, 0], expected, rtol=1e-5)
    # at the border the edge pixel is repeated rather than zeros read in
    with torch.no_grad():
        corner = JitterAveraged(PixelAt(0, 0), shift_px=1.0)(x)
    assert torch.allclose(corner[:, 0], (3 * plane[:, 0, 0] + plane[:, 0, 1] + plane[:, 1, 0]) / 5, rtol=1e-5)


def test_deployed_wraps_once_and_the_side_model_stays_exactly_mirror_consistent() -> None:
    torch.manual_seed(1)
    network = build_model("side_cnn", outputs=2).eval()
    model = deployed(network, "side")
    assert isinstance(model, MirrorConsistentSide) and isinstance(model.base, JitterAveraged)
    assert deployed(model, "side") is model and raw_network(model) is network
    assert deployed(network, "pain", jitter_px=0) is network
    x = torch.randn(3, 3, 40, 40)
    with torch.no_grad():
        p, q = model(x), model(torch.flip(x, dims=(-1,)))
    assert torch.allclose(q, p.flip(dims=(1,)), atol=1e-6)



@pytest.mark.parametrize("arch, size", [("patch_evidence_33", (64, 32)), ("side_halves", (48, 48))])
def test_deployed_weights_are_channels_last_and_give_the_same_outputs(arch, size) -> None:
    torch.manual_seed(2)
    task = "side" if arch == "side_halves" else "pain"
    network = build_model(arch, outputs=2 if task == "side" else 1).eval()
    convs = [m for m in network.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert convs and not any(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    x = torch.randn(4, 3, *size)
    with torch.no_grad():
        before = network(x)
        after = raw_network(deployed(network, task, jitter_px=0))(x)
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    assert torch.allclose(after, before, atol=1e-5)


@pytest.mark.parametrize("offset, expected", [(40.0, 16.0), (-7.0, 0.0)])
def test_pspi_is_clamped(face, offset, expected) -> None:
    image, landmarks = face
    result = assess(image, side="left", models=_bundle(pain=Brightness(scale=0.0, offset=offset)),
                    landmarks=landmarks)
    assert result.pspi.unaffected_half == result.pspi.affected_half == result.pspi.full_face == expected
    assert result.pspi.raw["unaffected_half"] == pytest.approx(offset)


def test_full_face_score_uses_a_full_face_model_when_configured(face) -> None:
    image, landmarks = face
    halves_only = assess(image, side="left", models=_bundle(), landmarks=landmarks)
    assert halves_only.pspi.full_face_source == "mean_of_halves"
    assert halves_only.pspi.full_face == pytest.approx(
        0.5 * (halves_only.pspi.unaffected_half + halves_only.pspi.affected_half))
    with_model = assess(image, side="left", models=_bundle(full=Brightness(scale=0.0, offset=5.0)),
                        landmarks=landmarks)
    assert with_model.pspi.full_face_source == "model" and with_model.pspi.full_face == 5.0
    assert with_model.inputs.full_face.shape == (1, 3, 64, 64)


def test_inputs_and_timings_are_kept_for_explanations(face) -> None:
    image, landmarks = face
    result = assess(image, models=_bundle(side=DimSideIsAffected()), landmarks=landmarks)
    assert result.inputs.side.shape == (1, 3, 64, 64)
    assert {s: t.shape for s, t in result.inputs.halves.items()} == {Side.RIGHT: (1, 3, 64, 32),
                                                                     Side.LEFT: (1, 3, 64, 32)}
    assert {"face", "side_model", "pain_model", "total"} <= set(result.timings_ms)


def test_json_field_names(face) -> None:
    image, landmarks = face
    data = json.loads(json.dumps(assess(image, models=_bundle(side=DimSideIsAffected()),
                                        landmarks=landmarks).to_dict()))
    assert set(data["side_probabilities"]) == {"patient_left", "patient_right"}
    assert set(data["pspi"]) >= {"unaffected_half", "affected_half", "full_face", "full_face_source"}
    assert data["side_source"] == "model"
    assert data["scored_half"]["side"] == data["unaffected_side"]["side"] != data["affected_side"]["side"]
    assert {"side", "description"} == set(data["affected_side"])
    assert {"points_to", "index", "measures", "agrees_with_side_model"} <= set(data["asymmetry"])
    assert {"name", "value", "points_to", "description"} == set(data["asymmetry"]["measures"][0])
    assert "total" in data["timings_ms"] and isinstance(data["warnings"], list)


@pytest.mark.parametrize("palsy_side", [Side.LEFT, Side.RIGHT])
def test_known_palsy_side_without_a_side_model_scores_the_other_half(palsy_side) -> None:
    """A synthetic face with a complete palsy of ``palsy_side``: the geometric measures find it, and the
    half scored is the patient's other half."""
    palsy = Palsy(palsy_side, 1.0, "peripheral")
    spec = sample_frame_spec(np.random.default_rng(0), sample_identity(7), palsy=palsy)
    rendered = render_face(spec)
    result = assess(rendered.image, models=_bundle(), landmarks=rendered.landmarks)
    assert result.side_source == "geometry" and result.affected_side is palsy_side
    assert result.unaffected_half is result.geometry.halves[palsy_side.opposite]
    assert any("geometric asymmetry measures alone" in w for w in result.warnings)


def test_no_side_model_and_a_symmetric_face_asks_for_the_side(face) -> None:
    image, landmarks = face
    geometry = faces.analyse(image, landmarks=landmarks)
    symmetric = type(geometry.asymmetry)(measures=geometry.asymmetry.measures, index=0.0, points_to=None)
    from dataclasses import replace

    with pytest.raises(AssessmentError, match="give the affected side"):
        assess(geometry=replace(geometry, asymmetry=symmetric), models=_bundle())


def test_bundle_from_a_weights_folder_and_demo_warning(tmp_path, face) -> None:
    image, landmarks = face
    torch.manual_seed(0)
    side_card = _card("side", "aligned_face", (48, 48), "side_cnn", 2)
    side_card.training_data = {"description": "synthetic faces (data synth)"}
    save_checkpoint(build_model("side_cnn", outputs=2).eval(), side_card, tmp_path / "side")
    save_checkpoint(build_model("simple_cnn", outputs=1).eval(), _card("pain", "half_face", (48, 24),
                                                                       "simple_cnn", 1), tmp_path / "pain")
    bundle = load_bundle(tmp_path, device="cpu")
    assert bundle.side is not None and bundle.full_face_pain is None
    assert isinstance(bundle.side.model, MirrorConsistentSide)
    result = assess(image, models=bundle, landmarks=landmarks)
    assert 0.0 <= result.pspi.unaffected_half <= 16.0
    assert abs(sum(result.side_probabilities.values()) - 1.0) < 1e-5
    assert DEMO_NOTE in result.warnings
    assert result.inputs.halves[Side.RIGHT].shape == (1, 3, 48, 24)


def test_predict_on_arrays_matches_the_pipeline(face) -> None:
    image, landmarks = face
    bundle = _bundle(side=DimSideIsAffected())
    result = assess(image, models=bundle, landmarks=landmarks)
    halves = [result.geometry.halves[s].image for s in (Side.RIGHT, Side.LEFT)]
    scores = bundle.pain.predict(halves)
    assert scores.shape == (2,)
    by_side = {Side.RIGHT: scores[0], Side.LEFT: scores[1]}
    assert by_side[result.unaffected_side] == pytest.approx(result.pspi.raw["unaffected_half"], abs=1e-5)
    assert by_side[result.affected_side] == pytest.approx(result.pspi.raw["affected_half"], abs=1e-5)
    from models.preprocess import face_source

    probabilities = bundle.side.predict([face_source(result.geometry, bundle.side.spec)])
    assert probabilities.shape == (1, 2)
    assert probabilities[0, 0] == pytest.approx(result.side_probabilities[Side.LEFT], abs=1e-6)
