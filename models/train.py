"""Training: dataset -> leak-checked split -> cached model inputs -> epochs -> checkpoint with model card.

Tasks and the samples they are trained on:

- ``side``: full-face photos labelled with the affected side (side-label layout, or UNBC-layout frames
  that carry a palsy side) -> :func:`faces.analyse` -> the aligned crop in the non-mirrored canonical
  view. Target: class index in :data:`~models.registry.SIDE_CLASSES` (0 patient-left, 1 patient-right).
- ``pain``: PSPI regression on half faces: the half-face layout (patient-left halves are mirrored to
  canonical orientation) or UNBC-layout full frames (``faces.analyse`` with the file's landmarks, both
  halves used, canonical). ``input_kind="aligned_face"`` trains a full-face pain model instead.
- ``pain_binary``: pain / no-pain, from ``pain/`` + ``no_pain/`` folders (full face) or from PSPI labels
  thresholded (``PSPI > binary_threshold``).

The split is made on records (so both halves of one frame always land on the same side) through
:mod:`data.splits`, which refuses a leaky split unless ``allow_leak`` is set; the card records either
way. Inputs are made once by :mod:`models.preprocess` (the functions inference uses) and cached as uint8
arrays in ``<run>/cache/``; normalisation and augmentation happen per batch. Augmentation is light:
brightness / contrast jitter and a small shift. Half faces are never flipped (that would break the
canonical orientation); side crops are flipped with their label swapped, which is exact.

The run directory holds ``last.pt`` (model, optimizer, scheduler, history; written every epoch, so a
re-run resumes), ``best.safetensors`` (the best epoch so far) and, at the end, ``model.safetensors`` +
``model.json`` (the card). The per-epoch work is in plain functions (:func:`train_one_epoch`,
:func:`evaluate`, :func:`compute_metrics`) that tests call with tiny data.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from data.records import PSPI_MAX, PSPI_MIN, BinaryPainRecord, HalfRecord, SideRecord
from faces.sides import Side
from models.checkpoint import ModelCard, json_default, save_checkpoint
from models.preprocess import InputSpec, canonical_face, canonical_half, fit, normalise
from models.registry import (
    DEFAULT_ARCHITECTURE,
    SIDE_CLASSES,
    build_model,
    check_task,
    default_outputs,
    read_state_dict,
)

SPLITS = ("random", "kfold", "subject", "predefined")
SCHEDULERS = ("cosine", "step")
CACHE_VERSION = 1
HYPERPARAMETERS = ("epochs", "batch_size", "lr", "weight_decay", "patience", "scheduler", "augment",
                   "on_no_face", "bf16")


class TrainingError(ValueError):
    """The data, split or run directory cannot be used for the requested training; says why."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (recorded in the model card).

    ``input_size`` is ``(height, width)``; None takes the default of the input kind (128 x 128 for
    faces, 128 x 64 for halves). ``input_kind`` None picks the task's natural input (see module doc).
    """

    task: str
    data: Path
    out: Path
    arch: str | None = None
    split: str = "subject"
    epochs: int = 30
    seed: int = 0
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5
    scheduler: str = "cosine"
    input_size: tuple[int, int] | None = None
    input_kind: str | None = None
    grayscale: bool = False
    pretrained: Path | None = None
    allow_leak: bool = False
    val_fraction: float = 0.2
    folds: int = 5
    fold: int = 0
    layout: str | None = None
    side_convention: str = "patient"
    binary_threshold: float = 0.0
    on_no_face: str = "error"
    outputs: int | None = None
    half_precision: bool = False
    max_records: int | None = None
    threads: int | None = None
    augment: bool = True
    bf16: bool = False
    description: str = ""
    notes: list[str] = field(default_factory=list)
    command: str = ""
    progress: bool = True

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        if self.pretrained is not None:
            self.pretrained = Path(self.pretrained)
        self.arch = self.arch or DEFAULT_ARCHITECTURE.get(self.task)
        if self.outputs is None:
            self.outputs = default_outputs(self.task)
        check_task(self.arch, self.task, self.outputs)
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0 or self.patience < 1:
            raise ValueError("epochs >= 1, batch_size >= 2, lr > 0 and patience >= 1 are required")


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


# ----------------------------------------------------------------------------- data


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
    if layout == "half_face":
        options["side_convention"] = config.side_convention
    if layout in ("half_face", "unbc"):
        options["missing_labels"] = "skip"
    records = load_any(config.data, layout=layout, **options)
    notes = dict(getattr(records, "notes", {}))
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
        return None if side is None else float(SIDE_CLASSES.index(side))
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
                  on_no_face: str = "error") -> list[np.ndarray]:
    """Fitted uint8 ``(H, W, 3)`` inputs of one record, one per entry of ``halves`` (None = whole face).

    Half-face files are read and made canonical directly; full-face images go through ``analyse``
    (``faces.analyse``), with the record's own landmarks when it has them.
    """
    if isinstance(record, HalfRecord):
        from data.layouts import read_image_array

        return [fit(canonical_half(read_image_array(record.image_path), record.side), spec)]
    landmarks = getattr(record, "landmarks", None)
    geometry = analyse(record.image_path, False, landmarks=landmarks, on_no_face=on_no_face)
    out = []
    for half in halves:
        source = canonical_face(geometry) if half is None else geometry.halves[half].image
        out.append(fit(source, spec))
    return out


def prepare(samples: Sequence[Sample], spec: InputSpec, cache_dir: Path | None, *,
            analyse: Analyse | None = None, on_no_face: str = "error", progress: bool = True) -> PreparedData:
    """Model inputs for ``samples`` (uint8, fitted to ``spec``), read from or written to ``cache_dir``.

    A record whose face cannot be found is skipped and listed in ``skipped`` (key -> reason); any other
    error stops. The cache file name hashes the sample keys and the spec, so a changed listing or input
    size never reuses stale inputs.
    """
    keys = [s.key for s in samples]
    identity = json.dumps([CACHE_VERSION, spec.to_dict(), on_no_face, keys])
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
                                   on_no_face=on_no_face)
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


# ----------------------------------------------------------------------------- epochs


def loss_function(task: str, outputs: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Loss for ``(N, outputs)`` predictions and ``(N,)`` float targets: cross-entropy for classes,
    binary cross-entropy for a single pain logit, mean squared error for PSPI."""
    if task == "pain":
        return lambda out, y: F.mse_loss(out[:, 0], y)
    if outputs == 1:
        return lambda out, y: F.binary_cross_entropy_with_logits(out[:, 0], y)
    return lambda out, y: F.cross_entropy(out, y.long())


