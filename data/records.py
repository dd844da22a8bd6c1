"""Typed records that dataset loaders return and splits consume.

A record points at one image on disk and carries its labels; it never holds pixels. Every record has a
``subject`` (the person it shows) and a ``group`` (the frame it comes from; the two halves of one frame
share it), which is what the leakage check in :mod:`data.splits` compares across the two sides of a
split. Sides are :class:`faces.sides.Side`, always the patient's anatomical side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from faces.landmarks import N_LANDMARKS
from faces.sides import Side

PSPI_MIN = 0.0
PSPI_MAX = 16.0

#: Action units that enter the PSPI formula.
PSPI_AUS = (4, 6, 7, 9, 10, 43)


def pspi_from_facs(facs: Mapping[int, float]) -> float:
    """Prkachin-Solomon pain intensity from action-unit intensities.

    ``PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43``, clamped to [0, 16]. AU4..AU10 are intensities
    0-5; AU43 (eyes closed) is binary, so any positive AU43 value counts as 1. Missing AUs count as 0.
    """
    au = {int(code): float(value) for code, value in facs.items()}
    score = (
        au.get(4, 0.0)
        + max(au.get(6, 0.0), au.get(7, 0.0))
        + max(au.get(9, 0.0), au.get(10, 0.0))
        + (1.0 if au.get(43, 0.0) > 0 else 0.0)
    )
    return float(min(max(score, PSPI_MIN), PSPI_MAX))


@runtime_checkable
class Record(Protocol):
    """What splits and the leakage check need from any record."""

    image_path: Path
    subject: str
    dataset: str

    @property
    def group(self) -> str: ...

    @property
    def label(self) -> Any: ...


R = TypeVar("R", bound=Record)


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if a is None or b is None:
            return False
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    return a == b


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """One full-face video frame (UNBC-McMaster layout).

    Attributes:
        image_path: the frame's image file.
        dataset: dataset name, e.g. ``"unbc"``.
        subject: subject folder name (UNBC: ``"042-ll042"``).
        sequence: sequence folder name (UNBC: ``"ll042t1aaaff"``).
        frame_id: the image file's stem (UNBC: ``"ll042t1aaaff001"``).
        pspi: PSPI score in [0, 16], or None when the frame has no label.
        facs: action-unit code -> intensity (0-5; AU43 0/1), or None when no FACS file exists. An empty
            dict means the frame was coded and no AU was active.
        landmarks: float64 array (68, 2) of (x, y) pixel coordinates in iBUG order, read-only, or None.
        palsy_side: the patient side affected by facial palsy, or None when unknown / not applicable.
    """

    image_path: Path
    dataset: str
    subject: str
    sequence: str
    frame_id: str
    pspi: float | None = None
    facs: Mapping[int, float] | None = None
    landmarks: np.ndarray | None = field(default=None, repr=False)
    palsy_side: Side | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_path", Path(self.image_path))
        if self.pspi is not None:
            object.__setattr__(self, "pspi", float(self.pspi))
        if self.facs is not None:
            object.__setattr__(self, "facs", {int(k): float(v) for k, v in sorted(self.facs.items())})
        if self.landmarks is not None:
            points = np.array(self.landmarks, dtype=np.float64)
            if points.shape != (N_LANDMARKS, 2):
                raise ValueError(f"landmarks must have shape ({N_LANDMARKS}, 2), got {points.shape}")
            points.setflags(write=False)
            object.__setattr__(self, "landmarks", points)
        if self.palsy_side is not None:
            object.__setattr__(self, "palsy_side", Side.parse(self.palsy_side))

    @property
    def group(self) -> str:
        """Frame key shared by everything cut from this frame: ``subject/sequence/frame_id``."""
        return f"{self.subject}/{self.sequence}/{self.frame_id}"

    @property
    def label(self) -> float | None:
        """The PSPI score."""
        return self.pspi

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrameRecord):
            return NotImplemented
        return all(_values_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def __hash__(self) -> int:
        return hash((self.image_path, self.group))


@dataclass(frozen=True)
class HalfRecord:
    """One half-face image (the earlier project's ``pain-dataset`` layout).

    Attributes:
        image_path: the half-face image, stored as it appears in the photo (not mirrored).
        subject: the person, parsed from the frame id.
        frame_id: id of the full frame; both halves of one frame share it (``<frame>_a`` / ``<frame>_b``).
        side: which patient side this half shows.
        pspi: PSPI score in [0, 16], or None when unlabelled.
        dataset: dataset name.
        subset: sub-folder the file came from (``""`` for the top level, ``"testing"`` for ``testing/``).
    """

    image_path: Path
    subject: str
    frame_id: str
    side: Side
    pspi: float | None
    dataset: str = "half_face"
    subset: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_path", Path(self.image_path))
        object.__setattr__(self, "side", Side.parse(self.side))
        if self.pspi is not None:
            object.__setattr__(self, "pspi", float(self.pspi))

    @property
    def group(self) -> str:
        """The frame id: both halves of one frame belong to the same group."""
        return self.frame_id

    @property
    def label(self) -> float | None:
        """The PSPI score."""
        return self.pspi


@dataclass(frozen=True)
class SideRecord:
    """One full-face image labelled with the side the stroke affected.

    Attributes:
        image_path: the full-face photo.
        subject: the person, parsed from the file name or given in ``labels.csv``.
        affected_side: the affected patient side.
        frame_id: the file name relative to the dataset folder, without extension.
        dataset: dataset name.
    """

    image_path: Path
    subject: str
    affected_side: Side
    frame_id: str = ""
    dataset: str = "side_labels"

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_path", Path(self.image_path))
        object.__setattr__(self, "affected_side", Side.parse(self.affected_side))
        if not self.frame_id:
            object.__setattr__(self, "frame_id", self.image_path.stem)

    @property
    def group(self) -> str:
        """The frame id."""
        return self.frame_id

    @property
    def label(self) -> Side:
        """The affected side."""
        return self.affected_side


@dataclass(frozen=True)
class BinaryPainRecord:
    """One full-face image in a ``pain/`` or ``no_pain/`` folder.

    Attributes:
        image_path: the image.
        subject: the person, parsed from the file name.
        pain: True for the ``pain/`` folder.
        frame_id: the file stem.
        dataset: dataset name.
    """

    image_path: Path
    subject: str
    pain: bool
    frame_id: str = ""
    dataset: str = "binary_pain"

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_path", Path(self.image_path))
        object.__setattr__(self, "pain", bool(self.pain))
        if not self.frame_id:
            object.__setattr__(self, "frame_id", self.image_path.stem)

    @property
    def group(self) -> str:
        """The frame id."""
        return self.frame_id

    @property
    def label(self) -> bool:
        """Pain present."""
        return self.pain


AnyRecord = FrameRecord | HalfRecord | SideRecord | BinaryPainRecord


class RecordList(list):
    """A list of records plus ``notes``: what the loader skipped, counted or assumed (JSON-serialisable).

    Behaves as a plain ``list``; ``notes`` holds e.g. ``{"skip_rows": 3, "missing_labels": [...]}``.
    """

    def __init__(self, records: Any = (), notes: dict[str, Any] | None = None) -> None:
        super().__init__(records)
        self.notes: dict[str, Any] = dict(notes or {})


__all__ = [
    "PSPI_AUS",
    "PSPI_MAX",
    "PSPI_MIN",
    "AnyRecord",
    "BinaryPainRecord",
    "FrameRecord",
    "HalfRecord",
    "Record",
    "RecordList",
    "SideRecord",
    "pspi_from_facs",
]
