"""Real face photos available offline, with a fixed split into a development part and a held-out part.

The photos come with installed packages, so nothing is downloaded: scikit-image's astronaut portrait
(Eileen Collins) and its LFW subset (100 face crops of 25 x 25 pixels, enlarged bicubically to
:data:`LFW_SIZE` pixels), and matplotlib's ``grace_hopper.jpg`` (matplotlib is a test dependency; without
it that photo is left out). Two variants are made of each full-size portrait: a grey copy and a copy
at half size with JPEG compression, which test colour and resolution on the same face.

The split is fixed and never chosen by results: the **development** part is the astronaut portrait and
its variants plus the LFW crops with an even index; the **held-out** part is Grace Hopper's portrait and
its variants plus the LFW crops with an odd index. Choices (edit magnitudes, thresholds, which model to
ship) may look at the development part only; published figures come from the held-out part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

PARTS = ("development", "held_out")
LFW_SIZE = 250
LFW_FACES = 100  # the first 100 images of lfw_subset() are faces, the rest are not
JPEG_QUALITY = 60


@dataclass(frozen=True)
class Photo:
    """One photo: a stable ``name``, RGB ``uint8`` pixels, its ``part`` of the split and its source."""

    name: str
    image: np.ndarray
    part: str
    source: str


def _grace_hopper() -> np.ndarray | None:
    try:
        from matplotlib import cbook
        from matplotlib.image import imread
    except ImportError:
        return None
    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.ascontiguousarray(imread(handle, format="jpg")[..., :3])


def _astronaut() -> np.ndarray:
    from skimage.data import astronaut

    return astronaut()


def _variants(name: str, image: np.ndarray, part: str, source: str) -> list[Photo]:
    grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    half = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(half, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    small = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return [Photo(name, image, part, source), Photo(f"{name}-grey", grey, part, source + ", grey copy"),
            Photo(f"{name}-half-jpeg", small, part,
                  source + f", half size, JPEG quality {JPEG_QUALITY}")]


def lfw_photos(size: int = LFW_SIZE) -> list[Photo]:
    """The LFW subset's face crops, enlarged to ``size`` x ``size`` RGB, named ``lfw-000`` ..."""
    from skimage.data import lfw_subset

    crops = lfw_subset()[:LFW_FACES]
    photos = []
    for index, crop in enumerate(crops):
        grey = np.clip(np.round(crop * 255.0), 0, 255).astype(np.uint8)
        big = cv2.resize(grey, (size, size), interpolation=cv2.INTER_CUBIC)
        part = PARTS[index % 2]
        photos.append(Photo(f"lfw-{index:03d}", cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), part,
                            f"skimage.data.lfw_subset()[{index}], enlarged to {size} px"))
    return photos


def offline_photos(part: str = "all", *, lfw_size: int = LFW_SIZE) -> list[Photo]:
    """The photos of ``part`` (``"development"``, ``"held_out"`` or ``"all"``), portraits first."""
    if part not in (*PARTS, "all"):
        raise ValueError(f"part must be one of {PARTS} or 'all', got {part!r}")
    sources: list[tuple[str, Callable[[], np.ndarray | None], str, str]] = [
        ("astronaut", _astronaut, "development", "skimage.data.astronaut()"),
        ("grace-hopper", _grace_hopper, "held_out", "matplotlib sample data grace_hopper.jpg"),
    ]
    photos: list[Photo] = []
    for name, load, photo_part, source in sources:
        image = load()
        if image is not None:
            photos.extend(_variants(name, image, photo_part, source))
    photos.extend(lfw_photos(lfw_size))
    return [p for p in photos if part == "all" or p.part == part]
