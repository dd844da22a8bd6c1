"""Every plot has the traces and labels it must have; side labels name the patient's side."""

from __future__ import annotations

import pytest

from eval import plots
from eval.html import report_figures, study_figures
from eval.report import build_report
from tests.test_eval_report import TRAINING, _results


@pytest.fixture(scope="module")
def report() -> dict:
    return build_report(_results(), TRAINING, n_boot=50, seed=0)


def _interval(v: float) -> dict:
    return {"estimate": v, "low": v - 0.1, "high": v + 0.2}


def test_baseline_bars_show_every_row_with_its_interval_and_grey_baselines(report) -> None:
    fig = plots.baseline_bars(report["pspi"], "mae", "PSPI error")
    (bar,) = fig.data
    assert list(bar.x) == list(report["pspi"]["rows"])
    first = report["pspi"]["rows"]["unaffected half (the reported score)"]
    interval = first["intervals"]["mae"]
    assert bar.y[0] == pytest.approx(first["metrics"]["mae"])
    assert bar.error_y.array[0] == pytest.approx(interval["high"] - interval["estimate"])
    assert bar.error_y.arrayminus[0] == pytest.approx(interval["estimate"] - interval["low"])
    colours = list(bar.marker.color)
    assert colours[0] == plots.MODEL_COLOUR and colours[-1] == plots.BASELINE_COLOUR
    assert "95% CI" in fig.layout.yaxis.title.text and fig.layout.title.text == "PSPI error"


def test_confusion_matrix_labels_are_patient_sides(report) -> None:
    fig = plots.confusion_figure(report["side"]["rows"]["side model"], "side")
    (heat,) = fig.data
    assert list(heat.x) == ["affected: patient's left", "affected: patient's right"] == list(heat.y)
    assert [list(r) for r in heat.z] == report["side"]["rows"]["side model"]["metrics"]["confusion"]["matrix"]
    rule = plots.confusion_figure(report["side"]["rows"]["geometric asymmetry rule (training-free)"], "rule")
    assert list(rule.data[0].x)[-1] == "inconclusive"
    assert fig.layout.xaxis.title.text == "predicted" and fig.layout.yaxis.title.text == "true"


def test_scatter_has_points_and_the_identity_line(report) -> None:
    fig = plots.scatter_figure(report["photos"], "unaffected_half", "scatter")
    points, identity = fig.data
    assert len(points.x) == len(report["photos"]) and points.mode == "markers"
    assert list(identity.x) == list(identity.y) and identity.name.startswith("identity")
    assert fig.layout.xaxis.title.text == "true PSPI" and fig.layout.yaxis.title.text == "predicted PSPI"


def test_error_by_level_has_one_line_per_score(report) -> None:
    fig = plots.error_by_level_figure(report["pspi"]["by_level"], "levels")
    assert [t.name for t in fig.data] == list(report["pspi"]["rows"])
    assert fig.layout.xaxis.title.text == "true PSPI level"


def test_hemiface_bars_name_the_three_inputs(report) -> None:
    fig = plots.hemiface_figure(report["hemiface"])
    (bar,) = fig.data
    assert list(bar.x) == ["unaffected half (the reported score)", "affected half", "full face"]
    assert bar.y[1] == pytest.approx(report["hemiface"]["values"]["affected_half_mae"]["estimate"])


def test_grouped_bars_for_model_comparison_and_leaky_vs_honest() -> None:
    def cell(metric: str, value: float) -> dict:
        return {"intervals": {metric: _interval(value)}}

    leaky = {"arch": "resnet18", "protocols": {p: {"model": cell("mae", v), "training mean": cell("mae", 3)}
                                               for p, v in (("report", 0.5), ("subject", 1.5))}}
    comparison = {"protocol": "subject-wise K-fold",
                  "cells": {"resnet18": cell("mae", 1.0), "training mean": cell("mae", 3)}}
    binary = {"networks": ["weinet"], "scenarios": {
        s: {"cells": {"weinet": cell("f1", 0.7), "majority class (training)": cell("f1", 0.4)}}
        for s in ("kfold", "cross_dataset")}}
    figures = dict(study_figures({"leaky_vs_honest": leaky, "comparison": {"pspi": comparison},
                                  "pain_binary": binary}))
    fig = figures["Leaky against honest"]
    assert [t.name for t in fig.data] == ["model", "training mean"]
    assert list(fig.data[0].x) == ["report", "subject"] and fig.data[0].y[1] == 1.5
    assert fig.layout.barmode == "group"
    assert list(figures["Model comparison: pspi"].data[0].x) == ["resnet18", "training mean"]
    scenario_fig = figures["Pain / no pain: the paper's three scenarios"]
    assert [t.name for t in scenario_fig.data] == ["weinet", "majority class (training)"]


def test_training_curves_have_train_and_validation_loss() -> None:
    cards = {"pain": {"curves": [{"epoch": 1, "train_loss": 4.0, "val_loss": 5.0},
                                 {"epoch": 2, "train_loss": 2.0, "val_loss": 3.0}]}}
    fig = plots.curves_figure(cards)
    assert [t.name for t in fig.data] == ["pain: train loss", "pain: val loss"]
    assert list(fig.data[1].y) == [5.0, 3.0] and fig.layout.yaxis.type == "log"


def test_a_report_lists_all_its_figures(report) -> None:
    headings = [h for h, _ in report_figures(report)]
    assert headings[:2] == ["Affected side: model beside baselines", "Affected side: confusion matrix"]
    assert "Hemi-face study" in headings and "PSPI: true against predicted" in headings
