"""Metric functions agree with scikit-learn / scipy on random arrays and ICC with Shrout & Fleiss."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from eval import metrics as m

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges; Table 4 gives ICC(1,1) = .17,
# ICC(2,1) = .29 and ICC(3,1) = .71.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
                          [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_metrics_agree_with_scikit_learn_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    true = rng.uniform(0, 16, 57)
    pred = true + rng.normal(0.5, 2.0, 57)
    got = m.regression_metrics(pred, true)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(true, pred))
    assert got["mse"] == pytest.approx(skm.mean_squared_error(true, pred))
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(true, pred)))
    assert got["pearson_r"] == pytest.approx(stats.pearsonr(pred, true)[0])
    assert got["mean_error"] == pytest.approx(float(np.mean(pred - true)))


def test_icc_matches_the_published_worked_example() -> None:
    assert m.icc(SHROUT_FLEISS, "3,1") == pytest.approx(0.71, abs=0.005)
    assert m.icc(SHROUT_FLEISS, "2,1") == pytest.approx(0.29, abs=0.005)
    assert m.icc(SHROUT_FLEISS, "1,1") == pytest.approx(0.17, abs=0.005)


def test_icc_2_1_penalises_a_constant_offset_and_3_1_does_not() -> None:
    rng = np.random.default_rng(0)
    true = rng.uniform(0, 10, 40)
    shifted = np.column_stack([true, true + 3.0])
    assert m.icc(shifted, "3,1") == pytest.approx(1.0)
    assert m.icc(shifted, "2,1") < 0.8
    with pytest.raises(ValueError):
        m.icc(shifted, "4,2")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_agree_with_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 80)
    score = y * 0.8 + rng.normal(0, 0.6, 80)
    score[::7] = np.round(score[::7], 1)  # some ties
    pred = (score > 0.4).astype(int)
    got = m.binary_metrics(y, pred, score)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))
    tied = np.round(score)
    assert m.roc_auc(y, tied) == pytest.approx(skm.roc_auc_score(y, tied))


@pytest.mark.parametrize("seed", [0, 1])
def test_class_metrics_agree_with_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 70)
    p_right = np.clip(y * 0.6 + rng.uniform(0, 0.5, 70), 0, 1)
    pred = (p_right > 0.5).astype(int)
    got = m.classification_metrics(y, pred, ["patient_left_affected", "patient_right_affected"], p_right)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, pred)
    for i, name in enumerate(["patient_left_affected", "patient_right_affected"]):
        assert got["per_class"][name]["precision"] == pytest.approx(precision[i])
        assert got["per_class"][name]["recall"] == pytest.approx(recall[i])
        assert got["per_class"][name]["f1"] == pytest.approx(f1[i])
        assert got["per_class"][name]["support"] == support[i]
    assert got["confusion"]["matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p_right))


def test_undefined_values_are_nan_not_zero() -> None:
    assert math.isnan(m.pearson_r([1, 1, 1], [0, 1, 2]))
    assert math.isnan(m.precision_recall_f1([1, 0, 1], [0, 0, 0])["precision"])
    assert math.isnan(m.roc_auc([1, 1], [0.2, 0.3]))
    with pytest.raises(ValueError):
        m.mae([1, 2], [1])


def test_metrics_module_imports_no_project_package() -> None:
    """models imports eval.metrics for its validation figures, so it must stay a leaf."""
    tree = ast.parse(Path(m.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "collections", "typing", "numpy", "math"}
