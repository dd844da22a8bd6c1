"""What the Assess tab shows for a :class:`~app.session.SessionResult`: Markdown, overlays, charts,
the JSON an API client receives, and the downloadable report. Every side is written as a patient side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.report import download_links, report_html, report_json
from app.session import METHOD_NAMES, Explained, SessionResult
from explain.overlay import face_overlay
from explain.regions import region_chart
from faces.sides import Side, describe, image_side

ASYMMETRY_HEADERS = ["Measure", "Value (× inter-ocular distance)", "Points to", "What it measures"]
SIDE_SOURCES = {"model": "decided by the side model", "override": "set by hand",
                "geometry": "from the geometric asymmetry alone (no side model)"}


def asymmetry_rows(result: SessionResult) -> list[list[str]]:
    """One table row per geometric asymmetry measure, plus the overall index; patient sides."""
    geometry = result.assessment.geometry
    rows = []
    for measure in geometry.asymmetry.measures:
        points_to = describe(measure.points_to, geometry.mirrored) if measure.points_to else "no clear side"
        rows.append([measure.name, f"{measure.value:+.3f}", points_to, measure.description])
    overall = geometry.asymmetry.points_to
    rows.append(["overall asymmetry index", f"{geometry.asymmetry.index:.3f}",
                 describe(overall, geometry.mirrored) if overall else "no clear side",
                 "Weighted combination of the measures above (0 = symmetric)."])
    return rows


def headline_markdown(result: SessionResult) -> str:
    """The answer first (PSPI of the unaffected half), then the side decision with its cross-check and
    the comparison scores, then every warning in plain words."""
    data = result.assessment.to_dict()
    pspi, unaffected, affected = data["pspi"], data["unaffected_side"], data["affected_side"]
    lines = [f"## PSPI {pspi['unaffected_half']:.1f} of 16",
             f"scored on the **unaffected half**, the {unaffected['description']}", "",
             f"**Affected side: {affected['description']}** ({SIDE_SOURCES[data['side_source']]})", ""]
    probabilities = data["side_probabilities"]
    if probabilities:
        chosen = data["side_model_choice"]
        lines.append(f"Side model: p(patient's left affected) = {probabilities['patient_left']:.2f}, "
                     f"p(patient's right affected) = {probabilities['patient_right']:.2f}"
                     + ("" if data["side_source"] == "model" else f" (it chose the {chosen['description']})"))
        lines.append("")
    cross = _cross_check(data).replace("disagrees", "**disagrees**")
    full = "full-face model" if pspi["full_face_source"] == "model" else "mean of the two halves"
    lines += [f"Geometric cross-check: {cross}.", "",
              "| PSPI (0–16) scored on | Score | |", "| --- | --- | --- |",
              f"| **unaffected half** ({unaffected['description']}) | **{pspi['unaffected_half']:.1f}** "
              "| the reported score |",
              f"| affected half ({affected['description']}) | {pspi['affected_half']:.1f} "
              "| comparison: a palsy weakens its expression |",
              f"| full face ({full}) | {pspi['full_face']:.1f} | comparison |", ""]
    lines += [f"- {warning}" for warning in data["warnings"]]
    return "\n".join(lines)


def map_caption(item: Explained, mirrored: bool) -> str:
    """E.g. "Pain · Grad-CAM · unaffected half (patient's left (image right)) · deletion AUC 0.21 vs
    random 0.55"."""
    e = item.explanation
    what = "Side" if e.stage == "side" else "Pain"
    where = f" · {describe(e.half, mirrored)} half" if e.half is not None else f" · {e.target}"
    text = f"{what} · {METHOD_NAMES.get(e.method, e.method)}{where}"
    if item.curves is not None:
        c = item.curves
        text += (f" · deletion AUC {c.deletion_auc:.2f} (random {c.random_deletion_mean:.2f}, lower is "
                 f"better), insertion AUC {c.insertion_auc:.2f} (random {c.random_insertion_mean:.2f})")
    return text


