"""Face detection and landmark fitting on real photos shipped with scikit-image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from faces import detect_faces, fit_landmarks

LFW_SIDE = 200  # lfw_subset crops are 25 x 25; enlarged so a face spans the detector's window


@pytest.fixture(scope="module")
def lfw_found() -> np.ndarray:
    """For each of the 200 lfw_subset images (100 faces, then 100 non-faces): was a face reported?"""
    images = data.lfw_subset()
    found = []
    for image in images:
        pixels = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
        enlarged = cv2.resize(pixels, (LFW_SIDE, LFW_SIDE), interpolation=cv2.INTER_CUBIC)
        found.append(len(detect_faces(enlarged)) > 0)
    return np.array(found)


def test_lfw_faces_are_found(lfw_found):
    assert lfw_found[:100].sum() >= 85


def test_lfw_non_faces_are_rarely_reported(lfw_found):
    assert lfw_found[100:].sum() <= 5


def test_boxes_are_in_photo_coordinates_largest_first():
    head = data.astronaut()[40:300, 110:350]  # 260 x 240, face about 88 pixels wide
    big = cv2.resize(head, (360, 390), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((400, 640, 3), 128, dtype=np.uint8)
    canvas[5:395, :360] = big
    canvas[70:330, 390:630] = head
    boxes = detect_faces(canvas)
    assert len(boxes) == 2
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes
    assert (ax1 - ax0) == pytest.approx(1.5 * (bx1 - bx0), rel=0.2)
    assert ax1 < 360 and bx0 > 360  # the big face is the left one
    alone = np.array(detect_faces(head)[0]) + [390, 70, 390, 70]
    assert np.allclose(boxes[1], alone, atol=0.1 * (alone[2] - alone[0]))


def test_large_and_gray_photos_are_detected_in_their_own_coordinates():
    astronaut = data.astronaut()
    reference = np.array(detect_faces(astronaut)[0])
    large = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    assert np.allclose(np.array(detect_faces(large)[0]) / 4, reference, atol=8)
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    assert np.allclose(detect_faces(gray)[0], reference, atol=8)


def test_small_face_in_a_larger_photo_is_found():
    face = cv2.resize(data.astronaut()[40:220, 140:320], (60, 60), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 200, dtype=np.uint8)
    canvas[200:260, 300:360] = face
    boxes = detect_faces(canvas)
    assert boxes, "a 60-pixel face should be found by the second, finer pass"
    x0, y0, x1, y1 = boxes[0]
    assert 290 < (x0 + x1) / 2 < 370 and 190 < (y0 + y1) / 2 < 270


def test_landmarks_are_68_points_inside_the_face_box():
    astronaut = data.astronaut()
    box = detect_faces(astronaut)[0]
    points = fit_landmarks(astronaut, box)
    assert points.shape == (68, 2) and points.dtype == np.float64
    x0, y0, x1, y1 = box
    margin = 0.25 * (x1 - x0)
    assert np.all(points[:, 0] > x0 - margin) and np.all(points[:, 0] < x1 + margin)
    assert np.all(points[:, 1] > y0 - margin) and np.all(points[:, 1] < y1 + margin)
    single = fit_landmarks(astronaut, box, mirror_averaged=False)
    assert np.abs(single - points).max() < 0.1 * (x1 - x0)


def test_a_tilted_head_the_upright_detector_misses_is_found_by_turning_the_photo() -> None:
    import cv2
    from skimage import data as skdata

    from faces import analyse
    from faces.detect import detect_faces, detect_turned

    photo = skdata.astronaut()
    upright = analyse(photo)
    turn = cv2.getRotationMatrix2D((256.0, 256.0), 45.0, 1.0)
    tilted = cv2.warpAffine(photo, turn, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    assert detect_faces(tilted) == []  # the HOG detector is trained on upright faces
    found = detect_turned(tilted)
    assert found is not None
    box, points, angle = found
    expected = upright.landmarks @ turn[:, :2].T + turn[:, 2]
    inter_ocular = float(np.linalg.norm(expected[36:42].mean(0) - expected[42:48].mean(0)))
    assert np.abs(points - expected).max() < 0.1 * inter_ocular  # landmarks turned back onto the photo
    assert box[0] <= points[:, 0].min() and box[3] >= points[:, 1].max()
    geometry = analyse(tilted)
    assert "detect_turned" in geometry.timings_ms and geometry.n_faces == 1
    assert geometry.roll_degrees == pytest.approx(upright.roll_degrees - 45.0, abs=3.0)
    assert detect_turned(np.full((120, 120, 3), 90, np.uint8)) is None
