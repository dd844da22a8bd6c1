"""Landmark-driven edits of a real photo: right side, right landmarks, mirror-consistent, identity at 0."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from data.facemoves import FaceFrame
from data.realedit import edit_photo, pain_aus
from data.synth.aus import Palsy
from data.warp import piecewise_affine_warp
from faces import analyse
from faces.landmarks import mirror_landmarks
from faces.sides import Side


@pytest.fixture(scope="module")
def portrait() -> tuple[np.ndarray, np.ndarray]:
    from skimage.data import astronaut

    photo = cv2.resize(astronaut()[20:300, 100:380], (224, 224), interpolation=cv2.INTER_AREA)
    return photo, analyse(photo).landmarks


def _down_shift(before: np.ndarray, after: np.ndarray, indices: list[int]) -> float:
    """Mean move of ``indices`` along the face's downward axis, in inter-ocular distances."""
    frame = FaceFrame.of(before)
    return float(np.mean((after[indices] - before[indices]) @ frame.down)) / frame.inter_ocular


def test_zero_strength_is_identity(portrait) -> None:
    photo, points = portrait
    edited = edit_photo(photo, aus={Side.RIGHT: pain_aus(0.0)}, palsy=Palsy(Side.LEFT, 0.0), landmarks=points)
    assert np.array_equal(edited.image, photo)
    assert edited.truth.moved == () and edited.truth.palsy is None
    assert edited.truth.pspi_added == {Side.RIGHT: 0.0, Side.LEFT: 0.0}


def test_palsy_moves_the_patients_side_and_dlib_sees_it(portrait) -> None:
    photo, points = portrait
    edited = edit_photo(photo, palsy=Palsy(Side.LEFT, 1.0, "central"), landmarks=points)
    truth = edited.truth
    # Non-mirrored photo: the patient's left is the image right (mouth corner 54, eye 42-47).
    assert 54 in truth.moved_on(Side.LEFT) and 48 not in truth.moved
    assert truth.moved_on(Side.RIGHT) == ()
    refit = analyse(edited.image).landmarks
    assert _down_shift(points, refit, [54]) > 0.05
    assert abs(_down_shift(points, refit, [48])) < 0.03
    assert np.array_equal(edited.image[:12, :12], photo[:12, :12])  # far from the face nothing moves
    assert edited.image.shape == photo.shape and edited.image.dtype == np.uint8


def test_peripheral_palsy_lowers_the_brow_central_does_not(portrait) -> None:
    photo, points = portrait
    brow = [17, 18, 19, 20, 21]  # image-left brow = patient's right in a non-mirrored photo
    central = edit_photo(photo, palsy=Palsy(Side.RIGHT, 1.0, "central"), landmarks=points).truth
    peripheral = edit_photo(photo, palsy=Palsy(Side.RIGHT, 1.0, "peripheral"), landmarks=points).truth
    assert not set(brow) & set(central.moved)
    assert set(brow) <= set(peripheral.moved)
    assert _down_shift(points, peripheral.landmarks_after, brow) > 0.05


def test_brow_lowering_on_one_side_is_seen_on_that_side(portrait) -> None:
    photo, points = portrait
    edited = edit_photo(photo, aus={"right": {"AU4": 5.0}}, landmarks=points)
    assert edited.truth.pspi_added == {Side.RIGHT: 5.0, Side.LEFT: 0.0}
    refit = analyse(edited.image).landmarks
    lowered = _down_shift(points, refit, [19, 20, 21])
    other = _down_shift(points, refit, [22, 23, 24])
    assert lowered > 0.04 and lowered > other + 0.03


def test_mirrored_photo_gives_mirrored_edit_and_truth(portrait) -> None:
    photo, points = portrait
    width = photo.shape[1]
    spec = {"palsy": Palsy(Side.LEFT, 0.8, "peripheral"), "aus": {Side.RIGHT: {"AU4": 3.0, "AU10": 4.0}}}
    direct = edit_photo(photo, landmarks=points, **spec)
    flipped = edit_photo(np.ascontiguousarray(photo[:, ::-1]), landmarks=mirror_landmarks(points, width),
                         mirrored=True, **spec)
    np.testing.assert_allclose(flipped.truth.landmarks_after,
                               mirror_landmarks(direct.truth.landmarks_after, width), atol=1e-6)
    difference = np.abs(flipped.image[:, ::-1].astype(int) - direct.image.astype(int))
    assert difference.mean() < 0.5
    assert flipped.truth.moved_on(Side.LEFT) and flipped.truth.to_dict()["palsy"]["description"] == (
        "patient's left (image left)")


def test_eye_closure_shuts_the_eye(portrait) -> None:
    photo, points = portrait
    truth = edit_photo(photo, aus={Side.LEFT: {"AU43": 1.0}}, landmarks=points).truth
    after = truth.landmarks_after
    assert np.all(np.abs(after[[44, 43], 1] - after[[46, 47], 1]) < 0.03 * FaceFrame.of(points).inter_ocular)
    assert truth.pspi_added[Side.LEFT] == 1.0


