"""Scores of one study cell (a network under a protocol): metrics on its held-out predictions with
subject-bootstrap 95% intervals, in the report's ``{"metrics", "intervals"}`` form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eval import metrics as M
from eval.intervals import cluster_bootstrap

PSPI_MAX = 16.0
SIDE_NAMES = ("patient_left_affected", "patient_right_affected")
KEPT = {"pain": ("mae", "rmse", "pearson_r", "icc_3_1"), "side": ("accuracy", "macro_f1", "roc_auc"),
        "pain_binary": ("accuracy", "f1", "roc_auc")}


def predictions(task: str, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted value or class, score) from raw outputs ``(n, k)``: clamped PSPI, or the argmax class
    with the probability of class 1."""
    if task == "pain":
        pred = np.clip(outputs[:, 0], 0.0, PSPI_MAX)
        return pred, pred
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0).astype(int), outputs[:, 0]
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    return outputs.argmax(axis=1), probabilities[:, 1]


def task_metrics(task: str, pred: np.ndarray, score: np.ndarray, true: np.ndarray) -> dict[str, Any]:
    """The task's metrics of :mod:`eval.metrics`."""
    if task == "pain":
        return M.regression_metrics(pred, true)
    if task == "side":
        return M.classification_metrics(true.astype(int), pred, SIDE_NAMES, score)
    return M.binary_metrics(true.astype(int), pred, score)


def score_cell(task: str, pred: np.ndarray, score: np.ndarray, true: np.ndarray, subjects: Sequence[str], *,
               n_boot: int, seed: int) -> dict[str, Any]:
    """Metrics of held-out predictions and intervals of the task's headline metrics over subjects."""
    keep = KEPT[task]

    def stat(idx: np.ndarray) -> dict[str, float]:
        found = task_metrics(task, pred[idx], score[idx], true[idx])
        return {k: float(found[k]) for k in keep if k in found}

    intervals = cluster_bootstrap(stat, list(subjects), n_boot=n_boot, seed=seed)
    return {"n": int(len(true)), "subjects": len(set(subjects)),
            "metrics": task_metrics(task, pred, score, true),
            "intervals": {k: v.to_dict() for k, v in intervals.items()}}


__all__ = ["predictions", "score_cell", "task_metrics"]
