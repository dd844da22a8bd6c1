"""Fit and test the landmark pain estimate (:mod:`faces.au_proxy`) on synthetic faces.

The faces are rendered by :mod:`data.synth`, and their landmarks come from dlib
(:func:`faces.detect_faces`, :func:`faces.fit_landmarks`, as :func:`faces.analyse` runs them), not from
the renderer's truth: the estimate has to work with the landmarks a photo will give it. Each half of each
face is one sample: its seven proxies and the PSPI terms that half shows (after any palsy weakening).

Each PSPI term is fitted as an additive monotone model, one falling curve per proxy, by backfitting
isotonic regressions (pool-adjacent-violators); each curve is then kept as a few knots (the fitted values
at quantiles of its proxy), which keeps it monotone and the JSON small. Evaluation is subject-wise: the
test subjects come from another seed, so no person is in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from data.synth.aus import pspi
from data.synth.generate import make_subject, subject_frames
from data.synth.render import render_face
from faces.au_proxy import FEATURES, TERM_FEATURES, TERM_MAX, TERMS, check_model, half_features
from faces.au_proxy import terms_from_features as apply_terms
from faces.sides import Side

N_KNOTS = 10
BACKFIT_ROUNDS = 12


@dataclass(frozen=True)
class HalfSamples:
    """Proxies ``(N, 7)`` in :data:`FEATURES` order, true PSPI terms ``(N, 4)`` in :data:`TERMS` order,
    true per-half PSPI ``(N,)`` and the subject of each sample."""

    features: np.ndarray
    terms: np.ndarray
    pspi: np.ndarray
    subjects: np.ndarray

    def __len__(self) -> int:
        return len(self.pspi)


def true_terms(aus: dict[str, float]) -> list[float]:
    """The four PSPI terms one half shows."""
    return [aus["AU4"], max(aus["AU6"], aus["AU7"]), max(aus["AU9"], aus["AU10"]),
            1.0 if aus["AU43"] > 0 else 0.0]


def collect(subjects: int, frames: int, seed: int, *, distributions: Iterable[str] = ("unbc", "balanced"),
            palsy_fraction: float = 0.5, size: int = 256, progress: bool = False) -> HalfSamples:
    """Render ``subjects`` x ``frames`` faces (frames alternate over ``distributions``), fit dlib
    landmarks, and return one sample per half. Faces dlib misses are skipped."""
    from tqdm import tqdm

    from faces import detect_faces, fit_landmarks

    kinds = tuple(distributions)
    features, terms, scores, owners = [], [], [], []
    jobs = [(make_subject(i, seed, palsy_fraction), kind) for i in range(subjects) for kind in kinds]
    per_kind = max(1, frames // len(kinds))
    for subject, kind in tqdm(jobs, desc="render + dlib", disable=not progress, unit="batch"):
        for _, _, spec in subject_frames(subject, per_kind, seed + kinds.index(kind), kind, size):
            face = render_face(spec)
            boxes = detect_faces(face.image)
            if not boxes:
                continue
            points = fit_landmarks(face.image, boxes[0])
            for side in Side:
                shown = face.effective_aus[side]
                values = half_features(points, side)
                features.append([values[name] for name in FEATURES])
                terms.append(true_terms(shown))
                scores.append(pspi(shown))
                owners.append(f"{seed}:{subject.name}")
    return HalfSamples(np.array(features), np.array(terms), np.array(scores), np.array(owners))


def pav_decreasing(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares non-increasing fit of ``y`` on ``x`` (pool adjacent violators); values in x order."""
    order = np.argsort(x, kind="stable")
    target = -np.asarray(y, dtype=np.float64)[order]  # fit non-decreasing on the negated values
    means, weights, counts = [], [], []
    for value in target:
        means.append(value)
        weights.append(1.0)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w = weights[-2] + weights[-1]
            means[-2] = (means[-2] * weights[-2] + means[-1] * weights[-1]) / w
            weights[-2], counts[-2] = w, counts[-2] + counts[-1]
            means.pop()
            weights.pop()
            counts.pop()
    fitted = np.repeat(-np.array(means), counts)
    out = np.empty_like(fitted)
    out[order] = fitted
    return out