def heatmaps(result: SessionResult) -> list[tuple[np.ndarray, str]]:
    """Every map over the levelled face, with region outlines, the midline and a legend in words."""
    geometry = result.assessment.geometry
    return [(face_overlay(item.explanation, geometry), map_caption(item, geometry.mirrored))
            for item in result.maps()]


def _latest(result: SessionResult, stage: str) -> Explained | None:
    found = [item for item in result.maps() if item.explanation.stage == stage]
    return found[-1] if found else None


def region_plots(result: SessionResult) -> tuple[Any, Any]:
    """Plotly bar charts of the side and the pain map (the method asked for last), or None."""
    side, pain = _latest(result, "side"), _latest(result, "pain")
    return (None if side is None else region_chart(side.summary, top=8),
            None if pain is None else region_chart(pain.summary, top=8))


def summary_markdown(result: SessionResult) -> str:
    """One line in plain words per map: which regions drove it, with patient sides."""
    lines = []
    for item in result.maps():
        e = item.explanation
        label = "Side" if e.stage == "side" else "PSPI"
        lines.append(f"- **{label}, {METHOD_NAMES.get(e.method, e.method)}:** {item.summary.sentence}")
    return "\n".join(lines)


def result_json(result: SessionResult) -> dict[str, Any]:
    """Everything numeric the page shows, for API clients and the JSON report (no pixels)."""
    data = result.assessment.to_dict()
    data["explanations"] = [
        {**item.explanation.to_dict(), "regions": item.summary.to_dict(),
         "faithfulness": None if item.curves is None else item.curves.to_dict()}
        for item in result.maps()
    ]
    data["timings_ms"].update({f"app.{k}": round(v, 1) for k, v in result.timings_ms.items()})
    return data


def _cross_check(data: dict[str, Any]) -> str:
    asym = data["asymmetry"]
    if asym["points_to"] is None:
        return "no clear asymmetry"
    agrees = asym["agrees_with_side_model"]
    verdict = "" if agrees is None else (" (agrees with the side model)" if agrees
                                          else " (disagrees with the side model)")
    return f"points to the {asym['points_to']['description']}{verdict}"


def report_links(result: SessionResult) -> str:
    """The downloadable report (HTML page with the images, and JSON) as in-memory links."""
    data = result_json(result)
    geometry = result.assessment.geometry
    pspi, probabilities = data["pspi"], data["side_probabilities"]
    result_text = [
        f"PSPI {pspi['unaffected_half']:.1f} of 16, scored on the unaffected half, the "
        f"{data['unaffected_side']['description']}.",
        f"Affected side: {data['affected_side']['description']} ({SIDE_SOURCES[data['side_source']]})."
        + ("" if not probabilities else f" Side model: p(patient's left affected) = "
           f"{probabilities['patient_left']:.2f}, p(patient's right affected) = "
           f"{probabilities['patient_right']:.2f}."),
        f"For comparison: affected half {pspi['affected_half']:.1f}, full face {pspi['full_face']:.1f} "
        f"({pspi['full_face_source'].replace('_', ' ')}).",
        f"Geometric cross-check: {_cross_check(data)}.",
    ]
    maps = [f"{METHOD_NAMES.get(i.explanation.method, i.explanation.method)}, "
            f"{'side' if i.explanation.stage == 'side' else 'PSPI'}: {i.summary.sentence}"
            for i in result.maps()]
    taken = "marked as mirrored" if geometry.mirrored else "taken as an ordinary (non-mirrored) photo"
    right_on = image_side(Side.RIGHT, geometry.mirrored).value
    sections = [("Result", "\n\n".join(result_text)),
                ("Warnings", "\n\n".join(data["warnings"])),
                ("What drove each map", "\n\n".join(maps)),
                ("Side convention", f"Sides are the patient's anatomical sides. This photo was {taken}: "
                 f"the patient's right half appears on the image {right_on}.")]
    images = [("Landmarks, midline and the halves, labelled by patient side", result.annotated)]
    images += [(caption, image) for image, caption in heatmaps(result)]
    tables = [("Geometric asymmetry", ASYMMETRY_HEADERS, asymmetry_rows(result))]
    return download_links(report_json(data), report_html("Facial pain assessment", sections, images, tables))
