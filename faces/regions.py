"""Named facial regions from the 68 landmarks: the one definition used by the face stage, the synthetic
faces' ground truth ("which regions an action unit changed") and the explanations' region summaries.

Seven regions, :data:`REGION_NAMES`, each split at the facial midline into the patient's two sides
(keys ``"<region>_<side>"``, e.g. ``"cheek_left"`` is the patient's left cheek). The definition works in
any coordinate frame the landmarks come in (the photo, the levelled face crop): polygons are built in a
frame that rolls with the face (x along the eye line, y down the face) in units of the inter-ocular
distance, so the same face gives the same regions in every frame up to resampling.

Polygons (per image side, from that side's landmarks; the centre line follows the midline landmarks):

- forehead: from just above the brows up to 1.6 inter-ocular distances above them (hairline estimate);
- brow: the brow band down to the upper orbit; eye: the orbit with the lids, the eye itself painted last;
- nose: bridge and sides to the alae; mouth: the lips and the upper-lip skin up to the nostrils;
- cheek: from the lower orbit to the mouth corner and out past the jaw line; chin: below the mouth.

They tile the face without gaps (every face pixel belongs to exactly one region), so an action unit's
changed pixels, or an explanation's mass, can be attributed in full. The patient side of a pixel is decided
by the **straight** facial midline (perpendicular to the eye line through the median of the midline
landmarks, :data:`faces.landmarks.MIDLINE_POINTS`), the line the half faces are cut at, so a half face
holds exactly its own side's regions. On the levelled crop this line is ``x == midline_x``.
"""

from __future__ import annotations

import cv2
import numpy as np

from faces.landmarks import MIDLINE_POINTS, MIRROR_PERMUTATION
from faces.sides import ImageSide, Side, patient_side

REGION_NAMES = ("forehead", "brow", "eye", "cheek", "nose", "mouth", "chin")

#: How far (inter-ocular distances) the face outline lies outside the jaw landmarks.
OUTLINE_MARGIN = 0.15

# Painting order: later polygons overwrite earlier ones where they overlap ("eye_core" is the eye itself).
_PAINT_ORDER = ("forehead", "cheek", "chin", "eye", "eye_core", "brow", "nose", "mouth")


def region_key(region: str, side: Side) -> str:
    """Dictionary key of a sided region, e.g. ``region_key("cheek", Side.LEFT) == "cheek_left"``."""
    return f"{region}_{side.value}"


