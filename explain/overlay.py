"""Heatmap overlays for people: the map drawn transparently over the face, with a legend in words.

- Signed PSPI maps use a diverging, colour-blind-safe scale (ColorBrewer PuOr, symmetric around 0):
  orange where the region raises PSPI, purple where it lowers it, clear where it does neither (for a
  centred Grad-CAM map: more / less than the average part of the half, and the legend says so).
- Side maps use a sequential scale (cividis) over the evidence *for* the side explained (the positive part).

Opacity grows with the map's magnitude, so the face stays visible where the map is weak. Optional
region outlines (:mod:`faces.regions`) and the facial midline; a legend strip under the picture says what
the colours mean, with patient sides. Output: ``uint8`` RGB arrays (the app shows them; only the command
line writes PNGs). The colour scale is set by the 99th percentile of ``|map|`` (``scale`` overrides it).
"""

from __future__ import annotations

import cv2
import numpy as np

from explain.types import Explanation
from faces.align import apply_affine
from faces.types import FaceGeometry

# ColorBrewer PuOr (11 classes), from purple (lowers) through white to orange (raises).
DIVERGING = np.array([
    (0x2D, 0x00, 0x4B), (0x54, 0x27, 0x88), (0x80, 0x73, 0xAC), (0xB2, 0xAB, 0xD2), (0xD8, 0xDA, 0xEB),
    (0xF7, 0xF7, 0xF7), (0xFE, 0xE0, 0xB6), (0xFD, 0xB8, 0x63), (0xE0, 0x82, 0x14), (0xB3, 0x58, 0x06),
    (0x7F, 0x3B, 0x08)], dtype=np.float64)
# cividis, dark blue (weak) to yellow (strong).
SEQUENTIAL = np.array([
    (0x00, 0x22, 0x4E), (0x12, 0x35, 0x70), (0x3B, 0x49, 0x6C), (0x57, 0x5D, 0x6D), (0x70, 0x71, 0x73),
    (0x8A, 0x87, 0x79), (0xA6, 0x9D, 0x75), (0xC4, 0xB5, 0x6C), (0xE4, 0xCF, 0x5B), (0xFE, 0xE8, 0x38)],
    dtype=np.float64)
