"""One epoch of training and one pass of evaluation on cached uint8 inputs, with the task's loss.

Shuffling and augmentation draw from one ``torch.Generator`` per epoch, so an epoch is reproducible.
The loss is also the early-stopping criterion of :func:`models.train.run_training`; the figures reported
beside it are computed by :mod:`eval.metrics`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from models.augment import augment
from models.preprocess import InputSpec, normalise


def loss_function(task: str, outputs: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Loss for ``(N, outputs)`` predictions and ``(N,)`` float targets: cross-entropy for classes,
    binary cross-entropy for a single pain logit, mean squared error for PSPI."""
    if task == "pain":
        return lambda out, y: F.mse_loss(out[:, 0], y)
    if outputs == 1:
        return lambda out, y: F.binary_cross_entropy_with_logits(out[:, 0], y)
    if task == "side" and outputs == 2:
        # soft targets: y is the probability of class 1 (0 or 1, or 0.5 for a face without palsy)
        return lambda out, y: F.cross_entropy(out, torch.stack([1.0 - y, y], dim=1))
    return lambda out, y: F.cross_entropy(out, y.long())



def _batches(n: int, batch_size: int, generator: torch.Generator | None) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    batches = list(order.split(batch_size))
    if generator is not None and len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()  # a batch of one breaks BatchNorm statistics
    return batches


def train_one_epoch(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, spec: InputSpec,
                    task: str, optimizer: torch.optim.Optimizer, *, batch_size: int,
                    generator: torch.Generator,
                    use_augmentation: bool = True, randomise: bool = False,
                    device: torch.device | str = "cpu",
                    progress: bool = False, desc: str = "train", bf16: bool = False) -> float:
    """One pass over shuffled batches; returns the mean training loss.

    ``images``: uint8 ``(N, 3, H, W)`` fitted inputs; ``targets``: float ``(N,)`` (class index, PSPI or
    0/1). Shuffling and augmentation draw from ``generator`` only, so an epoch is reproducible.
    ``bf16`` runs the forward pass under bfloat16 autocast (weights and optimizer stay float32).
    """
    device_type = torch.device(device).type
    model.train()
    outputs = output_count(model)
    criterion = loss_function(task, outputs)
    total, count = 0.0, 0
    batches = _batches(len(images), batch_size, generator)
    for index in tqdm(batches, desc=desc, unit="batch", leave=False, disable=not progress):
        x, y = images[index], targets[index]
        if use_augmentation:
            x, y = augment(x, y, task, generator, randomise=randomise)
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
    criterion = loss_function(task, output_count(model))
    outs, total = [], 0.0
    for index in _batches(len(images), batch_size, None):
        x = normalise(images[index], spec).to(device, memory_format=torch.channels_last)
        out = model(x).float().cpu()
        total += float(criterion(out, targets[index])) * len(index)
        outs.append(out)
    return total / max(len(images), 1), torch.cat(outs)


def output_count(model: nn.Module) -> int:
    """The network's number of outputs: its ``outputs`` attribute where it has one (a side model that scores
    both halves with one single-output head), else the width of its last linear or convolutional layer
    (the evidence networks end in a 1 x 1 convolution)."""
    if isinstance(getattr(model, "outputs", None), int):
        return int(model.outputs)
    last = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)][-1]
    return last.out_features if isinstance(last, nn.Linear) else last.out_channels



def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def make_scheduler(optimizer: torch.optim.Optimizer, kind: str,
                   epochs: int) -> torch.optim.lr_scheduler.LRScheduler:
    """The learning-rate schedule: ``"cosine"`` annealing over ``epochs``, or ``"step"`` (x0.1 every
    third of the run)."""
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)


__all__ = ["evaluate", "loss_function", "make_scheduler", "output_count", "seed_everything",
           "train_one_epoch"]
