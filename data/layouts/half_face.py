"""The earlier project's half-face layout (``pain-dataset/``), read and written unchanged.

::

    <root>/pain-dataset/<frame>_a.png            one half of frame <frame>
    <root>/pain-dataset/<frame>_b.png            the other half
    <root>/pain-dataset/testing/...              same layout, the earlier project's held-out files

Each half is stored as it appears in the photo (not mirrored).

Which half is which (``side_convention``):

- ``"patient"`` (default, the project convention): ``_a`` is the *patient's right* half, ``_b`` the
  *patient's left* half.
- ``"image"``: for datasets whose ``_a`` / ``_b`` meant the sides of the picture. ``_a`` is the *image
  right* half, which in a non-mirrored photo shows the *patient's left*; ``_b`` is the image left half,
  the patient's right. (For a mirrored photo the two conventions coincide; such datasets should be read
  with ``"patient"``.)

PSPI labels, looked up in this order for ``<frame>_a.png`` in folder ``D`` (``D`` is ``pain-dataset/`` or
``pain-dataset/testing/``):

1. a CSV given with ``csv=`` (columns ``image_path,pspi_score``; paths absolute or relative to the CSV's
   folder or to the dataset root) -- takes precedence over every file;
2. ``D/<frame>_a_facs.txt`` (per half), then ``D/<frame>_facs.txt`` (per frame, both halves);
3. the same two names under ``D/pspi/``, and for ``testing/`` also under ``pain-dataset/pspi/testing/``.

Each label file holds one number (any float notation). Files other than images and these labels (for
example ``<stem>.truth.json`` ground truth) are ignored.
"""

from __future__ import annotations

import csv as csv_module
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from data.layouts.common import (
    DEFAULT_SUBJECT_PATTERN,
    LayoutError,
    MissingLabels,
    handle_missing,
    iter_images,
    read_scalar,
    require_subjects,
    subject_from,
    write_png,
    write_scalar,
)
from data.records import HalfRecord, RecordList
from faces.sides import ImageSide, Side, patient_side

DATASET_NAME = "half_face"
FOLDER = "pain-dataset"
TESTING = "testing"
PSPI_FOLDER = "pspi"

SideConvention = Literal["patient", "image"]
LabelMode = Literal["beside", "pspi_dir", "beside_per_frame", "pspi_dir_per_frame"]

_HALF_NAME = re.compile(r"^(?P<frame>.+)_(?P<half>[ab])$")


def half_side(half: str, side_convention: SideConvention = "patient") -> Side:
    """The patient side of half ``"a"`` or ``"b"`` under ``side_convention`` (see the module docstring)."""
    if half not in ("a", "b"):
        raise ValueError(f"half must be 'a' or 'b', got {half!r}")
    if side_convention == "patient":
        return Side.RIGHT if half == "a" else Side.LEFT
    if side_convention == "image":
        return patient_side(ImageSide.RIGHT if half == "a" else ImageSide.LEFT, mirrored=False)
    raise ValueError(f"side_convention must be 'patient' or 'image', got {side_convention!r}")


def dataset_folder(root: str | Path) -> Path:
    """The ``pain-dataset`` folder: ``root/pain-dataset`` (also doubled) or ``root`` itself."""
    root = Path(root)
    folder = root / FOLDER
    while (folder / FOLDER).is_dir():
        folder = folder / FOLDER
    return folder if folder.is_dir() else root


def looks_like_half_face(root: str | Path, *, strict: bool = False) -> bool:
    """True when ``root`` holds a half-face dataset.

    A ``pain-dataset/`` folder with ``*_a`` / ``*_b`` images always counts. Without that folder, ``root``
    itself (or its ``testing/``) must hold at least one complete ``_a`` + ``_b`` pair, and only when
    ``strict`` is False (this weaker evidence yields to other layouts in :func:`data.layouts.detect_layout`).
    """
    root = Path(root)
    folder = dataset_folder(root)
    named = folder.name == FOLDER
    if strict and not named:
        return False
    for sub in (folder, folder / TESTING):
        if not sub.is_dir():
            continue
        halves: dict[str, set[str]] = {}
        for path in iter_images(sub):
            match = _HALF_NAME.match(path.stem)
            if match:
                halves.setdefault(match.group("frame"), set()).add(match.group("half"))
        if (named and halves) or any(len(v) == 2 for v in halves.values()):
            return True
    return False


