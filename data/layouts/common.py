"""Shared pieces of the dataset layouts: lossless image writing, label-file parsing, errors, subjects.

Images are written as PNG only (lossless), exactly as given: ``(H, W)`` uint8 grayscale or
``(H, W, 3)`` uint8 RGB. Label text files hold floats in any notation Python's ``float`` accepts
(``3``, ``3.0``, ``3.0000000e+00``); writers use the UNBC style ``   3.0000000e+00``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from faces.image_input import read_pixels

#: File suffixes the loaders treat as images (case-insensitive).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})

#: Default subject pattern: leading letters then digits, e.g. ``s007`` in ``s007_seq02_f0013`` or
#: ``ll042`` in the UNBC frame name ``ll042t1aaaff001``.
DEFAULT_SUBJECT_PATTERN = r"^(?P<subject>[A-Za-z]{1,8}\d{1,6})(?![0-9])"

MissingLabels = Literal["error", "skip", "keep"]

_EXAMPLES = 10


class LayoutError(ValueError):
    """A folder does not hold a dataset in the expected layout, or its files disagree."""


class MissingLabelError(LayoutError):
    """Images without labels. ``missing`` lists the image paths; ``str(err)`` says how many and which."""

    def __init__(self, missing: Sequence[Path], where: str, hint: str = "") -> None:
        self.missing = [Path(p) for p in missing]
        shown = ", ".join(str(p) for p in self.missing[:_EXAMPLES])
        more = f" (and {len(self.missing) - _EXAMPLES} more)" if len(self.missing) > _EXAMPLES else ""
        message = f"{len(self.missing)} image(s) in {where} have no label: {shown}{more}."
        super().__init__(message + (f" {hint}" if hint else ""))


def is_image(path: Path) -> bool:
    """True for a regular file with an image suffix."""
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def iter_images(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (sorted; hidden files skipped)."""
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith(".") and is_image(p))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write ``image`` losslessly as PNG at ``path`` (parents created) and return the path.

    ``image``: uint8 ``(H, W)`` grayscale, ``(H, W, 1)`` grayscale or ``(H, W, 3)`` RGB. The suffix of
    ``path`` must be ``.png``.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"Images are written as lossless PNG; got the file name {path.name!r}")
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(f"image must be (H, W) grayscale or (H, W, 3) RGB, got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"image is empty: shape {array.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array)).save(path, "PNG")
    return path


def read_image_array(path: str | Path) -> np.ndarray:
    """A dataset image as uint8: ``(H, W)`` for grayscale files, ``(H, W, 3)`` RGB otherwise.

    Decoding and bit-depth scaling are those of :func:`faces.read_image`, which reads photos at
    inference, so a model is trained on the values it later sees (16-bit files are scaled by 1/257, not
    clipped; 32-bit files holding 8-bit values keep them).
    """
    return read_pixels(path)


def format_float(value: float) -> str:
    """UNBC-style number: ``'   3.0000000e+00'``."""
    return f"{float(value):15.7e}"


def read_numbers(path: Path) -> list[list[float]]:
    """Rows of floats from a whitespace- or comma-separated text file; blank lines are dropped."""
    rows: list[list[float]] = []
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    for line_no, line in enumerate(text.splitlines(), start=1):
        tokens = line.replace(",", " ").split()
        if not tokens:
            continue
        try:
            rows.append([float(t) for t in tokens])
        except ValueError as exc:
            raise LayoutError(f"{path}:{line_no}: expected numbers, got {line.strip()!r}") from exc
    return rows


def read_scalar(path: Path) -> float:
    """The single number in a label file such as ``<frame>_facs.txt`` (PSPI)."""
    rows = read_numbers(path)
    if not rows:
        raise LayoutError(f"{path}: label file is empty (expected one number)")
    return rows[0][0]


def write_scalar(path: Path, value: float) -> Path:
    """Write one number in UNBC style (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_float(value) + "\n", encoding="utf-8")
    return path


def resolve_nested(parent: Path, name: str) -> Path:
    """``parent/name``, descending through doubled copies such as ``Images/Images/``.

    Some distributions of a dataset unpack to ``Images/Images/<subject>/...``; this returns the deepest
    ``name/name/...`` folder. Returns ``parent/name`` (which may not exist) when there is no nesting.
    """
    folder = parent / name
    while (folder / name).is_dir():
        folder = folder / name
    return folder


def subject_from(frame_id: str, subject_pattern: str | re.Pattern[str] | None) -> str | None:
    """Subject id parsed from ``frame_id``; ``None`` when the pattern does not match.

    With ``subject_pattern=None`` the frame id itself is the subject (subjects unknown). The pattern's
    group named ``subject`` is used if present, else group 1, else the whole match.
    """
    if subject_pattern is None:
        return frame_id
    pattern = re.compile(subject_pattern) if isinstance(subject_pattern, str) else subject_pattern
    match = pattern.search(frame_id)
    if match is None:
        return None
    if "subject" in pattern.groupindex:
        return match.group("subject")
    return match.group(1) if pattern.groups else match.group(0)


def require_subjects(unmatched: Iterable[str], where: str) -> None:
    """Raise a clear error when the subject pattern matched none of some frame ids."""
    unmatched = list(unmatched)
    if unmatched:
        shown = ", ".join(unmatched[:_EXAMPLES])
        raise LayoutError(
            f"Could not read a subject id from {len(unmatched)} file name(s) in {where} (e.g. {shown}). "
            "Pass subject_pattern=<regex with a 'subject' group>, or subject_pattern=None to treat "
            "every frame as its own subject (subject-wise splits then cannot detect repeated people)."
        )


def handle_missing(missing: Sequence[Path], mode: MissingLabels, where: str) -> None:
    """Raise :class:`MissingLabelError` for ``mode='error'``; otherwise do nothing."""
    if mode not in ("error", "skip", "keep"):
        raise ValueError(f"missing_labels must be 'error', 'skip' or 'keep', got {mode!r}")
    if missing and mode == "error":
        raise MissingLabelError(
            missing,
            where,
            hint="Pass missing_labels='skip' to leave them out or 'keep' to load them unlabelled.",
        )
