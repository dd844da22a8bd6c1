"""Named facial region masks built from the 68 landmarks on the levelled face crop.

Seven regions, :data:`REGION_NAMES`, each split at the facial midline into the patient's two sides
(keys ``"<region>_<side>"``, e.g. ``"cheek_left"`` is the patient's left cheek). The regions are
polygons and hulls derived from the landmarks and never overlap: they are painted into one label map in
order, so the more specific regions (eyes, nose, mouth) win over the broad ones (forehead, cheek, chin).
Then the rest of the face outline (jaw line below, hairline estimate above) goes to the nearest region,
so the seven regions tile the whole face: the lids and orbit join the eye, the temples the cheek.

The forehead reaches from just above the brows up to a hairline estimate one "facial third" above the
brows (the brow-to-nose-base height, by the classical rule of thirds), within the width of the jaw.
"""

from __future__ import annotations

import cv2
import numpy as np

from faces.landmarks import (
    JAW,
    LEFT_BROW,
    LEFT_EYE,
    LEFT_MOUTH_CORNER,
    MOUTH_OUTER,
    NOSE_BRIDGE,
    NOSE_LOWER,
    RIGHT_BROW,
    RIGHT_EYE,
    RIGHT_MOUTH_CORNER,
)
from faces.sides import ImageSide, Side, patient_side

REGION_NAMES = ("forehead", "brow", "eye", "cheek", "nose", "mouth", "chin")

# Painting order: later regions overwrite earlier ones where polygons touch.
_PAINT_ORDER = ("forehead", "cheek", "chin", "brow", "nose", "mouth", "eye")

_BROW_BAND = 0.12  # half-height of the brow band, in inter-ocular distances
_EYE_GROWTH = (1.35, 2.6)  # eye region: eye outline scaled about its centre (x, y)
_MOUTH_GROWTH = 1.15
_NOSE_WING = 0.06  # alae widened outward, inter-ocular distances
_BRIDGE_HALF_WIDTH = 0.12


def region_key(region: str, side: Side) -> str:
    """Dictionary key of a sided region, e.g. ``region_key("cheek", Side.LEFT) == "cheek_left"``."""
    return f"{region}_{side.value}"


def _grown(points: np.ndarray, factor_x: float, factor_y: float) -> np.ndarray:
    centre = points.mean(axis=0)
    return centre + (points - centre) * np.array([factor_x, factor_y])


