"""Evaluation splits with a leakage check: random, k-fold, subject-wise, cross-dataset, predefined.

Two kinds of leakage make held-out numbers look better than they are:

- **frame leakage**: the same frame (``record.group``; the two halves of one frame share it) or the very
  same image file on both sides. The earlier project's random 80/20 over half-face images did this: the
  two halves of a frame are near mirror images, so the model is tested on what it trained on.
- **subject leakage**: other frames of the same person on both sides. A random split by frame still does
  this whenever subjects have several frames.

:func:`check_leakage` measures both and refuses a leaky split with :class:`LeakageError` unless the leak
is explicitly allowed, in which case the report says so and how large it is. Every protocol returns a
:class:`Split` whose ``leakage`` report is a JSON-serialisable dict meant for an auditor: the protocol,
the unit that was split, sizes and label balance on each side, the overlaps found (counts, records
affected, examples), what was allowed, the held-out subjects and a fingerprint of the membership.

All shuffling uses ``numpy.random.default_rng(seed)`` over sorted keys, so a seed reproduces a split
exactly regardless of the input order.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Literal

import numpy as np

from data.records import R

_EXAMPLES = 10

SplitUnit = Literal["subject", "frame"]


#: A subject-wise split is checked for subject ids that look like frame ids once it has this many frames.
SUBJECTS_AS_FRAMES_MIN_FRAMES = 10
#: ... and warned about when the subjects number at least this share of the frames.
SUBJECTS_AS_FRAMES_SHARE = 0.9


class SubjectIdWarning(UserWarning):
    """Subjects are about as many as frames: subject ids may be frame ids in disguise."""


def subject_id_warning(records: Sequence[Any]) -> str | None:
    """A warning when nearly every frame has its own subject id (None otherwise).

    Subject ids read from file names that carry no person id (``img0001.png``) make every frame its own
    "subject", which turns a subject-wise split into a frame-wise one without a word. A dataset with
    one photo per person is fine; the warning says how to tell the two apart.
    """
    frames = {r.group for r in records}
    subjects = {r.subject for r in records}
    if len(frames) < SUBJECTS_AS_FRAMES_MIN_FRAMES or len(subjects) < SUBJECTS_AS_FRAMES_SHARE * len(frames):
        return None
    return (f"{len(subjects)} subjects for {len(frames)} frames: nearly every frame has a subject of its "
            "own. "
            "If the subject ids were guessed from file names that carry no person id, this subject-wise "
            "split is frame-wise in effect (frames of one person can land on both sides); give the loader "
            "a subject_pattern or a subject column. If the data really has one frame per person, ignore "
            "this.")


class LeakageError(ValueError):
    """A split puts the same frame or the same subject on both sides. ``report`` has the details."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        checks = report["checks"]
        parts = []
        if checks["same_image"]["count"]:
            parts.append(
                f"{checks['same_image']['count']} image file(s) on both sides "
                f"(e.g. {', '.join(checks['same_image']['examples'][:3])})"
            )
        if checks["same_frame"]["count"]:
            parts.append(
                f"{checks['same_frame']['count']} frame(s) on both sides, "
                f"{checks['same_frame']['test_records']} held-out record(s) affected "
                f"(e.g. {', '.join(checks['same_frame']['examples'][:3])})"
            )
        if checks["same_subject"]["count"]:
            parts.append(
                f"{checks['same_subject']['count']} subject(s) on both sides, "
                f"{checks['same_subject']['test_records']} held-out record(s) affected "
                f"(e.g. {', '.join(checks['same_subject']['examples'][:3])})"
            )
        super().__init__(
            f"Leaky split ({report['protocol']}): " + "; ".join(parts) + ". Use a subject-wise split "
            "(subject_split / kfold(unit='subject')), or allow the leak explicitly (allow=True, or "
            "allow_subject_leak=True for subject overlap only) so that it is recorded in the report."
        )


