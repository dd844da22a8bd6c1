"""Region summaries, bar charts, plain-words sentences and overlays, on maps whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

import faces
from data.synth import render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.base import to_face_map
from explain.overlay import face_overlay, legend_words, photo_overlay
from explain.regions import LOWERS_COLOUR, RAISES_COLOUR, region_chart, summarise
from explain.types import Explanation, MapSource
from faces.landmarks import mirror_landmarks
from faces.sides import Side
from models.preprocess import InputSpec


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, faces.FaceGeometry, faces.FaceGeometry]:
    """A synthetic photo, its geometry, and the geometry of its mirror image read as a plain photo."""
    spec = sample_frame_spec(np.random.default_rng(4), sample_identity(17), size=192)
    face = render_face(spec)
    flipped = np.ascontiguousarray(face.image[:, ::-1])
    return (face.image, faces.analyse(face.image, landmarks=face.landmarks, size=160),
            faces.analyse(flipped, landmarks=mirror_landmarks(face.landmarks, 192), size=160))


def _explanation(face_map: np.ndarray, stage: str = "pain", half: Side | None = Side.RIGHT,
                 target: str = "pspi") -> Explanation:
    return Explanation(method="gradcam", stage=stage, half=half, target=target, target_index=0,
                       prediction=1.0, input_map=np.zeros((8, 4), np.float32),
                       face_map=face_map.astype(np.float32))


def test_summary_sums_ranks_and_labels_patient_sides(pair) -> None:
    _, geometry, _ = pair
    face_map = np.zeros(geometry.aligned.shape[:2], np.float32)
    face_map[geometry.regions["eye_left"]] = 1.0
    face_map[geometry.regions["mouth_right"]] = -0.5
    summary = summarise(_explanation(face_map, half=None, stage="full_face_pain"), geometry)
    eye, mouth = summary.by_key()["eye_left"], summary.by_key()["mouth_right"]
    assert summary.top is eye and summary.scores[1] is mouth
    assert eye.label == "eye, patient's left" and eye.side is Side.LEFT
    assert eye.signed == pytest.approx(geometry.regions["eye_left"].sum())
    assert mouth.signed == pytest.approx(-0.5 * geometry.regions["mouth_right"].sum())
    assert eye.share + mouth.share == pytest.approx(1.0) and summary.outside_share == pytest.approx(0.0)
    assert all(s.absolute == 0 for s in summary.scores[2:])
    assert summary.sentence == ("The full-face PSPI rose mostly from the eye of the patient's left; "
                                "the mouth of the patient's right held it down.")
    data = summary.to_dict()
    assert data["regions"][0]["label"] == "eye, patient's left" and data["regions"][0]["side"] == "left"


def test_sentences_group_regions_of_one_side_and_speak_of_evidence_for_the_side(pair) -> None:
    _, geometry, _ = pair
    face_map = np.zeros(geometry.aligned.shape[:2], np.float32)
    face_map[geometry.regions["brow_right"]] = 1.0 / geometry.regions["brow_right"].sum()
    face_map[geometry.regions["eye_right"]] = 0.8 / geometry.regions["eye_right"].sum()
    pain = summarise(_explanation(face_map), geometry)
    assert pain.sentence == "PSPI rose mostly from the brow and eye of the patient's right."
    side = summarise(_explanation(face_map, "side", None, "affected: patient's left"), geometry)
    assert side.sentence.startswith("The evidence that the patient's left is affected came mostly from "
                                    "the brow and eye of the patient's right")
    centred = Explanation(**{**_explanation(face_map).__dict__, "params": {"centred": True}})
    relative = summarise(centred, geometry)
    assert relative.centred and relative.sentence == (
        "PSPI was driven most by the brow and eye of the patient's right.")
    assert region_chart(relative).data[0].name == "raises PSPI more than average"
    assert legend_words(centred) == ("less than average", "raises PSPI most")
    empty = summarise(_explanation(np.zeros_like(face_map)), geometry)
    assert empty.top is None and "empty" in empty.sentence


@pytest.mark.parametrize("side", list(Side))
def test_a_half_map_puts_mass_only_on_its_own_half(pair, side) -> None:
    _, geometry, _ = pair
    spec = InputSpec.default("half_face", (64, 32))
    face_map = to_face_map(np.ones(spec.size, np.float32), MapSource(geometry, "pain", side), spec)
    summary = summarise(_explanation(face_map, half=side), geometry)
    assert all(s.absolute == 0 for s in summary.scores if s.side is side.opposite)
    assert sum(s.share for s in summary.scores if s.side is side) > 0.4  # the rest: hair, background


def test_mirroring_the_photo_swaps_the_patient_sides_of_the_summary(pair) -> None:
    _, geometry, mirrored = pair
    rng = np.random.default_rng(0)
    face_map = rng.normal(size=geometry.aligned.shape[:2]).astype(np.float32)
    face_map[geometry.regions["cheek_left"]] += 3.0
    original = summarise(_explanation(face_map), geometry)
    swapped = summarise(_explanation(face_map[:, ::-1]), mirrored)
    assert original.top.key == "cheek_left" and swapped.top.key == "cheek_right"
    other = swapped.by_key()
    for score in original.scores:
        twin = other[f"{score.region}_{score.side.opposite.value}"]
        assert twin.absolute == pytest.approx(score.absolute, rel=0.03, abs=1.0)


def test_chart_has_signed_bars_in_colour_blind_safe_colours(pair) -> None:
    _, geometry, _ = pair
    face_map = np.zeros(geometry.aligned.shape[:2], np.float32)
    face_map[geometry.regions["nose_left"]] = 1.0
    face_map[geometry.regions["chin_left"]] = -1.0
    raises, lowers = region_chart(summarise(_explanation(face_map, half=Side.LEFT), geometry)).data
    assert (raises.name, lowers.name) == ("raises PSPI", "lowers PSPI")
    assert (raises.marker.color, lowers.marker.color) == (RAISES_COLOUR, LOWERS_COLOUR)
    assert list(raises.y) == ["nose, patient's left"] and list(lowers.y) == ["chin, patient's left"]
    assert raises.x[0] > 0 > lowers.x[0] and raises.x[0] - lowers.x[0] == pytest.approx(1.0)
    side_chart = region_chart(summarise(_explanation(face_map, "side", None, "affected: patient's left"),
                                        geometry))
    assert side_chart.data[0].name == "points to the patient's left"


def test_overlays_colour_what_raises_and_lowers_and_leave_the_rest(pair) -> None:
    photo, geometry, _ = pair
    face_map = np.zeros(geometry.aligned.shape[:2], np.float32)
    raised, lowered = geometry.regions["cheek_right"], geometry.regions["cheek_left"]
    face_map[raised], face_map[lowered] = 1.0, -1.0
    explanation = _explanation(face_map)
    picture = face_overlay(explanation, geometry, outlines=False, midline=False)
    size = geometry.aligned.shape[0]
    assert picture.dtype == np.uint8 and picture.shape[0] > size and picture.shape[1] == size
    face = picture[:size].astype(int)
    untouched = face_map == 0
    assert np.array_equal(face[untouched], geometry.aligned[untouched].astype(int))
    orange = face[raised].mean(axis=0) - geometry.aligned[raised].mean(axis=0)
    purple = face[lowered].mean(axis=0) - geometry.aligned[lowered].mean(axis=0)
    assert orange[0] > orange[2] and purple[2] > purple[1]  # orange: red up more than blue; purple: blue
    whole = photo_overlay(explanation, geometry, photo)
    assert whole.shape[1:] == (photo.shape[1], 3) and whole.shape[0] > photo.shape[0]
    assert legend_words(explanation) == ("lowers PSPI", "raises PSPI")
    side = _explanation(face_map, "side", None, "affected: patient's left")
    side_picture = face_overlay(side, geometry, outlines=False, midline=False)[:size]
    assert np.array_equal(side_picture[lowered], geometry.aligned[lowered])  # evidence against: not drawn
    assert "patient's left" in legend_words(side)[1]


def test_one_region_on_both_sides_is_said_once(pair) -> None:
    _, geometry, _ = pair
    face_map = np.zeros(geometry.aligned.shape[:2], np.float32)
    for key in ("cheek_left", "cheek_right"):
        face_map[geometry.regions[key]] = 1.0 / geometry.regions[key].sum()
    summary = summarise(_explanation(face_map, "full_face_pain", None), geometry)
    assert summary.sentence == "The full-face PSPI rose mostly from the cheek on both sides."