def test_bad_action_units_are_refused(portrait) -> None:
    photo, points = portrait
    with pytest.raises(ValueError, match="Unknown action unit"):
        edit_photo(photo, aus={Side.LEFT: {"AU12": 2.0}}, landmarks=points)
    with pytest.raises(ValueError, match="AU4 must lie"):
        edit_photo(photo, aus={Side.LEFT: {"AU4": 7.0}}, landmarks=points)


def test_warp_moves_pixels_with_the_points_and_refuses_folds() -> None:
    image = np.zeros((64, 64), np.uint8)
    image[30:34, 30:34] = 255
    source = np.array([[32.0, 32.0], [20, 20], [44, 20], [20, 44], [44, 44]])
    target = source.copy()
    target[0] += (4.0, 0.0)
    moved = piecewise_affine_warp(image, source, target)
    ys, xs = np.nonzero(moved > 128)
    assert 34.5 < xs.mean() < 36.5 and 30.5 < ys.mean() < 32.5
    assert np.array_equal(piecewise_affine_warp(image, source, source), image)
    folded = source.copy()
    folded[0] = (50.0, 32.0)
    with pytest.raises(ValueError, match="fold"):
        piecewise_affine_warp(image, source, folded)


def test_narrowing_a_nearly_shut_eye_keeps_the_lids_apart(portrait) -> None:
    photo, points = portrait
    squinting = points.copy()
    squinting[[41, 40]] = squinting[[37, 38]] + (0.0, 1.0)  # lower lids one pixel under the upper lids
    truth = edit_photo(photo, aus={Side.RIGHT: pain_aus(1.0)}, landmarks=squinting).truth
    after = truth.landmarks_after
    down = FaceFrame.of(squinting).down
    assert np.all((after[[41, 40]] - after[[37, 38]]) @ down > 0)


def test_raising_the_upper_lip_of_a_closed_mouth_fitted_with_crossed_inner_lips(portrait) -> None:
    photo, points = portrait
    closed = points.copy()
    closed[[65, 66, 67]] = closed[[63, 62, 61]] - (0.0, 1.5)  # inner lower lip fitted above the upper
    edited = edit_photo(photo, aus={Side.LEFT: {"AU10": 5.0}, Side.RIGHT: {"AU10": 5.0}}, landmarks=closed)
    assert _down_shift(closed, edited.truth.landmarks_after, [50, 51, 52]) < -0.05
    assert not np.array_equal(edited.image, photo)


def test_full_strength_warp_is_smooth_and_never_folds(portrait) -> None:
    from data.facemoves import au_moves, control_points, palsy_moves
    from data.warp import displacement_field
    from faces.sides import ImageSide

    photo, points = portrait
    controls, n_movable = control_points(points)
    frame = FaceFrame.of(points)
    moves = np.zeros_like(controls)
    moves[:n_movable] += palsy_moves(frame, ImageSide.RIGHT, n_movable, 1.0, peripheral=True)
    for side in ImageSide:
        current = controls[:n_movable] + moves[:n_movable]
        moves[:n_movable] += au_moves(frame, side, n_movable, pain_aus(1.0), current)
    map_x, map_y = displacement_field(controls, controls + moves, *photo.shape[:2], 0.02 * frame.inter_ocular)
    dxdx, dxdy = np.gradient(map_x, axis=1), np.gradient(map_x, axis=0)
    dydx, dydy = np.gradient(map_y, axis=1), np.gradient(map_y, axis=0)
    jacobian = dxdx * dydy - dxdy * dydx
    assert jacobian.min() > 0.05  # orientation kept everywhere: no fold, no tear
    travel = np.hypot(map_x - np.arange(photo.shape[1]), map_y - np.arange(photo.shape[0])[:, None])
    assert travel.max() < 0.2 * frame.inter_ocular  # nothing travels further than the edit asks


def test_random_asymmetry_moves_both_halves_by_part_and_leaves_the_truth_alone(portrait) -> None:
    photo, points = portrait
    edited = edit_photo(photo, landmarks=points, asymmetry=(np.random.default_rng(3), 1.0))
    truth = edited.truth
    assert truth.palsy is None and truth.pspi_added == {Side.RIGHT: 0.0, Side.LEFT: 0.0}
    assert truth.moved_on(Side.RIGHT) and truth.moved_on(Side.LEFT)
    frame = FaceFrame.of(points)
    shift = (truth.landmarks_after - truth.landmarks_before) / frame.inter_ocular
    # a part moves as a whole: the five points of a brow by one vector
    assert np.allclose(shift[17:22], shift[17])
    assert np.abs(shift).max() < 0.15  # smaller than a full palsy's mouth-corner droop (0.12 down)
    again = edit_photo(photo, landmarks=points, asymmetry=(np.random.default_rng(3), 1.0))
    assert np.array_equal(again.image, edited.image)  # the generator decides it
    scaled = edit_photo(photo, landmarks=points, asymmetry=(np.random.default_rng(3), 2.0)).truth
    assert np.allclose(scaled.landmarks_after - points, 2 * (truth.landmarks_after - points))
