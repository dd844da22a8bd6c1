"""Head turn: the estimate from dlib's landmarks on faces rendered at known yaw, its patient side, the
assessment's warning and its JSON."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from data.synth import render_face, sample_identity
from data.synth.generate import sample_frame_spec
from faces import TEMPLATE_LANDMARKS, Side, analyse
from faces.landmarks import mirror_landmarks
from faces.pose import DEGREES_PER_UNIT, TURN_WARNING_DEGREES, head_turn, turn_index
from models.bundle import ModelBundle
from models.checkpoint import ModelCard
from models.pipeline import assess
from models.preprocess import InputSpec
from models.registry import build_model


@pytest.fixture(scope="module")
def spec():
    rng = np.random.default_rng(11)
    return sample_frame_spec(rng, sample_identity(5), size=256)


def turned(spec, yaw: float) -> np.ndarray:
    """The face of ``spec`` turned by ``yaw`` degrees (positive: toward the image right), no roll."""
    return render_face(replace(spec, yaw=float(yaw), roll=0.0)).image


def test_a_symmetric_face_is_frontal_and_mirroring_flips_the_index() -> None:
    assert turn_index(TEMPLATE_LANDMARKS) == pytest.approx(0.0, abs=1e-9)
    points = np.array(TEMPLATE_LANDMARKS, dtype=np.float64)
    points[30, 0] += 0.1 * (points[16, 0] - points[0, 0])  # nose tip moved toward the image right
    assert turn_index(points) == pytest.approx(0.1)
    width = 2 * points[:, 0].max()
    assert turn_index(mirror_landmarks(points, width)) == pytest.approx(-0.1)
    turn = head_turn(points)
    assert turn.degrees == pytest.approx(0.1 * DEGREES_PER_UNIT)
    assert turn.toward is Side.LEFT  # image right of a non-mirrored photo: the patient's left
    assert head_turn(points, mirrored=True).toward is Side.RIGHT


@pytest.mark.parametrize("yaw, toward", [(25.0, Side.LEFT), (-25.0, Side.RIGHT)])
def test_turned_faces_are_measured_from_dlib_landmarks(spec, yaw, toward) -> None:
    frontal = analyse(turned(spec, 0.0)).head_turn
    assert frontal.degrees < 6.0 and not frontal.warn
    turn = analyse(turned(spec, yaw)).head_turn
    assert turn.toward is toward
    assert abs(turn.degrees - abs(yaw)) < 8.0
    assert turn.warn


def test_a_mirror_photo_keeps_the_patient_side_of_the_turn(spec) -> None:
    image = turned(spec, 25.0)
    flipped = np.ascontiguousarray(image[:, ::-1])
    assert analyse(flipped, mirrored=True).head_turn.toward is Side.LEFT  # the same patient, mirrored
    assert analyse(flipped).head_turn.toward is Side.RIGHT  # read as a plain photo: the other side


def test_the_assessment_warns_about_a_turned_head_and_reports_it(spec) -> None:
    card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                     input=InputSpec.default("half_face", (64, 32)).to_dict())
    bundle = ModelBundle.from_modules(pain=build_model("simple_cnn", outputs=1).eval(), pain_card=card)
    turned_result = assess(turned(spec, 30.0), Side.RIGHT, models=bundle)
    frontal_result = assess(turned(spec, 0.0), Side.RIGHT, models=bundle)
    warned = [w for w in turned_result.warnings if "turned" in w]
    assert len(warned) == 1 and "patient's left" in warned[0]
    assert not [w for w in frontal_result.warnings if "turned" in w]
    reported = turned_result.to_dict()["face"]["head_turn"]
    assert reported["toward"] == "left" and reported["degrees"] >= TURN_WARNING_DEGREES
    assert frontal_result.to_dict()["face"]["head_turn"]["degrees"] < TURN_WARNING_DEGREES
