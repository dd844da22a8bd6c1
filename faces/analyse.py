"""The face-geometry stage in one call: :func:`analyse` turns a photo into a :class:`FaceGeometry`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np

from faces.align import (
    WarpSource,
    affine_compose,
    affine_inverse,
    aligned_to_half,
    apply_affine,
    estimate_midline_x,
    half_face_width,
    image_to_aligned,
    roll_degrees,
)
from faces.asymmetry import measure_asymmetry
from faces.background import BACKGROUNDS, whiten_background
from faces.detect import detect_faces, detect_turned, fit_landmarks
from faces.errors import NoFaceFoundError
from faces.image_input import ImageSource, read_image
from faces.landmarks import N_LANDMARKS
from faces.regions import REGION_NAMES, region_key, region_masks
from faces.sides import Side
from faces.template import place_template
from faces.types import FaceGeometry, HalfFace

ON_NO_FACE_CHOICES = ("error", "template")
DEFAULT_SIZE = 256

NO_FACE_MESSAGE = (
    "No face was found in the photo. Use a well-lit, frontal photo in which the whole face is visible, "
    "not covered, and takes up a good part of the picture."
)
#: Mean brightness (0-255) below / above which a photo without a detected face is called too dark /
#: too bright, and the spread (standard deviation) below which it is called washed out.
DARK_BELOW, BRIGHT_ABOVE, FLAT_BELOW = 30.0, 225.0, 12.0


def no_face_message(photo: np.ndarray) -> str:
    """Why no face was found, in words: exposure problems get their own advice."""
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA) if min(gray.shape) > 64 else gray
    mean, spread = float(small.mean()), float(small.std())
    if mean < DARK_BELOW:
        return (f"No face was found: the photo is very dark (mean brightness {mean:.0f} of 255). Take it "
                "again in better light, facing the light.")
    if mean > BRIGHT_ABOVE:
        return (f"No face was found: the photo is very bright, nearly white (mean brightness {mean:.0f} of "
                "255). Take it again without direct light or flash on the face.")
    if spread < FLAT_BELOW:
        return ("No face was found: the photo has almost no contrast (it looks washed out or blank). "
                "Take it again with the face clearly visible.")
    return NO_FACE_MESSAGE


@contextmanager
def _step(timings: dict[str, float], name: str) -> Iterator[None]:
    """Add the wall time of the ``with`` block to ``timings[name]`` in milliseconds."""
    begin = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + (time.perf_counter() - begin) * 1000.0


def _cut_half(
    side: Side,
    size: int,
    warp_source: WarpSource,
    photo_to_aligned: np.ndarray,
    aligned_points: np.ndarray,
    midline_x: float,
    regions: dict[str, np.ndarray],
    mirrored: bool,
) -> HalfFace:
    """The canonical half of the patient's ``side``, warped straight from the photo."""
    half_width = size // 2
    to_half, flipped = aligned_to_half(side, midline_x, size, mirrored)
    pixels = warp_source.warp(affine_compose(to_half, photo_to_aligned), half_width, size)
    half_regions = {
        name: cv2.warpAffine(
            regions[region_key(name, side)].view(np.uint8), to_half, (half_width, size),
            flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        ).astype(bool)
        for name in REGION_NAMES
    }
    return HalfFace(
        side=side, image=pixels, flipped=flipped, aligned_to_half=to_half, regions=half_regions,
        face_width=half_face_width(aligned_points, side, midline_x, mirrored),
    )


def _checked_landmarks(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (N_LANDMARKS, 2) or not np.all(np.isfinite(points)):
        raise ValueError(f"landmarks must be a finite ({N_LANDMARKS}, 2) array, got shape {points.shape}")
    return points


def _box_of(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def analyse(
    image: ImageSource,
    mirrored: bool = False,
    *,
    landmarks: np.ndarray | None = None,
    on_no_face: str = "error",
    size: int = DEFAULT_SIZE,
    background: str = "keep",
) -> FaceGeometry:
    """Landmarks, levelled face crop, midline, halves, region masks and asymmetry for one photo.

    ``image`` is anything :func:`faces.read_image` accepts. ``mirrored`` says the photo is a mirror
    image (many webcam previews); patient sides account for it. ``landmarks`` ``(68, 2)`` in photo
    coordinates skips detection (``landmark_source == "given"``). When no face is detected,
    ``on_no_face="error"`` raises :class:`~faces.errors.NoFaceFoundError` and ``"template"`` places the
    template mean face over the image (for pre-cropped faces; ``landmark_source == "template"``).
    The aligned crop is ``(size, size, 3)``; each half is ``(size, size // 2, 3)``.
    ``background="white"`` sets everything outside the head outlined by the landmarks to white before
    the crops are cut (:mod:`faces.background`); ``"keep"`` (default) leaves the photo as it is.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    if on_no_face not in ON_NO_FACE_CHOICES:
        raise ValueError(f"on_no_face must be one of {ON_NO_FACE_CHOICES}, got {on_no_face!r}")
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with _step(timings, "read"):
        photo = read_image(image)
    height, width = photo.shape[:2]

    if landmarks is not None:
        points = _checked_landmarks(landmarks)
        n_faces, source, face_box = 0, "given", _box_of(points)
    else:
        with _step(timings, "detect"):
            boxes = detect_faces(photo)
        n_faces = len(boxes)
        turned = None
        if not boxes:
            with _step(timings, "detect_turned"):
                turned = detect_turned(photo)
        if boxes:
            face_box = boxes[0]
            with _step(timings, "landmarks"):
                points = fit_landmarks(photo, face_box)
            source = "detector"
        elif turned is not None:
            face_box, points, _ = turned
            n_faces, source = 1, "detector"
        elif on_no_face == "template":
            points = place_template(height, width)
            source, face_box = "template", _box_of(points)
        else:
            raise NoFaceFoundError(no_face_message(photo))

    if background == "white":
        with _step(timings, "background"):
            photo = whiten_background(photo, points)
    with _step(timings, "align"):
        photo_to_aligned = image_to_aligned(points, size)
        warp_source = WarpSource.around(photo, photo_to_aligned, size)
        aligned = warp_source.warp(photo_to_aligned, size, size)
        aligned_points = apply_affine(photo_to_aligned, points)
        midline_x = estimate_midline_x(aligned_points)
    with _step(timings, "regions"):
        regions = region_masks(aligned_points, (size, size), mirrored)
    with _step(timings, "halves"):
        halves = {
            side: _cut_half(side, size, warp_source, photo_to_aligned, aligned_points, midline_x, regions,
                            mirrored)
            for side in Side
        }
    with _step(timings, "asymmetry"):
        asymmetry = measure_asymmetry(aligned_points, mirrored)
    timings["total"] = (time.perf_counter() - start) * 1000.0
    return FaceGeometry(
        image_size=(height, width),
        mirrored=bool(mirrored),
        n_faces=n_faces,
        landmark_source=source,
        face_box=tuple(float(v) for v in face_box),
        landmarks=points,
        roll_degrees=roll_degrees(points),
        aligned=aligned,
        aligned_landmarks=aligned_points,
        aligned_to_image=affine_inverse(photo_to_aligned),
        midline_x=midline_x,
        halves=halves,
        regions=regions,
        asymmetry=asymmetry,
        timings_ms=timings,
    )
