"""The result in words: the Assess tab's headline and the report's "Result" paragraphs.

Both read the assessment's JSON (:meth:`models.pipeline.Assessment.to_dict`), so the page, the report and
an API client see the same figures. The answer comes first (PSPI of the unaffected half, or, when the
photo shows no clear affected side, the mean of both halves with each half beside it), the warnings right
under it, then the side decision with
its cross-check and the comparison scores. Every side is a patient side.
"""

from __future__ import annotations

from typing import Any

from faces.sides import Side, describe
from models.pipeline import CONFIRM_SIDE, DEMO_NOTE, RESEARCH_NOTE

SIDE_SOURCES = {"model": "decided by the side model", "override": "set by hand",
                "geometry": "from the geometric asymmetry alone (no side model)"}
#: The absolute scores shown beside a reading relative to the rest photo.
READINGS = {"rest": "rest photo (absolute)", "absolute": "this photo (absolute)"}
NO_CLEAR_SIDE_PROMPT = ("**Set the affected side by hand** (the *Affected side* control) and assess again: "
                        "the PSPI is reported for the unaffected half once the side is known.")
#: How the mean of both halves is described when no side is clearly affected.
MEAN_OF_HALVES = "the mean of both halves, since either may be the unaffected one"


def reported(data: dict[str, Any]) -> float:
    """The one PSPI the assessment reports (``Assessment.reported_pspi``)."""
    return float(data["reported_pspi"]["value"])


def no_clear_side(data: dict[str, Any]) -> bool:
    """Whether the assessment found no clear affected side (both halves are then shown alike)."""
    return data["side_outcome"] == "no_clear_side"


def half_label(data: dict[str, Any], side: Side) -> str:
    """E.g. "patient's left (image right)" for this photo's mirroring."""
    return describe(side, bool(data["mirrored"]))


def relative(data: dict[str, Any]) -> bool:
    """Whether the scores are read relative to a neutral reference photo."""
    return data["pspi_reading"] == "relative_to_reference"


def _probabilities(data: dict[str, Any]) -> str:
    probabilities = data["side_probabilities"]
    if not probabilities:
        return ""
    return (f"Side model: p(patient's left affected) = {probabilities['patient_left']:.2f}, "
            f"p(patient's right affected) = {probabilities['patient_right']:.2f}")


def cross_check(data: dict[str, Any]) -> str:
    """Where the geometric asymmetry points, and whether it agrees with the side model."""
    asym = data["asymmetry"]
    if asym["points_to"] is None:
        return "no clear asymmetry"
    agrees = asym["agrees_with_side_model"]
    verdict = "" if agrees is None else (" (agrees with the side model)" if agrees
                                          else " (disagrees with the side model)")
    return f"points to the {asym['points_to']['description']}{verdict}"


def domain_line(data: dict[str, Any]) -> str:
    """How far the photo lies from the faces the models learned from, in words ("" without statistics)."""
    domain = data["domain"]
    if not domain:
        return ""
    where = "**far from**" if domain["far"] else "within the range of"
    return (f"Domain check: this photo lies {where} the faces the models learned from "
            f"(score {domain['score']:.2f}; above 1 = far).")


def _reading_note(data: dict[str, Any]) -> str:
    return ", **relative to the rest photo** (0 = as at rest)" if relative(data) else ""


def _full_face(data: dict[str, Any]) -> tuple[str, str]:
    pspi = data["pspi"]
    source = "full-face model" if pspi["full_face_source"] == "model" else "mean of the two halves"
    return f"full face ({source})", f"{pspi['full_face']:.1f}"


def _both_halves(data: dict[str, Any]) -> list[str]:
    scores = data["half_scores"]
    left, right = half_label(data, Side.LEFT), half_label(data, Side.RIGHT)
    where, full = _full_face(data)
    lines = ["## No clear affected side",
             f"**PSPI {reported(data):.1f} of 16**, {MEAN_OF_HALVES}{_reading_note(data)}. Each half:",
             "", f"| | {left} | {right} | {where} |", "| --- | --- | --- | --- |",
             f"| **PSPI{' relative to rest' if relative(data) else ''}** | **{scores['patient_left']:.1f}** "
             f"| **{scores['patient_right']:.1f}** | {full} |"]
    if relative(data):
        network = data["reference"]["network_pspi"]
        lines += [f"| {name} | {network[key]['patient_left']:.1f} | {network[key]['patient_right']:.1f} "
                  f"| {network[key]['full_face']:.1f} |" for key, name in READINGS.items()]
    return [*lines, "", NO_CLEAR_SIDE_PROMPT, ""]


