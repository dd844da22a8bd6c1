"""analyse on real photos: landmarks, levelling, midline, halves, regions, mirror behaviour, fallback."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage import data

from faces import REGION_NAMES, TEMPLATE_LANDMARKS, NoFaceFoundError, Side, analyse
from faces.align import INTER_OCULAR_FRACTION, apply_affine
from faces.asymmetry import MEASURES
from faces.landmarks import (
    CHIN,
    LEFT_BROW,
    LEFT_EYE,
    MOUTH_OUTER,
    NOSE_TIP,
    RIGHT_BROW,
    RIGHT_EYE,
    mirror_landmarks,
)
from faces.template import PRECROPPED_PLACEMENT, derive_template

SIZE = 256
NOSE_POINTS = list(range(27, 36))


def eye_line_degrees(points: np.ndarray) -> float:
    left, right = points[list(RIGHT_EYE)].mean(0), points[list(LEFT_EYE)].mean(0)
    return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(np.float64).ravel(), b.astype(np.float64).ravel())[0, 1])


def rotated(photo: np.ndarray, degrees: float) -> np.ndarray:
    height, width = photo.shape[:2]
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(photo, rotation, (width, height), borderMode=cv2.BORDER_REFLECT)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def flipped_photo(photo) -> np.ndarray:
    return np.ascontiguousarray(photo[:, ::-1])


@pytest.fixture(scope="module")
def geometry(photo):
    return analyse(photo)


@pytest.fixture(scope="module")
def flipped_geometry(flipped_photo):
    return analyse(flipped_photo)


@pytest.fixture(scope="module")
def flipped_declared_mirrored(flipped_photo):
    return analyse(flipped_photo, mirrored=True)


# One face, landmarks, levelling -----------------------------------------------------------------


def test_astronaut_has_one_face_with_68_landmarks_in_anatomical_order(geometry, photo):
    assert geometry.n_faces == 1
    assert geometry.landmark_source == "detector"
    assert geometry.image_size == photo.shape[:2]
    points = geometry.landmarks
    assert points.shape == (68, 2)
    eyes_y = points[list(RIGHT_EYE) + list(LEFT_EYE), 1].mean()
    brows_y = points[list(RIGHT_BROW) + list(LEFT_BROW), 1].mean()
    mouth_y = points[list(MOUTH_OUTER), 1].mean()
    assert brows_y < eyes_y < points[NOSE_TIP, 1] < mouth_y < points[CHIN, 1]
    assert points[list(RIGHT_EYE), 0].mean() < points[list(LEFT_EYE), 0].mean()
    x0, y0, x1, y1 = geometry.face_box
    assert x0 < points[NOSE_TIP, 0] < x1 and y0 < points[NOSE_TIP, 1] < y1


def test_aligned_crop_is_levelled_square_and_holds_the_whole_face(geometry):
    assert geometry.aligned.shape == (SIZE, SIZE, 3) and geometry.aligned.dtype == np.uint8
    assert abs(eye_line_degrees(geometry.aligned_landmarks)) < 0.5
    aligned = geometry.aligned_landmarks
    assert aligned.min() > 0 and aligned.max() < SIZE
    assert aligned[CHIN, 1] < 0.95 * SIZE
    assert aligned[list(RIGHT_BROW) + list(LEFT_BROW), 1].min() > 0.15 * SIZE


def test_aligned_to_image_maps_the_crop_back_onto_the_photo(geometry):
    back = apply_affine(geometry.aligned_to_image, geometry.aligned_landmarks)
    assert np.allclose(back, geometry.landmarks, atol=1e-6)


@pytest.mark.parametrize("degrees", [10.0, -10.0])
def test_rotated_photo_is_levelled(photo, geometry, degrees):
    tilted = analyse(rotated(photo, degrees))
    assert abs(eye_line_degrees(tilted.aligned_landmarks)) < 1.5
    # cv2 turns positive angles counter-clockwise, which raises the image-right eye.
    assert tilted.roll_degrees == pytest.approx(geometry.roll_degrees - degrees, abs=1.5)


# Midline and halves -----------------------------------------------------------------------------


def test_midline_runs_through_the_nose(geometry):
    aligned = geometry.aligned_landmarks
    face_width = geometry.halves[Side.RIGHT].face_width + geometry.halves[Side.LEFT].face_width
    nose_x = aligned[NOSE_POINTS, 0].mean()
    assert abs(geometry.midline_x - nose_x) < 0.03 * face_width


def test_halves_are_equal_sized_two_to_one_and_equally_wide(geometry):
    right, left = geometry.halves[Side.RIGHT], geometry.halves[Side.LEFT]
    assert right.side is Side.RIGHT and left.side is Side.LEFT
    assert right.image.shape == left.image.shape == (SIZE, SIZE // 2, 3)
    assert right.image.dtype == np.uint8
    assert abs(right.face_width - left.face_width) < 0.1 * max(right.face_width, left.face_width)


def test_halves_are_in_canonical_orientation(geometry):
    """Both halves look like a patient-right half in a plain photo: midline on the half's right edge."""
    assert geometry.halves[Side.RIGHT].flipped is False  # patient-right is on the image left
    assert geometry.halves[Side.LEFT].flipped is True
    width = SIZE // 2
    for side, half in geometry.halves.items():
        points = apply_affine(half.aligned_to_half, geometry.aligned_landmarks)
        eye = points[list(RIGHT_EYE if side is Side.RIGHT else LEFT_EYE)].mean(0)
        assert points[NOSE_TIP, 0] == pytest.approx(width, abs=0.1 * width)
        assert 0 < eye[0] < points[NOSE_TIP, 0]
        restored = half.to_aligned(half.image[..., 0])
        assert restored.shape == (SIZE, width)


