"""The evaluation report: every model beside its baselines, with subject-level 95% intervals.

:func:`build_report` turns the per-photo results of :func:`eval.collect.collect` into a JSON-ready dict:

- ``side``: the side model, the training majority class, stratified random guesses and the geometric
  asymmetry rule (inconclusive counts as not correct), on photos with a known affected side; classes are
  named by patient side;
- ``pspi``: the unaffected half (the reported score), the affected half and the full face, beside the
  training mean and median; error by PSPI level; agreement (Pearson r, ICC);
- ``pain_binary``: pain = PSPI > ``threshold``; a score counts as pain when it rounds above the
  threshold (``score >= threshold + 0.5``), and the score itself ranks for ROC AUC;
- ``hemiface``: the hemi-face study on the same photos: error of each half and the full face, with paired
  intervals of the differences (the premise of the two-stage design is that the unaffected half errs
  least).

Every interval resamples subjects (:func:`eval.intervals.cluster_bootstrap`) with the same replicates
for all rows of a section, so differences are paired. The report holds no timings and no absolute paths,
so the same data, models and seed give the same JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from eval import metrics as M
from eval.baselines import PSPI_TRAINING_FREE, constant, stratified
from eval.intervals import cluster_bootstrap
from eval.types import Interval, PhotoResult

SIDE_CLASSES = ("patient_left_affected", "patient_right_affected")
SIDE_INDEX = {"left": 0, "right": 1}
HALVES = {"unaffected_half": "unaffected half (the reported score)", "affected_half": "affected half",
          "full_face": "full face"}
REPORT_VERSION = 1
LANDMARK = "landmark_unaffected_half"
LANDMARK_NAME = "landmark estimate, unaffected half (training-light)"
LANDMARK_NOTE = ("faces.au_proxy: action-unit proxies from the 68 landmarks of the scored half and a small "
                 "monotone model fitted on other synthetic faces (no network); shown as a baseline row")


def _rows_with_intervals(values: Mapping[str, Mapping[str, float]],
                         intervals: Mapping[str, Interval]) -> dict[str, Any]:
    """``{row: {"metrics": {...}, "intervals": {metric: interval}}}`` from flat ``row/metric`` keys."""
    out: dict[str, Any] = {}
    for row, metrics in values.items():
        out[row] = {"metrics": dict(metrics),
                    "intervals": {k.split("/", 1)[1]: v.to_dict() for k, v in intervals.items()
                                  if k.split("/", 1)[0] == row}}
    return out


def _bootstrap(stat: Callable[[np.ndarray], dict[str, dict[str, float]]], subjects: Sequence[str],
               keep: Sequence[str], n_boot: int, seed: int) -> tuple[dict[str, Any], dict[str, Interval]]:
    """Run ``stat`` on all rows (full metrics) and bootstrap the ``keep`` metrics of every row."""
    full = stat(np.arange(len(subjects)))

    def flat(idx: np.ndarray) -> dict[str, float]:
        return {f"{row}/{k}": float(v) for row, m in stat(idx).items() for k, v in m.items() if k in keep}

    return full, cluster_bootstrap(flat, subjects, n_boot=n_boot, seed=seed)


def side_section(results: Sequence[PhotoResult], train_counts: Mapping[str, int], *, n_boot: int,
                 seed: int) -> dict[str, Any]:
    """Affected-side metrics of the side model and its baselines (see module doc)."""
    sided = [r for r in results if r.affected_true is not None and r.affected_pred is not None]
    if not sided:
        return {"n": 0, "note": "no photo with both a known affected side and a side-model decision"}
    y = np.array([SIDE_INDEX[r.affected_true] for r in sided])
    model = np.array([SIDE_INDEX[r.affected_pred] for r in sided])
    p_right = np.array([1.0 - r.p_left if r.p_left is not None else 0.5 for r in sided])
    geometry = np.array([SIDE_INDEX.get(r.geometry_side or "", 2) for r in sided])
    counts = {SIDE_INDEX[k]: v for k, v in train_counts.items() if k in SIDE_INDEX}
    majority_class = max(sorted(counts), key=lambda c: counts[c])
    train_labels = np.repeat(list(counts), list(counts.values()))
    guesses = stratified(train_labels, len(y), seed)
    share_right = counts.get(1, 0) / max(sum(counts.values()), 1)

    def stat(idx: np.ndarray) -> dict[str, dict[str, float]]:
        t = y[idx]
        rows = {
            "side model": M.classification_metrics(t, model[idx], SIDE_CLASSES, p_right[idx]),
            "majority class (training)": M.classification_metrics(
                t, np.full(len(idx), majority_class), SIDE_CLASSES, constant(share_right, len(idx))),
            "stratified random": M.classification_metrics(t, guesses[idx], SIDE_CLASSES,
                                                          constant(share_right, len(idx))),
        }
        rule = M.classification_metrics(t, geometry[idx], (*SIDE_CLASSES, "inconclusive"))
        rule["per_class"].pop("inconclusive")
        rule["macro_f1"] = float(np.mean([m["f1"] for m in rule["per_class"].values()]))
        rule["coverage"] = float((geometry[idx] != 2).mean())
        rows["geometric asymmetry rule (training-free)"] = rule
        return rows

    full, intervals = _bootstrap(stat, [r.subject for r in sided], ("accuracy", "macro_f1", "roc_auc"),
                                 n_boot, seed)
    return {"n": len(sided), "subjects": len({r.subject for r in sided}), "classes": list(SIDE_CLASSES),
            "rows": _rows_with_intervals(full, intervals),
            "notes": ["Classes are the patient's anatomical side that the stroke affected.",
                      "The geometric rule's inconclusive faces count as not correct; its confusion matrix "
                      "has a third column for them."]}


def pspi_section(results: Sequence[PhotoResult], train: Mapping[str, float], *, n_boot: int,
                 seed: int) -> dict[str, Any]:
    """PSPI error and agreement of each half / the full face and the mean and median predictors."""
    true = np.array([r.pspi_true for r in results])
    preds = {name: np.array([r.pspi[key] for r in results]) for key, name in HALVES.items()}
    if results and all(LANDMARK in r.pspi for r in results):
        preds[LANDMARK_NAME] = np.array([r.pspi[LANDMARK] for r in results])
    preds[f"training mean ({train['mean']:.2f})"] = constant(train["mean"], len(true))
    preds[f"training median ({train['median']:.1f})"] = constant(train["median"], len(true))

    def stat(idx: np.ndarray) -> dict[str, dict[str, float]]:
        return {name: M.regression_metrics(p[idx], true[idx]) for name, p in preds.items()}

    full, intervals = _bootstrap(stat, [r.subject for r in results],
                                 ("mae", "rmse", "pearson_r", "icc_3_1", "icc_2_1"), n_boot, seed)
    levels = np.round(true).astype(int)
    by_level = {str(level): {"n": int((levels == level).sum()),
                             **{name: M.mae(p[levels == level], true[levels == level])
                                for name, p in preds.items()}}
                for level in sorted(set(levels.tolist()))}
    return {"n": len(results), "subjects": len({r.subject for r in results}),
            "truth": "the subject's intended PSPI, which the unaffected half shows",
            "rows": _rows_with_intervals(full, intervals), "by_level": by_level,
            "training_free": (LANDMARK_NOTE if LANDMARK_NAME in preds else PSPI_TRAINING_FREE),
            "notes": ["Predictions are clamped to [0, 16]. Pearson r and ICC are undefined (null) for a "
                      "constant predictor."]}


def binary_section(results: Sequence[PhotoResult], train_positive: float, threshold: float, *,
                   n_boot: int, seed: int) -> dict[str, Any]:
    """Pain / no pain (PSPI > threshold) from the unaffected half's score, beside class baselines."""
    y = np.array([r.pspi_true > threshold for r in results], dtype=int)
    score = np.array([r.pspi["unaffected_half"] for r in results])
    predicted = (score >= threshold + 0.5).astype(int)
    majority_class = int(train_positive >= 0.5)
    guesses = np.random.default_rng(seed).random(len(y)) < train_positive

    def stat(idx: np.ndarray) -> dict[str, dict[str, float]]:
        n = len(idx)
        return {
            "unaffected-half score": M.binary_metrics(y[idx], predicted[idx], score[idx]),
            "majority class (training)": M.binary_metrics(y[idx], np.full(n, majority_class),
                                                          constant(train_positive, n)),
            "stratified random": M.binary_metrics(y[idx], guesses[idx].astype(int),
                                                  constant(train_positive, n)),
        }

    full, intervals = _bootstrap(stat, [r.subject for r in results], ("accuracy", "f1", "roc_auc"),
                                 n_boot, seed)
    return {"n": len(results), "threshold": threshold, "prevalence": float(y.mean()) if len(y) else None,
            "rule": f"pain when the score is >= {threshold + 0.5:g} (rounds above {threshold:g})",
            "rows": _rows_with_intervals(full, intervals)}