def augment(images: torch.Tensor, targets: torch.Tensor, task: str, generator: torch.Generator,
            *, flip_side: bool = True, max_shift: float = 0.04, max_rotation: float = 4.0,
            max_scale: float = 0.06, grayscale_p: float | None = None,
            low_resolution_p: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Light augmentation of a uint8 batch ``(N, 3, H, W)``; returns ``(float images in [0, 255], targets)``.

    Per image: contrast x[0.8, 1.2], brightness +-20, a colour cast (each channel x[0.92, 1.08]) and a
    small similarity warp (rotation up to ``max_rotation`` degrees, scale 1 +- ``max_scale``, shift up to
    ``max_shift`` of the size; edges replicated) for the landmark and crop jitter of real photos. With
    probability ``grayscale_p`` the image becomes grey (luminance in all three channels: black-and-white
    and infrared photos), and with probability ``low_resolution_p`` it is shrunk to 30-70 % of its size and
    enlarged back (small faces in wide shots; images under 32 pixels are left sharp). By default these two
    are 0.15 and 0.25 for pain models and off for the side model: it decides from fine asymmetries that
    shrinking blurs away (with them on, the demo side model sat near chance for 18 epochs, and on the
    astronaut photo its mirror swap error grew from 0.12 to 0.30). For the side task
    only, a horizontal flip with the label swapped (p = 0.5): mirroring the canonical face swaps the
    patient sides. Half faces are never flipped (their midline edge stays where it is).
    """
    n, _, h, w = images.shape
    x = images.float()
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.8, 1.2, generator=generator)
    brightness = torch.empty(n, 1, 1, 1).uniform_(-20.0, 20.0, generator=generator)
    cast = torch.empty(n, 3, 1, 1).uniform_(0.92, 1.08, generator=generator)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (((x - mean) * contrast + mean + brightness) * cast).clamp_(0, 255)
    if max_shift or max_rotation or max_scale:
        angle = torch.empty(n).uniform_(-max_rotation, max_rotation, generator=generator).deg2rad()
        scale = torch.empty(n).uniform_(1 - max_scale, 1 + max_scale, generator=generator)
        # grid units span [-1, 1], so a shift of max_shift of the size is 2 * max_shift
        shift = torch.empty(n, 2).uniform_(-2 * max_shift, 2 * max_shift, generator=generator)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        aspect = h / w  # rotate in pixel space, not in the normalised square
        theta = torch.stack([torch.stack([cos, -sin * aspect, shift[:, 0]], 1),
                             torch.stack([sin / aspect, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, [n, 3, h, w], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if grayscale_p is None:
        grayscale_p = 0.0 if task == "side" else 0.15
    if low_resolution_p is None:
        low_resolution_p = 0.0 if task == "side" else 0.25
    if grayscale_p > 0:
        grey = torch.rand(n, generator=generator) < grayscale_p
        luminance = (x[:, 0:1] * 0.299 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114).expand(-1, 3, -1, -1)
        x = torch.where(grey[:, None, None, None], luminance, x)
    if low_resolution_p > 0 and min(h, w) >= 32:
        factors = torch.empty(n).uniform_(0.3, 0.7, generator=generator)
        chosen = (torch.rand(n, generator=generator) < low_resolution_p).nonzero().flatten().tolist()
        for i in chosen:
            size = (max(8, round(h * float(factors[i]))), max(8, round(w * float(factors[i]))))
            small = F.interpolate(x[i:i + 1], size=size, mode="area")
            x[i:i + 1] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    if task == "side" and flip_side:
        flip = torch.rand(n, generator=generator) < 0.5
        x[flip] = torch.flip(x[flip], dims=(-1,))
        targets = torch.where(flip, 1.0 - targets, targets)
    return x, targets


def _batches(n: int, batch_size: int, generator: torch.Generator | None) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    batches = list(order.split(batch_size))
    if generator is not None and len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()  # a batch of one breaks BatchNorm statistics
    return batches


def train_one_epoch(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, spec: InputSpec,
                    task: str, optimizer: torch.optim.Optimizer, *, batch_size: int,
                    generator: torch.Generator,
                    use_augmentation: bool = True, device: torch.device | str = "cpu",
                    progress: bool = False, desc: str = "train", bf16: bool = False) -> float:
    """One pass over shuffled batches; returns the mean training loss.

    ``images``: uint8 ``(N, 3, H, W)`` fitted inputs; ``targets``: float ``(N,)`` (class index, PSPI or
    0/1). Shuffling and augmentation draw from ``generator`` only, so an epoch is reproducible.
    ``bf16`` runs the forward pass under bfloat16 autocast (weights and optimizer stay float32).
    """
    device_type = torch.device(device).type
    model.train()
    outputs = _output_count(model)
    criterion = loss_function(task, outputs)
    total, count = 0.0, 0
    batches = _batches(len(images), batch_size, generator)
    for index in tqdm(batches, desc=desc, unit="batch", leave=False, disable=not progress):
        x, y = images[index], targets[index]
        if use_augmentation:
            x, y = augment(x, y, task, generator)
        x = normalise(x, spec)
        x = x.to(device, memory_format=torch.channels_last)
        y = y.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            prediction = model(x)
        loss = criterion(prediction.float(), y)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(index)
        count += len(index)
    return total / max(count, 1)


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, spec: InputSpec, task: str,
             *, batch_size: int = 64, device: torch.device | str = "cpu") -> tuple[float, torch.Tensor]:
    """Mean loss and raw outputs ``(N, outputs)`` (logits, or unclamped PSPI) on fitted uint8 inputs."""
    model.eval()
    criterion = loss_function(task, _output_count(model))
    outs, total = [], 0.0
    for index in _batches(len(images), batch_size, None):
        x = normalise(images[index], spec).to(device, memory_format=torch.channels_last)
        out = model(x).float().cpu()
        total += float(criterion(out, targets[index])) * len(index)
        outs.append(out)
    return total / max(len(images), 1), torch.cat(outs)


def _output_count(model: nn.Module) -> int:
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    return last.out_features


def compute_metrics(task: str, outputs: torch.Tensor, targets: torch.Tensor,
                    train_targets: torch.Tensor) -> dict[str, Any]:
    """Validation metrics from raw outputs ``(N, k)`` and targets ``(N,)``.

    Side: accuracy, per-class recall (patient-left / patient-right affected), confusion matrix, majority
    baseline. PSPI: MAE, RMSE, Pearson r on predictions clamped to [0, 16], and the MAE of always
    predicting the training mean. Binary pain: accuracy, precision, recall, F1, majority baseline.
    """
    y = targets.double()
    n = len(y)
    if task == "pain":
        pred = outputs[:, 0].double().clamp(PSPI_MIN, PSPI_MAX)
        err = pred - y
        train_mean = float(train_targets.double().mean())
        defined = n > 1 and pred.std() > 0 and y.std() > 0
        pearson = float(np.corrcoef(pred.numpy(), y.numpy())[0, 1]) if defined else float("nan")
        return {
            "n": n,
            "mae": float(err.abs().mean()),
            "rmse": float(err.pow(2).mean().sqrt()),
            "pearson_r": pearson,
            "baseline_mean_mae": float((y - train_mean).abs().mean()),
            "baseline_mean_value": train_mean,
        }
    if outputs.shape[1] == 1:
        pred = (outputs[:, 0] > 0).double()
    else:
        pred = outputs.argmax(dim=1).double()
    majority = float(train_targets.double().mean() >= 0.5)
    metrics: dict[str, Any] = {"n": n, "accuracy": float((pred == y).double().mean()),
                               "baseline_majority_accuracy": float((y == majority).double().mean())}
    if task == "side":
        names = ("patient_left_affected", "patient_right_affected")
        recall = {}
        for cls, name in enumerate(names):
            mask = y == cls
            recall[name] = float((pred[mask] == cls).double().mean()) if mask.any() else float("nan")
        metrics["recall"] = recall
        metrics["confusion"] = {"rows_true_cols_predicted": list(names),
                                "matrix": [[int(((y == t) & (pred == p)).sum()) for p in (0, 1)]
                                           for t in (0, 1)]}
        return metrics
    tp = float(((pred == 1) & (y == 1)).sum())
    fp = float(((pred == 1) & (y == 0)).sum())
    fn = float(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall_value = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall_value / (precision + recall_value) if tp else 0.0
    metrics.update(precision=precision, recall=recall_value, f1=f1)
    return metrics


def headline(task: str, metrics: dict[str, Any]) -> tuple[str, float]:
    """The metric shown per epoch: PSPI MAE (lower is better) or accuracy."""
    return ("mae", metrics["mae"]) if task == "pain" else ("accuracy", metrics["accuracy"])


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler:
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, config.epochs // 3), gamma=0.1)


# ----------------------------------------------------------------------------- run


@dataclass
class RunResult:
    """What a finished run produced: the card path, the card and the best epoch's metrics."""

    card_path: Path
    card: ModelCard
    metrics: dict[str, Any]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_default))


