"""Stroke-side labels: a folder of full-face images plus ``labels.csv``.

::

    <root>/labels.csv          header "filename,label" (optional extra column "subject")
    <root>/<filename>          full-face images; filename may include sub-folders

``label`` is the *patient's* affected side: ``left`` or ``right`` (``patient-left`` etc. also read), or
``skip`` for images to leave out (counted in the returned notes). Datasets whose labels name the *image*
side (the side of the picture as displayed, in ordinary non-mirrored photos) are read with
``side_convention="image"``: an image-left label is then the patient's right. Every image in the folder
needs a row; files that are not images (such as ``<stem>.truth.json``) are ignored.
"""

from __future__ import annotations

import csv as csv_module
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from data.layouts.common import (
    DEFAULT_SUBJECT_PATTERN,
    LayoutError,
    MissingLabels,
    handle_missing,
    iter_images,
    require_subjects,
    subject_from,
    write_png,
)
from data.records import RecordList, SideRecord
from faces.sides import ImageSide, Side, patient_side

DATASET_NAME = "side_labels"
LABELS_FILE = "labels.csv"
SKIP = "skip"


def looks_like_side_labels(root: str | Path) -> bool:
    """True when ``root/labels.csv`` exists with a ``filename,label`` header."""
    path = Path(root) / LABELS_FILE
    if not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv_module.reader(handle), [])
    return {"filename", "label"} <= {h.strip().lower() for h in header}


def write_side_labels(root: str | Path, entries: Iterable[tuple[str, np.ndarray, Side | None]]) -> Path:
    """Write images and ``labels.csv`` (replacing an existing one) and return the CSV path.

    Args:
        root: dataset folder (created as needed).
        entries: ``(filename, image, affected_side)``; ``filename`` is relative to ``root`` and gets
            ``.png`` appended when it has no suffix (other suffixes are refused: PNG only); ``image`` is
            uint8 ``(H, W)`` or ``(H, W, 3)``; ``affected_side`` None writes a ``skip`` row.
    """
    root = Path(root)
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for filename, image, side in entries:
        name = filename if Path(filename).suffix else f"{filename}.png"
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"filename must be relative to the dataset folder, got {filename!r}")
        if name in seen:
            raise ValueError(f"duplicate filename {name!r}")
        seen.add(name)
        write_png(root / relative, image)
        rows.append((relative.as_posix(), SKIP if side is None else Side.parse(side).value))
    csv_path = root / LABELS_FILE
    root.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["filename", "label"])
        writer.writerows(rows)
    return csv_path


def load_side_labels(
    root: str | Path,
    *,
    subject_pattern: str | re.Pattern[str] | None = DEFAULT_SUBJECT_PATTERN,
    missing_labels: MissingLabels = "error",
    dataset: str = DATASET_NAME,
    side_convention: str = "patient",
) -> RecordList:
    """Read a side-label folder.

    Args:
        root: folder with ``labels.csv`` and the images.
        subject_pattern: regex reading the subject from the file stem (as in
            :func:`data.layouts.common.subject_from`); a ``subject`` column in the CSV takes precedence.
        missing_labels: images in the folder without a CSV row: ``"error"`` (lists them) or ``"skip"``
            (``"keep"`` is not possible for side labels and is treated as ``"skip"``).
        dataset: the name recorded in each record.
        side_convention: ``"patient"`` (labels are patient sides, the default) or ``"image"`` (labels are
            image sides of non-mirrored photos, converted here to patient sides).

    Returns:
        :class:`~data.records.RecordList` of :class:`~data.records.SideRecord` in CSV order; ``notes``
        has ``skip_rows`` (count and files), per-side counts and unlabelled images.
    """
    if side_convention not in ("patient", "image"):
        raise ValueError(f"side_convention must be 'patient' or 'image', got {side_convention!r}")
    root = Path(root)
    csv_path = root / LABELS_FILE
    if not csv_path.is_file():
        raise LayoutError(f"{root} is not a side-label folder: {LABELS_FILE} not found")
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv_module.DictReader(handle)
        fields = {(f or "").strip().lower(): f for f in (reader.fieldnames or [])}
        if "filename" not in fields or "label" not in fields:
            raise LayoutError(f"{csv_path}: expected the header 'filename,label', got {reader.fieldnames}")
        rows = [
            {key: (row.get(original) or "").strip() for key, original in fields.items()} for row in reader
        ]
    records: list[SideRecord] = []
    skipped: list[str] = []
    bad_labels: list[str] = []
    absent: list[str] = []
    unmatched: list[str] = []
    labelled: set[Path] = set()
    for line_no, row in enumerate(rows, start=2):
        name, label = row["filename"], row["label"]
        if not name:
            continue
        path = root / name
        labelled.add(path.resolve())
        if label.lower() == SKIP:
            skipped.append(name)
            continue
        try:
            side = Side.parse(label)
            if side_convention == "image":
                side = patient_side(ImageSide(side.value), mirrored=False)
        except ValueError:
            bad_labels.append(f"line {line_no}: {name},{label}")
            continue
        if not path.is_file():
            absent.append(name)
            continue
        stem = Path(name).with_suffix("").as_posix()
        subject = row.get("subject") or subject_from(Path(name).stem, subject_pattern)
        if subject is None:
            unmatched.append(Path(name).stem)
            continue
        records.append(SideRecord(path, subject, side, frame_id=stem, dataset=dataset))
    if bad_labels:
        raise LayoutError(
            f"{csv_path}: {len(bad_labels)} row(s) have a label other than left/right/skip: "
            + "; ".join(bad_labels[:10])
        )
    if absent:
        raise LayoutError(f"{csv_path}: {len(absent)} listed image(s) do not exist: {', '.join(absent[:10])}")
    require_subjects(unmatched, str(root))
    unlabelled = [p for p in iter_images(root, recursive=True) if p.resolve() not in labelled]
    handle_missing(unlabelled, "skip" if missing_labels == "keep" else missing_labels, str(root))
    notes = {
        "layout": "side_labels",
        "root": str(root),
        "side_convention": side_convention,
        "images": len(records),
        "per_side": {side.value: sum(r.affected_side is side for r in records) for side in Side},
        "skip_rows": {"count": len(skipped), "examples": skipped[:10]},
        "unlabelled_images": {"count": len(unlabelled), "examples": [str(p) for p in unlabelled[:10]]},
    }
    return RecordList(records, notes)
