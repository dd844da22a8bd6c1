"""The report puts every model beside its baselines with subject intervals; the HTML page is offline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.html import render_html, rows_table
from eval.report import build_report
from eval.types import PhotoResult

TRAINING = {"pspi": {"mean": 6.0, "median": 6.0, "fraction_positive": 0.9},
            "side": {"counts": {"left": 40, "right": 60}}}


def _results(subjects: int = 12, frames: int = 4, seed: int = 0) -> list[PhotoResult]:
    rng = np.random.default_rng(seed)
    out = []
    for s in range(subjects):
        side = "left" if s % 2 else "right"
        for f in range(frames):
            pspi = float(rng.integers(0, 13))
            out.append(PhotoResult(
                image=f"s{s:02d}/f{f}.png", subject=f"s{s:02d}", affected_true=side,
                affected_pred=side if (s + f) % 5 else ("right" if side == "left" else "left"),
                geometry_side=None if f == 0 else side, p_left=0.8 if side == "left" else 0.2, pspi_true=pspi,
                pspi={"unaffected_half": pspi + rng.normal(0, 0.5), "affected_half": pspi * 0.5,
                      "full_face": pspi + rng.normal(0, 1.5)}))
    return out


@pytest.fixture(scope="module")
def report() -> dict:
    return build_report(_results(), TRAINING, n_boot=200, seed=1)


def test_each_model_stands_beside_its_baselines_with_subject_intervals(report) -> None:
    side_rows = report["side"]["rows"]
    assert {"side model", "majority class (training)", "stratified random",
            "geometric asymmetry rule (training-free)"} == set(side_rows)
    wrong = sum((s + f) % 5 == 0 for s in range(12) for f in range(4))
    assert side_rows["side model"]["metrics"]["accuracy"] == pytest.approx(1 - wrong / 48)
    interval = side_rows["side model"]["intervals"]["accuracy"]
    assert interval["n_units"] == 12 and interval["low"] <= interval["estimate"] <= interval["high"]
    # majority class of training is patient-right: it is right on the right-affected half of the photos
    assert side_rows["majority class (training)"]["metrics"]["accuracy"] == pytest.approx(0.5)
    rule = side_rows["geometric asymmetry rule (training-free)"]["metrics"]
    assert rule["accuracy"] == pytest.approx(0.75) and rule["coverage"] == pytest.approx(0.75)
    assert set(side_rows["side model"]["metrics"]["per_class"]) == {"patient_left_affected",
                                                                    "patient_right_affected"}
    pspi_rows = report["pspi"]["rows"]
    assert "training mean (6.00)" in pspi_rows and "training median (6.0)" in pspi_rows
    assert pspi_rows["unaffected half (the reported score)"]["metrics"]["mae"] < pspi_rows[
        "training mean (6.00)"]["metrics"]["mae"]
    assert pspi_rows["training mean (6.00)"]["intervals"]["pearson_r"]["estimate"] is None
    assert "none available" in report["pspi"]["training_free"]


def test_hemiface_study_pairs_the_halves(report) -> None:
    values = report["hemiface"]["values"]
    diff = values["affected_minus_unaffected_mae"]
    assert diff["estimate"] == pytest.approx(values["affected_half_mae"]["estimate"]
                                             - values["unaffected_half_mae"]["estimate"])
    assert report["hemiface"]["premise_holds"] is True  # the affected half is scored at half the pain here


def test_binary_pain_rule_and_error_by_level(report) -> None:
    binary = report["pain_binary"]
    truth = np.array([p["pspi_true"] for p in report["photos"]]) > 0
    assert binary["prevalence"] == pytest.approx(truth.mean())
    assert set(binary["rows"]) == {"unaffected-half score", "majority class (training)", "stratified random"}
    levels = report["pspi"]["by_level"]
    assert sum(v["n"] for v in levels.values()) == 48


def test_report_is_deterministic(report) -> None:
    assert build_report(_results(), TRAINING, n_boot=200, seed=1) == report


def test_html_is_self_contained_with_one_plotly_copy(report) -> None:
    from plotly.offline import get_plotlyjs

    page = render_html(report)
    assert page.count(get_plotlyjs()) == 1
    rest = page.replace(get_plotlyjs(), "")
    assert "<script src" not in rest and "cdn.plot.ly" not in rest and "patient's left" in rest
    assert "Research software, not a medical device" in page
    assert page == render_html(report)
    table = rows_table(report["pspi"], ("mae",))
    assert "training median (6.0)" in table and "[" in table


def test_unknown_metric_values_read_as_missing(report) -> None:
    row = report["side"]["rows"]["majority class (training)"]["metrics"]
    assert math.isnan(row["per_class"]["patient_left_affected"]["precision"])


def test_the_landmark_estimate_is_a_baseline_row_when_every_photo_has_it() -> None:
    from dataclasses import replace

    results = [replace(r, pspi={**r.pspi, "landmark_unaffected_half": 5.0}) for r in _results()]
    rows = build_report(results, TRAINING, n_boot=20)["pspi"]["rows"]
    row = rows["landmark estimate, unaffected half (training-light)"]
    truth = np.array([r.pspi_true for r in results])
    assert row["metrics"]["mae"] == pytest.approx(np.abs(truth - 5.0).mean())