def hemiface_section(results: Sequence[PhotoResult], *, n_boot: int, seed: int) -> dict[str, Any]:
    """The hemi-face study: MAE of the unaffected half, the affected half and the full face, and paired
    differences against the unaffected half, on photos with a known affected side."""
    sided = [r for r in results if r.affected_true is not None]
    true = np.array([r.pspi_true for r in sided])
    preds = {key: np.array([r.pspi[key] for r in sided]) for key in HALVES}

    def stat(idx: np.ndarray) -> dict[str, float]:
        t = true[idx]
        errors = {key: M.mae(p[idx], t) for key, p in preds.items()}
        bias = {f"{key}_mean_error": M.mean_error(p[idx], t) for key, p in preds.items()}
        return {**{f"{key}_mae": v for key, v in errors.items()}, **bias,
                "affected_minus_unaffected_mae": errors["affected_half"] - errors["unaffected_half"],
                "full_minus_unaffected_mae": errors["full_face"] - errors["unaffected_half"]}

    intervals = cluster_bootstrap(stat, [r.subject for r in sided], n_boot=n_boot, seed=seed)
    return {"n": len(sided), "subjects": len({r.subject for r in sided}),
            "labels": {k: v for k, v in HALVES.items()},
            "values": {k: v.to_dict() for k, v in intervals.items()},
            "premise_holds": bool(intervals["affected_minus_unaffected_mae"].low > 0) if sided else None,
            "question": "Is PSPI best read from the unaffected half? (the premise of the two-stage design)"}


