"""Drawing the face-stage result for people: landmarks, midline, patient-side halves and regions.

:func:`annotate` returns an RGB picture of the face area of the photo with the region overlay, the 68
landmarks, the facial midline, and a header naming each half by the patient's side and where it is in
the picture, e.g. "patient's left (image right)". The dashboard shows it next to the assessment.
"""

from __future__ import annotations

import cv2
import numpy as np

from faces.align import affine_compose, apply_affine
from faces.image_input import ImageSource, read_image
from faces.regions import REGION_NAMES
from faces.sides import ImageSide, Side, describe, image_side
from faces.types import FaceGeometry

OUTPUT_SIDE = 640  # longest side of the drawn face area, pixels
REGION_COLOURS: dict[str, tuple[int, int, int]] = {  # RGB
    "forehead": (230, 159, 0),
    "brow": (86, 180, 233),
    "eye": (0, 158, 115),
    "cheek": (240, 228, 66),
    "nose": (0, 114, 178),
    "mouth": (213, 94, 0),
    "chin": (204, 121, 167),
}
MIDLINE_COLOUR = (255, 0, 255)
LANDMARK_COLOUR = (0, 255, 0)
TEXT_COLOUR = (255, 255, 255)
HEADER_COLOUR = (32, 32, 32)
REGION_OPACITY = 0.35
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def region_label_image(geometry: FaceGeometry) -> np.ndarray:
    """``(S, S)`` uint8 on the aligned crop: 0 outside, ``1 + REGION_NAMES.index(name)`` inside."""
    size = geometry.aligned.shape[0]
    labels = np.zeros((size, size), dtype=np.uint8)
    for index, name in enumerate(REGION_NAMES, start=1):
        for side in Side:
            mask = geometry.regions.get(f"{name}_{side.value}")
            if mask is not None:
                labels[mask] = index
    return labels


def _face_area(geometry: FaceGeometry) -> tuple[int, int, int, int]:
    size = geometry.aligned.shape[0]
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    in_photo = apply_affine(geometry.aligned_to_image, corners)
    height, width = geometry.image_size
    x0, y0 = np.floor(in_photo.min(axis=0)).astype(int)
    x1, y1 = np.ceil(in_photo.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0, 0, width, height
    return x0, y0, x1, y1


def half_labels(geometry: FaceGeometry) -> dict[ImageSide, str]:
    """The label shown over each image side, e.g. ``{ImageSide.RIGHT: "patient's left (image right)"}``."""
    return {image_side(side, geometry.mirrored): describe(side, geometry.mirrored) for side in Side}


def _put_text(canvas: np.ndarray, text: str, x: int, y: int, scale: float, align_right: bool = False) -> None:
    thickness = max(1, round(scale * 2))
    (text_w, _), _ = cv2.getTextSize(text, _FONT, scale, thickness)
    if align_right:
        x -= text_w
    cv2.putText(canvas, text, (max(0, x), y), _FONT, scale, TEXT_COLOUR, thickness, cv2.LINE_AA)


def annotate(geometry: FaceGeometry, image: ImageSource) -> np.ndarray:
    """The face area of ``image`` with regions, landmarks, midline and patient-side labels.

    ``image`` is the photo ``geometry`` was computed from (anything :func:`faces.read_image` reads).
    Returns an RGB ``uint8`` array ``(H, W, 3)`` whose longest picture side is about ``OUTPUT_SIDE``,
    plus a header band naming the halves.
    """
    photo = read_image(image) if not _is_rgb_uint8(image) else np.asarray(image)
    if photo.shape[:2] != tuple(geometry.image_size):
        raise ValueError(
            f"The photo is {photo.shape[1]} x {photo.shape[0]} but the geometry was computed on a "
            f"{geometry.image_size[1]} x {geometry.image_size[0]} photo."
        )
    x0, y0, x1, y1 = _face_area(geometry)
    scale = OUTPUT_SIDE / max(x1 - x0, y1 - y0)
    out_w, out_h = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas = cv2.resize(photo[y0:y1, x0:x1], (out_w, out_h), interpolation=interpolation)
    photo_to_out = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    aligned_to_out = affine_compose(photo_to_out, geometry.aligned_to_image)

    labels = cv2.warpAffine(
        region_label_image(geometry), aligned_to_out, (out_w, out_h), flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0,
    )
    palette = np.zeros((len(REGION_NAMES) + 1, 3), dtype=np.float32)
    for index, name in enumerate(REGION_NAMES, start=1):
        palette[index] = REGION_COLOURS[name]
    inside = labels > 0
    blended = canvas.astype(np.float32)
    blended[inside] = (1 - REGION_OPACITY) * blended[inside] + REGION_OPACITY * palette[labels[inside]]
    canvas = np.clip(np.rint(blended), 0, 255).astype(np.uint8)

    line_width = max(1, round(OUTPUT_SIDE / 320))
    size = geometry.aligned.shape[0]
    midline_ends = np.array([[geometry.midline_x, 0.0], [geometry.midline_x, size]])
    top, bottom = apply_affine(aligned_to_out, midline_ends)
    cv2.line(canvas, tuple(np.round(top).astype(int)), tuple(np.round(bottom).astype(int)), MIDLINE_COLOUR,
             line_width, cv2.LINE_AA)
    for x, y in apply_affine(photo_to_out, geometry.landmarks):
        cv2.circle(canvas, (round(x), round(y)), line_width + 1, LANDMARK_COLOUR, -1, cv2.LINE_AA)

    text_scale = OUTPUT_SIDE / 1100
    legend_y = out_h - 8
    legend_x = 8
    for name in REGION_NAMES:
        (text_w, _), _ = cv2.getTextSize(name, _FONT, text_scale * 0.8, 1)
        cv2.rectangle(canvas, (legend_x, legend_y - 12), (legend_x + 12, legend_y), REGION_COLOURS[name], -1)
        cv2.putText(canvas, name, (legend_x + 16, legend_y), _FONT, text_scale * 0.8, TEXT_COLOUR, 1,
                    cv2.LINE_AA)
        legend_x += text_w + 28

    header_lines = 2 if geometry.landmark_source == "template" else 1
    line_height = round(34 * text_scale / 0.58)
    header = np.full((line_height * header_lines + 8, out_w, 3), HEADER_COLOUR, dtype=np.uint8)
    for shown_on, label in half_labels(geometry).items():
        on_right = shown_on is ImageSide.RIGHT
        _put_text(header, label, out_w - 8 if on_right else 8, line_height, text_scale, align_right=on_right)
    if geometry.landmark_source == "template":
        _put_text(header, "No face detected: template landmarks, positions approximate", 8,
                  2 * line_height, text_scale)
    return np.vstack([header, canvas])


def _is_rgb_uint8(image: object) -> bool:
    return (
        isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
        and image.shape[2] == 3
    )
