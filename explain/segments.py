"""Segmentations of a model input for LIME and for region-step faithfulness curves.

The default, ``"regions"``, cuts the input into the named facial regions of the face stage
(``geometry.regions``: forehead, brow, eye, cheek, nose, mouth, chin, each on a patient side), carried
onto the model input by :func:`explain.base.face_to_input`. Labels are ``0 .. K-1``: one per region that
the input shows (14 on the whole face, 7 on a half), then **one more label, the last, for everything
else** (hair, neck, background and the fit's padding), so that LIME also learns what the non-face part
does and every pixel belongs to exactly one segment. With so few segments a few dozen LIME samples
already cover the on/off patterns well.

``"subregions"`` cuts each of those regions into compact pieces of about :data:`PIECE_FRACTION` of the
input (:func:`subregion_segments`; about 24 on a half), each piece named after its region, so that a map
can rank the parts of a region. It is an option, not the default: on development data (the shipped demo
weights, 128 samples, the neutral fill; deletion AUC medians, lower is better) it did not order the input
better than whole regions. 16 synthetic faces (seed 7), PSPI half: regions 0.29 (neutral curve fill) /
0.27 (blur), pieces of 1/24 0.34 / 0.24, of 1/36 0.28 / 0.17, of 1/48 0.63 / 0.33, with the top raising
region one the active AU changed on 16/16, 16/16, 15/16 and 16/16 faces; side: 0.15 / 0.25, 0.14 / 0.25,
0.13 / 0.27, 0.17 / 0.26. 11 development photos (the astronaut and ten even-numbered LFW crops), PSPI
half: 2.21 / 2.72, 2.27 / 2.38, 3.02 / 3.13 (removing parts of a real face raises this model's PSPI, so
the curves rise above 1), and the ``lime`` package's defaults (quickshift, 1000 samples, segment-mean
fill) 2.18 / 0.74; each at 0.5-0.7 s per half against 5-7 s for the package's defaults.

``"quickshift"`` and ``"slic"`` are the usual superpixel options (scikit-image), computed on the input
image itself; they have no region names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explain.base import face_to_input
from explain.types import MapSource
from models.preprocess import InputSpec

SEGMENTATIONS = ("regions", "subregions", "quickshift", "slic")

#: ``"subregions"``: target size of one piece, as a fraction of the input's area (a median of 24 pieces
#: on the 128 x 64 half and 27 on the 128 x 128 face of 16 development faces, small regions staying whole).
PIECE_FRACTION = 1 / 24

#: Name of the last "regions" segment: everything outside the named facial regions.
OUTSIDE = "outside"


@dataclass(frozen=True)
class Segments:
    """A segmentation of one model input.

    ``labels`` is ``(h, w)`` int32 with values ``0 .. len(names) - 1``; ``names[k]`` is the sided region
    key of segment ``k`` (``"brow_left"``; :data:`OUTSIDE` for the rest) or ``"segment_<k>"`` for
    superpixels. ``method`` is one of :data:`SEGMENTATIONS`.
    """

    labels: np.ndarray
    names: tuple[str, ...]
    method: str

    @property
    def count(self) -> int:
        return len(self.names)

    def masks(self) -> np.ndarray:
        """``(K, h, w)`` bool, one mask per segment."""
        return self.labels[None, :, :] == np.arange(self.count)[:, None, None]


def region_segments(source: MapSource, spec: InputSpec) -> Segments:
    """Facial-region segments over the model input of ``source`` (see the module docstring)."""
    labels = np.full(spec.size, -1, np.int32)
    names: list[str] = []
    for key, mask in source.geometry.regions.items():
        on_input = face_to_input(mask, source, spec, nearest=True) & (labels < 0)
        if on_input.sum() < 2:
            continue
        labels[on_input] = len(names)
        names.append(key)
    labels[labels < 0] = len(names)
    names.append(OUTSIDE)
    return Segments(labels, tuple(names), "regions")


def split_mask(mask: np.ndarray, parts: int, iterations: int = 8) -> np.ndarray:
    """Pixels of ``mask`` cut into ``parts`` compact pieces: ``(h, w)`` int32, ``0 .. parts-1`` inside the
    mask, -1 outside.

    k-means on the pixel coordinates, started from equal-count bands along the mask's principal axis
    (deterministic: no random start), so an eye or a brow splits into inner and outer parts first.
    """
    out = np.full(mask.shape, -1, np.int32)
    rows, cols = np.nonzero(mask)
    if parts <= 1 or len(rows) < 2 * parts:
        out[rows, cols] = 0
        return out
    points = np.stack([rows, cols], axis=1).astype(np.float64)
    centred = points - points.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    order = np.argsort(centred @ axis, kind="stable")
    assign = np.empty(len(points), np.int64)
    assign[order] = np.arange(len(points)) * parts // len(points)
    for _ in range(iterations):
        centres = np.stack([points[assign == k].mean(axis=0) for k in range(parts)])
        distance = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2)
        updated = distance.argmin(axis=1)
        if np.array_equal(updated, assign) or len(np.unique(updated)) < parts:
            break
        assign = updated
    out[rows, cols] = assign
    return out


def subregion_segments(source: MapSource, spec: InputSpec, piece_fraction: float | None = None) -> Segments:
    """The :func:`region_segments`, each cut into compact pieces of about ``piece_fraction`` of the input
    (:func:`split_mask`; a region smaller than 1.5 pieces stays whole). Pieces keep their region's name,
    so a region's attribution is the sum over its pieces; the finer pieces let a map rank the parts of a
    region (the inner against the outer brow) where whole regions tie every pixel inside them.
    """
    regions = region_segments(source, spec)
    fraction = PIECE_FRACTION if piece_fraction is None else piece_fraction
    piece = max(1.0, fraction * spec.size[0] * spec.size[1])
    labels = np.full(spec.size, -1, np.int32)
    names: list[str] = []
    for k, name in enumerate(regions.names):
        mask = regions.labels == k
        pieces = split_mask(mask, max(1, int(round(mask.sum() / piece))))
        for part in range(int(pieces.max()) + 1):
            inside = pieces == part
            if inside.any():
                labels[inside] = len(names)
                names.append(name)
    return Segments(labels, tuple(names), "subregions")


def superpixel_segments(image: np.ndarray, method: str, **options: float) -> Segments:
    """Quickshift or SLIC superpixels of a uint8 ``(h, w, 3)`` input image, relabelled ``0 .. K-1``.

    Defaults: quickshift as the ``lime`` package calls it (``kernel_size=4, max_dist=200, ratio=0.2``),
    SLIC with ``n_segments=50, compactness=10``; ``options`` override them.
    """
    from skimage.segmentation import quickshift, slic

    if method == "quickshift":
        settings = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2, **options}
        raw = quickshift(image, **settings)
    elif method == "slic":
        settings = {"n_segments": 50, "compactness": 10.0, "start_label": 0, **options}
        raw = slic(image, **settings)
    else:
        raise ValueError(f"superpixels are 'quickshift' or 'slic', got {method!r}")
    _, labels = np.unique(raw, return_inverse=True)
    labels = labels.reshape(raw.shape).astype(np.int32)
    return Segments(labels, tuple(f"segment_{k}" for k in range(int(labels.max()) + 1)), method)


def segments_for(source: MapSource, spec: InputSpec, image: np.ndarray, method: str = "regions",
                 **options: float) -> Segments:
    """The segmentation ``method`` (one of :data:`SEGMENTATIONS`) of the input ``image`` from ``source``."""
    if method == "regions":
        return region_segments(source, spec)
    if method == "subregions":
        return subregion_segments(source, spec, **options)
    if method not in SEGMENTATIONS:
        raise ValueError(f"segmentation must be one of {SEGMENTATIONS}, got {method!r}")
    return superpixel_segments(image, method, **options)


def paint(weights: np.ndarray, segments: Segments) -> np.ndarray:
    """Per-segment values ``(K,)`` painted over the segments: ``(h, w)`` float32."""
    values = np.asarray(weights, np.float32)
    if values.shape != (segments.count,):
        raise ValueError(f"need {segments.count} segment values, got shape {values.shape}")
    return values[segments.labels]


def paint_density(weights: np.ndarray, segments: Segments) -> np.ndarray:
    """Per-segment values ``(K,)`` painted as a density: segment ``k`` gets ``weights[k]`` x (mean segment
    area / its own area), so the map's sum over any segment is its value times the mean segment area.

    A LIME weight is what switching a whole segment off does to the output, however large the segment;
    painted flat, a region's summed attribution would be that weight times the region's size, and a
    large region (cheek, forehead) would outrank a small one (nose, eye) with a larger effect. The
    density keeps sums proportional to the weights and reads as "effect per pixel" on the overlay.
    """
    values = np.asarray(weights, np.float64)
    if values.shape != (segments.count,):
        raise ValueError(f"need {segments.count} segment values, got shape {values.shape}")
    areas = np.bincount(segments.labels.ravel(), minlength=segments.count).astype(np.float64)
    present = areas > 0
    mean_area = areas[present].mean() if present.any() else 1.0
    scaled = np.where(present, values * mean_area / np.maximum(areas, 1.0), 0.0)
    return scaled.astype(np.float32)[segments.labels]


__all__ = ["OUTSIDE", "PIECE_FRACTION", "SEGMENTATIONS", "Segments", "paint", "paint_density",
           "region_segments", "segments_for", "split_mask", "subregion_segments", "superpixel_segments"]
