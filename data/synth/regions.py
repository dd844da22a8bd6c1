"""Named face regions of a synthetic picture, in photo coordinates, from its true landmarks.

The seven region names are those of :data:`faces.regions.REGION_NAMES` (forehead, brow, eye, cheek,
nose, mouth, chin), split at the facial midline into patient sides (keys ``"<region>_<side>"``). Unlike
the detector-side regions in :mod:`faces.regions`, which are drawn tight on an aligned crop for
explanations, these tile the whole face without gaps (every face pixel belongs to exactly one region),
so that an action unit's changed pixels can be attributed in full. Polygons are built in a frame that
rolls with the face (x along the eye line, y down the face), in units of the inter-ocular distance.
"""

from __future__ import annotations

import cv2
import numpy as np

from faces.landmarks import MIRROR_PERMUTATION
from faces.regions import REGION_NAMES
from faces.sides import ImageSide, Side, patient_side

_PAINT_ORDER = ("forehead", "cheek", "chin", "eye", "eye_core", "brow", "nose", "mouth")


def _frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    right_eye, left_eye = points[36:42].mean(0), points[42:48].mean(0)
    ex = left_eye - right_eye
    iod = float(np.linalg.norm(ex))
    ex = ex / iod
    ey = np.array([-ex[1], ex[0]])
    return ex, ey, iod


def _side_polygons(p: np.ndarray) -> dict[str, np.ndarray]:
    """Polygons for one image side; ``p`` are landmarks already reflected so that this side's
    points carry the image-left iBUG indices (brow 17-21, eye 36-41, wing 31, mouth corner 48)."""
    ex, ey, iod = _frame(p)
    out_dir = -ex

    def at(i: int | np.ndarray, a: float, b: float) -> np.ndarray:
        base = p[i] if isinstance(i, int | np.integer) else i
        return base + iod * (a * out_dir + b * ey)

    top_mid, chin = p[27], p[8]
    axis = (chin - top_mid) / np.linalg.norm(chin - top_mid)
    across = np.array([-axis[1], axis[0]])
    line = p[[27, 28, 29, 30, 33, 8]] - top_mid
    along, offset = line @ axis, line @ across

    def mid(q: np.ndarray) -> np.ndarray:
        t = float(np.dot(q - top_mid, axis))
        return top_mid + t * axis + float(np.interp(t, along, offset)) * across

    centre = (p[36] + p[39]) / 2

    def brow_bottom(i: int) -> np.ndarray:
        gap = float(np.dot(centre - p[i], ey)) / iod
        return at(i, 0, float(np.clip(gap - 0.15, 0.1, 0.2)))

    brow_low = [brow_bottom(i) for i in (17, 19, 21)]
    eye_low = at(40, 0, 0.42)
    far = at(0, 0.6, 0)
    polys: dict[str, np.ndarray] = {}
    polys["forehead"] = np.array([
        mid(at(21, 0, -0.22)), at(21, 0, -0.22), at(19, 0, -0.22), at(17, 0.25, -0.22), at(17, 0.7, -0.3),
        at(17, 0.7, -1.6), mid(at(21, 0, -1.6)),
    ])
    polys["brow"] = np.array([
        mid(at(21, 0, -0.22)), at(21, 0, -0.22), at(19, 0, -0.24), at(17, 0.25, -0.22), at(17, 0.7, -0.3),
        at(17, 0.7, 0.2), brow_low[0], brow_low[1], brow_low[2], mid(at(27, 0, 0.05)),
    ])
    polys["eye"] = np.array([
        at(21, 0, 0.2), at(19, 0, 0.2), at(17, 0.25, 0.2), at(17, 0.7, 0.2), at(36, 0.7, 0.42),
        at(41, 0, 0.42), eye_low,
        at(39, -0.05, 0.42), at(39, -0.12, 0.0), at(39, -0.12, -0.15),
    ])
    polys["eye_core"] = np.array([
        at(36, 0.2, 0.05), at(36, 0.12, -0.08), centre + iod * (0.3 * out_dir - 0.15 * ey),
        centre - iod * 0.17 * ey, centre + iod * (-0.3 * out_dir - 0.15 * ey), at(39, -0.08, -0.08),
        at(39, -0.1, 0.05), at(40, 0, 0.15),
        at(41, 0, 0.15),
    ])
    polys["nose"] = np.array([
        mid(at(27, 0, 0.05)), at(27, 0.22, 0.05), at(39, -0.12, 0.0), at(39, -0.12, 0.3),
        at(31, 0.14, -0.3), at(31, 0.14, 0.05), at(31, 0.05, 0.22), mid(at(33, 0, 0.22)),
    ])
    polys["mouth"] = np.array([
        mid(at(33, 0, 0.22)), at(31, 0.05, 0.22), at(48, 0.28, -0.2), at(48, 0.32, 0.12),
        at(59, 0.05, 0.25), mid(at(57, 0, 0.22)),
    ])
    polys["cheek"] = np.array([
        at(36, 0.7, 0.42), eye_low, at(39, -0.05, 0.42), at(39, -0.12, 0.3), at(31, 0.14, -0.3),
        at(31, 0.14, 0.05), at(31, 0.05, 0.22), at(48, 0.28, -0.2), at(48, 0.32, 0.12),
        at(5, 0.1, 0), at(4, 0.3, 0), at(2, 0.6, 0), far,
    ])
    polys["chin"] = np.array([
        at(48, 0.32, 0.12), at(59, 0.05, 0.25), mid(at(57, 0, 0.22)), mid(at(8, 0, 0.5)), at(7, 0.2, 0.5),
        at(5, 0.4, 0.4), at(5, 0.1, 0),
    ])
    return polys