def _read_csv_labels(csv_paths: Sequence[Path], root: Path, folder: Path) -> dict[Path, float]:
    labels: dict[Path, float] = {}
    for csv_path in csv_paths:
        if not csv_path.is_file():
            raise LayoutError(f"Label CSV not found: {csv_path}")
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv_module.DictReader(handle)
            fields = [f.strip() for f in (reader.fieldnames or [])]
            if "image_path" not in fields or "pspi_score" not in fields:
                raise LayoutError(f"{csv_path}: expected the header 'image_path,pspi_score', got {fields}")
            unresolved: list[str] = []
            for row in reader:
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                raw = row["image_path"]
                if not raw:
                    continue
                candidates = [Path(raw)] if Path(raw).is_absolute() else [
                    csv_path.parent / raw, root / raw, folder / raw, folder.parent / raw
                ]
                found = next((c for c in candidates if c.is_file()), None)
                if found is None:
                    unresolved.append(raw)
                    continue
                try:
                    labels[found.resolve()] = float(row["pspi_score"])
                except ValueError as exc:
                    raise LayoutError(
                        f"{csv_path}: pspi_score {row['pspi_score']!r} is not a number"
                    ) from exc
            if unresolved:
                raise LayoutError(
                    f"{csv_path}: {len(unresolved)} image path(s) do not exist (tried relative to the CSV, "
                    f"the dataset root and {FOLDER}/): {', '.join(unresolved[:10])}"
                )
    return labels


def _label_candidates(image: Path, frame: str, half: str, folder: Path) -> list[tuple[Path, str]]:
    """Label files for one half in lookup order, each with the name of its source."""
    directory = image.parent
    dirs = [(directory, ""), (directory / PSPI_FOLDER, "pspi_folder_")]
    if directory != folder and directory.is_relative_to(folder):
        dirs.append((folder / PSPI_FOLDER / directory.relative_to(folder), "pspi_folder_"))
    names = [(f"{frame}_{half}_facs.txt", "per_half"), (f"{frame}_facs.txt", "per_frame")]
    return [(d / name, prefix + kind) for d, prefix in dirs for name, kind in names]


def load_half_face(
    root: str | Path,
    *,
    side_convention: SideConvention = "patient",
    csv: str | Path | Sequence[str | Path] | None = None,
    subject_pattern: str | re.Pattern[str] | None = DEFAULT_SUBJECT_PATTERN,
    missing_labels: MissingLabels = "error",
    include_testing: bool = True,
    dataset: str = DATASET_NAME,
) -> RecordList:
    """Read a half-face dataset.

    Args:
        root: folder holding ``pain-dataset/`` (or the ``pain-dataset`` folder itself).
        side_convention: ``"patient"`` (``_a`` = patient right) or ``"image"`` (``_a`` = image right =
            patient left); see the module docstring.
        csv: one or more ``image_path,pspi_score`` CSVs whose labels override label files. Images listed
            there but outside ``pain-dataset/`` are loaded too.
        subject_pattern: regex reading the subject from the frame id (group ``subject``, else group 1,
            else the match); ``None`` makes each frame its own subject. A frame id it does not match is an
            error that lists examples.
        missing_labels: ``"error"`` (default; lists how many images and which), ``"skip"`` or ``"keep"``
            (``pspi=None``).
        include_testing: also read ``pain-dataset/testing/`` (records get ``subset="testing"``).
        dataset: the name recorded in each record.

    Returns:
        :class:`~data.records.RecordList` of :class:`~data.records.HalfRecord` sorted by path, ``notes``
        with counts per label source, subsets, unpaired halves and ignored images.
    """
    root = Path(root)
    folder = dataset_folder(root)
    if not folder.is_dir():
        raise LayoutError(f"{root} is not a half-face layout: folder not found")
    csv_paths = [] if csv is None else [Path(csv)] if isinstance(csv, str | Path) else [Path(c) for c in csv]
    csv_labels = _read_csv_labels(csv_paths, root, folder)

    images: dict[Path, str] = {}
    for subset, sub in (("", folder), (TESTING, folder / TESTING)):
        if subset and not include_testing:
            continue
        if sub.is_dir():
            images.update({p: subset for p in iter_images(sub)})
    known = {p.resolve() for p in images}
    for path in csv_labels:
        subset = TESTING if path.parent.name == TESTING else ""
        if path not in known and (include_testing or not subset):
            images[path] = subset

    records: list[HalfRecord] = []
    missing: list[Path] = []
    ignored: list[str] = []
    unmatched: list[str] = []
    sources = {"csv": 0, "per_half": 0, "per_frame": 0, "pspi_folder_per_half": 0, "pspi_folder_per_frame": 0}
    halves_seen: dict[str, set[str]] = {}
    for path, subset in sorted(images.items()):
        match = _HALF_NAME.match(path.stem)
        if match is None:
            ignored.append(str(path))
            continue
        frame, half = match.group("frame"), match.group("half")
        subject = subject_from(frame, subject_pattern)
        if subject is None:
            unmatched.append(frame)
            continue
        pspi: float | None = csv_labels.get(path.resolve())
        if pspi is not None:
            sources["csv"] += 1
        else:
            for candidate, kind in _label_candidates(path, frame, half, folder):
                if candidate.is_file():
                    pspi = read_scalar(candidate)
                    sources[kind] += 1
                    break
        if pspi is None:
            missing.append(path)
            if missing_labels == "skip":
                continue
        halves_seen.setdefault(f"{subset}/{frame}", set()).add(half)
        records.append(
            HalfRecord(
                image_path=path,
                subject=subject,
                frame_id=frame,
                side=half_side(half, side_convention),
                pspi=pspi,
                dataset=dataset,
                subset=subset,
            )
        )
    require_subjects(unmatched, str(folder))
    handle_missing(missing, missing_labels, str(folder))
    if not records and not missing:
        raise LayoutError(f"{folder} holds no <frame>_a / <frame>_b images")
    unpaired = sorted(k for k, v in halves_seen.items() if len(v) < 2)
    subsets = sorted({r.subset for r in records})
    notes = {
        "layout": "half_face",
        "root": str(root),
        "side_convention": side_convention,
        "images": len(records),
        "frames": len(halves_seen),
        "subjects": len({r.subject for r in records}),
        "label_sources": sources,
        "subsets": {s or "top": sum(r.subset == s for r in records) for s in subsets},
        "unpaired_halves": {"count": len(unpaired), "examples": unpaired[:10]},
        "missing_labels": {"count": len(missing), "handling": missing_labels,
                           "examples": [str(p) for p in missing[:10]]},
        "ignored_images": {"count": len(ignored), "examples": ignored[:10]},
    }
    return RecordList(records, notes)