def _config_fingerprint(config: TrainConfig, listing: str, spec: InputSpec) -> str:
    keys = ("task", "arch", "split", "seed", "batch_size", "lr", "weight_decay", "scheduler", "val_fraction",
            "folds", "fold", "outputs", "binary_threshold", "allow_leak", "augment", "epochs", "bf16")
    data = {k: getattr(config, k) for k in keys}
    data.update(listing=listing, spec=spec.to_dict(), pretrained=str(config.pretrained))
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_training(config: TrainConfig, *, analyse: Analyse | None = None) -> RunResult:
    """Train one model as configured and write its checkpoint and card into ``config.out``.

    Resumes from ``config.out/last.pt`` when it belongs to the same configuration and data; refuses a
    run directory that holds a different run. ``analyse`` replaces ``faces.analyse`` (tests).
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    records, layout, loader_notes = load_records(config)
    kind = config.input_kind or natural_input_kind(config.task, records)
    spec = InputSpec.default(kind, config.input_size)
    if config.grayscale:
        spec = InputSpec(kind, spec.height, spec.width, spec.mean, spec.std, grayscale=True)
    split = make_split(records, config)
    listing = listing_hash(records, config.data)
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    cache_dir = out / "cache"
    train_data = prepare(expand(split.train, config, kind), spec, cache_dir, analyse=analyse,
                         on_no_face=config.on_no_face, progress=config.progress)
    val_data = prepare(expand(split.val, config, kind), spec, cache_dir, analyse=analyse,
                       on_no_face=config.on_no_face, progress=config.progress)
    if len(train_data.images) < 2 or len(val_data.images) < 1:
        raise TrainingError(f"Too few usable samples: {len(train_data.images)} training, "
                            f"{len(val_data.images)} validation")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_model(config.arch, outputs=config.outputs, pretrained=config.pretrained, task=config.task)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = _scheduler(optimizer, config)
    fingerprint = _config_fingerprint(config, listing, spec)
    history: list[dict[str, Any]] = []
    best = {"epoch": -1, "val_loss": math.inf}
    bad_epochs, start_epoch = 0, 0
    last_path, best_path = out / "last.pt", out / "best.safetensors"
    if last_path.is_file():
        state = torch.load(last_path, map_location="cpu", weights_only=True)
        if state.get("fingerprint") != fingerprint:
            raise TrainingError(f"{out} holds a different run (other data or settings); use a new --out")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, best = list(state["history"]), dict(state["best"])
        bad_epochs, start_epoch = int(state["bad_epochs"]), int(state["epoch"]) + 1

    for epoch in range(start_epoch, config.epochs):
        if bad_epochs >= config.patience:
            break
        generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        started = time.perf_counter()
        train_loss = train_one_epoch(model, train_data.images, train_data.targets, spec, config.task,
                                     optimizer, batch_size=config.batch_size, generator=generator,
                                     use_augmentation=config.augment, device=device, progress=config.progress,
                                     desc=f"epoch {epoch + 1}/{config.epochs}", bf16=config.bf16)
        seconds = time.perf_counter() - started
        val_loss, val_out = evaluate(model, val_data.images, val_data.targets, spec, config.task,
                                     device=device)
        name, value = headline(config.task, compute_metrics(config.task, val_out, val_data.targets,
                                                            train_data.targets))
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        row = {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, f"val_{name}": value,
               "lr": lr, "seconds": round(seconds, 2),
               "train_images_per_s": round(len(train_data.images) / seconds, 1)}
        history.append(row)
        if val_loss < best["val_loss"]:
            best, bad_epochs = {"epoch": epoch + 1, "val_loss": val_loss}, 0
            from safetensors.torch import save_file

            best_state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
            save_file(best_state, str(best_path))
        else:
            bad_epochs += 1
        if config.progress:
            tqdm.write(f"epoch {epoch + 1}: train loss {train_loss:.4f}, val loss {val_loss:.4f}, "
                       f"val {name} {value:.4f}, {row['train_images_per_s']} img/s")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "history": history, "best": best,
                    "bad_epochs": bad_epochs, "epoch": epoch, "fingerprint": fingerprint}, last_path)

    model.load_state_dict(read_state_dict(best_path))
    _, val_out = evaluate(model, val_data.images, val_data.targets, spec, config.task, device=device)
    metrics = compute_metrics(config.task, val_out, val_data.targets, train_data.targets)
    metrics.update(best_epoch=best["epoch"], best_val_loss=best["val_loss"], evaluated_on="validation split")
    card = _make_card(config, spec, layout, loader_notes, records, listing, split, train_data, val_data,
                      metrics, history)
    card_path = save_checkpoint(model.cpu(), card, out / "model", half_precision=config.half_precision)
    return RunResult(card_path, card, metrics)


def synthetic_manifest(root: Path) -> dict[str, Any] | None:
    """The ``synth_manifest.json`` of a synthetic benchmark holding ``root`` (in it or a parent), if any."""
    for folder in (root, *root.resolve().parents[:2]):
        manifest = folder / "synth_manifest.json"
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                return None
            return data if isinstance(data, dict) else None
    return None


def _make_card(config: TrainConfig, spec: InputSpec, layout: str, loader_notes: dict[str, Any],
               records: list[Any], listing: str, split: Any, train_data: PreparedData,
               val_data: PreparedData, metrics: dict[str, Any], history: list[dict[str, Any]]) -> ModelCard:
    subjects = len({r.subject for r in records})
    description = config.description or (
        f"{layout} layout at {config.data}: {len(records)} labelled records from {subjects} subjects"
    )
    manifest = synthetic_manifest(config.data)
    synthetic = None
    if manifest is not None:
        synthetic = {k: manifest.get(k) for k in ("generator", "config", "faces", "frames_by_palsy_side")}
        description = f"Synthetic faces ({manifest.get('generator', 'data.synth')}): {description}"
    init = "scratch (random initialisation; no pretrained weights)"
    if config.pretrained is not None:
        from models.checkpoint import sha256_file

        digest = sha256_file(config.pretrained)
        init = f"ImageNet weights from local file {config.pretrained.name} (sha256 {digest})"
    skipped = {**train_data.skipped, **val_data.skipped}
    notes = list(config.notes)
    if manifest is not None:
        notes.append("Trained on synthetic, computer-drawn faces, not on patients: research use only, not a "
                      "medical device.")
    if config.allow_leak and not split.leak_free:
        notes.append("The split leaks (allowed with --allow-leak): held-out metrics are optimistic.")
    return ModelCard(
        architecture=config.arch,
        task=config.task,
        outputs=config.outputs,
        input=spec.to_dict(),
        init=init,
        training_data=_json_safe({
            "description": description,
            "root": str(config.data),
            "layout": layout,
            "records": len(records),
            "subjects": subjects,
            "listing_sha256": listing,
            "synthetic": synthetic,
            "samples": {"train": len(train_data.images), "val": len(val_data.images)},
            "skipped": {"count": len(skipped), "examples": dict(list(skipped.items())[:5])},
            "loader_notes": {k: v for k, v in loader_notes.items() if not isinstance(v, list) or len(v) < 50},
            "binary_threshold": config.binary_threshold if config.task == "pain_binary" else None,
            "side_convention": config.side_convention if layout == "half_face" else None,
            "hyperparameters": {k: v for k, v in asdict(config).items() if k in HYPERPARAMETERS},
        }),
        split=_json_safe({**split.to_dict(), "allow_leak": config.allow_leak,
                          "val_fraction": config.val_fraction}),
        metrics=_json_safe(metrics),
        curves=_json_safe(history),
        command=config.command,
        seed=config.seed,
        notes=notes,
    )


def run_kfold(config: TrainConfig, *, analyse: Analyse | None = None) -> dict[str, Any]:
    """Train every fold of a k-fold split into ``<out>/fold<k>/`` and write ``<out>/kfold_summary.json``.

    The summary lists each fold's card path and metrics and, for every numeric metric, the mean and
    standard deviation over folds (the cerebral-palsy paper's protocol reports those).
    """
    if config.split != "kfold":
        raise ValueError("run_kfold needs split='kfold'")
    folds = []
    for fold in range(config.folds):
        fold_config = TrainConfig(**{**asdict(config), "fold": fold, "out": config.out / f"fold{fold}"})
        result = run_training(fold_config, analyse=analyse)
        folds.append({"fold": fold, "card": str(result.card_path), "metrics": result.metrics})
    numeric = sorted({k for f in folds for k, v in f["metrics"].items()
                      if isinstance(v, int | float) and not isinstance(v, bool)})
    summary = {}
    for key in numeric:
        values = np.array([f["metrics"][key] for f in folds if key in f["metrics"]], dtype=np.float64)
        summary[key] = {"mean": float(np.nanmean(values)), "std": float(np.nanstd(values)), "n": len(values)}
    report = _json_safe({"task": config.task, "arch": config.arch, "k": config.folds, "seed": config.seed,
                         "command": config.command, "folds": folds, "summary": summary})
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "kfold_summary.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed: ``python -m models`` plus the arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    return "python -m models " + " ".join(shlex.quote(a) for a in args)


__all__ = [
    "SCHEDULERS",
    "SPLITS",
    "PreparedData",
    "RunResult",
    "Sample",
    "TrainConfig",
    "TrainingError",
    "augment",
    "command_line",
    "compute_metrics",
    "evaluate",
    "expand",
    "listing_hash",
    "load_records",
    "loss_function",
    "prepare",
    "run_kfold",
    "run_training",
    "sample_images",
    "synthetic_manifest",
    "seed_everything",
    "train_one_epoch",
]
