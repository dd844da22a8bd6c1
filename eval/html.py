"""A self-contained HTML page of an evaluation report: tables with intervals and the plotly figures.

plotly.js is inlined once in the page head and every figure refers to it, so the page opens offline and
fetches nothing. Figure ids are fixed, so the same report gives the same page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from eval import plots

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:0.92em}
.warn{background:#fff4e0;border-left:4px solid #e69500;padding:0.6em 1em}"""


def _fmt(cell: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not cell or cell.get("estimate") is None:
        return "-"
    low, high = cell.get("low"), cell.get("high")
    interval = f" [{low:.{digits}f}, {high:.{digits}f}]" if low is not None and high is not None else ""
    return f"{cell['estimate']:.{digits}f}{interval}"


def rows_table(section: Mapping[str, Any], metrics: tuple[str, ...]) -> str:
    """A table of a report section's rows: each metric with its 95% subject interval."""
    head = "".join(f"<th>{html.escape(plots.METRIC_LABELS.get(m, m))}</th>" for m in metrics)
    body = []
    for name, row in section["rows"].items():
        cells = []
        for m in metrics:
            interval = row["intervals"].get(m)
            value = row["metrics"].get(m)
            if interval is None and isinstance(value, float):
                interval = {"estimate": value if value == value else None}
            cells.append(f"<td>{_fmt(interval)}</td>")
        body.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>model or baseline</th>{head}</tr>{''.join(body)}</table>"


def _figure(fig: go.Figure, index: int) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{index}",
                       default_height="420px")


def report_figures(report: Mapping[str, Any]) -> list[tuple[str, go.Figure]]:
    """(heading, figure) for every plot of a report (the studies' ones when the report holds them)."""
    figures: list[tuple[str, go.Figure]] = []
    side, pspi = report.get("side", {}), report.get("pspi", {})
    if side.get("rows"):
        figures.append(("Affected side: model beside baselines",
                        plots.baseline_bars(side, "accuracy", "Affected-side accuracy (patient sides)")))
        figures.append(("Affected side: confusion matrix",
                        plots.confusion_figure(side["rows"]["side model"], "Side model: confusion matrix")))
    if pspi.get("rows"):
        figures.append(("PSPI: model beside baselines", plots.baseline_bars(pspi, "mae", "PSPI error")))
        figures.append(("PSPI: true against predicted",
                        plots.scatter_figure(report["photos"], "unaffected_half", "Unaffected half")))
        figures.append(("PSPI: error by level",
                        plots.error_by_level_figure(pspi["by_level"], "MAE by level")))
    if report.get("pain_binary", {}).get("rows"):
        figures.append(("Pain / no pain",
                        plots.baseline_bars(report["pain_binary"], "f1", "Pain / no pain F1")))
    if report.get("hemiface", {}).get("values"):
        figures.append(("Hemi-face study", plots.hemiface_figure(report["hemiface"])))
    studies = (report.get("studies") or {}).get("studies", {})
    figures += study_figures(studies)
    if report.get("curves"):
        figures.append(("Training curves", plots.curves_figure(report["curves"])))
    return figures


def study_figures(studies: Mapping[str, Any]) -> list[tuple[str, go.Figure]]:
    """Figures of the studies' results (model comparison, pain / no pain scenarios, leaky vs honest)."""
    figures: list[tuple[str, go.Figure]] = []
    for task, metric in (("pspi", "mae"), ("side", "accuracy")):
        study = studies.get("comparison", {}).get(task)
        if study:
            groups = {metric: {name: cell["intervals"][metric] for name, cell in study["cells"].items()}}
            figures.append((f"Model comparison: {task}", plots.grouped_bars(
                groups, metric, f"{task}: {study['protocol']}, same budget", "network")))
    binary = studies.get("pain_binary")
    if binary:
        nets = [*binary["networks"], "majority class (training)"]
        groups = {net: {sc: binary["scenarios"][sc]["cells"][net]["intervals"]["f1"]
                        for sc in binary["scenarios"]} for net in nets}
        figures.append(("Pain / no pain: the paper's three scenarios", plots.grouped_bars(
            groups, "f1", "Pain / no pain F1 by scenario", "scenario")))
    leaky = studies.get("leaky_vs_honest")
    if leaky:
        groups = {series: {p: leaky["protocols"][p][series]["intervals"]["mae"] for p in leaky["protocols"]}
                  for series in ("model", "training mean")}
        figures.append(("Leaky against honest", plots.grouped_bars(
            groups, "mae", f"{leaky['arch']}: PSPI error by protocol", "protocol")))
    return figures


def render_html(report: Mapping[str, Any], title: str = "Evaluation report") -> str:
    """The whole page (see module doc)."""
    from plotly.offline import get_plotlyjs

    parts = [f"<h1>{html.escape(title)}</h1>",
             "<p class='warn'>Research software, not a medical device. Figures on synthetic faces say "
             "nothing about accuracy on people.</p>",
             f"<p class='note'>Data: {html.escape(str(report.get('data', {})))}</p>",
             f"<p class='note'>Intervals: 95% percentile intervals of a bootstrap over subjects "
             f"({report.get('bootstrap', {}).get('n_boot')} replicates). Sides are the patient's "
             "anatomical sides.</p>"]
    if report.get("side", {}).get("rows"):
        parts += ["<h2>Affected side</h2>", rows_table(report["side"], ("accuracy", "macro_f1", "roc_auc"))]
    if report.get("pspi", {}).get("rows"):
        parts += ["<h2>PSPI</h2>", rows_table(report["pspi"], ("mae", "rmse", "pearson_r", "icc_3_1")),
                  "<p class='note'>Training-free PSPI estimate: "
                  f"{html.escape(report['pspi']['training_free'])}</p>"]
    if report.get("pain_binary", {}).get("rows"):
        parts += ["<h2>Pain / no pain</h2>",
                  rows_table(report["pain_binary"], ("accuracy", "f1", "roc_auc"))]
    for index, (heading, fig) in enumerate(report_figures(report)):
        parts += [f"<h3>{html.escape(heading)}</h3>", _figure(fig, index)]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            + "\n".join(parts) + "</body></html>")


__all__ = ["render_html", "report_figures", "rows_table", "study_figures"]