def write_half_face_pair(
    root: str | Path,
    frame_id: str,
    right_half: np.ndarray,
    left_half: np.ndarray,
    pspi_right: float,
    pspi_left: float,
    label_mode: LabelMode = "beside",
    *,
    subset: str = "",
) -> tuple[Path, Path]:
    """Write the two halves of one frame under ``root/pain-dataset/`` and return ``(path_a, path_b)``.

    Written in the ``"patient"`` convention: ``<frame>_a.png`` = ``right_half`` (the patient's right),
    ``<frame>_b.png`` = ``left_half`` (the patient's left).

    Args:
        root: dataset root (``pain-dataset/`` is created inside it).
        frame_id: frame id, shared by both halves; must not end in ``_a`` / ``_b``.
        right_half, left_half: uint8 ``(H, W)`` or ``(H, W, 3)`` half images as they appear in the photo
            (not mirrored).
        pspi_right, pspi_left: PSPI of each half.
        label_mode: ``"beside"`` writes ``<frame>_a_facs.txt`` / ``<frame>_b_facs.txt`` next to the
            images; ``"pspi_dir"`` writes them under ``pain-dataset/pspi/``; the ``*_per_frame`` variants
            write one ``<frame>_facs.txt`` (both PSPI values must then be equal).
        subset: ``""`` or ``"testing"`` (the ``pain-dataset/testing/`` folder).
    """
    if not frame_id or "/" in frame_id or "\\" in frame_id or _HALF_NAME.match(frame_id):
        raise ValueError(f"frame_id must be a plain name not ending in _a/_b, got {frame_id!r}")
    if subset not in ("", TESTING):
        raise ValueError(f"subset must be '' or {TESTING!r}, got {subset!r}")
    folder = Path(root) / FOLDER
    image_dir = folder / subset if subset else folder
    if label_mode in ("beside", "beside_per_frame"):
        label_dir = image_dir
    elif label_mode in ("pspi_dir", "pspi_dir_per_frame"):
        label_dir = image_dir / PSPI_FOLDER
    else:
        raise ValueError(f"label_mode must be one of {LabelMode.__args__}, got {label_mode!r}")
    if label_mode.endswith("_per_frame") and float(pspi_right) != float(pspi_left):
        raise ValueError("A per-frame label needs equal PSPI for both halves; use a per-half label_mode")
    path_a = write_png(image_dir / f"{frame_id}_a.png", right_half)
    path_b = write_png(image_dir / f"{frame_id}_b.png", left_half)
    if label_mode.endswith("_per_frame"):
        write_scalar(label_dir / f"{frame_id}_facs.txt", pspi_right)
    else:
        write_scalar(label_dir / f"{frame_id}_a_facs.txt", pspi_right)
        write_scalar(label_dir / f"{frame_id}_b_facs.txt", pspi_left)
    return path_a, path_b
