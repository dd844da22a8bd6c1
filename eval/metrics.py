"""Metric functions on plain arrays: PSPI regression and agreement, binary pain, affected-side classes.

This module is a leaf: it imports numpy only, no project package, so that the training loop in
:mod:`models` can compute its validation figures with the very functions the evaluation reports use
(the one place a lower package reaches into ``eval``; nothing else in ``eval`` may be imported from
below). Every function takes 1-D arrays (or an ``(n targets, k raters)`` table for the ICC) and returns
plain floats, ints or lists.

Undefined values are ``nan``, never a silent 0: Pearson r with a constant input, precision when nothing
is predicted positive, ROC AUC with one class only. The definitions agree with scikit-learn / scipy on
defined inputs (tests check them on random arrays) and ICC with Shrout & Fleiss (1979), Table 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

NAN = float("nan")


def _pair(pred: Any, true: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"predictions and truth differ in length: {p.size} vs {t.size}")
    return p, t


# ----------------------------------------------------------------------------- regression


def mae(pred: Any, true: Any) -> float:
    """Mean absolute error."""
    p, t = _pair(pred, true)
    return float(np.abs(p - t).mean()) if p.size else NAN


def mse(pred: Any, true: Any) -> float:
    """Mean squared error."""
    p, t = _pair(pred, true)
    return float(((p - t) ** 2).mean()) if p.size else NAN


def rmse(pred: Any, true: Any) -> float:
    """Root mean squared error."""
    return float(np.sqrt(mse(pred, true)))


def mean_error(pred: Any, true: Any) -> float:
    """Mean signed error (bias): > 0 when predictions run high."""
    p, t = _pair(pred, true)
    return float((p - t).mean()) if p.size else NAN


def pearson_r(pred: Any, true: Any) -> float:
    """Pearson correlation; nan with fewer than two values or a constant input."""
    p, t = _pair(pred, true)
    if p.size < 2:
        return NAN
    dp, dt = p - p.mean(), t - t.mean()
    denominator = np.sqrt((dp**2).sum() * (dt**2).sum())
    return float((dp * dt).sum() / denominator) if denominator > 0 else NAN


def icc(ratings: Any, kind: str = "3,1") -> float:
    """Intraclass correlation of an ``(n targets, k raters)`` table (Shrout & Fleiss 1979).

    ``kind="3,1"``: two-way mixed, consistency, single rater. ``kind="2,1"``: two-way random, absolute
    agreement, single rater (a constant offset between raters lowers it). ``kind="1,1"``: one-way random.
    For model-vs-truth agreement pass ``np.column_stack([true, pred])``. nan when undefined.
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"icc needs an (n >= 2, k >= 2) table, got shape {x.shape}")
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    bms = ss_rows / (n - 1)
    jms = ss_cols / (k - 1)
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    wms = (ss_total - ss_rows) / (n * (k - 1))
    if kind == "3,1":
        numerator, denominator = bms - ems, bms + (k - 1) * ems
    elif kind == "2,1":
        numerator, denominator = bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n
    elif kind == "1,1":
        numerator, denominator = bms - wms, bms + (k - 1) * wms
    else:
        raise ValueError(f"kind must be '1,1', '2,1' or '3,1', got {kind!r}")
    return float(numerator / denominator) if denominator > 0 else NAN


def regression_metrics(pred: Any, true: Any) -> dict[str, float]:
    """MAE, MSE, RMSE, mean error, Pearson r, ICC(3,1) and ICC(2,1) of predictions against the truth."""
    p, t = _pair(pred, true)
    table = np.column_stack([t, p])
    defined = p.size >= 2
    return {
        "mae": mae(p, t),
        "mse": mse(p, t),
        "rmse": rmse(p, t),
        "mean_error": mean_error(p, t),
        "pearson_r": pearson_r(p, t),
        "icc_3_1": icc(table, "3,1") if defined else NAN,
        "icc_2_1": icc(table, "2,1") if defined else NAN,
    }


# ----------------------------------------------------------------------------- classes


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of predictions equal to the truth."""
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float((t == p).mean()) if t.size else NAN


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int) -> list[list[int]]:
    """Counts ``[true class][predicted class]`` for integer labels ``0 .. n_classes - 1``."""
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix.tolist()


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else NAN


def precision_recall_f1(y_true: Any, y_pred: Any, positive: int = 1) -> dict[str, float]:
    """Precision, recall and F1 of class ``positive`` (nan where a denominator is 0)."""
    t, p = np.asarray(y_true).ravel() == positive, np.asarray(y_pred).ravel() == positive
    tp, fp, fn = float((t & p).sum()), float((~t & p).sum()), float((t & ~p).sum())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(t.sum())}


def roc_auc(y_true: Any, score: Any) -> float:
    """Area under the ROC curve of ``score`` for binary ``y_true`` (1 = positive); ties count half.

    Computed as the Mann-Whitney statistic with average ranks; nan when only one class is present.
    """
    t = np.asarray(y_true).ravel().astype(bool)
    s = np.asarray(score, dtype=np.float64).ravel()
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    if n_pos == 0 or n_neg == 0:
        return NAN
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_scores = s[order]
    start = 0
    while start < s.size:
        stop = start
        while stop + 1 < s.size and sorted_scores[stop + 1] == sorted_scores[start]:
            stop += 1
        ranks[order[start:stop + 1]] = 0.5 * (start + stop) + 1.0
        start = stop + 1
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def classification_metrics(y_true: Any, y_pred: Any, class_names: Sequence[str],
                           score: Any = None) -> dict[str, Any]:
    """Accuracy, per-class precision / recall / F1 (keyed by ``class_names``), macro F1, the confusion
    matrix and, for two classes with ``score`` (the probability or logit of class 1), ROC AUC."""
    names = list(class_names)
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    per_class = {name: precision_recall_f1(t, p, positive=i) for i, name in enumerate(names)}
    f1s = [m["f1"] for m in per_class.values()]
    result: dict[str, Any] = {
        "n": int(t.size),
        "accuracy": accuracy(t, p),
        "per_class": per_class,
        "macro_f1": float(np.mean(f1s)) if not any(np.isnan(f1s)) else NAN,
        "confusion": {"rows_true_cols_predicted": names, "matrix": confusion_matrix(t, p, len(names))},
    }
    if score is not None and len(names) == 2:
        result["roc_auc"] = roc_auc(t == 1, score)
    return result


def binary_metrics(y_true: Any, y_pred: Any, score: Any = None) -> dict[str, float]:
    """Accuracy, precision, recall, F1 of the positive class 1 and (with ``score``) ROC AUC."""
    t = np.asarray(y_true).ravel().astype(int)
    p = np.asarray(y_pred).ravel().astype(int)
    result: dict[str, float] = {"n": int(t.size), "accuracy": accuracy(t, p),
                                "prevalence": float(t.mean()) if t.size else NAN}
    result.update(precision_recall_f1(t, p, positive=1))
    if score is not None:
        result["roc_auc"] = roc_auc(t, score)
    return result


__all__ = [
    "accuracy",
    "binary_metrics",
    "classification_metrics",
    "confusion_matrix",
    "icc",
    "mae",
    "mean_error",
    "mse",
    "pearson_r",
    "precision_recall_f1",
    "regression_metrics",
    "rmse",
    "roc_auc",
]
