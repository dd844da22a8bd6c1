"""Event handlers of the dashboard: plain functions that tests call without a browser.

A handler never raises for a bad photo: it returns a readable message in place of the results, and the
server keeps serving. Uploaded pixels are only held in memory for the length of the call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import faces
from faces.draw import annotate
from faces.errors import FaceInputError
from faces.sides import Side, describe

log = logging.getLogger(__name__)

#: The side control's choices: label shown -> ``side`` argument of :func:`models.pipeline.assess`.
SIDE_CHOICES = {"Decide from the photo": "auto", "Patient's left": "left", "Patient's right": "right"}

PhotoSource = str | Path | bytes | np.ndarray | None

NO_PHOTO_MESSAGE = "Upload a full-face photo (or take one with the webcam) to start."
UNEXPECTED_MESSAGE = (
    "Something went wrong while analysing this photo. Try another photo; if it keeps happening, "
    "report it together with the time shown here (the photo itself is not logged)."
)


@dataclass(frozen=True)
class FaceView:
    """What the Assess tab shows for the face stage.

    Images are RGB uint8; halves are shown as they appear in the photo (not mirrored), each titled with
    its patient side. ``message`` is Markdown for the status box; the other fields are None on failure.
    """

    message: str
    annotated: np.ndarray | None = None
    halves: list[tuple[np.ndarray, str]] | None = None
    asymmetry_rows: list[list[str]] | None = None
    assessment: str | None = None
    ok: bool = False


ASYMMETRY_HEADERS = ["Measure", "Value (× inter-ocular distance)", "Points to", "What it measures"]


def _load(photo: PhotoSource) -> np.ndarray:
    """Decode the photo (file path, data URL, bytes or array) in memory through the face stage's checks
    (size, bombs, corrupt files, malformed data URLs)."""
    return faces.read_image(photo)


def side_request(side: str | None) -> str:
    """The ``side`` argument of :func:`models.pipeline.assess` for a control value: ``"auto"``, ``"left"``
    or ``"right"`` (patient sides). Raises ValueError with a message for the page on anything else."""
    value = SIDE_CHOICES.get(side, side) if isinstance(side, str) else side
    if value is None or str(value).strip().lower() == "auto":
        return "auto"
    try:
        return Side.parse(value).value
    except ValueError:
        choices = ", ".join(f"'{label}'" for label in SIDE_CHOICES)
        raise ValueError(f"The affected side {str(value)[:40]!r} is not one of {choices} "
                         "(or 'auto', 'left', 'right': the patient's side).") from None


def asymmetry_rows(geometry: faces.FaceGeometry) -> list[list[str]]:
    """One table row per asymmetry measure, sides written as patient sides."""
    rows = []
    for measure in geometry.asymmetry.measures:
        points_to = describe(measure.points_to, geometry.mirrored) if measure.points_to else "no clear side"
        rows.append([measure.name, f"{measure.value:+.3f}", points_to, measure.description])
    overall = geometry.asymmetry.points_to
    rows.append([
        "overall asymmetry index",
        f"{geometry.asymmetry.index:.3f}",
        describe(overall, geometry.mirrored) if overall else "no clear side",
        "Weighted combination of the measures above (0 = symmetric).",
    ])
    return rows


def _models() -> tuple[object | None, str | None]:
    """The process-wide model bundle, or None and the reason (missing or damaged weights)."""
    from models.checkpoint import CheckpointError
    from models.pipeline import MissingWeightsError, load_default_models

    try:
        return load_default_models(), None
    except (MissingWeightsError, CheckpointError) as err:
        return None, str(err)


def _pct(p: float) -> str:
    return f"{p:.2f}"


def assessment_markdown(result: object) -> str:
    """The side decision and the three PSPI scores of an :class:`~models.pipeline.Assessment`, as Markdown.

    The score that answers the question (the unaffected half) comes first and is marked as the one
    used; the affected half and the full face follow, marked as comparisons.
    """
    data = result.to_dict()  # type: ignore[attr-defined]
    source = {"model": "decided by the side model", "override": "set by hand",
              "geometry": "from the geometric asymmetry alone (no side model)"}[data["side_source"]]
    lines = ["### Assessment", "",
             f"**Affected side: {data['affected_side']['description']}** ({source})", ""]
    probabilities = data["side_probabilities"]
    if probabilities:
        lines.append(f"Side model: p(patient's left affected) = {_pct(probabilities['patient_left'])}, "
                     f"p(patient's right affected) = {_pct(probabilities['patient_right'])}"
                     + ("" if data["side_source"] == "model" else
                        f" (it chose the {data['side_model_choice']['description']})"))
        lines.append("")
    asym = data["asymmetry"]
    if asym["points_to"] is None:
        cross = "no clear asymmetry"
    else:
        agrees = asym["agrees_with_side_model"]
        verdict = "" if agrees is None else (" (agrees with the side model)" if agrees
                                              else " (**disagrees** with the side model)")
        cross = f"points to the {asym['points_to']['description']}{verdict}"
    lines += [f"Geometric cross-check: {cross}.", ""]
    pspi, unaffected, affected = data["pspi"], data["unaffected_side"], data["affected_side"]
    full = "full-face model" if pspi["full_face_source"] == "model" else "mean of the two halves"
    lines += [
        "| PSPI (0–16) scored on | Score | |",
        "| --- | --- | --- |",
        f"| **unaffected half** ({unaffected['description']}) | **{pspi['unaffected_half']:.1f}** "
        "| the reported score |",
        f"| affected half ({affected['description']}) | {pspi['affected_half']:.1f} "
        "| comparison: palsy weakens its expression |",
        f"| full face ({full}) | {pspi['full_face']:.1f} | comparison |",
        "",
    ]
    lines += [f"- {w}" for w in data["warnings"]]
    lines.append(f"\nTime: {data['timings_ms']['total']:.0f} ms.")
    return "\n".join(lines)


def _assess(geometry: faces.FaceGeometry, side: str) -> str:
    """Markdown for the model stages, or why they could not run (the face stage is still shown)."""
    from models.pipeline import AssessmentError, assess

    bundle, reason = _models()
    if bundle is None:
        return f"**No pain model is available**, so only the face geometry is shown. {reason}"
    try:
        result = assess(geometry=geometry, side=side_request(side), models=bundle)
    except AssessmentError as err:
        return f"**Cannot score this face.** {err}"
    return assessment_markdown(result)


def analyse_face(photo: PhotoSource, mirrored: bool = False, side: str = "auto") -> FaceView:
    """Run the face stage and the two model stages on one photo and prepare what the page shows.

    ``side`` is ``"auto"`` (the side model decides), ``"left"`` / ``"right"`` (the affected patient side as
    known by a clinician) or one of the labels of :data:`SIDE_CHOICES`.
    """
    if photo is None or (isinstance(photo, bytes | str) and len(photo) == 0):
        return FaceView(message=NO_PHOTO_MESSAGE)
    try:
        side_request(side)
    except ValueError as err:
        return FaceView(message=f"**Cannot assess this photo.** {err}")
    try:
        image = _load(photo)
        geometry = faces.analyse(image, mirrored=bool(mirrored))
        assessment = _assess(geometry, side)
    except FaceInputError as err:
        return FaceView(message=f"**Cannot assess this photo.** {err}")
    except Exception:  # noqa: BLE001 - the page must keep working; details go to the log, never the image
        log.exception("face analysis failed")
        return FaceView(message=UNEXPECTED_MESSAGE)

    halves = []
    for side in (Side.RIGHT, Side.LEFT):
        half = geometry.halves[side]
        as_in_photo = np.ascontiguousarray(half.to_aligned(half.image))
        halves.append((as_in_photo, describe(side, geometry.mirrored)))
    notes = [f"Found {geometry.n_faces} face(s); the largest is analysed." if geometry.n_faces > 1 else
             "Found one face."]
    if geometry.landmark_source == "template":
        notes.append("No face was detected; landmarks come from a template and are approximate.")
    notes.append(f"Head roll corrected: {geometry.roll_degrees:+.1f}°.")
    side_note = ("The photo is marked as mirrored, so the patient's right appears on the image right."
                 if geometry.mirrored else
                 "Ordinary photo: the patient's right appears on the image left.")
    notes.append(side_note)
    return FaceView(
        message=" ".join(notes),
        annotated=annotate(geometry, image),
        halves=halves,
        asymmetry_rows=asymmetry_rows(geometry),
        assessment=assessment,
        ok=True,
    )