def region_label_map(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8 map: 0 outside, ``1 + 7 * image_side + REGION_NAMES.index(name)`` inside a region,
    ``image_side`` 0 for the image-left half and 1 for the image-right half."""
    points = np.asarray(landmarks, dtype=np.float64)
    labels = np.zeros(shape, np.uint8)
    width = shape[1]
    reflected = points.copy()
    reflected[:, 0] = (width - 1) - reflected[:, 0]
    right_polys = _side_polygons(reflected[MIRROR_PERMUTATION])
    for poly in right_polys.values():
        poly[:, 0] = (width - 1) - poly[:, 0]
    per_side = [_side_polygons(points), right_polys]
    for name in _PAINT_ORDER:
        for side_index, polys in enumerate(per_side):
            value = 1 + 7 * side_index + REGION_NAMES.index(name.removesuffix("_core"))
            contour = np.round(polys[name] * 16).astype(np.int32).reshape(-1, 1, 2)
            cv2.fillPoly(labels, [contour], value, cv2.LINE_8, 4)
    return labels


def region_masks(
    landmarks: np.ndarray, shape: tuple[int, int], mirrored: bool = False
) -> dict[str, np.ndarray]:
    """Sided region masks ``"<region>_<side>" -> (H, W) bool`` (patient sides) in photo coordinates."""
    labels = region_label_map(landmarks, shape)
    left_side = patient_side(ImageSide.LEFT, mirrored)
    masks: dict[str, np.ndarray] = {}
    for index, name in enumerate(REGION_NAMES):
        masks[f"{name}_{left_side.value}"] = labels == 1 + index
        masks[f"{name}_{left_side.opposite.value}"] = labels == 8 + index
    return masks


def region_mass(change: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, float]:
    """Fraction (0-1) of the total of ``change`` (H, W) >= 0 inside each region, plus ``"outside"``."""
    total = float(change.sum())
    if total <= 0:
        return {name: 0.0 for name in [*masks, "outside"]}
    fractions = {name: float(change[mask].sum()) / total for name, mask in masks.items()}
    fractions["outside"] = max(0.0, 1.0 - sum(fractions.values()))
    return fractions


def sided(names: tuple[str, ...], side: Side) -> list[str]:
    """Region keys for unsided ``names`` on patient ``side``."""
    return [f"{name}_{side.value}" for name in names]
