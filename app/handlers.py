"""Event handlers of the dashboard: plain functions that tests call without a browser.

A handler never raises for a bad request: it returns a readable message in place of the results, and
the server keeps serving. Uploaded pixels are held in memory only; the session keeps the assessment
(levelled face crop, no photo) so that LIME and the faithfulness scores, asked for later, reuse it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app import session, views
from faces.errors import FaceInputError
from faces.sides import Side

log = logging.getLogger(__name__)

#: The side control's choices: label shown -> ``side`` argument of :func:`models.pipeline.assess`.
SIDE_CHOICES = {"Decide from the photo": "auto", "Patient's left": "left", "Patient's right": "right"}

PhotoSource = str | Path | bytes | np.ndarray | None

NO_PHOTO_MESSAGE = "Upload a full-face photo (or take one with the webcam) to start."
NO_RESULT_MESSAGE = "Assess a photo first; explanations are made for the photo last assessed."
UNEXPECTED_MESSAGE = (
    "Something went wrong while analysing this photo. Try another photo; if it keeps happening, "
    "report it together with the time shown here (the photo itself is not logged)."
)


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


@dataclass(frozen=True)
class PageView:
    """Everything the Assess tab shows; on failure only ``message`` is set and ``ok`` is False."""

    message: str
    result: session.SessionResult | None = None
    headline: str = ""
    annotated: np.ndarray | None = None
    heatmaps: list[tuple[np.ndarray, str]] | None = None
    side_plot: Any = None
    pain_plot: Any = None
    summary: str = ""
    asymmetry: list[list[str]] | None = None
    landmarks: list[list[str]] | None = None
    report: str = ""
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


def render(result: session.SessionResult, message: str = "") -> PageView:
    """The page for a result (overlays, charts and the in-memory report are drawn here)."""
    side_plot, pain_plot = views.region_plots(result)
    geometry = result.assessment.geometry
    notes = [message] if message else []
    if geometry.n_faces > 1:
        notes.append(f"Found {geometry.n_faces} faces; the largest is assessed.")
    notes.append("The photo is marked as mirrored: the patient's right appears on the image right."
                 if geometry.mirrored else "Ordinary photo: the patient's right appears on the image left.")
    return PageView(
        message=" ".join(notes), result=result, headline=views.headline_markdown(result),
        annotated=result.annotated, heatmaps=views.heatmaps(result), side_plot=side_plot,
        pain_plot=pain_plot, summary=views.summary_markdown(result), asymmetry=views.asymmetry_rows(result),
        landmarks=views.landmark_rows(result), report=views.report_links(result),
        data=views.result_json(result),
    )


def _failure(err: Exception) -> PageView:
    from models.pipeline import AssessmentError, MissingWeightsError, ReferencePhotoError

    if isinstance(err, ReferencePhotoError):
        return PageView(message=f"**Cannot use the reference photo.** {err}")
    if isinstance(err, FaceInputError):
        return PageView(message=f"**Cannot assess this photo.** {err}")
    if isinstance(err, AssessmentError):
        return PageView(message=f"**Cannot score this face.** {err}")
    if isinstance(err, MissingWeightsError):
        return PageView(message=f"**No models are available.** {err}")
    if isinstance(err, ValueError):
        return PageView(message=f"**Cannot run this request.** {err}")
    log.error("assessment failed: %s", type(err).__name__, exc_info=err)  # no image content
    return PageView(message=UNEXPECTED_MESSAGE)


def _given(photo: PhotoSource) -> bool:
    return not (photo is None or (isinstance(photo, str) and not photo))


def assess_photo(photo: PhotoSource, mirrored: bool = False, side: str | None = "auto",
                 method: str | None = "Grad-CAM", samples: Any = session.DEFAULT_LIME_SAMPLES,
                 reference: PhotoSource = None) -> PageView:
    """Assess one photo and explain it with the methods asked for (Grad-CAM by default); with a
    neutral ``reference`` photo of the same person, the scores are read relative to it."""
    if not _given(photo):
        return PageView(message=NO_PHOTO_MESSAGE)  # nothing was given (an empty file is reported as such)
    try:
        result = session.run_assessment(photo, mirrored=bool(mirrored), side=side_request(side),
                                        methods=session.parse_methods(method),
                                        samples=session.lime_samples(samples),
                                        reference=reference if _given(reference) else None)
        return render(result)
    except Exception as err:  # noqa: BLE001 - the page must keep working; see _failure
        return _failure(err)


def explain_more(result: session.SessionResult | None, method: str | None = "LIME",
                 samples: Any = session.DEFAULT_LIME_SAMPLES) -> PageView:
    """Explain the last assessed photo with more methods (the assessment itself is not repeated)."""
    if result is None:
        return PageView(message=NO_RESULT_MESSAGE)
    try:
        count = session.lime_samples(samples)
        for name in session.parse_methods(method):
            session.add_method(result, name, samples=count)
        return render(result)
    except Exception as err:  # noqa: BLE001
        return _failure(err)


def faithfulness(result: session.SessionResult | None) -> PageView:
    """Deletion/insertion scores for every map of the last assessed photo that has none yet."""
    if result is None:
        return PageView(message=NO_RESULT_MESSAGE)
    try:
        return render(session.add_faithfulness(result))
    except Exception as err:  # noqa: BLE001
        return _failure(err)


@dataclass(frozen=True)
class CounterfactualView:
    """What the counterfactual view shows; on failure only ``message`` is set."""

    message: str
    text: str = ""
    images: list[tuple[np.ndarray, str]] | None = None
    data: dict[str, Any] | None = None


def counterfactual(result: session.SessionResult | None, group: str | None = "AU4 brow lowering",
                   sides: str | None = "Both sides", strength: Any = 0.6) -> CounterfactualView:
    """Edit the last assessed photo with an action-unit group and show how each half's PSPI moves."""
    if result is None:
        return CounterfactualView(message=NO_RESULT_MESSAGE)
    try:
        made = session.add_counterfactual(result, group, sides, strength).counterfactual
    except Exception as err:  # noqa: BLE001 - the page must keep working; see _failure
        return CounterfactualView(message=_failure(err).message)
    return CounterfactualView(message="", text=views.counterfactual_markdown(made),
                              images=views.counterfactual_images(made), data=made.to_dict())
