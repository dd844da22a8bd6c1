"""Plotly figures of an evaluation report (the dashboard's Model performance tab draws these too).

Every function takes a section of the JSON report (or of the studies report) and returns a
``plotly.graph_objects.Figure``; nothing is computed here beyond arranging numbers. Error bars are the
subject-bootstrap 95% intervals. Classes and labels name the patient's anatomical side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

SIDE_LABELS = {"patient_left_affected": "affected: patient's left",
               "patient_right_affected": "affected: patient's right",
               "inconclusive": "inconclusive"}
METRIC_LABELS = {"mae": "PSPI MAE (lower is better)", "rmse": "PSPI RMSE (lower is better)",
                 "accuracy": "accuracy", "macro_f1": "macro F1", "f1": "F1", "roc_auc": "ROC AUC",
                 "pearson_r": "Pearson r", "icc_3_1": "ICC(3,1)"}
MODEL_COLOUR, BASELINE_COLOUR = "#1f5f99", "#a0a0a0"


def _errors(values: Sequence[float | None], lows: Sequence[float | None],
            highs: Sequence[float | None]) -> dict[str, Any]:
    plus = [None if v is None or h is None else h - v for v, h in zip(values, highs, strict=True)]
    minus = [None if v is None or lo is None else v - lo for v, lo in zip(values, lows, strict=True)]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 60, "b": 60})
    return fig


def baseline_bars(section: Mapping[str, Any], metric: str, title: str,
                  baselines: Sequence[str] = ("majority", "stratified", "training mean",
                                              "training median", "rule", "landmark")) -> go.Figure:
    """One bar per row of a report section (model and baselines) with its 95% interval; baselines grey."""
    rows = section["rows"]
    names = [name for name in rows if metric in rows[name]["metrics"]]
    values = [rows[n]["metrics"][metric] for n in names]
    values = [None if v != v else v for v in values]
    intervals = [rows[n]["intervals"].get(metric, {}) for n in names]
    colours = [BASELINE_COLOUR if any(b in n for b in baselines) else MODEL_COLOUR for n in names]
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colours, name=METRIC_LABELS.get(metric, metric),
                           error_y=_errors(values, [i.get("low") for i in intervals],
                                           [i.get("high") for i in intervals])))
    return _layout(fig, title, "model or baseline (grey)", f"{METRIC_LABELS.get(metric, metric)}, 95% CI")


def confusion_figure(row: Mapping[str, Any], title: str) -> go.Figure:
    """Heatmap of a row's confusion matrix (rows: true class, columns: predicted), patient-side labels."""
    confusion = row["metrics"]["confusion"]
    names = [SIDE_LABELS.get(n, n.replace("_", " ")) for n in confusion["rows_true_cols_predicted"]]
    matrix = confusion["matrix"]
    rows_shown = names[: len(matrix)]
    fig = go.Figure(go.Heatmap(z=matrix, x=names[: len(matrix[0])], y=rows_shown, colorscale="Blues",
                               text=matrix, texttemplate="%{text}", showscale=False))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, "predicted", "true")


def scatter_figure(photos: Sequence[Mapping[str, Any]], key: str, title: str) -> go.Figure:
    """True against predicted PSPI for one score (``unaffected_half``, ...), with the identity line."""
    true = [p["pspi_true"] for p in photos]
    pred = [p["pspi"][key] for p in photos]
    top = max([16.0, *true, *pred]) if true else 16.0
    fig = go.Figure([
        go.Scatter(x=true, y=pred, mode="markers", name=key.replace("_", " "), opacity=0.6,
                   text=[p["subject"] for p in photos], marker={"color": MODEL_COLOUR, "size": 6}),
        go.Scatter(x=[0, top], y=[0, top], mode="lines", name="identity (perfect prediction)",
                   line={"color": "black", "dash": "dash"}),
    ])
    return _layout(fig, title, "true PSPI", "predicted PSPI")


def error_by_level_figure(by_level: Mapping[str, Mapping[str, float]], title: str) -> go.Figure:
    """MAE per true PSPI level, one line per score or baseline."""
    levels = sorted(by_level, key=float)
    names = [k for k in next(iter(by_level.values())) if k != "n"] if by_level else []
    fig = go.Figure([go.Scatter(x=[float(lv) for lv in levels], y=[by_level[lv][n] for lv in levels],
                                mode="lines+markers", name=n) for n in names])
    return _layout(fig, title, "true PSPI level", "PSPI MAE")


def hemiface_figure(hemiface: Mapping[str, Any], title: str = "Which part of the face reads pain best?"
                    ) -> go.Figure:
    """MAE of the unaffected half, the affected half and the full face with 95% intervals."""
    labels = hemiface["labels"]
    keys = list(labels)
    values = [hemiface["values"][f"{k}_mae"] for k in keys]
    fig = go.Figure(go.Bar(x=[labels[k] for k in keys], y=[v["estimate"] for v in values],
                           marker_color=[MODEL_COLOUR, "#c0504d", "#9bbb59"][: len(keys)],
                           error_y=_errors([v["estimate"] for v in values], [v["low"] for v in values],
                                           [v["high"] for v in values])))
    return _layout(fig, title, "PSPI scored on", "PSPI MAE, 95% CI (subject bootstrap)")


def grouped_bars(groups: Mapping[str, Mapping[str, Mapping[str, Any]]], metric: str, title: str,
                 x_title: str) -> go.Figure:
    """Bars grouped by x (e.g. protocol or model) with one trace per series; each cell is an interval
    dict (``estimate``, ``low``, ``high``). ``groups[series][x] -> interval``."""
    traces = []
    for series, cells in groups.items():
        xs = list(cells)
        values = [cells[x]["estimate"] for x in xs]
        traces.append(go.Bar(x=xs, y=values, name=series,
                             error_y=_errors(values, [cells[x].get("low") for x in xs],
                                             [cells[x].get("high") for x in xs])))
    fig = go.Figure(traces)
    fig.update_layout(barmode="group")
    return _layout(fig, title, x_title, f"{METRIC_LABELS.get(metric, metric)}, 95% CI")


def curves_figure(cards: Mapping[str, Mapping[str, Any]], title: str = "Training curves") -> go.Figure:
    """Training and validation loss per epoch from model cards (``{role: card dict}``)."""
    traces = []
    for role, card in cards.items():
        curves = card.get("curves") or []
        epochs = [row["epoch"] for row in curves]
        for key, dash in (("train_loss", "solid"), ("val_loss", "dash")):
            traces.append(go.Scatter(x=epochs, y=[row[key] for row in curves], mode="lines",
                                     name=f"{role}: {key.replace('_', ' ')}", line={"dash": dash}))
    fig = go.Figure(traces)
    fig.update_yaxes(type="log")
    return _layout(fig, title, "epoch", "loss (log scale)")


__all__ = ["SIDE_LABELS", "baseline_bars", "confusion_figure", "curves_figure", "error_by_level_figure",
           "grouped_bars", "hemiface_figure", "scatter_figure"]
