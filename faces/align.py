"""Levelling, the canonical face crop, the facial midline and the two half faces.

The canonical crop is a square of ``size`` pixels in which every face gets the same scale rule: the eye
centres lie on a horizontal line at :data:`EYE_LINE_Y` of the height, :data:`INTER_OCULAR_FRACTION` of
the width apart and centred, which leaves room for the forehead and the chin. All warps go straight
from the photo to their destination (one interpolation); when the face must shrink a lot, the face's
neighbourhood is first reduced with area averaging so the crop does not alias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from faces.landmarks import LEFT_EYE, MIDLINE_POINTS, RIGHT_EYE, groups_for
from faces.sides import ImageSide, Side, image_side

INTER_OCULAR_FRACTION = 0.26  # eye-centre distance as a fraction of the crop side
EYE_LINE_Y = 0.40  # height of the eye line as a fraction of the crop side
_SHRINK_FIRST_BELOW = 0.6  # photo->crop scales below this are pre-reduced with area averaging


def affine_inverse(affine: np.ndarray) -> np.ndarray:
    """Inverse of a ``(2, 3)`` affine transform."""
    return cv2.invertAffineTransform(np.asarray(affine, dtype=np.float64))


def affine_compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``(2, 3)`` affine applying ``inner`` first, then ``outer``."""
    outer3 = np.vstack([outer, [0.0, 0.0, 1.0]])
    inner3 = np.vstack([inner, [0.0, 0.0, 1.0]])
    return (outer3 @ inner3)[:2]


def apply_affine(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points ``(N, 2)`` mapped through a ``(2, 3)`` affine."""
    points = np.asarray(points, dtype=np.float64)
    return points @ affine[:, :2].T + affine[:, 2]


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(2,)`` of the image-left eye (iBUG 36-41) and the image-right eye (42-47)."""
    points = np.asarray(landmarks, dtype=np.float64)
    return points[list(RIGHT_EYE)].mean(axis=0), points[list(LEFT_EYE)].mean(axis=0)


def roll_degrees(landmarks: np.ndarray) -> float:
    """Angle of the eye line (image-left eye to image-right eye) in degrees, clockwise in the photo."""
    left_eye, right_eye = eye_centres(landmarks)
    dx, dy = right_eye - left_eye
    return math.degrees(math.atan2(dy, dx))


def image_to_aligned(landmarks: np.ndarray, size: int) -> np.ndarray:
    """``(2, 3)`` similarity from photo coords to the levelled canonical crop of side ``size``."""
    left_eye, right_eye = eye_centres(landmarks)
    dx, dy = right_eye - left_eye
    distance = math.hypot(dx, dy)
    if distance < 1e-6:
        raise ValueError("The eye landmarks coincide; the landmarks cannot be levelled.")
    angle = math.atan2(dy, dx)
    scale = INTER_OCULAR_FRACTION * size / distance
    cos_s, sin_s = scale * math.cos(angle), scale * math.sin(angle)
    rotation = np.array([[cos_s, sin_s], [-sin_s, cos_s]])
    centre = (left_eye + right_eye) / 2.0
    # centred on the crop's middle pixel column ((size - 1) / 2 in pixel-centre coordinates), so the crop
    # of a mirrored photo is exactly the mirrored crop (size / 2 would shift it by one pixel)
    target = np.array([(size - 1) / 2.0, EYE_LINE_Y * size])
    return np.hstack([rotation, (target - rotation @ centre)[:, None]])


@dataclass
class WarpSource:
    """The photo, possibly reduced around the face, and the affine from photo coords into it."""

    pixels: np.ndarray
    photo_to_source: np.ndarray

    @classmethod
    def around(cls, photo: np.ndarray, photo_to_crop: np.ndarray, size: int) -> WarpSource:
        """Prepare ``photo`` for warps into a crop of side ``size`` via ``photo_to_crop``."""
        identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        scale = math.sqrt(abs(np.linalg.det(photo_to_crop[:, :2])))
        if scale >= _SHRINK_FIRST_BELOW:
            return cls(photo, identity)
        height, width = photo.shape[:2]
        corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
        in_photo = apply_affine(affine_inverse(photo_to_crop), corners)
        x0, y0 = np.floor(in_photo.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(in_photo.max(axis=0)).astype(int) + 2
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return cls(photo, identity)
        roi = photo[y0:y1, x0:x1]
        new_w, new_h = max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale))
        reduced = cv2.resize(roi, (new_w, new_h), interpolation=cv2.INTER_AREA)
        fx, fy = new_w / (x1 - x0), new_h / (y1 - y0)
        return cls(reduced, np.array([[fx, 0.0, -x0 * fx], [0.0, fy, -y0 * fy]]))

    def warp(self, photo_to_dst: np.ndarray, width: int, height: int) -> np.ndarray:
        """Pixels of the destination ``(height, width, C)`` given the photo->destination affine."""
        source_to_dst = affine_compose(photo_to_dst, affine_inverse(self.photo_to_source))
        return cv2.warpAffine(
            self.pixels, source_to_dst, (width, height), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )


def estimate_midline_x(aligned_landmarks: np.ndarray) -> float:
    """x of the vertical facial midline in aligned coords: the median of the midline landmarks."""
    return float(np.median(np.asarray(aligned_landmarks)[list(MIDLINE_POINTS), 0]))


def aligned_to_half(side: Side, midline_x: float, size: int, mirrored: bool) -> tuple[np.ndarray, bool]:
    """Affine from aligned coords to the canonical half of the patient's ``side``, and whether it flips.

    The half is ``size // 2`` wide with the midline on its right edge (x = width), as a patient-right
    half looks in a non-mirrored photo; the half lying on the image right is mirrored to get there.
    """
    half_width = size // 2
    if image_side(side, mirrored) is ImageSide.LEFT:
        return np.array([[1.0, 0.0, half_width - midline_x], [0.0, 1.0, 0.0]]), False
    return np.array([[-1.0, 0.0, midline_x + half_width], [0.0, 1.0, 0.0]]), True


def half_face_width(aligned_landmarks: np.ndarray, side: Side, midline_x: float, mirrored: bool) -> float:
    """Largest distance in aligned pixels from the midline to the jaw outline on the patient's ``side``."""
    jaw = np.asarray(aligned_landmarks)[list(groups_for(side, mirrored)["jaw"])]
    return float(np.max(np.abs(jaw[:, 0] - midline_x)))
