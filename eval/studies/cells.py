"""One study cell: a network (or a baseline) trained and tested on every split of a protocol, its
held-out predictions pooled (each record is held out once in K-fold) and scored with subject intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from torch import nn

from data.splits import Split
from eval.baselines import majority
from eval.protocols import leakage_summary
from eval.studies.harness import Budget, StudyData, fit_predict
from eval.studies.scoring import predictions, score_cell


def _pooled(task: str, splits: Sequence[Split], train: StudyData, test: StudyData | None,
            predict: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> tuple[np.ndarray, ...]:
    held = test or train
    outputs, true, subjects = [], [], []
    for split in splits:
        train_idx, test_idx = train.indices(split.train), held.indices(split.test)
        outputs.append(predict(train_idx, test_idx))
        true.append(held.targets.numpy()[test_idx].astype(np.float64))
        subjects += [held.subjects[i] for i in test_idx]
    return np.concatenate(outputs), np.concatenate(true), np.asarray(subjects)


def network_cell(build: Callable[[], nn.Module], task: str, splits: Sequence[Split], train: StudyData,
                 budget: Budget, *, test: StudyData | None = None, n_boot: int = 1000,
                 seed: int = 0) -> dict[str, Any]:
    """Train ``build()`` on each split's training records, score the pooled held-out predictions."""
    held = test or train
    outputs, true, subjects = _pooled(
        task, splits, train, test, lambda tr, te: fit_predict(build, task, train, tr, held, te, budget))
    pred, score = predictions(task, outputs)
    return {**score_cell(task, pred, score, true, subjects, n_boot=n_boot, seed=seed),
            "leakage": leakage_summary(splits)}


def baseline_cell(task: str, splits: Sequence[Split], train: StudyData, *, test: StudyData | None = None,
                  n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The training mean (PSPI) or majority class of each split's training records, predicted for its
    held-out records."""
    targets = train.targets.numpy().astype(np.float64)

    def predict(train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray:
        if task == "pain":
            return np.full((len(test_idx), 1), targets[train_idx].mean())
        cls = int(majority(targets[train_idx]))
        out = np.zeros((len(test_idx), 2))
        out[:, cls] = 1.0
        return out

    outputs, true, subjects = _pooled(task, splits, train, test, predict)
    pred, score = predictions(task, outputs)
    return score_cell(task, pred, score, true, subjects, n_boot=n_boot, seed=seed)


__all__ = ["baseline_cell", "network_cell"]