OUTLINE_COLOUR = (255, 255, 255)
MIDLINE_COLOUR = (255, 0, 255)
MAX_OPACITY = 0.75
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def colourise(values: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Values in [0, 1] ``(H, W)`` -> ``(H, W, 3)`` float RGB from ``palette`` (linear between anchors)."""
    positions = np.linspace(0.0, 1.0, len(palette))
    clipped = np.clip(values, 0.0, 1.0)
    return np.stack([np.interp(clipped, positions, palette[:, c]) for c in range(3)], axis=-1)


def map_scale(values: np.ndarray) -> float:
    """The colour scale's end: 99th percentile of ``|values|`` over non-zero pixels (1 for an empty map)."""
    magnitude = np.abs(values[values != 0])
    return float(np.percentile(magnitude, 99)) if magnitude.size and magnitude.max() > 0 else 1.0


def blend(image: np.ndarray, values: np.ndarray, signed: bool, scale: float | None = None,
          max_opacity: float = MAX_OPACITY) -> np.ndarray:
    """``values`` ``(H, W)`` over ``image`` ``(H, W, 3)`` uint8: diverging when ``signed``, else sequential
    over the positive part. Opacity is proportional to the magnitude relative to ``scale``."""
    end = scale if scale is not None and scale > 0 else map_scale(values)
    if signed:
        relative = np.clip(values / end, -1.0, 1.0)
        colours, strength = colourise(0.5 + 0.5 * relative, DIVERGING), np.abs(relative)
    else:
        relative = np.clip(values / end, 0.0, 1.0)
        colours, strength = colourise(relative, SEQUENTIAL), relative
    alpha = (max_opacity * strength)[..., None]
    out = image.astype(np.float64) * (1.0 - alpha) + colours * alpha
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _outlines(canvas: np.ndarray, masks: dict[str, np.ndarray], transform: np.ndarray | None) -> None:
    for mask in masks.values():
        layer = mask.astype(np.uint8)
        if transform is not None:
            layer = cv2.warpAffine(layer, transform, canvas.shape[1::-1], flags=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(layer, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, OUTLINE_COLOUR, 1, cv2.LINE_AA)


def _midline(canvas: np.ndarray, geometry: FaceGeometry, transform: np.ndarray | None) -> None:
    size = geometry.aligned.shape[0]
    ends = np.array([[geometry.midline_x, 0.0], [geometry.midline_x, size - 1.0]])
    if transform is not None:
        ends = apply_affine(transform, ends)
    (x0, y0), (x1, y1) = np.round(ends).astype(int)
    cv2.line(canvas, (int(x0), int(y0)), (int(x1), int(y1)), MIDLINE_COLOUR, 1, cv2.LINE_AA)


def legend_words(explanation: Explanation) -> tuple[str, str]:
    """What the two ends of the colour bar mean, e.g. ``("lowers PSPI", "raises PSPI")``."""
    if explanation.stage == "side":
        return "weak", f"evidence: {explanation.target.replace('affected: ', '')} affected"
    if explanation.params.get("evidence_map"):
        return "none", "pain evidence (sums to PSPI)"
    if explanation.params.get("centred"):
        return "less than average", "raises PSPI most"
    if explanation.params.get("reference"):
        return "lowers PSPI", "raises vs a relaxed face"
    return "lowers PSPI", "raises PSPI"


def legend(width: int, explanation: Explanation) -> np.ndarray:
    """A ``(h, width, 3)`` strip: the colour bar and its meaning in words."""
    height = 44
    strip = np.full((height, width, 3), 255, np.uint8)
    ramp = np.linspace(0.0, 1.0, max(width - 20, 2))[None, :].repeat(12, axis=0)
    palette = DIVERGING if explanation.signed else SEQUENTIAL
    strip[4:16, 10:10 + ramp.shape[1]] = np.round(colourise(ramp, palette)).astype(np.uint8)
    low, high = legend_words(explanation)
    scale = 0.38 if width >= 240 else 0.3
    cv2.putText(strip, low, (10, 34), _FONT, scale, (40, 40, 40), 1, cv2.LINE_AA)
    (text_w, _), _ = cv2.getTextSize(high, _FONT, scale, 1)
    cv2.putText(strip, high, (max(10, width - 10 - text_w), 34), _FONT, scale, (40, 40, 40), 1, cv2.LINE_AA)
    return strip


def face_overlay(explanation: Explanation, geometry: FaceGeometry, *, outlines: bool = True,
                 midline: bool = True, with_legend: bool = True, scale: float | None = None) -> np.ndarray:
    """The explanation over the aligned face ``(S, S, 3)`` (+ legend rows), uint8 RGB."""
    canvas = blend(geometry.aligned, explanation.face_map, explanation.signed, scale)
    if outlines:
        _outlines(canvas, geometry.regions, None)
    if midline:
        _midline(canvas, geometry, None)
    return np.vstack([canvas, legend(canvas.shape[1], explanation)]) if with_legend else canvas


def photo_overlay(explanation: Explanation, geometry: FaceGeometry, photo: np.ndarray, *,
                  outlines: bool = True, midline: bool = True, with_legend: bool = True,
                  scale: float | None = None) -> np.ndarray:
    """The explanation over the whole photo ``(H, W, 3)`` (+ legend rows), uint8 RGB."""
    if photo.shape[:2] != tuple(geometry.image_size):
        raise ValueError(f"The photo {photo.shape[:2]} is not the one analysed {geometry.image_size}")
    values = explanation.photo_map(geometry)
    end = scale if scale is not None else map_scale(explanation.face_map)
    canvas = blend(np.ascontiguousarray(photo[:, :, :3]), values, explanation.signed, end)
    if outlines:
        _outlines(canvas, geometry.regions, geometry.aligned_to_image)
    if midline:
        _midline(canvas, geometry, geometry.aligned_to_image)
    return np.vstack([canvas, legend(canvas.shape[1], explanation)]) if with_legend else canvas


def input_overlay(explanation: Explanation, pixels: np.ndarray, scale: float | None = None) -> np.ndarray:
    """The explanation over the model input ``(h, w, 3)`` (canonical orientation), no legend."""
    return blend(pixels, explanation.input_map, explanation.signed, scale)


__all__ = ["DIVERGING", "SEQUENTIAL", "blend", "colourise", "face_overlay", "input_overlay", "legend",
           "legend_words", "map_scale", "photo_overlay"]