def _knots(x: np.ndarray, fitted: np.ndarray, n_knots: int) -> dict[str, list[float]]:
    """A falling piecewise-linear curve through the fitted values at quantiles of ``x``."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], fitted[order]
    picks = np.unique(np.round(np.linspace(0, len(xs) - 1, n_knots)).astype(int))
    kx, ky = xs[picks], ys[picks]
    keep = np.concatenate([[True], np.diff(kx) > 1e-9])
    kx, ky = kx[keep], np.minimum.accumulate(ky[keep])
    if kx.size < 2:
        kx, ky = np.array([xs[0], xs[0] + 1e-6]), np.array([ky[0], ky[0]])
    return {"x": [round(float(v), 5) for v in kx], "y": [round(float(v), 4) for v in ky]}


def fit_term(columns: np.ndarray, target: np.ndarray, n_knots: int = N_KNOTS) -> list[dict[str, list[float]]]:
    """Additive falling curves ``sum_k g_k(columns[:, k]) ~ target`` by backfitting isotonic fits."""
    parts = np.zeros_like(columns, dtype=np.float64)
    for _ in range(BACKFIT_ROUNDS):
        for k in range(columns.shape[1]):
            residual = target - parts.sum(axis=1) + parts[:, k]
            parts[:, k] = pav_decreasing(columns[:, k], residual)
    return [_knots(columns[:, k], parts[:, k], n_knots) for k in range(columns.shape[1])]


def fit_model(samples: HalfSamples, n_knots: int = N_KNOTS) -> dict[str, Any]:
    """The JSON-ready monotone model (see :mod:`faces.au_proxy`)."""
    terms: dict[str, dict[str, Any]] = {}
    for t, term in enumerate(TERMS):
        names = TERM_FEATURES[term]
        columns = samples.features[:, [FEATURES.index(n) for n in names]]
        target = np.clip(samples.terms[:, t], 0.0, TERM_MAX[term])
        terms[term] = dict(zip(names, fit_term(columns, target, n_knots), strict=True))
    model = {"terms": terms, "features": list(FEATURES)}
    check_model(model)
    return model


def predict(model: dict[str, Any], samples: HalfSamples) -> tuple[np.ndarray, np.ndarray]:
    """Predicted terms ``(N, 4)`` and PSPI ``(N,)`` for the samples."""
    rows = [apply_terms(dict(zip(FEATURES, row, strict=True)), model) for row in samples.features]
    terms = np.array([[r[t] for t in TERMS] for r in rows])
    return terms, np.clip(terms.sum(axis=1), 0.0, 16.0)


def _subject_bootstrap(values: np.ndarray, subjects: np.ndarray, rounds: int = 1000,
                       seed: int = 0) -> tuple[float, float]:
    """95% interval of the mean of ``values``, resampling subjects."""
    names = np.unique(subjects)
    groups = [values[subjects == n] for n in names]
    rng = np.random.default_rng(seed)
    means = [np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))]).mean()
             for _ in range(rounds)]
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def evaluate(model: dict[str, Any], samples: HalfSamples, train_mean: float) -> dict[str, Any]:
    """MAE and Pearson r of the landmark PSPI against the true per-half PSPI, per-term MAE, and the
    MAE of always predicting the training mean; intervals resample subjects."""
    terms, predicted = predict(model, samples)
    errors = np.abs(predicted - samples.pspi)
    baseline = np.abs(train_mean - samples.pspi)
    r = float(np.corrcoef(predicted, samples.pspi)[0, 1]) if np.std(predicted) > 0 else float("nan")
    return {
        "halves": int(len(samples)),
        "subjects": int(len(np.unique(samples.subjects))),
        "pspi_mae": round(float(errors.mean()), 4),
        "pspi_mae_95ci": [round(v, 4) for v in _subject_bootstrap(errors, samples.subjects)],
        "pspi_pearson_r": round(r, 4),
        "mean_baseline_mae": round(float(baseline.mean()), 4),
        "term_mae": {t: round(float(np.abs(terms[:, i] - samples.terms[:, i]).mean()), 4)
                     for i, t in enumerate(TERMS)},
        "pspi_zero_halves_median_estimate": round(float(np.median(predicted[samples.pspi == 0]))
                                                  if np.any(samples.pspi == 0) else float("nan"), 4),
    }