@dataclass(frozen=True)
class Split(Generic[R]):
    """One train / held-out split.

    Attributes:
        train: training records.
        test: held-out records (validation or test, depending on the protocol); also ``val``.
        protocol: ``"random"``, ``"kfold"``, ``"subject"``, ``"cross_dataset"`` or ``"predefined"``.
        seed: the seed that produced it (None when no randomness was involved).
        leakage: the JSON-serialisable report of :func:`check_leakage`.
        fold: fold index for k-fold (0-based), else None.
        n_folds: K for k-fold, else None.
    """

    train: list[R]
    test: list[R]
    protocol: str
    seed: int | None
    leakage: dict[str, Any] = field(repr=False)
    fold: int | None = None
    n_folds: int | None = None

    @property
    def val(self) -> list[R]:
        """The held-out records (same list as ``test``)."""
        return self.test

    @property
    def leak_free(self) -> bool:
        """True when no frame, image or subject is on both sides."""
        return bool(self.leakage["leak_free"])

    def to_dict(self) -> dict[str, Any]:
        """Summary without the records: protocol, seed, fold, sizes and the leakage report."""
        return {
            "protocol": self.protocol,
            "seed": self.seed,
            "fold": self.fold,
            "n_folds": self.n_folds,
            "n_train": len(self.train),
            "n_test": len(self.test),
            "leakage": self.leakage,
        }


def _label_value(record: Any) -> Any:
    label = getattr(record, "label", None)
    return label.value if isinstance(label, Enum) else label


def _label_summary(records: Sequence[Any]) -> dict[str, Any]:
    """Label balance: PSPI statistics for numeric labels, class counts for sides and booleans."""
    labels = [_label_value(r) for r in records]
    known = [v for v in labels if v is not None]
    summary: dict[str, Any] = {"labelled": len(known), "unlabelled": len(labels) - len(known)}
    if known and all(isinstance(v, bool) for v in known):
        summary["counts"] = {"true": sum(known), "false": len(known) - sum(known)}
    elif known and all(isinstance(v, int | float) for v in known):
        values = np.asarray(known, dtype=np.float64)
        summary.update(
            mean=round(float(values.mean()), 4),
            std=round(float(values.std()), 4),
            fraction_positive=round(float((values > 0).mean()), 4),
            histogram={str(k): v for k, v in sorted(Counter(int(round(x)) for x in values).items())},
        )
    elif known:
        summary["counts"] = {str(k): v for k, v in sorted(Counter(str(v) for v in known).items())}
    return summary


def _side_summary(records: Sequence[Any]) -> dict[str, Any]:
    return {
        "records": len(records),
        "subjects": len({r.subject for r in records}),
        "frames": len({r.group for r in records}),
        "datasets": dict(sorted(Counter(r.dataset for r in records).items())),
        "labels": _label_summary(records),
    }


def _overlap(train: Sequence[Any], test: Sequence[Any], key: Any) -> dict[str, Any]:
    shared = {key(r) for r in train} & {key(r) for r in test}
    test_hit = sum(key(r) in shared for r in test)
    return {
        "count": len(shared),
        "train_records": sum(key(r) in shared for r in train),
        "test_records": test_hit,
        "test_fraction": round(test_hit / len(test), 4) if test else 0.0,
        "examples": sorted(str(k) for k in shared)[:_EXAMPLES],
    }