def _region_polygons(points: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Polygons ``(N, 2)`` per region in aligned coords (both image sides together)."""
    eye_left, eye_right = points[list(RIGHT_EYE)], points[list(LEFT_EYE)]
    inter_ocular = float(np.linalg.norm(eye_left.mean(0) - eye_right.mean(0)))
    up = np.array([0.0, -1.0])
    brows = points[list(RIGHT_BROW) + list(LEFT_BROW)]
    brow_y = float(brows[:, 1].mean())
    nose_base_y = float(points[33, 1])
    third = max(nose_base_y - brow_y, 0.5 * inter_ocular)
    jaw = points[list(JAW)]

    brow_top = brows + up * _BROW_BAND * inter_ocular
    hairline = brows + up * third
    forehead = np.vstack([
        [jaw[0, 0], brow_top[0, 1]], brow_top, [jaw[16, 0], brow_top[-1, 1]],
        [jaw[16, 0], hairline[-1, 1]], hairline[::-1], [jaw[0, 0], hairline[0, 1]],
    ])

    def brow_band(indices: tuple[int, ...]) -> np.ndarray:
        brow = points[list(indices)]
        offset = up * _BROW_BAND * inter_ocular
        return np.vstack([brow + offset, (brow - offset)[::-1]])

    bridge_top, nose_tip_row = points[NOSE_BRIDGE[0]], points[list(NOSE_LOWER)]
    wing = _NOSE_WING * inter_ocular
    nose = np.vstack([
        bridge_top + [-_BRIDGE_HALF_WIDTH * inter_ocular, 0.0],
        bridge_top + [_BRIDGE_HALF_WIDTH * inter_ocular, 0.0],
        points[35] + [wing, -wing], points[35] + [wing, 0.0], nose_tip_row[::-1],
        points[31] + [-wing, 0.0], points[31] + [-wing, -wing],
    ])

    mouth = _grown(points[list(MOUTH_OUTER)], _MOUTH_GROWTH, _MOUTH_GROWTH)

    cheek_image_left = np.vstack([
        points[list(JAW[1:6])], points[RIGHT_MOUTH_CORNER], points[31], points[39], points[40],
        points[41], points[36],
    ])
    cheek_image_right = np.vstack([
        points[list(JAW[15:10:-1])], points[LEFT_MOUTH_CORNER], points[35], points[42], points[47],
        points[46], points[45],
    ])
    chin = np.vstack([points[list(JAW[5:12])], points[[54, 55, 56, 57, 58, 59, 48]]])
    face_outline = np.vstack([jaw, hairline[::-1]])
    return {
        "face": [face_outline],
        "forehead": [forehead],
        "brow": [brow_band(RIGHT_BROW), brow_band(LEFT_BROW)],
        "eye": [_grown(eye_left, *_EYE_GROWTH), _grown(eye_right, *_EYE_GROWTH)],
        "nose": [cv2.convexHull(nose.astype(np.float32)).reshape(-1, 2)],
        "mouth": [mouth],
        "cheek": [cheek_image_left, cheek_image_right],
        "chin": [chin],
    }


def region_label_map(aligned_landmarks: np.ndarray, size: int) -> np.ndarray:
    """``(size, size)`` uint8 map: 0 outside the face, ``1 + REGION_NAMES.index(name)`` inside a region.

    ``aligned_landmarks`` is ``(68, 2)`` on the aligned crop.
    """
    points = np.asarray(aligned_landmarks, dtype=np.float64)
    labels = np.zeros((size, size), dtype=np.uint8)
    polygons = _region_polygons(points)

    def fixed_point(poly: np.ndarray) -> np.ndarray:
        return np.round(poly * 16).astype(np.int32)

    for name in _PAINT_ORDER:
        contours = [fixed_point(poly) for poly in polygons[name]]
        cv2.fillPoly(labels, contours, 1 + REGION_NAMES.index(name), lineType=cv2.LINE_8, shift=4)
    face = np.zeros_like(labels)
    cv2.fillPoly(face, [fixed_point(poly) for poly in polygons["face"]], 1, lineType=cv2.LINE_8, shift=4)
    gaps = (face > 0) & (labels == 0)
    if gaps.any() and labels.any():
        rows, cols = np.nonzero((face > 0) | (labels > 0))
        window = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        local_labels, local_gaps = labels[window], gaps[window]
        # Each gap pixel takes the region of its nearest labelled pixel: OpenCV labels every zero pixel
        # of its input (here: the labelled pixels) and gives each other pixel the label of the nearest.
        _, nearest = cv2.distanceTransformWithLabels((local_labels == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                                     labelType=cv2.DIST_LABEL_PIXEL)
        region_of = np.zeros(int(nearest.max()) + 1, dtype=np.uint8)
        seeds = local_labels > 0
        region_of[nearest[seeds]] = local_labels[seeds]
        local_labels[local_gaps] = region_of[nearest[local_gaps]]
    return labels


def region_masks(
    aligned_landmarks: np.ndarray, midline_x: float, size: int, mirrored: bool = False
) -> dict[str, np.ndarray]:
    """Sided region masks ``"<region>_<side>" -> (size, size) bool`` on the aligned crop.

    Pixels left of ``midline_x`` lie on the image left, which is the patient's right in a non-mirrored
    photo and the patient's left in a mirrored one.
    """
    labels = region_label_map(aligned_landmarks, size)
    columns = np.arange(size)[None, :]
    on_image_left = np.broadcast_to(columns < midline_x, labels.shape)
    side_of_image_left = patient_side(ImageSide.LEFT, mirrored)
    masks: dict[str, np.ndarray] = {}
    for index, name in enumerate(REGION_NAMES, start=1):
        inside = labels == index
        masks[region_key(name, side_of_image_left)] = inside & on_image_left
        masks[region_key(name, side_of_image_left.opposite)] = inside & ~on_image_left
    return masks
