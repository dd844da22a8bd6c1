"""What one dashboard session knows about the photo it assessed, and the work done on demand.

:func:`run_assessment` reads the photo, runs the pipeline once and explains it with the methods asked
for (Grad-CAM by default). :func:`add_method` explains the *same* assessment with another method (LIME on
request), reusing the cut halves and the exact model inputs: nothing is computed twice.
:func:`add_faithfulness` scores every map that has no deletion/insertion curves yet, and
:func:`add_counterfactual` edits the photo in memory and assesses it again. A :class:`SessionResult`
lives in the browser session's server-side state (memory only, dropped 15 minutes after its last use): it
holds the photo for the counterfactual view (an upload as its encoded bytes, at most the upload limit, else
the decoded pixels), never written anywhere, and the assessment of the neutral reference photo when one was
given (its levelled face crop, not the photo).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import faces
from app.counterfactual import Counterfactual, counterfactual
from explain.base import explain
from explain.regions import summarise
from explain.types import Explanation, RegionSummary
from faces.draw import annotate
from faces.errors import FaceInputError
from models.pipeline import Assessment, ModelBundle, ReferencePhotoError, assess, load_default_models

#: Method choices of the page: label -> explanation methods to run.
METHOD_CHOICES: dict[str, tuple[str, ...]] = {
    "Grad-CAM": ("gradcam",),
    "LIME": ("lime",),
    "Grad-CAM and LIME": ("gradcam", "lime"),
    "Integrated gradients": ("integrated_gradients",),
}
METHOD_NAMES = {"gradcam": "Grad-CAM", "hirescam": "HiResCAM", "integrated_gradients": "Integrated gradients",
                "lime": "LIME", "captum_lime": "LIME (captum)"}
DEFAULT_LIME_SAMPLES = 128
LIME_SAMPLE_RANGE = (32, 1000)


@dataclass
class Explained:
    """One map with its region summary and, once computed, its faithfulness curves (``Curves``)."""

    explanation: Explanation
    summary: RegionSummary
    curves: Any = None


@dataclass
class SessionResult:
    """The assessment of one photo and the explanations made for it so far (by method).

    ``photo`` is the photo as uploaded (encoded bytes) or its decoded pixels (memory only; the
    counterfactual view decodes and edits a copy of it),
    ``reference`` the assessment of the neutral reference photo the scores were read against (or None),
    ``counterfactual`` the last counterfactual made for this photo."""

    assessment: Assessment
    annotated: np.ndarray
    photo: bytes | np.ndarray | None = field(default=None, repr=False)
    reference: Assessment | None = None
    explained: dict[str, list[Explained]] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    counterfactual: Counterfactual | None = None

    def maps(self) -> list[Explained]:
        """Every explanation made so far, methods in the order they were asked for."""
        return [item for items in self.explained.values() for item in items]


def parse_methods(choice: str | None) -> tuple[str, ...]:
    """Explanation methods for a page choice or a method name (``"gradcam"``, ``"lime"``, ``"both"``)."""
    if choice is None or choice == "":
        return ("gradcam",)
    if choice in METHOD_CHOICES:
        return METHOD_CHOICES[choice]
    text = str(choice).strip().lower().replace("-", "").replace(" ", "")
    aliases = {"gradcam": ("gradcam",), "lime": ("lime",), "both": ("gradcam", "lime"),
               "gradcamandlime": ("gradcam", "lime"), "captumlime": ("captum_lime",),
               "hirescam": ("hirescam",), "integratedgradients": ("integrated_gradients",),
               "integrated_gradients": ("integrated_gradients",), "ig": ("integrated_gradients",), "none": ()}
    if text not in aliases:
        raise ValueError(f"The explanation method {str(choice)[:40]!r} is not one of "
                         f"{', '.join(repr(c) for c in METHOD_CHOICES)} "
                         "(or 'gradcam', 'hirescam', 'integrated_gradients', 'lime', 'both').")
    return aliases[text]


def lime_samples(value: Any) -> int:
    """A LIME sample count from the page (clamped to :data:`LIME_SAMPLE_RANGE`)."""
    try:
        count = int(round(float(value)))
    except (TypeError, ValueError):
        raise ValueError(f"The LIME sample count must be a number, got {str(value)[:40]!r}") from None
    low, high = LIME_SAMPLE_RANGE
    return min(max(count, low), high)


def _bundle(models: ModelBundle | None) -> ModelBundle:
    return models if models is not None else load_default_models()


def add_method(result: SessionResult, method: str, *, samples: int = DEFAULT_LIME_SAMPLES,
               models: ModelBundle | None = None) -> SessionResult:
    """Explain ``result``'s assessment with ``method`` (both stages), unless that was done already. The
    pain stage explains the scored half, or both halves when the photo shows no clear affected side."""
    if method in result.explained:
        return result
    params: dict[str, Any] = {"n_samples": samples} if method in ("lime", "captum_lime") else {}
    started = time.perf_counter()
    halves = "unaffected" if result.assessment.clear_side else "both"  # no clear side: both halves alike
    explanations = explain(result.assessment, "both", method, models=_bundle(models), halves=halves,
                           **params)
    geometry = result.assessment.geometry
    result.explained[method] = [Explained(e, summarise(e, geometry)) for e in explanations]
    result.timings_ms[method] = (time.perf_counter() - started) * 1000.0
    return result


def add_faithfulness(result: SessionResult, *, models: ModelBundle | None = None) -> SessionResult:
    """Deletion and insertion curves (with 10 random orderings) for every map that has none yet."""
    from explain.faithfulness import explanation_curves

    bundle = _bundle(models)
    started = time.perf_counter()
    inputs = result.assessment.inputs
    for item in result.maps():
        if item.curves is not None:
            continue
        e = item.explanation
        model = bundle.side if e.stage == "side" else bundle.pain
        tensor = inputs.side if e.stage == "side" else inputs.halves[e.half]
        item.curves = explanation_curves(e, model, tensor)
    result.timings_ms["faithfulness"] = result.timings_ms.get("faithfulness", 0.0) + (
        time.perf_counter() - started) * 1000.0
    return result


def reference_assessment(reference: Any, *, mirrored: bool = False,
                         models: ModelBundle | None = None) -> Assessment:
    """The neutral reference photo read and assessed on its own, kept so that a counterfactual is read
    against it without analysing it again (its side decision is not used: the side is decided on the
    photo assessed against it). Raises :class:`models.pipeline.ReferencePhotoError`, naming the
    reference photo, when it cannot be used."""
    try:
        image = faces.read_image(reference)
        return assess(image, side="auto", mirrored=mirrored, models=_bundle(models))
    except FaceInputError as err:
        raise ReferencePhotoError(f"The neutral reference photo cannot be used: {err}") from None


def add_counterfactual(result: SessionResult, group: str | None, sides: str | None, strength: Any, *,
                       models: ModelBundle | None = None) -> SessionResult:
    """Edit the session's photo (an action-unit group on one or both patient sides, at ``strength``) and
    assess it again with the same side decision and reference (see :mod:`app.counterfactual`)."""
    if result.photo is None:
        raise ValueError("The photo of this assessment is no longer held; assess it again.")
    result.counterfactual = counterfactual(faces.read_image(result.photo), result.assessment, group, sides,
                                           strength, models=_bundle(models), reference=result.reference)
    result.timings_ms["counterfactual"] = result.counterfactual.seconds * 1000.0
    return result


def run_assessment(photo: Any, *, mirrored: bool = False, side: str = "auto",
                   methods: tuple[str, ...] = ("gradcam",), samples: int = DEFAULT_LIME_SAMPLES,
                   models: ModelBundle | None = None, reference: Any = None) -> SessionResult:
    """Read ``photo`` (path, bytes, data URL or array), assess it and explain it with ``methods``.

    ``reference`` is an optional neutral (rest) photo of the same person, read the same way; the scores
    are then read relative to it.

    Raises :class:`faces.errors.FaceInputError` for an unusable photo and
    :class:`models.pipeline.AssessmentError` when the side cannot be decided.
    """
    bundle = _bundle(models)
    started = time.perf_counter()
    image = faces.read_image(photo)
    rest = None if reference is None else reference_assessment(reference, mirrored=bool(mirrored),
                                                                models=bundle)
    assessment = assess(image, side=side, mirrored=bool(mirrored), models=bundle, reference=rest)
    held = photo if isinstance(photo, bytes) else image  # encoded bytes are the smaller to keep
    result = SessionResult(assessment, annotate(assessment.geometry, image), photo=held, reference=rest)
    result.timings_ms["assess"] = (time.perf_counter() - started) * 1000.0
    for method in methods:
        add_method(result, method, samples=samples, models=bundle)
    return result
