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
from faces.pose import DEGREES_PER_UNIT, TURN_WARNING_DEGREES, half_balance, head_turn, turn_index
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


def test_half_balance_leaves_a_frontal_face_and_evens_out_a_turned_one(spec) -> None:
    frontal = analyse(turned(spec, 0.0))
    assert frontal.half_balance.is_identity and frontal.half_balance.apply(frontal.aligned) is frontal.aligned
    geometry = analyse(turned(spec, 25.0))
    balance = geometry.half_balance
    assert balance.strength == 1.0
    size = geometry.aligned.shape[1]
    points = geometry.aligned_landmarks
    ends = balance.to_balanced(points[[0, 16], 0])
    centre = (size - 1) / 2.0
    # the jaw ends as far from the midline on either side, the midline in the crop's centre column
    assert centre - ends[0] == pytest.approx(ends[1] - centre, abs=1e-6)
    assert balance.to_balanced(np.array([geometry.midline_x]))[0] == pytest.approx(centre)
    before = (geometry.midline_x - points[0, 0]) / (points[16, 0] - geometry.midline_x)
    assert abs(np.log(before)) > 0.2  # the turn had made one half clearly wider than the other
    xs = np.linspace(-10, size + 10, 57)
    assert np.allclose(balance.to_levelled(balance.to_balanced(xs)), xs)
    # pixels move only sideways: the nose tip's column in the balanced crop holds the nose tip's pixels
    balanced = balance.apply(geometry.aligned)
    assert balanced.shape == geometry.aligned.shape and not np.array_equal(balanced, geometry.aligned)
    nose_x, nose_y = points[30]
    new_x = balance.to_balanced(np.array([nose_x]))[0]
    assert np.abs(balanced[int(round(nose_y)), int(round(new_x))].astype(int)
                  - geometry.aligned[int(round(nose_y)), int(round(nose_x))].astype(int)).max() < 40
    # a map carried there and back is unchanged away from the crop's edges
    smooth = np.tile(np.linspace(0.0, 1.0, size, dtype=np.float32), (size, 1))
    back = balance.undo(balance.apply(smooth))
    inner = slice(int(points[0, 0]) + 2, int(points[16, 0]) - 2)
    assert np.abs(back[:, inner] - smooth[:, inner]).max() < 0.02


def test_half_balance_blends_in_between_10_and_20_degrees() -> None:
    points = np.array(TEMPLATE_LANDMARKS, dtype=np.float64) * 40 + 63.5  # a levelled face of side 128
    midline = float(points[27:31, 0].mean())
    strengths = [half_balance(points, midline, 128, turn_degrees=d).strength
                 for d in (5, 10, 12.5, 15, 20, 40)]
    assert strengths == pytest.approx([0.0, 0.0, 0.25, 0.5, 1.0, 1.0])
    # barely past the start, the balanced face is nearly the levelled one: no jump at 10 degrees
    points[[27, 28, 29, 30], 0] += 0.1 * (points[16, 0] - points[0, 0])  # nose and midline moved
    slight = half_balance(points, midline + 9.4, 128, turn_degrees=10.5)
    assert slight.strength == pytest.approx(0.05)
    xs = np.arange(128.0)
    assert np.abs(slight.to_balanced(xs) - xs).max() < 2.0


def test_half_balance_of_a_mirror_photo_is_the_mirror_image(spec) -> None:
    rendered = render_face(replace(spec, yaw=25.0, roll=0.0))
    image = rendered.image
    plain = analyse(image, landmarks=rendered.landmarks)
    flipped = np.ascontiguousarray(image[:, ::-1])
    mirror = analyse(flipped, mirrored=True, landmarks=mirror_landmarks(rendered.landmarks, image.shape[1]))
    a = plain.half_balance.apply(plain.aligned).astype(int)
    b = mirror.half_balance.apply(mirror.aligned)[:, ::-1].astype(int)
    assert plain.half_balance.strength == mirror.half_balance.strength == 1.0
    assert np.abs(a - b).mean() < 1.0


def test_a_side_model_that_balances_halves_reads_the_balanced_face(spec) -> None:
    from explain.base import face_to_input, to_face_map
    from explain.types import MapSource
    from models.preprocess import face_source, fit, to_tensor

    side_spec = InputSpec("aligned_face", 96, 96, balance_halves=True)
    card = ModelCard(architecture="side_cnn", task="side", outputs=2, input=side_spec.to_dict())
    assert InputSpec.from_dict(card.input).balance_halves
    assert "balance_halves" not in InputSpec.default("aligned_face").to_dict()  # older cards read the same
    with pytest.raises(ValueError, match="aligned faces"):
        InputSpec("half_face", 128, 64, balance_halves=True)
    torch = pytest.importorskip("torch")
    pain_card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                          input=InputSpec.default("half_face", (64, 32)).to_dict())
    bundle = ModelBundle.from_modules(pain=build_model("simple_cnn", outputs=1).eval(), pain_card=pain_card,
                                      side=build_model("side_cnn", outputs=2).eval(), side_card=card)
    result = assess(turned(spec, 25.0), models=bundle)
    geometry = result.geometry
    expected = to_tensor(face_source(geometry, side_spec), side_spec)
    assert torch.equal(result.inputs.side, expected)
    assert result.side_balance == geometry.half_balance.strength == 1.0
    assert result.to_dict()["face"]["head_turn"]["side_model_balance"] == 1.0
    plain = to_tensor(face_source(geometry, InputSpec("aligned_face", 96, 96)), side_spec)
    assert not torch.equal(expected, plain)
    # the same networks with the balancing switched off (eval headturn / realcheck --no-balance)
    unbalanced = bundle.with_half_balance(False)
    assert unbalanced.side.model is bundle.side.model and bundle.side.spec.balance_halves
    read_plain = assess(turned(spec, 25.0), models=unbalanced)
    assert torch.equal(read_plain.inputs.side, plain) and read_plain.side_balance == 0.0
    assert np.array_equal(fit(face_source(geometry, side_spec), side_spec),
                          fit(geometry.half_balance.apply(geometry.aligned), side_spec))
    # an explanation's map over that input comes back onto the region it covers in the levelled face
    source = MapSource(geometry, "side")
    for key in ("nose_left", "cheek_right", "eye_left"):
        on_input = face_to_input(geometry.regions[key], source, side_spec)
        back = to_face_map(on_input.astype(np.float32), source, side_spec)
        inside = float(back[geometry.regions[key]].sum()) / float(back.sum())
        assert inside > 0.75 and (back[geometry.regions[key]] > 0.5).mean() > 0.75