def _fingerprint(records: Iterable[Any]) -> str:
    digest = hashlib.sha256()
    for key in sorted({f"{r.dataset}|{r.group}|{r.image_path}" for r in records}):
        digest.update(key.encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def check_leakage(
    train: Sequence[R],
    test: Sequence[R],
    *,
    allow: bool = False,
    allow_subject_leak: bool = False,
    protocol: str = "custom",
    seed: int | None = None,
    unit: str = "given",
) -> dict[str, Any]:
    """Compare the two sides of a split and return a JSON-serialisable leakage report.

    Checks, each with count, records affected on each side, the held-out fraction affected and examples:
    ``same_image`` (one image file on both sides), ``same_frame`` (one ``group`` on both sides, e.g. the
    two halves of a frame) and ``same_subject``.

    Args:
        train, test: the two sides (records with ``subject``, ``group``, ``dataset``, ``image_path``).
        allow: accept any leak; the report then lists it under ``allowed``.
        allow_subject_leak: accept subject overlap only (frames and images must still be disjoint).
        protocol, seed, unit: recorded in the report (``unit``: what was shuffled, e.g. ``"subject"``).

    Raises:
        LeakageError: a leak that was not allowed; ``err.report`` is the full report.
    """
    checks = {
        "same_image": _overlap(train, test, lambda r: str(r.image_path)),
        "same_frame": _overlap(train, test, lambda r: r.group),
        "same_subject": _overlap(train, test, lambda r: r.subject),
    }
    frame_leak = bool(checks["same_image"]["count"] or checks["same_frame"]["count"])
    subject_leak = bool(checks["same_subject"]["count"])
    allowed = []
    if frame_leak and allow:
        allowed += [k for k in ("same_image", "same_frame") if checks[k]["count"]]
    if subject_leak and (allow or allow_subject_leak):
        allowed.append("same_subject")
    leak_free = not (frame_leak or subject_leak)
    refused = (frame_leak and not allow) or (subject_leak and not (allow or allow_subject_leak))
    if leak_free:
        verdict = "no leakage: no image, frame or subject on both sides"
    elif refused:
        verdict = "refused: leakage not allowed"
    else:
        verdict = "leakage explicitly allowed: " + ", ".join(
            f"{k} ({checks[k]['count']}, {checks[k]['test_fraction']:.1%} of held-out records)"
            for k in allowed
        )
    report: dict[str, Any] = {
        "protocol": protocol,
        "seed": seed,
        "unit": unit,
        "keys": {
            "subject": "record.subject (the person)",
            "frame": "record.group (frame id; both halves of one frame share it)",
            "image": "record.image_path",
        },
        "train": _side_summary(train),
        "test": _side_summary(test),
        "checks": checks,
        "leak_free": leak_free,
        "allowed": allowed,
        "allow_flags": {"allow": allow, "allow_subject_leak": allow_subject_leak},
        "verdict": verdict,
        "test_subjects": sorted({r.subject for r in test}),
        "fingerprint": {"train": _fingerprint(train), "test": _fingerprint(test)},
        "warnings": [],
    }
    if refused:
        raise LeakageError(report)
    subject_warning = subject_id_warning([*train, *test])
    if subject_warning is not None:
        report["warnings"].append(subject_warning)
        warnings.warn(subject_warning, SubjectIdWarning, stacklevel=2)
    return report


def _group_by(records: Sequence[R], unit: SplitUnit) -> dict[str, list[int]]:
    """Record indices per unit key (subject or frame)."""
    if unit not in ("subject", "frame"):
        raise ValueError(f"unit must be 'subject' or 'frame', got {unit!r}")
    units: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        units.setdefault(record.subject if unit == "subject" else record.group, []).append(index)
    return units


def _shuffled_keys(units: dict[str, list[int]], seed: int) -> list[str]:
    keys = sorted(units)
    order = np.random.default_rng(seed).permutation(len(keys))
    return [keys[i] for i in order]


def _take(records: Sequence[R], units: dict[str, list[int]], keys: Iterable[str]) -> list[R]:
    indices = sorted(i for k in keys for i in units[k])
    return [records[i] for i in indices]


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")


def random_split(
    records: Sequence[R],
    val_fraction: float = 0.2,
    seed: int = 0,
    *,
    allow_subject_leak: bool = False,
) -> Split[R]:
    """The report's random 80/20, done by *frame*: both halves of a frame stay on the same side.

    ``round(val_fraction * n_frames)`` frames (at least one, at most all but one) are held out. Frames of
    one subject can still fall on both sides; that raises :class:`LeakageError` unless
    ``allow_subject_leak=True``, which the report records with its size.
    """
    _check_fraction(val_fraction)
    units = _group_by(records, "frame")
    if len(units) < 2:
        raise ValueError(f"Need at least 2 frames to split, got {len(units)}")
    n_test = min(max(round(val_fraction * len(units)), 1), len(units) - 1)
    keys = _shuffled_keys(units, seed)
    train, test = _take(records, units, keys[n_test:]), _take(records, units, keys[:n_test])
    report = check_leakage(
        train, test, allow_subject_leak=allow_subject_leak, protocol="random", seed=seed, unit="frame"
    )
    report["val_fraction"] = val_fraction
    return Split(train, test, "random", seed, report)


def subject_split(records: Sequence[R], val_fraction: float = 0.2, seed: int = 0) -> Split[R]:
    """Hold out whole subjects: no subject is on both sides.

    Subjects are shuffled with ``seed`` and the first ones held out, stopping at the count whose records
    come closest to ``val_fraction`` of all records (at least one subject on each side).
    """
    _check_fraction(val_fraction)
    units = _group_by(records, "subject")
    if len(units) < 2:
        raise ValueError(f"A subject-wise split needs at least 2 subjects, got {len(units)}")
    keys = _shuffled_keys(units, seed)
    target = val_fraction * len(records)
    cumulative = np.cumsum([len(units[k]) for k in keys])
    cut = 1 + int(np.argmin(np.abs(cumulative[: len(keys) - 1] - target)))
    train, test = _take(records, units, keys[cut:]), _take(records, units, keys[:cut])
    report = check_leakage(train, test, protocol="subject", seed=seed, unit="subject")
    report["val_fraction"] = val_fraction
    report["achieved_fraction"] = round(len(test) / len(records), 4)
    return Split(train, test, "subject", seed, report)


def kfold(
    records: Sequence[R],
    k: int = 5,
    seed: int = 0,
    *,
    unit: SplitUnit = "subject",
    allow_subject_leak: bool = False,
) -> list[Split[R]]:
    """K-fold cross-validation (K=5 as in the cerebral-palsy study); every record is held out once.

    ``unit="subject"`` (default) keeps each subject in one fold. ``unit="frame"`` keeps each frame (both
    halves) in one fold but lets subjects span folds, which raises :class:`LeakageError` unless
    ``allow_subject_leak=True``. Units are shuffled with ``seed`` and dealt to the fold with the fewest
    records so far, which keeps folds close in size.
    """
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    units = _group_by(records, unit)
    if len(units) < k:
        raise ValueError(f"k={k} folds need at least {k} {unit}s, got {len(units)}")
    folds: list[list[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    for key in _shuffled_keys(units, seed):
        target = int(np.argmin(sizes))
        folds[target].append(key)
        sizes[target] += len(units[key])
    splits = []
    for index, held_out in enumerate(folds):
        rest = [key for j, fold in enumerate(folds) if j != index for key in fold]
        train, test = _take(records, units, rest), _take(records, units, held_out)
        report = check_leakage(
            train, test, allow_subject_leak=allow_subject_leak, protocol="kfold", seed=seed, unit=unit
        )
        report["fold"] = {"index": index, "k": k, "sizes": sizes}
        splits.append(Split(train, test, "kfold", seed, report, fold=index, n_folds=k))
    return splits


def cross_dataset(
    train_records: Sequence[R],
    test_records: Sequence[R],
    *,
    allow: bool = False,
    allow_subject_leak: bool = False,
) -> Split[R]:
    """Train on one dataset, test on another. The leakage check still runs: subject ids that appear in
    both (the same person, or a naming collision) are refused unless allowed."""
    if not train_records or not test_records:
        raise ValueError("cross_dataset needs records on both sides")
    train, test = list(train_records), list(test_records)
    report = check_leakage(
        train, test, allow=allow, allow_subject_leak=allow_subject_leak, protocol="cross_dataset",
        unit="dataset",
    )
    return Split(train, test, "cross_dataset", None, report)


def predefined_split(
    records: Sequence[R],
    test_subset: str = "testing",
    *,
    allow: bool = False,
    allow_subject_leak: bool = False,
) -> Split[R]:
    """Use a dataset's own held-out folder (records whose ``subset`` equals ``test_subset``).

    The earlier half-face project kept ``pain-dataset/testing/`` apart but then trained on it as well;
    here the two are disjoint and checked for shared frames and subjects like any other split.
    """
    test = [r for r in records if getattr(r, "subset", "") == test_subset]
    train = [r for r in records if getattr(r, "subset", "") != test_subset]
    if not test or not train:
        raise ValueError(
            f"subset {test_subset!r} gives {len(test)} held-out and {len(train)} training records"
        )
    report = check_leakage(
        train, test, allow=allow, allow_subject_leak=allow_subject_leak, protocol="predefined", unit="subset"
    )
    return Split(train, test, "predefined", None, report)