def build_report(results: Sequence[PhotoResult], training: Mapping[str, Any], *, threshold: float = 0.0,
                 n_boot: int = 1000, seed: int = 0, data: Mapping[str, Any] | None = None,
                 models: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The whole report (see module doc). ``training``: ``{"pspi": {"mean", "median",
    "fraction_positive"}, "side": {"counts": {"left": n, "right": m}}}`` from the models' training
    splits; ``data`` and ``models`` are descriptions copied into the report."""
    results = sorted(results, key=lambda r: r.image)
    report: dict[str, Any] = {
        "report": "strokepain evaluation", "version": REPORT_VERSION,
        "data": dict(data or {}), "models": dict(models or {}), "training_baselines": dict(training),
        "bootstrap": {"unit": "subject", "n_boot": n_boot, "seed": seed, "level": 0.95,
                      "method": "percentile interval of a cluster bootstrap over subjects"},
        "side": side_section(results, training.get("side", {}).get("counts", {}), n_boot=n_boot, seed=seed),
        "pspi": pspi_section(results, training["pspi"], n_boot=n_boot, seed=seed),
        "pain_binary": binary_section(results, float(training["pspi"]["fraction_positive"]), threshold,
                                      n_boot=n_boot, seed=seed),
        "hemiface": hemiface_section(results, n_boot=n_boot, seed=seed),
        "photos": [r.to_dict() for r in results],
    }
    return report


__all__ = ["HALVES", "SIDE_CLASSES", "binary_section", "build_report", "hemiface_section", "pspi_section",
           "side_section"]
