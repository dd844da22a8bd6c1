"""The assessment's side outcome, both halves' scores, the landmark cross-check and the rest-photo reading.

Small stand-in models (as in test_pipeline.py) on one synthetic face with palsy of the patient's left.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from data.synth import Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from faces.au_proxy import HalfPainEstimate, estimate_pain, load_model, terms_from_features
from faces.sides import Side
from models.checkpoint import ModelCard
from models.landmark_check import DISAGREE_ABOVE, disagreement_warning
from models.pipeline import (
    Assessment,
    ModelBundle,
    ReferencePhotoError,
    assess,
    clamp_pspi,
)
from models.preprocess import InputSpec
from models.reference import load_neutral, relative_estimate


class DimSideIsAffected(nn.Module):
    """Side stand-in: the darker image half of the canonical face is the affected one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.shape[-1]
        left_image, right_image = x[..., : w // 2].mean((1, 2, 3)), x[..., w // 2:].mean((1, 2, 3))
        return torch.stack([left_image - right_image, right_image - left_image], 1) * 10


class Undecided(nn.Module):
    """Side stand-in with the same logits for both sides on every face: p = 0.5 / 0.5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[0], 2) + 0.0 * x.mean()


class Brightness(nn.Module):
    """Pain stand-in: PSPI = scale * mean input + offset."""

    def __init__(self, scale: float = 4.0, offset: float = 8.0) -> None:
        super().__init__()
        self.scale, self.offset = scale, offset
        self.anchor = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.mean((1, 2, 3)) * self.scale + self.offset)[:, None] + self.anchor


def _card(task: str, kind: str, size: tuple[int, int], arch: str, outputs: int) -> ModelCard:
    spec = InputSpec.default(kind, size)
    return ModelCard(architecture=arch, task=task, outputs=outputs, input=spec.to_dict())


def _bundle(side: nn.Module | None = None, pain: nn.Module | None = None) -> ModelBundle:
    return ModelBundle.from_modules(
        pain=pain or Brightness(), pain_card=_card("pain", "half_face", (64, 32), "simple_cnn", 1),
        side=side, side_card=_card("side", "aligned_face", (64, 64), "side_cnn", 2) if side else None)


@pytest.fixture(scope="module")
def face() -> tuple[np.ndarray, np.ndarray]:
    spec = sample_frame_spec(np.random.default_rng(3), sample_identity(7),
                             palsy=Palsy(Side.LEFT, 1.0, "peripheral"), size=256, pspi_target=0)
    rendered = render_face(spec)
    return rendered.image, rendered.landmarks


def _lit(image: np.ndarray) -> np.ndarray:
    """Brighten the image left (the patient's right), so the stand-in finds the patient's left affected."""
    out = image.astype(np.int16)
    out[:, : image.shape[1] // 2] += 90
    return np.clip(out, 0, 255).astype(np.uint8)


def test_an_undecided_side_model_gives_no_clear_side_and_both_halves(face) -> None:
    image, landmarks = face
    result = assess(image, models=_bundle(side=Undecided()), landmarks=landmarks)
    assert result.side_probabilities[Side.LEFT] == pytest.approx(0.5)
    assert result.side_outcome == "no_clear_side" and not result.clear_side
    assert result.side_source == "model" and result.affected_side in set(Side)  # tentative choice kept
    assert set(result.half_scores) == {Side.LEFT, Side.RIGHT}
    assert result.half_scores[result.unaffected_side] == result.pspi.unaffected_half
    assert result.half_scores[result.affected_side] == result.pspi.affected_half
    warning = result.warnings[0]
    assert "no clear affected side" in warning and "both halves are scored" in warning
    assert "set the side by hand" in warning and "patient's left" in warning and "patient's right" in warning
    data = result.to_dict()
    assert data["side_outcome"] == "no_clear_side"
    assert set(data["half_scores"]) == {"patient_left", "patient_right"}
    # either half may be the unaffected one: the reported PSPI is their mean, not the tentative half's
    mean = (result.half_scores[Side.LEFT] + result.half_scores[Side.RIGHT]) / 2
    assert result.reported_pspi_source == "mean_of_halves" and result.reported_pspi == pytest.approx(mean)
    assert data["reported_pspi"] == {"value": pytest.approx(mean, abs=1e-4), "source": "mean_of_halves"}


def test_a_clear_side_is_found_and_the_threshold_decides(face) -> None:
    image, landmarks = face
    bundle = _bundle(side=DimSideIsAffected())
    clear = assess(_lit(image), models=bundle, landmarks=landmarks)
    assert clear.side_probabilities[Side.LEFT] > 0.9
    assert clear.side_outcome == "affected_side_found" and clear.affected_side is Side.LEFT
    assert not any("no clear affected side" in w for w in clear.warnings)
    assert clear.reported_pspi_source == "unaffected_half"
    assert clear.reported_pspi == clear.pspi.unaffected_half == clear.half_scores[Side.RIGHT]
    top = clear.side_probabilities[Side.LEFT]
    strict = assess(_lit(image), models=bundle, landmarks=landmarks, clear_above=top + 1e-3)
    assert strict.side_outcome == "no_clear_side" and strict.affected_side is Side.LEFT


def test_a_side_set_by_hand_is_never_unclear(face) -> None:
    image, landmarks = face
    result = assess(image, side="right", models=_bundle(side=Undecided()), landmarks=landmarks)
    assert result.side_outcome == "set_by_hand" and result.affected_side is Side.RIGHT
    assert not any("no clear affected side" in w for w in result.warnings)
    assert result.reported_pspi == result.half_scores[Side.LEFT]  # the unaffected half, as set


def test_half_scores_are_the_clamped_pain_model_outputs(face) -> None:
    image, landmarks = face
    bundle = _bundle(side=DimSideIsAffected())
    result = assess(image, models=bundle, landmarks=landmarks)
    with torch.no_grad():
        for side in Side:
            expected = clamp_pspi(float(bundle.pain.model(result.inputs.halves[side])[0, 0]))
            assert result.half_scores[side] == pytest.approx(expected, abs=1e-5)


def test_the_landmark_estimate_is_carried_for_both_halves(face) -> None:
    image, landmarks = face
    result = assess(image, models=_bundle(side=DimSideIsAffected()), landmarks=landmarks)
    expected = estimate_pain(result.geometry.aligned_landmarks, result.geometry.mirrored)
    assert set(result.landmark_estimate) == set(Side)
    for side in Side:
        assert result.landmark_estimate[side].pspi == pytest.approx(expected[side].pspi)
    assert "landmark_estimate" in result.timings_ms
    entry = result.to_dict()["landmark_estimate"]["patient_left"]
    assert {"pspi", "aus", "features"} <= set(entry)
    assert set(entry["aus"]) == {"AU4", "AU6/7", "AU9/10", "AU43"}


def test_a_strong_disagreement_with_the_network_is_warned_about(face) -> None:
    image, landmarks = face
    calm = assess(image, side="left", models=_bundle(pain=Brightness(0.0, 0.0)), landmarks=landmarks)
    estimate = calm.landmark_estimate[Side.RIGHT].pspi
    assert estimate < 16 - DISAGREE_ABOVE
    loud = assess(image, side="left", models=_bundle(pain=Brightness(0.0, 16.0)), landmarks=landmarks)
    agreeing = assess(image, side="left", models=_bundle(pain=Brightness(0.0, estimate + 1.0)),
                      landmarks=landmarks)
    assert any("disagree" in w and "landmarks show little" in w for w in loud.warnings)
    assert not any("disagree" in w for w in agreeing.warnings)


def test_a_smile_like_landmark_reading_is_explained() -> None:
    estimate = HalfPainEstimate(Side.RIGHT, {}, {"AU4": 0.5, "AU6/7": 4.5, "AU9/10": 1.0, "AU43": 0.0}, 6.0)
    warning = disagreement_warning(estimate, 1.0, "patient's right (image left)")
    assert "smile" in warning and "AU6" in warning and "(6.0)" in warning and "(1.0)" in warning
    assert disagreement_warning(estimate, 3.0, "patient's right") is None


def test_the_same_photo_as_its_own_reference_reads_zero_and_the_neutral_face(face) -> None:
    image, _ = face
    bundle = _bundle(side=DimSideIsAffected(), pain=Brightness(4.0, 8.0))
    result = assess(image, models=bundle, reference=image)
    reading = result.reference
    assert result.pspi_reading == "relative_to_reference"
    for side in Side:
        assert reading.absolute_halves[side] > 0
        assert reading.rest_halves[side] == reading.absolute_halves[side]
        assert result.half_scores[side] == 0.0 and reading.relative_halves[side] == 0.0
    assert result.pspi.unaffected_half == 0.0 and result.pspi.full_face == 0.0
    neutral = load_neutral()
    neutral_pspi = sum(terms_from_features(neutral, load_model()).values())
    for side in Side:
        assert reading.landmark_relative[side].features == pytest.approx(neutral)
        assert result.landmark_estimate[side].pspi == pytest.approx(neutral_pspi)
    assert reading.roll_difference_degrees == pytest.approx(0.0) and reading.size_ratio == pytest.approx(1.0)
    # an existing assessment of the rest photo gives the same reading without recomputing it
    rest = assess(image, models=bundle)
    again = assess(image, models=bundle, reference=rest)
    assert again.half_scores == result.half_scores and "reference" in again.timings_ms
    data = result.to_dict()
    assert data["pspi_reading"] == "relative_to_reference"
    assert data["reference"]["network_pspi"]["relative"]["patient_left"] == 0.0
    assert json.loads(json.dumps(data)) == data


def test_the_network_reading_is_measured_from_the_models_typical_rest_score(face) -> None:
    image, _ = face
    bundle = _bundle(side=DimSideIsAffected(), pain=Brightness(4.0, 8.0))
    bundle.pain.card.neutral_score = {"value": 0.75}
    result = assess(image, models=bundle, reference=image)
    for side in Side:  # the same photo as its own rest: the model's rest score, not 0
        assert result.reference.relative_halves[side] == pytest.approx(0.75)
    assert result.pspi.unaffected_half == pytest.approx(0.75)
    from models.reference import neutral_scores

    assert neutral_scores(bundle.pain, None) == (0.75, 0.0)


def test_relative_landmark_reading_adds_the_change_from_rest_to_the_neutral_point() -> None:
    base = dict.fromkeys(("brow_eye", "brow_tilt", "eye_aperture", "lower_lid", "eye_aspect", "nose_lip",
                          "ala_nose"), 0.2)
    lowered = base | {"brow_eye": 0.1}  # brow 0.1 inter-ocular distances lower than at rest
    neutral = load_neutral()
    photo = HalfPainEstimate(Side.LEFT, lowered, {}, 0.0)
    rest = HalfPainEstimate(Side.LEFT, base, {}, 0.0)
    result = relative_estimate(photo, rest)
    assert result.features["brow_eye"] == pytest.approx(neutral["brow_eye"] - 0.1)
    assert result.features["nose_lip"] == pytest.approx(neutral["nose_lip"])
    at_rest = relative_estimate(rest, rest)
    assert result.aus["AU4"] > at_rest.aus["AU4"]


def test_a_reference_without_a_face_is_a_readable_error(face) -> None:
    image, landmarks = face
    blank = np.full((200, 200, 3), 128, np.uint8)
    with pytest.raises(ReferencePhotoError, match="reference photo"):
        assess(image, models=_bundle(side=DimSideIsAffected()), landmarks=landmarks, reference=blank)


def test_a_reference_held_at_another_roll_is_warned_about(face) -> None:
    image, _ = face
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 20, 1.0)
    rolled = cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
    result = assess(image, models=_bundle(side=DimSideIsAffected()), reference=rolled)
    assert abs(result.reference.roll_difference_degrees) > 10
    assert any("tilted differently" in w for w in result.warnings)
    assert isinstance(result, Assessment)
