"""Piecewise-affine image warps driven by control points (landmarks plus fixed anchors).

:func:`piecewise_affine_warp` moves control points ``source -> target`` and carries the pixels with them:
the control points are triangulated (Delaunay, on the source positions), every triangle maps affinely
onto its moved copy, and the photo is resampled once with ``cv2.remap``. For each output pixel the
sampling position comes from the affine of the (target) triangle that contains it; the triangles are
rasterised into an index map with OpenCV and the affines are applied to all pixels at once with numpy,
so there is no per-pixel Python loop. The map is continuous across triangle edges (neighbouring affines
agree on a shared edge), so nothing tears; a light Gaussian blur of the displacement field then softens
the creases along edges. The four image corners and the edge midpoints are added as fixed anchors
(those the control points do not already enclose), so the triangles cover the whole frame and pixels far
from any moved point stay where they are.

A warp whose moved triangles would fold over (change orientation) is refused with ``ValueError``: it
would duplicate or hide skin rather than move it.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

_SUBPIXEL_BITS = 4  # fixed-point precision of rasterised triangle corners


def frame_anchors(height: int, width: int) -> np.ndarray:
    """``(8, 2)`` fixed points: the four image corners and the four edge midpoints."""
    x1, y1 = width - 1.0, height - 1.0
    return np.array([[0, 0], [x1 / 2, 0], [x1, 0], [x1, y1 / 2], [x1, y1], [x1 / 2, y1], [0, y1],
                     [0, y1 / 2]], dtype=np.float64)


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def _target_to_source_affines(source: np.ndarray, target: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """``(T, 2, 3)`` affines mapping each target triangle onto its source triangle."""
    ones = np.ones((len(triangles), 3, 1))
    tgt = np.concatenate([target[triangles], ones], axis=2)  # (T, 3, 3): rows (x, y, 1)
    src = source[triangles]  # (T, 3, 2)
    # Solve tgt @ M = src for M (3 x 2) per triangle; the affine is M transposed.
    return np.transpose(np.linalg.solve(tgt, src), (0, 2, 1))


def _triangle_index_map(target: np.ndarray, triangles: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(H, W)`` int32: index of the target triangle covering each pixel centre, -1 where none."""
    index = np.full((height, width), -1, dtype=np.int32)
    fixed = np.round(target * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    for k, triangle in enumerate(triangles):
        cv2.fillConvexPoly(index, fixed[triangle], int(k), lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return index


def displacement_field(source: np.ndarray, target: np.ndarray, height: int, width: int,
                       smooth_sigma: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Sampling maps ``(map_x, map_y)``, each ``(H, W)`` float32, for ``cv2.remap``.

    ``source`` and ``target`` are ``(N, 2)`` control points ``(x, y)`` in pixels (the frame anchors are
    added here). Output pixel ``(x, y)`` takes its value from ``(map_x[y, x], map_y[y, x])`` in the
    input. ``smooth_sigma`` (pixels) blurs the displacement, not the pixels.
    """
    source, target = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if source.shape != target.shape:
        raise ValueError(f"source and target differ in shape: {source.shape} vs {target.shape}")
    anchors = frame_anchors(height, width)
    anchors = anchors[Delaunay(source).find_simplex(anchors) < 0]  # those the points already enclose
    source, target = np.vstack([source, anchors]), np.vstack([target, anchors])
    triangles = Delaunay(source).simplices
    before = _signed_areas(source, triangles)
    triangles, before = triangles[np.abs(before) > 1e-6], before[np.abs(before) > 1e-6]
    after = _signed_areas(target, triangles)
    if np.any(np.sign(before) * after <= 0.0):
        raise ValueError("The requested moves fold the face mesh over itself; use a smaller edit.")
    affines = _target_to_source_affines(source, target, triangles)
    index = _triangle_index_map(target, triangles, height, width)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float64)
    covered = index >= 0
    chosen = affines[np.where(covered, index, 0)]  # (H, W, 2, 3)
    map_x = chosen[..., 0, 0] * grid_x + chosen[..., 0, 1] * grid_y + chosen[..., 0, 2]
    map_y = chosen[..., 1, 0] * grid_x + chosen[..., 1, 1] * grid_y + chosen[..., 1, 2]
    shift_x = np.where(covered, map_x - grid_x, 0.0)
    shift_y = np.where(covered, map_y - grid_y, 0.0)
    if smooth_sigma > 0:
        shift_x = cv2.GaussianBlur(shift_x, (0, 0), smooth_sigma, borderType=cv2.BORDER_REPLICATE)
        shift_y = cv2.GaussianBlur(shift_y, (0, 0), smooth_sigma, borderType=cv2.BORDER_REPLICATE)
    return (grid_x + shift_x).astype(np.float32), (grid_y + shift_y).astype(np.float32)


def piecewise_affine_warp(image: np.ndarray, source: np.ndarray, target: np.ndarray,
                          smooth_sigma: float = 0.0) -> np.ndarray:
    """``image`` (``(H, W)`` or ``(H, W, C)``) with the control points moved from ``source`` to ``target``.

    Returns an array of the same shape and dtype; with ``target == source`` it is the input unchanged.
    """
    image = np.asarray(image)
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if np.array_equal(source, target):
        return image.copy()
    height, width = image.shape[:2]
    map_x, map_y = displacement_field(source, target, height, width, smooth_sigma)
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
