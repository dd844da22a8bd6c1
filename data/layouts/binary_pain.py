"""The binary pain layout of the cerebral-palsy study: one folder per class.

::

    <root>/pain/<name>.png
    <root>/no_pain/<name>.png

Folder names are matched case-insensitively and ``no-pain``, ``nopain`` and ``no pain`` are accepted for
``no_pain``. Images may sit in sub-folders of the class folder; other files are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from data.layouts.common import (
    DEFAULT_SUBJECT_PATTERN,
    LayoutError,
    iter_images,
    require_subjects,
    subject_from,
    write_png,
)
from data.records import BinaryPainRecord, RecordList

DATASET_NAME = "binary_pain"
PAIN_FOLDER = "pain"
NO_PAIN_FOLDER = "no_pain"

_NO_PAIN_NAMES = {"no_pain", "no-pain", "nopain", "no pain"}


def _class_folders(root: Path) -> dict[bool, list[Path]]:
    folders: dict[bool, list[Path]] = {True: [], False: []}
    if not root.is_dir():
        return folders
    for child in sorted(root.iterdir()):
        if not child.is_dir():
            continue
        name = child.name.strip().lower()
        if name == PAIN_FOLDER:
            folders[True].append(child)
        elif name in _NO_PAIN_NAMES:
            folders[False].append(child)
    return folders


def looks_like_binary_pain(root: str | Path) -> bool:
    """True when ``root`` has both a ``pain/`` and a ``no_pain/`` folder."""
    folders = _class_folders(Path(root))
    return bool(folders[True]) and bool(folders[False])


def write_binary_pain(root: str | Path, name: str, image: np.ndarray, pain: bool) -> Path:
    """Write ``image`` (uint8 ``(H, W)`` or ``(H, W, 3)``) as ``root/pain|no_pain/<name>.png``."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"name must be a plain file name, got {name!r}")
    filename = name if name.lower().endswith(".png") else f"{name}.png"
    return write_png(Path(root) / (PAIN_FOLDER if pain else NO_PAIN_FOLDER) / filename, image)


def load_binary_pain(
    root: str | Path,
    *,
    subject_pattern: str | re.Pattern[str] | None = DEFAULT_SUBJECT_PATTERN,
    dataset: str = DATASET_NAME,
) -> RecordList:
    """Read a ``pain/`` + ``no_pain/`` folder into :class:`~data.records.BinaryPainRecord` s.

    ``subject_pattern`` reads the subject from each file stem (see
    :func:`data.layouts.common.subject_from`). ``notes`` has per-class counts.
    """
    root = Path(root)
    folders = _class_folders(root)
    if not folders[True] and not folders[False]:
        raise LayoutError(f"{root} is not a binary pain layout: no pain/ or no_pain/ folder")
    records: list[BinaryPainRecord] = []
    unmatched: list[str] = []
    for pain in (True, False):
        for folder in folders[pain]:
            for path in iter_images(folder, recursive=True):
                subject = subject_from(path.stem, subject_pattern)
                if subject is None:
                    unmatched.append(path.stem)
                    continue
                frame_id = path.relative_to(folder).with_suffix("").as_posix()
                records.append(BinaryPainRecord(path, subject, pain, frame_id=frame_id, dataset=dataset))
    require_subjects(unmatched, str(root))
    if not records:
        raise LayoutError(f"{root}: the pain/ and no_pain/ folders hold no images")
    notes = {
        "layout": "binary_pain",
        "root": str(root),
        "images": len(records),
        "pain": sum(r.pain for r in records),
        "no_pain": sum(not r.pain for r in records),
    }
    return RecordList(records, notes)