def _frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit eye-line direction (image-left eye -> image-right eye), the downward normal, inter-ocular."""
    right_eye, left_eye = points[36:42].mean(0), points[42:48].mean(0)
    ex = left_eye - right_eye
    iod = float(np.linalg.norm(ex))
    if iod < 1e-6:
        raise ValueError("The eye landmarks coincide; no regions can be built.")
    ex = ex / iod
    return ex, np.array([-ex[1], ex[0]]), iod


def _side_polygons(p: np.ndarray) -> dict[str, np.ndarray]:
    """Polygons for the image-left side; ``p`` are landmarks (reflected beforehand for the image-right
    side) whose image-left iBUG indices are brow 17-21, eye 36-41, nose wing 31, mouth corner 48."""
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
    return {
        "forehead": np.array([
            mid(at(21, 0, -0.22)), at(21, 0, -0.22), at(19, 0, -0.22), at(17, 0.25, -0.22), at(17, 0.7, -0.3),
            at(17, 0.7, -1.6), mid(at(21, 0, -1.6))]),
        "brow": np.array([
            mid(at(21, 0, -0.22)), at(21, 0, -0.22), at(19, 0, -0.24), at(17, 0.25, -0.22), at(17, 0.7, -0.3),
            at(17, 0.7, 0.2), brow_low[0], brow_low[1], brow_low[2], mid(at(27, 0, 0.05))]),
        "eye": np.array([
            at(21, 0, 0.2), at(19, 0, 0.2), at(17, 0.25, 0.2), at(17, 0.7, 0.2), at(36, 0.7, 0.42),
            at(41, 0, 0.42), eye_low, at(39, -0.05, 0.42), at(39, -0.12, 0.0), at(39, -0.12, -0.15)]),
        "eye_core": np.array([
            at(36, 0.2, 0.05), at(36, 0.12, -0.08), centre + iod * (0.3 * out_dir - 0.15 * ey),
            centre - iod * 0.17 * ey, centre + iod * (-0.3 * out_dir - 0.15 * ey), at(39, -0.08, -0.08),
            at(39, -0.1, 0.05), at(40, 0, 0.15), at(41, 0, 0.15)]),
        "nose": np.array([
            mid(at(27, 0, 0.05)), at(27, 0.22, 0.05), at(39, -0.12, 0.0), at(39, -0.12, 0.3),
            at(31, 0.14, -0.3), at(31, 0.14, 0.05), at(31, 0.05, 0.22), mid(at(33, 0, 0.22))]),
        "mouth": np.array([
            mid(at(33, 0, 0.22)), at(31, 0.05, 0.22), at(48, 0.28, -0.2), at(48, 0.32, 0.12),
            at(59, 0.05, 0.25), mid(at(57, 0, 0.22))]),
        "cheek": np.array([
            at(36, 0.7, 0.42), eye_low, at(39, -0.05, 0.42), at(39, -0.12, 0.3), at(31, 0.14, -0.3),
            at(31, 0.14, 0.05), at(31, 0.05, 0.22), at(48, 0.28, -0.2), at(48, 0.32, 0.12),
            at(5, 0.1, 0), at(4, 0.3, 0), at(2, 0.6, 0), far]),
        "chin": np.array([
            at(48, 0.32, 0.12), at(59, 0.05, 0.25), mid(at(57, 0, 0.22)), mid(at(8, 0, 0.5)), at(7, 0.2, 0.5),
            at(5, 0.4, 0.4), at(5, 0.1, 0)]),
    }


def region_label_map(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``shape`` uint8 map: 0 outside the face, ``1 + REGION_NAMES.index(name)`` inside a region (unsided).

    ``landmarks`` ``(68, 2)`` are in the pixel frame of ``shape`` (photo or levelled crop).
    """
    points = np.asarray(landmarks, dtype=np.float64)
    labels = np.zeros(shape[:2], np.uint8)
    width = shape[1]
    reflected = points.copy()
    reflected[:, 0] = (width - 1) - reflected[:, 0]
    image_right = _side_polygons(reflected[MIRROR_PERMUTATION])
    for poly in image_right.values():
        poly[:, 0] = (width - 1) - poly[:, 0]
    per_side = (_side_polygons(points), image_right)
    for name in _PAINT_ORDER:
        value = 1 + REGION_NAMES.index(name.removesuffix("_core"))
        contours = [_fixed(polys[name]) for polys in per_side]
        cv2.fillPoly(labels, contours, value, cv2.LINE_8, 4)
    outline = np.zeros_like(labels)
    cv2.fillPoly(outline, [_fixed(face_outline(points))], 1, cv2.LINE_8, 4)
    labels[outline == 0] = 0
    return labels


def _fixed(polygon: np.ndarray) -> np.ndarray:
    return np.round(polygon * 16).astype(np.int32).reshape(-1, 1, 2)


def face_outline(landmarks: np.ndarray) -> np.ndarray:
    """Polygon ``(N, 2)`` of the face: the jaw line grown by :data:`OUTLINE_MARGIN` inter-ocular
    distances away from the face centre, closed above by the hairline estimate (1.6 inter-ocular
    distances above the brows, as the forehead polygon)."""
    points = np.asarray(landmarks, dtype=np.float64)
    _, ey, iod = _frame(points)
    centre = points[[27, 8]].mean(axis=0)
    jaw = points[0:17]
    away = jaw - centre
    jaw = jaw + OUTLINE_MARGIN * iod * away / np.linalg.norm(away, axis=1, keepdims=True)
    top = points[[26, 24, 19, 17]] - 1.6 * iod * ey
    return np.vstack([jaw, top])


def image_left_of_midline(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``shape`` bool map, True on the image-left side of the straight facial midline (see the module
    docstring); on the levelled crop this is ``columns < midline_x``."""
    points = np.asarray(landmarks, dtype=np.float64)
    ex, _, _ = _frame(points)
    cut = float(np.median(points[list(MIDLINE_POINTS)] @ ex))
    rows, cols = np.indices(shape[:2], dtype=np.float64)
    return cols * ex[0] + rows * ex[1] < cut


def region_masks(landmarks: np.ndarray, shape: tuple[int, int],
                 mirrored: bool = False) -> dict[str, np.ndarray]:
    """Sided region masks ``"<region>_<side>" -> shape bool`` (patient sides), disjoint.

    Image-left pixels are the patient's right in a non-mirrored photo and the patient's left in a
    mirrored one.
    """
    labels = region_label_map(landmarks, shape)
    on_image_left = image_left_of_midline(landmarks, shape)
    side_of_image_left = patient_side(ImageSide.LEFT, mirrored)
    masks: dict[str, np.ndarray] = {}
    for index, name in enumerate(REGION_NAMES, start=1):
        inside = labels == index
        masks[region_key(name, side_of_image_left)] = inside & on_image_left
        masks[region_key(name, side_of_image_left.opposite)] = inside & ~on_image_left
    return masks


__all__ = ["REGION_NAMES", "image_left_of_midline", "region_key", "region_label_map", "region_masks"]
