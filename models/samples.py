"""Training data: records -> samples (one per half or face, with its target) -> cached model inputs.

- ``side``: full-face photos labelled with the affected side (side-label layout, or UNBC-layout frames
  that carry a palsy side) -> :func:`faces.analyse` -> the aligned crop in the non-mirrored canonical
  view. Target: class index in :data:`~models.registry.SIDE_CLASSES` (0 patient-left, 1 patient-right).
- ``pain``: PSPI regression on half faces: the half-face layout (patient-left halves are mirrored to
  canonical orientation) or UNBC-layout full frames (``faces.analyse`` with the file's landmarks, both
  halves used, canonical). ``input_kind="aligned_face"`` trains a full-face pain model instead.
- ``pain_binary``: pain / no-pain, from ``pain/`` + ``no_pain/`` folders (full face) or from PSPI labels
  thresholded (``PSPI > binary_threshold``).

The split is made on records (so both halves of one frame always land on the same side) through
:mod:`data.splits`, which refuses a leaky split unless ``allow_leak`` is set. Inputs are made once by
:mod:`models.preprocess` (the functions inference uses) and cached as uint8 arrays; normalisation and
augmentation happen per batch (:mod:`models.augment`, :mod:`models.epochs`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from data.records import BinaryPainRecord, HalfRecord, SideRecord
from faces.sides import Side
from models.preprocess import InputSpec, canonical_half, face_source, fit
from models.registry import SIDE_CLASSES
from models.train_config import TrainConfig, TrainingError

CACHE_VERSION = 2
NO_CLEAR_SIDE = 0.5  # side target of a face without palsy: even odds (see TrainConfig.side_no_palsy)


def _stamp(path: Path) -> list[int]:
    """Size and modification time of a file ([-1, -1] if missing): a re-rendered image with the same name
    must not reuse inputs cached from the old one."""
    try:
        stat = Path(path).stat()
    except OSError:
        return [-1, -1]
    return [stat.st_size, stat.st_mtime_ns]


@dataclass(frozen=True)
class Sample:
    """One training example: a record, the half it uses (None for a whole face) and its target."""

    record: Any
    half: Side | None
    target: float

    @property
    def key(self) -> str:
        return f"{self.record.image_path}|{self.half.value if self.half else 'face'}"


@dataclass
class PreparedData:
    """Cached model inputs: ``images`` uint8 ``(N, 3, H, W)``, ``targets`` float32 ``(N,)``, ``keys``."""

    images: torch.Tensor
    targets: torch.Tensor
    keys: list[str]
    skipped: dict[str, str]


def natural_input_kind(task: str, records: Sequence[Any]) -> str:
    """The input a task trains on by default for these records (``aligned_face`` or ``half_face``)."""
    if task == "pain" or any(isinstance(r, HalfRecord) for r in records):
        return "half_face"
    return "aligned_face"


def load_records(config: TrainConfig) -> tuple[list[Any], str, dict[str, Any]]:
    """Records of ``config.data`` usable for ``config.task``: ``(records, layout, loader notes)``."""
    from data.layouts import detect_layout, load_any

    layout = config.layout or detect_layout(config.data)
    options: dict[str, Any] = {}
    if layout in ("half_face", "side_labels"):
        options["side_convention"] = config.side_convention
    if layout in ("half_face", "unbc"):
        options["missing_labels"] = "skip"
    loaded = load_any(config.data, layout=layout, **options)
    notes = dict(getattr(loaded, "notes", {}))
    records = list(loaded)
    for extra in config.extra_data:
        more = load_any(extra, layout=layout, **options)
        clash = {r.subject for r in more} & {r.subject for r in records}
        if clash:
            raise TrainingError(f"{extra} repeats subjects of the other training folders "
                                f"({sorted(clash)[:3]}): name subjects uniquely across folders")
        records += list(more)
    usable = [r for r in records if target_of(r, config) is not None]
    if not usable:
        raise TrainingError(
            f"{config.data} ({layout} layout, {len(records)} records) has nothing to train the "
            f"{config.task!r} task on: side needs side labels (or frames with a palsy side), pain needs "
            "PSPI labels, pain_binary needs pain/no_pain folders or PSPI labels."
        )
    if config.max_records is not None and len(usable) > config.max_records:
        usable = usable[: config.max_records]
    return usable, layout, notes


def target_of(record: Any, config: TrainConfig) -> float | None:
    """The numeric target of a record for the task, or None when the record has no label for it."""
    if config.task == "side":
        side = record.affected_side if isinstance(record, SideRecord) else getattr(record, "palsy_side", None)
        if side is None:
            even = config.side_no_palsy == "even" and hasattr(record, "palsy_side")
            return NO_CLEAR_SIDE if even else None
        return float(SIDE_CLASSES.index(side))
    if isinstance(record, BinaryPainRecord):
        return float(record.pain) if config.task == "pain_binary" else None
    pspi = getattr(record, "pspi", None)
    if pspi is None or isinstance(record, SideRecord):
        return None
    if config.task == "pain_binary":
        return float(pspi > config.binary_threshold)
    return float(pspi)


def expand(records: Sequence[Any], config: TrainConfig, kind: str) -> list[Sample]:
    """Samples of the records: one per half-face record, two per full frame for half inputs, else one."""
    samples = []
    for record in records:
        target = target_of(record, config)
        if target is None:
            continue
        if isinstance(record, HalfRecord):
            if kind != "half_face":
                raise TrainingError("Half-face images can only train a half-face model (input half_face)")
            samples.append(Sample(record, record.side, target))
        elif kind == "half_face":
            samples += [Sample(record, side, target) for side in (Side.RIGHT, Side.LEFT)]
        else:
            samples.append(Sample(record, None, target))
    return samples


def listing_hash(records: Sequence[Any], root: Path) -> str:
    """sha256 of the sorted listing ``relative path, label, subject, group`` of the records."""
    lines = []
    for r in records:
        try:
            rel = Path(r.image_path).resolve().relative_to(root.resolve())
        except ValueError:
            rel = Path(r.image_path)
        label = getattr(r.label, "value", r.label)
        lines.append(f"{rel.as_posix()}\t{label}\t{r.subject}\t{r.group}")
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


Analyse = Callable[..., Any]


def sample_images(record: Any, halves: Sequence[Side | None], spec: InputSpec, *, analyse: Analyse,
                  on_no_face: str = "error", landmarks: str = "file") -> list[np.ndarray]:
    """Fitted uint8 ``(H, W, 3)`` inputs of one record, one per entry of ``halves`` (None = whole face).

    Half-face files are read and made canonical directly; full-face images go through ``analyse``
    (``faces.analyse``), with the record's own landmarks when it has them and ``landmarks == "file"``.
    """
    if isinstance(record, HalfRecord):
        from data.layouts import read_image_array

        return [fit(canonical_half(read_image_array(record.image_path), record.side), spec)]
    given = getattr(record, "landmarks", None) if landmarks == "file" else None
    geometry = analyse(record.image_path, False, landmarks=given, on_no_face=on_no_face)
    out = []
    for half in halves:
        source = face_source(geometry, spec) if half is None else geometry.halves[half].image
        out.append(fit(source, spec))
    return out


def prepare(samples: Sequence[Sample], spec: InputSpec, cache_dir: Path | None, *,
            analyse: Analyse | None = None, on_no_face: str = "error", progress: bool = True,
            landmarks: str = "file") -> PreparedData:
    """Model inputs for ``samples`` (uint8, fitted to ``spec``), read from or written to ``cache_dir``.

    A record whose face cannot be found is skipped and listed in ``skipped`` (key -> reason); any other
    error stops. The cache file name hashes the sample keys, each image file's size and modification time
    and the spec, so a changed listing, a re-rendered image or another input size never reuses stale
    inputs.
    """
    keys = [s.key for s in samples]
    stamps = [_stamp(s.record.image_path) for s in samples]
    identity = json.dumps([CACHE_VERSION, spec.to_dict(), on_no_face, keys, stamps]
                          + ([landmarks] if landmarks != "file" else []))
    digest = hashlib.sha256(identity.encode()).hexdigest()
    cache_file = cache_dir / f"inputs-{digest[:20]}.npz" if cache_dir is not None else None
    if cache_file is not None and cache_file.is_file():
        with np.load(cache_file, allow_pickle=False) as cached:
            skipped = json.loads(str(cached["skipped"]))
            return PreparedData(torch.from_numpy(cached["images"]), torch.from_numpy(cached["targets"]),
                                [str(k) for k in cached["keys"]], skipped)
    if analyse is None:
        from faces import analyse as faces_analyse

        analyse = faces_analyse
    from faces.errors import FaceInputError

    by_record: dict[str, list[Sample]] = {}
    for sample in samples:
        by_record.setdefault(str(sample.record.image_path), []).append(sample)
    images, targets, kept, skipped = [], [], [], {}
    for group in tqdm(by_record.values(), desc="preparing inputs", unit="image", disable=not progress):
        try:
            arrays = sample_images(group[0].record, [s.half for s in group], spec, analyse=analyse,
                                   on_no_face=on_no_face, landmarks=landmarks)
        except FaceInputError as err:
            for s in group:
                skipped[s.key] = str(err)
            continue
        for sample, array in zip(group, arrays, strict=True):
            images.append(array)
            targets.append(sample.target)
            kept.append(sample.key)
    if not images:
        raise TrainingError(f"No usable inputs: all {len(samples)} samples were skipped "
                            f"(first reason: {next(iter(skipped.values()), 'none')})")
    stacked = np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2))
    target_array = np.asarray(targets, np.float32)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(cache_file.stem + ".tmp.npz")
        np.savez(tmp, images=stacked, targets=target_array, keys=np.asarray(kept),
                 skipped=json.dumps(skipped))
        tmp.replace(cache_file)
    return PreparedData(torch.from_numpy(stacked), torch.from_numpy(target_array), kept, skipped)


def make_split(records: list[Any], config: TrainConfig) -> Any:
    """The :class:`data.splits.Split` for the config; leaks raise :class:`TrainingError` unless allowed."""
    from data import splits

    try:
        if config.split == "random":
            return splits.random_split(records, config.val_fraction, config.seed,
                                       allow_subject_leak=config.allow_leak)
        if config.split == "subject":
            return splits.subject_split(records, config.val_fraction, config.seed)
        if config.split == "kfold":
            folds = splits.kfold(records, config.folds, config.seed, allow_subject_leak=config.allow_leak)
            if not 0 <= config.fold < len(folds):
                raise TrainingError(f"fold must be in 0..{len(folds) - 1}, got {config.fold}")
            return folds[config.fold]
        return splits.predefined_split(records, allow=config.allow_leak, allow_subject_leak=config.allow_leak)
    except splits.LeakageError as err:
        raise TrainingError(f"{err} (pass --allow-leak to train anyway; the model card records it)") from err



__all__ = ["CACHE_VERSION", "NO_CLEAR_SIDE", "Analyse", "PreparedData", "Sample", "expand", "listing_hash",
           "load_records",
           "make_split", "natural_input_kind", "prepare", "sample_images", "target_of"]
