"""The landmark pain estimate: proxies follow the synthetic AUs, the model is monotone, sides are right."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data.au_fit import collect, evaluate, fit_model, fit_term, pav_decreasing
from data.synth import FrameSpec, render_face, sample_identity
from faces.au_proxy import (
    FEATURES,
    TERM_FEATURES,
    TERMS,
    check_model,
    estimate_half,
    estimate_pain,
    half_features,
    load_model,
    monotone_curve,
)
from faces.landmarks import mirror_landmarks
from faces.sides import Side


def _landmarks(aus_right: dict[str, float], seed: int = 5) -> np.ndarray:
    """True landmarks of a frontal synthetic face with ``aus_right`` on the patient's right only."""
    return render_face(FrameSpec(identity=sample_identity(seed), aus={Side.RIGHT: aus_right})).landmarks


@pytest.mark.parametrize(("au", "feature", "term"), [
    ("AU4", "brow_eye", "AU4"), ("AU4", "brow_tilt", "AU4"), ("AU7", "lower_lid", "AU6/7"),
    ("AU6", "eye_aperture", "AU6/7"), ("AU10", "nose_lip", "AU9/10"), ("AU9", "ala_nose", "AU9/10"),
    ("AU43", "eye_aspect", "AU43"),
])
def test_proxy_and_term_follow_the_synthetic_action_unit(au: str, feature: str, term: str) -> None:
    level = 1.0 if au == "AU43" else 5.0
    rest, active = _landmarks({}), _landmarks({au: level})
    assert half_features(active, Side.RIGHT)[feature] < half_features(rest, Side.RIGHT)[feature] - 1e-3
    assert half_features(active, Side.LEFT)[feature] == pytest.approx(half_features(rest, Side.LEFT)[feature],
                                                                       abs=1e-3)
    assert estimate_half(active, Side.RIGHT).aus[term] > estimate_half(rest, Side.RIGHT).aus[term]


def test_pspi_rises_with_a_graded_expression() -> None:
    scores = [estimate_half(_landmarks({"AU4": s, "AU7": s, "AU10": s}), Side.RIGHT).pspi for s in (0, 2, 5)]
    assert scores[0] < scores[1] < scores[2]


def test_committed_model_is_monotone_and_documented() -> None:
    model = load_model()
    check_model(model)
    assert model["fitted_on"]["seed"] != model["test"]["seed"]
    for term in TERMS:
        for feature in TERM_FEATURES[term]:
            curve = model["terms"][term][feature]
            grid = np.linspace(curve["x"][0] - 0.1, curve["x"][-1] + 0.1, 200)
            assert np.all(np.diff(monotone_curve(grid, curve["x"], curve["y"])) <= 1e-9)


def test_a_rising_curve_is_refused() -> None:
    model = json.loads(json.dumps(load_model()))
    model["terms"]["AU4"]["brow_eye"]["y"] = sorted(model["terms"]["AU4"]["brow_eye"]["y"])
    model["terms"]["AU4"]["brow_eye"]["y"][-1] += 1.0
    with pytest.raises(ValueError, match="not a falling curve"):
        check_model(model)


def test_sides_follow_mirroring_and_roll_does_not_matter() -> None:
    points = _landmarks({"AU4": 4.0, "AU10": 3.0})
    width = 256
    direct = estimate_pain(points)
    assert direct[Side.RIGHT].pspi > direct[Side.LEFT].pspi
    flipped = mirror_landmarks(points, width)
    as_mirror = estimate_pain(flipped, mirrored=True)
    as_photo = estimate_pain(flipped)
    for side in Side:
        assert as_mirror[side].pspi == pytest.approx(direct[side].pspi, abs=1e-9)
        assert as_photo[side.opposite].pspi == pytest.approx(direct[side].pspi, abs=1e-9)
    angle = np.radians(10.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rolled = (points - 128.0) @ rotation.T * 0.7 + 100.0
    for side in Side:
        expected = half_features(points, side)
        for name in FEATURES:
            assert half_features(rolled, side)[name] == pytest.approx(expected[name], abs=1e-9)


def test_pav_gives_the_least_squares_falling_fit() -> None:
    fitted = pav_decreasing(np.array([2.0, 0.0, 1.0]), np.array([2.0, 1.0, 3.0]))
    np.testing.assert_allclose(fitted, [2.0, 2.0, 2.0])
    x = np.random.default_rng(0).uniform(0, 1, 300)
    y = 5 * (1 - x) + np.random.default_rng(1).normal(0, 0.3, 300)
    fitted = pav_decreasing(x, y)
    assert np.all(np.diff(fitted[np.argsort(x)]) <= 1e-12)
    assert np.abs(fitted - 5 * (1 - x)).mean() < 0.3


def test_backfitting_recovers_two_additive_falling_curves() -> None:
    rng = np.random.default_rng(2)
    columns = rng.uniform(0, 1, (400, 2))
    target = 3 * (1 - columns[:, 0]) + 2 * (1 - columns[:, 1]) ** 2
    curves = fit_term(columns, target)
    estimate = sum(monotone_curve(columns[:, k], c["x"], c["y"]) for k, c in enumerate(curves))
    assert np.abs(estimate - target).mean() < 0.25


def test_fit_and_subject_wise_evaluation_run_on_a_few_dlib_faces() -> None:
    train, test = collect(3, 2, seed=41), collect(2, 2, seed=42)
    assert len(train) >= 8 and train.features.shape[1] == len(FEATURES)
    assert not set(train.subjects) & set(test.subjects)
    model = fit_model(train)
    check_model(model)
    report = evaluate(model, test, float(train.pspi.mean()))
    assert report["subjects"] == 2 and report["pspi_mae"] >= 0
