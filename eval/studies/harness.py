"""What every study shares: cached model inputs of a dataset, a fixed training budget, and one function
that trains a network on some samples and predicts others.

Studies train in memory with the training loop's own pieces (:mod:`models.epochs`: the same loss,
augmentation and batches as ``python -m models train``) under a fixed budget: the same epochs, batch
size, learning rate, cosine schedule and seed for every network and protocol, and no early stopping, so
nothing is chosen on the held-out samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from models.epochs import evaluate, make_scheduler, seed_everything, train_one_epoch
from models.preprocess import InputSpec


@dataclass(frozen=True)
class Budget:
    """The training budget every network of a study gets."""

    epochs: int = 6
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "schedule": "cosine", "early_stopping": "none (fixed budget)",
                "augmentation": "models.augment (as in python -m models train)"}


@dataclass
class StudyData:
    """Model inputs of one dataset: ``images`` uint8 ``(N, 3, H, W)``, ``targets`` float ``(N,)`` and,
    per sample, its record (for splits: ``subject``, ``group``) in the same order."""

    images: torch.Tensor
    targets: torch.Tensor
    records: list[Any]
    spec: InputSpec

    @property
    def subjects(self) -> list[str]:
        return [str(r.subject) for r in self.records]

    def indices(self, records: Sequence[Any]) -> np.ndarray:
        """Sample indices of the given records (every sample cut from them, e.g. both halves)."""
        wanted = {str(r.image_path) for r in records}
        chosen = [i for i, r in enumerate(self.records) if str(r.image_path) in wanted]
        return np.array(chosen, dtype=np.int64)


def load_study_data(root: Path, task: str, kind: str, size: tuple[int, int], cache_dir: Path, *,
                    binary_threshold: float = 0.0, progress: bool = False) -> StudyData:
    """Inputs for ``task`` from the dataset at ``root`` (any layout), fitted to ``size``, cached on disk."""
    from models.samples import expand, load_records, prepare
    from models.train_config import TrainConfig

    config = TrainConfig(task=task, data=root, out=cache_dir, input_size=size, input_kind=kind,
                         binary_threshold=binary_threshold, progress=progress)
    records, _, _ = load_records(config)
    records = sorted(records, key=lambda r: str(r.image_path))
    samples = expand(records, config, kind)
    spec = InputSpec.default(kind, size)
    prepared = prepare(samples, spec, cache_dir, on_no_face="template", progress=progress)
    by_key = {s.key: s.record for s in samples}
    return StudyData(prepared.images, prepared.targets, [by_key[k] for k in prepared.keys], spec)


def fit_predict(build: Callable[[], nn.Module], task: str, train: StudyData, train_idx: np.ndarray,
                test: StudyData, test_idx: np.ndarray, budget: Budget) -> np.ndarray:
    """Train ``build()`` on ``train[train_idx]`` under ``budget``; raw outputs ``(n, k)`` on
    ``test[test_idx]``."""
    seed_everything(budget.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=budget.lr, weight_decay=budget.weight_decay)
    scheduler = make_scheduler(optimizer, "cosine", budget.epochs)
    x, y = train.images[torch.from_numpy(train_idx)], train.targets[torch.from_numpy(train_idx)]
    for epoch in range(budget.epochs):
        generator = torch.Generator().manual_seed(budget.seed * 100_003 + epoch)
        train_one_epoch(model, x, y, train.spec, task, optimizer, batch_size=budget.batch_size,
                        generator=generator, device=device)
        scheduler.step()
    test_x = test.images[torch.from_numpy(test_idx)]
    _, outputs = evaluate(model, test_x, test.targets[torch.from_numpy(test_idx)], test.spec, task,
                          device=device)
    return outputs.numpy().astype(np.float64)


__all__ = ["Budget", "StudyData", "fit_predict", "load_study_data"]
