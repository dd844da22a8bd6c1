"""Background removal from the landmarks: the head kept, the rest white, on a real photo and through
``analyse`` / ``assess``."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from faces import analyse
from faces.background import head_mask, whiten_background
from faces.landmarks import JAW, NOSE_TIP


@pytest.fixture(scope="module")
def astronaut():
    photo = data.astronaut()
    return photo, analyse(photo)


def test_the_head_is_kept_and_the_corners_are_white(astronaut) -> None:
    photo, geometry = astronaut
    points = geometry.landmarks
    white = whiten_background(photo, points)
    assert white.shape == photo.shape and white.dtype == np.uint8
    for x, y in np.round(points[[NOSE_TIP, 36, 45, 48, 54]]).astype(int):
        np.testing.assert_array_equal(white[y, x], photo[y, x])  # face pixels unchanged
    last_row, last_col = photo.shape[0] - 1, photo.shape[1] - 1
    for y, x in ((0, 0), (0, last_col), (last_row, 0), (last_row, last_col)):
        assert (white[y, x] == 255).all()
    # the astronaut's hair above the brows is kept, the space suit under the chin is not
    brow_top = int(points[17:27, 1].min())
    centre = int(points[list(JAW), 0].mean())
    forehead = brow_top - int(0.3 * (points[16, 0] - points[0, 0]))
    assert head_mask(points, photo.shape[:2])[forehead, centre] > 0.99
    below_chin = int(points[8, 1] + 0.4 * (points[8, 1] - points[NOSE_TIP, 1]))
    assert (white[below_chin, centre] == 255).all()


def test_the_mask_follows_a_rolled_head() -> None:
    from faces.template import TEMPLATE_LANDMARKS

    points = TEMPLATE_LANDMARKS * 100 + 300
    centre = points.mean(axis=0)
    turn = np.radians(30)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    rolled = (points - centre) @ rotation.T + centre
    shape = (600, 600)
    upright, tilted = head_mask(points, shape), head_mask(rolled, shape)
    # the area is the same whichever way the head is turned (within the rasterisation)
    assert tilted.sum() == pytest.approx(upright.sum(), rel=0.03)
    # the top of the head moved with the roll: a point above the upright forehead, rotated, is inside
    top = np.array([points[:, 0].mean(), points[17:27, 1].min() - 40])
    moved = (top - centre) @ rotation.T + centre
    assert upright[int(top[1]), int(top[0])] > 0.99 and tilted[int(moved[1]), int(moved[0])] > 0.99


def test_analyse_and_assess_take_the_option(astronaut) -> None:
    from models.pipeline import assess

    photo, geometry = astronaut
    white = analyse(photo, landmarks=geometry.landmarks, background="white")
    assert white.aligned[0, 0].min() == 255 and geometry.aligned[0, 0].min() < 255
    np.testing.assert_allclose(white.landmarks, geometry.landmarks)
    assert "background" in white.timings_ms
    with pytest.raises(ValueError, match="background"):
        analyse(photo, landmarks=geometry.landmarks, background="green")
    result = assess(photo, landmarks=geometry.landmarks, background="white", side="left")
    assert 0.0 <= result.pspi.unaffected_half <= 16.0
    assert result.geometry.aligned[0, 0].min() == 255