def rest_line(data: dict[str, Any]) -> str:
    """The scored half's absolute scores on the rest photo and on this photo ("" without a reference)."""
    if not relative(data):
        return ""
    network, side = data["reference"]["network_pspi"], f"patient_{data['scored_half']['side']}"
    return (f"Rest photo: PSPI {network['rest'][side]:.1f} on this half; this photo: "
            f"{network['absolute'][side]:.1f} (absolute scores; the PSPI above is this photo's rise over "
            "the rest photo, 0 at the least).")


def _one_half(data: dict[str, Any]) -> list[str]:
    pspi, unaffected = data["pspi"], data["unaffected_side"]
    rest = rest_line(data)
    return [f"## PSPI {pspi['unaffected_half']:.1f} of 16",
            f"scored on the **unaffected half**, the {unaffected['description']}{_reading_note(data)}", "",
            *([rest, ""] if rest else [])]


def _side_decision(data: dict[str, Any]) -> list[str]:
    probabilities = _probabilities(data)
    if no_clear_side(data):
        lines = [f"{probabilities}: no side is clearly affected." if probabilities else ""]
    else:
        lines = [f"**Affected side: {data['affected_side']['description']}** "
                 f"({SIDE_SOURCES[data['side_source']]})", ""]
        if probabilities:
            chosen = data["side_model_choice"]
            lines.append(probabilities + ("" if data["side_source"] == "model"
                                          else f" (it chose the {chosen['description']})"))
        if data["side_source"] == "model":
            lines += ["", CONFIRM_SIDE]
    domain = domain_line(data)
    return [*lines, "", f"Geometric cross-check: {cross_check(data).replace('disagrees', '**disagrees**')}.",
            "", *([domain, ""] if domain else [])]


def _comparison_table(data: dict[str, Any]) -> list[str]:
    pspi, unaffected, affected = data["pspi"], data["unaffected_side"], data["affected_side"]
    where, full = _full_face(data)
    return ["| PSPI (0–16) scored on | Score | |", "| --- | --- | --- |",
            f"| **unaffected half** ({unaffected['description']}) | **{pspi['unaffected_half']:.1f}** "
            "| the reported score |",
            f"| affected half ({affected['description']}) | {pspi['affected_half']:.1f} "
            "| comparison: a palsy weakens its expression |",
            f"| {where} | {full} | comparison |", ""]


def warning_lines(data: dict[str, Any]) -> list[str]:
    """Every warning of the assessment as a Markdown bullet (cautions first, the demo-weights note last)."""
    warnings = list(data["warnings"])
    notes = [w for w in warnings if w in (DEMO_NOTE, RESEARCH_NOTE)]
    cautions = [w for w in warnings if w not in notes]
    return [f"- ⚠️ {w}" for w in cautions] + [f"- {w}" for w in notes]


def headline_markdown(data: dict[str, Any]) -> str:
    """The answer first, the warnings under it, then the side decision and the comparison scores."""
    lines = _both_halves(data) if no_clear_side(data) else _one_half(data)
    lines += [*warning_lines(data), ""]
    lines += _side_decision(data)
    if not no_clear_side(data):
        lines += _comparison_table(data)
    return "\n".join(lines)


def result_paragraphs(data: dict[str, Any]) -> list[str]:
    """The report's "Result" section in plain sentences (no Markdown)."""
    pspi = data["pspi"]
    reading = " Scores are read relative to the rest photo (0 = as at rest)." if relative(data) else ""
    if relative(data) and not no_clear_side(data):
        reading += " " + rest_line(data)
    if no_clear_side(data):
        scores = data["half_scores"]
        text = [f"No clear affected side. PSPI {reported(data):.1f} of 16, {MEAN_OF_HALVES}: "
                f"{scores['patient_left']:.1f} on the {half_label(data, Side.LEFT)} half and "
                f"{scores['patient_right']:.1f} on the {half_label(data, Side.RIGHT)} half.{reading} Set the "
                "affected side by hand to have the unaffected half's score reported."]
    else:
        text = [f"PSPI {pspi['unaffected_half']:.1f} of 16, scored on the unaffected half, the "
                f"{data['unaffected_side']['description']}.{reading}",
                f"Affected side: {data['affected_side']['description']} "
                f"({SIDE_SOURCES[data['side_source']]})."
                + (f" {CONFIRM_SIDE}" if data["side_source"] == "model" else ""),
                f"For comparison: affected half {pspi['affected_half']:.1f}, full face "
                f"{pspi['full_face']:.1f} ({pspi['full_face_source'].replace('_', ' ')})."]
    probabilities, domain = _probabilities(data), domain_line(data).replace("**", "")
    return [*text, *([probabilities + "."] if probabilities else []),
            f"Geometric cross-check: {cross_check(data)}.", *([domain] if domain else [])]