def test_half_pixels_come_from_their_own_side_of_the_aligned_crop(geometry):
    midline = round(geometry.midline_x)
    strip = 100  # columns next to the midline, inside the crop on both sides
    left_of_midline = geometry.aligned[:, midline - strip:midline]
    right_of_midline = geometry.aligned[:, midline:midline + strip]
    assert correlation(geometry.halves[Side.RIGHT].image[:, -strip:], left_of_midline) > 0.95
    assert correlation(geometry.halves[Side.LEFT].image[:, -strip:], right_of_midline[:, ::-1]) > 0.95


# Regions ----------------------------------------------------------------------------------------


def test_region_masks_are_sided_disjoint_and_in_place(geometry):
    expected = {f"{name}_{side.value}" for name in REGION_NAMES for side in Side}
    assert set(geometry.regions) == expected
    stacked = np.stack([mask.astype(np.int32) for mask in geometry.regions.values()])
    assert stacked.shape == (len(expected), SIZE, SIZE)
    assert stacked.sum(0).max() == 1
    columns = np.arange(SIZE)[None, :]
    for key, mask in geometry.regions.items():
        assert mask.dtype == bool and mask.sum() > 50, key
        on_image_right = np.broadcast_to(columns > geometry.midline_x, mask.shape)
        # Non-mirrored photo: the patient's left is on the image right.
        assert np.all(on_image_right[mask]) == key.endswith("_left"), key


def test_regions_tile_the_face_below_the_brows(geometry):
    points = geometry.aligned_landmarks
    lower_face = np.vstack([points[0:17], points[26:16:-1]])
    inside = np.zeros((SIZE, SIZE), dtype=np.uint8)
    cv2.fillPoly(inside, [np.round(lower_face).astype(np.int32)], 1)
    covered = np.any(np.stack(list(geometry.regions.values())), axis=0)
    assert covered[inside > 0].mean() > 0.99


def test_regions_contain_their_landmarks_and_stack_top_to_bottom(geometry):
    points = geometry.aligned_landmarks

    def region_at(point: np.ndarray) -> str:
        x, y = np.round(point).astype(int)
        names = [key for key, mask in geometry.regions.items() if mask[y, x]]
        return names[0] if names else ""

    assert region_at(points[list(RIGHT_EYE)].mean(0)) == "eye_right"
    assert region_at(points[list(LEFT_EYE)].mean(0)) == "eye_left"
    assert region_at(points[NOSE_TIP]).startswith("nose_")
    assert region_at(points[list(MOUTH_OUTER)].mean(0)).startswith("mouth_")

    def centre_y(name: str) -> float:
        mask = geometry.regions[f"{name}_right"] | geometry.regions[f"{name}_left"]
        return float(np.nonzero(mask)[0].mean())

    assert centre_y("forehead") < centre_y("brow") < centre_y("eye") < centre_y("nose")
    assert centre_y("nose") < centre_y("mouth") < centre_y("chin")
    assert centre_y("eye") < centre_y("cheek") < centre_y("chin")


