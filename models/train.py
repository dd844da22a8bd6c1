"""Training: dataset -> leak-checked split -> cached model inputs -> epochs -> checkpoint with model card.

The pieces live in their own modules: :mod:`models.train_config` (what a run depends on),
:mod:`models.samples` (records -> samples -> cached inputs, the split), :mod:`models.augment`,
:mod:`models.epochs` (one epoch, one evaluation pass, the loss) and :mod:`models.run_card`. This module
runs them: :func:`run_training` for one split, :func:`run_kfold` for every fold.

Validation figures come from :mod:`eval.metrics`, a leaf module of plain-array metric functions (numpy
only), so that a model card and the evaluation report compute MAE, accuracy and the rest the same way;
the loss (the early-stopping criterion) is the only figure computed here.

The run directory holds ``last.pt`` (model, optimizer, scheduler, history; written every epoch, so a
re-run resumes), ``best.safetensors`` (the best epoch so far) and, at the end, ``model.safetensors`` +
``model.json`` (the card).
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from data.records import PSPI_MAX, PSPI_MIN
from eval import metrics as eval_metrics
from models.augment import augment
from models.checkpoint import ModelCard, save_checkpoint
from models.epochs import evaluate, loss_function, make_scheduler, seed_everything, train_one_epoch
from models.preprocess import InputSpec
from models.registry import CLASS_NAMES, build_model, read_state_dict
from models.run_card import json_safe, make_card, synthetic_manifest
from models.samples import (
    Analyse,
    PreparedData,
    Sample,
    expand,
    listing_hash,
    load_records,
    make_split,
    natural_input_kind,
    prepare,
)
from models.train_config import SCHEDULERS, SPLITS, TrainConfig, TrainingError


def validation_metrics(task: str, outputs: torch.Tensor, targets: torch.Tensor,
                       train_targets: torch.Tensor) -> dict[str, Any]:
    """Held-out figures from raw outputs ``(N, k)`` and targets ``(N,)``, computed by :mod:`eval.metrics`.

    PSPI (predictions clamped to [0, 16]): MAE, MSE, RMSE, Pearson r, ICC and the MAE of always predicting
    the training mean. Side: accuracy, per-class precision / recall / F1 by patient side, macro F1,
    confusion matrix, ROC AUC and the majority class's accuracy. Binary pain: accuracy, precision,
    recall, F1, ROC AUC and the majority class's accuracy.
    """
    y = targets.double().numpy()
    out = outputs.double()
    if task == "pain":
        pred = out[:, 0].clamp(PSPI_MIN, PSPI_MAX).numpy()
        train_mean = float(train_targets.double().mean())
        return {"n": len(y), **eval_metrics.regression_metrics(pred, y),
                "baseline_mean_mae": eval_metrics.mae(np.full_like(y, train_mean), y),
                "baseline_mean_value": train_mean}
    if out.shape[1] == 1:
        pred, score = (out[:, 0] > 0).long().numpy(), out[:, 0].numpy()
    else:
        pred, score = out.argmax(dim=1).numpy(), torch.softmax(out, dim=1)[:, 1].numpy()
    majority = float(train_targets.double().mean() >= 0.5)
    baseline = {"baseline_majority_accuracy": eval_metrics.accuracy(y, np.full_like(y, majority))}
    if task == "side":
        names = CLASS_NAMES[("side", 2)]
        hard = (y == 0) | (y == 1)  # faces without palsy (target 0.5) have no side to get right
        found = eval_metrics.classification_metrics(y[hard], pred[hard], names, score[hard])
        found["recall"] = {name: found["per_class"][name]["recall"] for name in names}
        if not hard.all():
            top = np.maximum(score[~hard], 1.0 - score[~hard])
            found["no_palsy"] = {"n": int((~hard).sum()), "mean_top_probability": float(top.mean()),
                                 "top_probability_p90": float(np.percentile(top, 90))}
        return {**found, **baseline}
    return {**eval_metrics.binary_metrics(y, pred, score), **baseline}


def headline(task: str, metrics: dict[str, Any]) -> tuple[str, float]:
    """The metric shown per epoch: PSPI MAE (lower is better) or accuracy."""
    return ("mae", metrics["mae"]) if task == "pain" else ("accuracy", metrics["accuracy"])


@dataclass
class RunResult:
    """What a finished run produced: the card path, the card and the best epoch's metrics."""

    card_path: Path
    card: ModelCard
    metrics: dict[str, Any]


def _config_fingerprint(config: TrainConfig, listing: str, spec: InputSpec) -> str:
    keys = ("task", "arch", "split", "seed", "batch_size", "lr", "weight_decay", "scheduler", "val_fraction",
            "folds", "fold", "outputs", "binary_threshold", "allow_leak", "augment", "epochs", "bf16",
            "landmarks", "side_no_palsy", "randomise")
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
                         on_no_face=config.on_no_face, progress=config.progress, landmarks=config.landmarks)
    val_data = prepare(expand(split.val, config, kind), spec, cache_dir, analyse=analyse,
                       on_no_face=config.on_no_face, progress=config.progress, landmarks=config.landmarks)
    if len(train_data.images) < 2 or len(val_data.images) < 1:
        raise TrainingError(f"Too few usable samples: {len(train_data.images)} training, "
                            f"{len(val_data.images)} validation")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_model(config.arch, outputs=config.outputs, pretrained=config.pretrained, task=config.task)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = make_scheduler(optimizer, config.scheduler, config.epochs)
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
                                     use_augmentation=config.augment, randomise=config.randomise,
                                     device=device, progress=config.progress,
                                     desc=f"epoch {epoch + 1}/{config.epochs}", bf16=config.bf16)
        seconds = time.perf_counter() - started
        val_loss, val_out = evaluate(model, val_data.images, val_data.targets, spec, config.task,
                                     device=device)
        name, value = headline(config.task, validation_metrics(config.task, val_out, val_data.targets,
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
    metrics = validation_metrics(config.task, val_out, val_data.targets, train_data.targets)
    metrics.update(best_epoch=best["epoch"], best_val_loss=best["val_loss"], evaluated_on="validation split")
    card = make_card(config, spec, layout, loader_notes, records, listing, split, train_data, val_data,
                      metrics, history)
    card_path = save_checkpoint(model.cpu(), card, out / "model", half_precision=config.half_precision)
    return RunResult(card_path, card, metrics)


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
    report = json_safe({"task": config.task, "arch": config.arch, "k": config.folds, "seed": config.seed,
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
    "evaluate",
    "expand",
    "headline",
    "listing_hash",
    "load_records",
    "loss_function",
    "natural_input_kind",
    "prepare",
    "run_kfold",
    "run_training",
    "seed_everything",
    "synthetic_manifest",
    "train_one_epoch",
    "validation_metrics",
]
