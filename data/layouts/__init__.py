"""Readers and writers for the dataset layouts the project uses, unchanged from the real datasets.

- UNBC-McMaster (:mod:`data.layouts.unbc`): full frames with PSPI, FACS and AAM landmarks;
- the earlier half-face layout (:mod:`data.layouts.half_face`): ``pain-dataset/<frame>_a|_b.png``;
- side labels (:mod:`data.layouts.side_labels`): images plus ``labels.csv`` (``filename,label``);
- binary pain (:mod:`data.layouts.binary_pain`): ``pain/`` and ``no_pain/`` folders.

Writers produce exactly what the loaders read (the synthetic benchmark is written through them), images
always as lossless PNG. :func:`detect_layout` names the layout of a folder and :func:`load_any` loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from data.layouts.binary_pain import load_binary_pain, looks_like_binary_pain, write_binary_pain
from data.layouts.common import (
    DEFAULT_SUBJECT_PATTERN,
    IMAGE_SUFFIXES,
    LayoutError,
    MissingLabelError,
    read_image_array,
    subject_from,
    write_png,
)
from data.layouts.half_face import half_side, load_half_face, looks_like_half_face, write_half_face_pair
from data.layouts.side_labels import load_side_labels, looks_like_side_labels, write_side_labels
from data.layouts.unbc import aam66_to_68, aam68_to_66, load_unbc, looks_like_unbc, write_unbc_frame
from data.records import RecordList

#: Layout names returned by :func:`detect_layout`, in the order they are tried.
LAYOUTS = ("unbc", "half_face", "side_labels", "binary_pain")

_DETECTORS = {
    "unbc": looks_like_unbc,
    "half_face": looks_like_half_face,
    "side_labels": looks_like_side_labels,
    "binary_pain": looks_like_binary_pain,
}

_LOADERS = {
    "unbc": load_unbc,
    "half_face": load_half_face,
    "side_labels": load_side_labels,
    "binary_pain": load_binary_pain,
}


def detect_layout(root: str | Path) -> str:
    """Name the layout of ``root``: one of :data:`LAYOUTS`.

    Raises :class:`LayoutError` when the folder does not exist, matches no layout, or matches several
    (then pass the layout name to :func:`load_any`).
    """
    root = Path(root)
    if not root.is_dir():
        raise LayoutError(f"Dataset folder not found: {root}")
    found = [name for name in LAYOUTS if _DETECTORS[name](root)]
    if "half_face" in found and len(found) > 1 and not looks_like_half_face(root, strict=True):
        found.remove("half_face")
    if not found:
        raise LayoutError(
            f"{root} matches no known dataset layout. Expected one of: UNBC-McMaster (Images/ + "
            "Frame_Labels/), half-face (pain-dataset/<frame>_a.png, <frame>_b.png), side labels "
            "(labels.csv with filename,label) or binary pain (pain/ and no_pain/ folders)."
        )
    if len(found) > 1:
        raise LayoutError(f"{root} matches several layouts ({', '.join(found)}); name the one to load")
    return found[0]


def load_any(root: str | Path, layout: str | None = None, **options: Any) -> RecordList:
    """Load ``root`` with the loader for ``layout`` (detected when None); ``options`` go to that loader."""
    name = layout or detect_layout(root)
    if name not in _LOADERS:
        raise ValueError(f"Unknown layout {name!r}; expected one of {LAYOUTS}")
    return _LOADERS[name](root, **options)


__all__ = [
    "DEFAULT_SUBJECT_PATTERN",
    "IMAGE_SUFFIXES",
    "LAYOUTS",
    "LayoutError",
    "MissingLabelError",
    "aam66_to_68",
    "aam68_to_66",
    "detect_layout",
    "half_side",
    "load_any",
    "load_binary_pain",
    "load_half_face",
    "load_side_labels",
    "load_unbc",
    "read_image_array",
    "subject_from",
    "write_binary_pain",
    "write_half_face_pair",
    "write_png",
    "write_side_labels",
    "write_unbc_frame",
]