def test_half_regions_are_unsided_and_match_the_half_shape(geometry):
    for half in geometry.halves.values():
        assert set(half.regions) == set(REGION_NAMES)
        for name, mask in half.regions.items():
            assert mask.shape == (SIZE, SIZE // 2) and mask.dtype == bool
            assert mask.sum() == pytest.approx(geometry.regions[f"{name}_{half.side.value}"].sum(), rel=0.1)


# Mirror behaviour -------------------------------------------------------------------------------


def test_flipped_photo_swaps_the_patient_halves(geometry, flipped_geometry):
    for side in Side:
        assert correlation(geometry.halves[side].image, flipped_geometry.halves[side.opposite].image) > 0.9


def test_flipped_photo_flips_the_sign_of_every_asymmetry_measure(geometry, flipped_geometry):
    original, flipped = geometry.asymmetry.by_name(), flipped_geometry.asymmetry.by_name()
    for name, spec in MEASURES.items():
        # Detector landmarks on the flipped photo are not an exact mirror image; they agree within noise.
        assert flipped[name].value == pytest.approx(-original[name].value, abs=spec.threshold)
        if original[name].points_to is not None and flipped[name].points_to is not None:
            assert flipped[name].points_to is original[name].points_to.opposite


def test_mirrored_landmarks_flip_every_sign_exactly(geometry, flipped_photo):
    width = flipped_photo.shape[1]
    flipped = analyse(flipped_photo, landmarks=mirror_landmarks(geometry.landmarks, width))
    for measure, mirrored in zip(geometry.asymmetry.measures, flipped.asymmetry.measures, strict=True):
        assert mirrored.value == pytest.approx(-measure.value, abs=1e-9)
        expected = None if measure.points_to is None else measure.points_to.opposite
        assert mirrored.points_to is expected
    assert flipped.asymmetry.index == pytest.approx(geometry.asymmetry.index)


def test_declaring_the_flipped_photo_mirrored_restores_the_original_sides(
    geometry, flipped_declared_mirrored
):
    restored = flipped_declared_mirrored
    assert restored.mirrored is True
    assert restored.halves[Side.RIGHT].flipped is True  # patient-right now sits on the image right
    for side in Side:
        assert correlation(geometry.halves[side].image, restored.halves[side].image) > 0.9
        assert restored.regions[f"cheek_{side.value}"].sum() == pytest.approx(
            geometry.regions[f"cheek_{side.value}"].sum(), rel=0.15
        )
    original, again = geometry.asymmetry.by_name(), restored.asymmetry.by_name()
    for name, spec in MEASURES.items():
        assert again[name].value == pytest.approx(original[name].value, abs=spec.threshold)


def test_declaring_mirrored_with_mirrored_landmarks_gives_identical_measures(geometry, flipped_photo):
    width = flipped_photo.shape[1]
    restored = analyse(flipped_photo, True, landmarks=mirror_landmarks(geometry.landmarks, width))
    for measure, again in zip(geometry.asymmetry.measures, restored.asymmetry.measures, strict=True):
        assert again.value == pytest.approx(measure.value, abs=1e-9)
        assert again.points_to is measure.points_to
    assert restored.asymmetry.points_to is geometry.asymmetry.points_to


# Asymmetry on a known droop -----------------------------------------------------------------------


def drooped(landmarks: np.ndarray, inter_ocular: float) -> np.ndarray:
    """Landmarks with the patient's left (image right in a plain photo) mouth corner and brow lowered."""
    points = landmarks.copy()
    points[[53, 54, 55, 64], 1] += 0.12 * inter_ocular
    points[54, 0] -= 0.08 * inter_ocular
    points[list(LEFT_BROW), 1] += 0.1 * inter_ocular
    return points


def test_known_left_droop_points_to_the_patients_left(geometry, photo, flipped_photo):
    eyes = geometry.landmarks[list(RIGHT_EYE)].mean(0), geometry.landmarks[list(LEFT_EYE)].mean(0)
    inter_ocular_photo = float(np.linalg.norm(eyes[0] - eyes[1]))
    points = drooped(geometry.landmarks, inter_ocular_photo)
    result = analyse(photo, landmarks=points)
    measures = result.asymmetry.by_name()
    assert measures["mouth_corner_height"].value > 0
    assert measures["mouth_corner_height"].points_to is Side.LEFT
    assert measures["brow_height"].points_to is Side.LEFT
    assert measures["commissure_excursion"].points_to is Side.LEFT
    assert result.asymmetry.points_to is Side.LEFT
    assert result.asymmetry.index > geometry.asymmetry.index >= 0

    width = photo.shape[1]
    as_webcam = analyse(flipped_photo, mirrored=True, landmarks=mirror_landmarks(points, width))
    assert as_webcam.asymmetry.points_to is Side.LEFT
    as_plain = analyse(flipped_photo, landmarks=mirror_landmarks(points, width))
    assert as_plain.asymmetry.points_to is Side.RIGHT


# Given landmarks, template fallback ----------------------------------------------------------------


def test_given_landmarks_skip_detection(geometry, photo):
    given = analyse(photo, landmarks=geometry.landmarks)
    assert given.landmark_source == "given" and given.n_faces == 0
    assert np.array_equal(given.landmarks, geometry.landmarks)
    assert np.array_equal(given.aligned, geometry.aligned)


def test_template_is_used_only_when_asked_and_is_reported(geometry, photo):
    no_face = data.coffee()
    with pytest.raises(NoFaceFoundError):
        analyse(no_face)
    fallback = analyse(no_face, on_no_face="template")
    assert fallback.landmark_source == "template" and fallback.n_faces == 0
    assert fallback.aligned.shape == (SIZE, SIZE, 3)
    assert set(fallback.halves) == set(Side)
    assert analyse(photo, on_no_face="template").landmark_source == "detector"
    with pytest.raises(ValueError):
        analyse(photo, on_no_face="guess")


def test_template_on_a_precropped_face_lands_on_the_face():
    face = cv2.resize(data.lfw_subset()[0], (200, 200), interpolation=cv2.INTER_CUBIC)
    found = analyse(face)
    placed = analyse(cv2.GaussianBlur(face, (0, 0), 25), on_no_face="template").landmarks
    inter_ocular = np.linalg.norm(found.landmarks[36:42].mean(0) - found.landmarks[42:48].mean(0))
    assert np.abs(placed - found.landmarks).mean() < 0.35 * inter_ocular


def test_template_constant_is_symmetric_and_normalised():
    assert TEMPLATE_LANDMARKS.shape == (68, 2)
    assert np.allclose(TEMPLATE_LANDMARKS[36:42].mean(0), (-0.5, 0.0), atol=1e-3)
    assert np.allclose(TEMPLATE_LANDMARKS[42:48].mean(0), (0.5, 0.0), atol=1e-3)
    assert np.allclose(mirror_landmarks(TEMPLATE_LANDMARKS, 0)[:, 0], TEMPLATE_LANDMARKS[:, 0] - 1, atol=1e-3)


def test_timings_are_recorded(geometry):
    for step in ("read", "detect", "landmarks", "align", "regions", "halves", "asymmetry", "total"):
        assert geometry.timings_ms[step] >= 0


def test_template_constant_matches_its_documented_derivation():
    template, placement, used = derive_template()
    assert used >= 85
    assert np.abs(template - TEMPLATE_LANDMARKS).max() < 1e-3
    assert np.allclose(placement, PRECROPPED_PLACEMENT, atol=1e-3)


def test_large_photo_gives_the_same_crop_as_the_original(geometry, photo):
    large = cv2.resize(photo, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    from_large = analyse(large)
    assert from_large.image_size == (2048, 2048)
    assert correlation(from_large.aligned, geometry.aligned) > 0.95
    for side in Side:
        assert correlation(from_large.halves[side].image, geometry.halves[side].image) > 0.95


def test_other_crop_sizes_scale_every_output(photo):
    small = analyse(photo, size=128)
    assert small.aligned.shape == (128, 128, 3)
    assert all(half.image.shape == (128, 64, 3) for half in small.halves.values())
    assert all(mask.shape == (128, 128) for mask in small.regions.values())
    assert small.inter_ocular == pytest.approx(INTER_OCULAR_FRACTION * 128, rel=1e-6)
