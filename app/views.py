"""What the Assess tab shows for a :class:`~app.session.SessionResult`: Markdown, overlays, charts, the
landmark-estimate table, the counterfactual view, the JSON an API client receives, and the downloadable
report. The words of the result itself live in :mod:`app.headline`. Every side is a patient side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app import headline
from app.counterfactual import Counterfactual
from app.report import download_links, report_html, report_json
from app.session import METHOD_NAMES, Explained, SessionResult
from explain.overlay import face_overlay
from explain.regions import region_chart
from faces.pose import TURN_WARNING_DEGREES
from faces.sides import Side, describe, image_side

ASYMMETRY_HEADERS = ["Measure", "Value (× inter-ocular distance)", "Points to", "What it measures"]
HALF_ORDER = (Side.LEFT, Side.RIGHT)
LANDMARK_TERMS = {"AU4": "AU4 brow lowering (0–5)", "AU6/7": "AU6/7 cheek raise, lid tightening (0–5)",
                  "AU9/10": "AU9/10 nose wrinkle, upper-lip raise (0–5)", "AU43": "AU43 eyes closed (0–1)"}
LANDMARK_CAPTION = ("A cross-check from landmark geometry alone (distances between the 68 face points, no "
                    "network): a face's own resting shape passes into it unless a rest photo is given.")


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
    turn = geometry.head_turn
    balance = result.assessment.side_balance
    rows.append(["head turn", f"{turn.degrees:.0f}°",
                 describe(turn.toward, geometry.mirrored) if turn.toward else "facing the camera",
                 "How far the head is turned away from the camera, toward that side (from the nose tip "
                 f"against the jaw outline); from {TURN_WARNING_DEGREES:g}° the halves are not seen alike "
                 "and the assessment warns."
                 + (" The side model read this face with the two halves stretched to even widths "
                    f"({balance:.0%} of the way)." if balance else "")])
    return rows


def headline_markdown(result: SessionResult) -> str:
    """The answer first (PSPI of the unaffected half, or both halves when no side is clearly affected),
    the warnings under it, then the side decision with its cross-check and the comparison scores."""
    return headline.headline_markdown(result.assessment.to_dict())


def landmark_rows(result: SessionResult) -> list[list[str]]:
    """The landmark estimate per patient half (per-AU values and its PSPI) beside the network's PSPI."""
    assessment = result.assessment
    estimate, network = assessment.landmark_estimate, assessment.half_scores
    reading = "" if assessment.reference is None else ", relative to the rest photo"
    rows = [[label] + [f"{estimate[side].aus[term]:.2f}" for side in HALF_ORDER]
            for term, label in LANDMARK_TERMS.items()]
    rows.append([f"PSPI from the landmarks (0–16){reading}"]
                + [f"{estimate[side].pspi:.1f}" for side in HALF_ORDER])
    rows.append([f"PSPI from the network (0–16){reading}"] + [f"{network[side]:.1f}" for side in HALF_ORDER])
    return rows


def landmark_headers(result: SessionResult) -> list[str]:
    """Column headers of :func:`landmark_rows`: the halves by patient side, the scored one marked."""
    assessment = result.assessment
    scored = assessment.unaffected_side if assessment.clear_side else None
    marks = {side: " (scored)" if side is scored else "" for side in HALF_ORDER}
    return ["Landmark estimate", *(f"{assessment.describe(side)} half{marks[side]}" for side in HALF_ORDER)]


def counterfactual_markdown(made: Counterfactual) -> str:
    """The edit in words, each half's PSPI before and after it, and the side model's view of the edited
    photo when it differs from the side decision kept."""
    original, edited = made.original, made.edited
    kept = (f"affected side the {original.describe(original.affected_side)}" if original.clear_side
            else "no clear affected side, both halves shown")
    lines = [f"**Edited: {made.edit_description()}** (the photo was warped in memory; side decision kept: "
             f"{kept})", ""]
    lines += [f"- {line}" for line in made.score_lines()]
    lines.append(f"- {made.landmark_line()}")
    choice = edited.side_model_choice
    if choice is not None and original.clear_side and choice is not original.affected_side:
        lines.append(f"- On the edited photo the side model would name the {edited.describe(choice)} as "
                     f"affected (p = {edited.side_probabilities[choice]:.2f}).")
    # the side is set by hand on the edited photo (to keep the decision): that is no news to the user
    cautions = [w for w in edited.warnings if w not in original.warnings and "set by hand" not in w]
    lines += ["", *[f"- ⚠️ {w}" for w in cautions]] if cautions else []
    return "\n".join(lines)


def counterfactual_images(made: Counterfactual) -> list[tuple[np.ndarray, str]]:
    """The levelled face as photographed and as edited."""
    return [(made.original_face, "As photographed (levelled face)"),
            (made.edited_face, f"Edited: {made.edit_description()}")]


#: How a caption names the faithfulness curves' fill.
FILL_WORDS = {"neutral": "an average relaxed face", "blur": "a blurred copy"}


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
                 f"better), insertion AUC {c.insertion_auc:.2f} (random {c.random_insertion_mean:.2f}); "
                 f"removed parts taken from {FILL_WORDS.get(c.fill, c.fill)}")
    return text


def heatmaps(result: SessionResult) -> list[tuple[np.ndarray, str]]:
    """Every map over the levelled face, with region outlines, the midline and a legend in words."""
    geometry, tentative = result.assessment.geometry, not result.assessment.clear_side
    return [(face_overlay(item.explanation, geometry), map_caption(item, geometry.mirrored)
             + (" (tentative: no side is clearly affected)" if tentative and item.explanation.stage == "side"
                else "")) for item in result.maps()]


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


def report_links(result: SessionResult) -> str:
    """The downloadable report (HTML page with the images, and JSON) as in-memory links."""
    data = result_json(result)
    geometry = result.assessment.geometry
    result_text = headline.result_paragraphs(data)
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
    tables = [("Geometric asymmetry", ASYMMETRY_HEADERS, asymmetry_rows(result)),
              (f"Landmark estimate. {LANDMARK_CAPTION}", landmark_headers(result), landmark_rows(result))]
    return download_links(report_json(data), report_html("Facial pain assessment", sections, images, tables))
