"""The two-stage assessment of one photo: face geometry -> affected side -> PSPI of the unaffected half.

:func:`assess` is the one pipeline the dashboard, the command line and the Python API share. It runs
:func:`faces.analyse`, decides the affected side (side model, or the clinician's override, recorded as
such), shows the training-free geometric asymmetry beside it as a cross-check, scores PSPI on the
*unaffected* half (the one that still expresses pain), and also on the affected half and on the full face,
clearly marked. The :class:`~models.assessment.Assessment` carries the face geometry and the exact model
inputs, so explanations need not recompute anything.

The pieces live beside this module: :mod:`models.networks` (the jitter-averaged, mirror-consistent
wrappers), :mod:`models.bundle` (loading the models by role) and :mod:`models.assessment` (the result
types). This module re-exports their public names, so ``from models.pipeline import ...`` keeps working.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from faces.sides import Side, describe
from faces.types import FaceGeometry
from models.assessment import (
    DEMO_NOTE,
    REPORTED_SOURCES,
    RESEARCH_NOTE,
    SIDE_OUTCOMES,
    Assessment,
    AssessmentError,
    ModelInputs,
    PainScores,
    ReferencePhotoError,
    ReferenceReading,
    clamp_pspi,
)
from models.bundle import (
    ROLES,
    WEIGHTS_DIR,
    LoadedModel,
    MissingWeightsError,
    ModelBundle,
    default_device,
    install,
    load_bundle,
    load_default_models,
    role_of,
)
from models.domain import check_domain
from models.landmark_check import DISAGREE_ABOVE, disagreement_warning, landmark_estimate
from models.networks import JITTER_PX, JitterAveraged, MirrorConsistentSide, deployed, raw_network
from models.preprocess import face_tensor, half_tensor
from models.reference import neutral_scores, read_against_reference
from models.registry import SIDE_CLASSES

#: Below this top probability a named side comes with a warning that the side model is unsure.
UNCERTAIN_BELOW = 0.95  # a side is named between CLEAR_ABOVE and this, with a warning

#: Below this top side probability (and with no side set by hand) the photo shows no clear affected side.
#: Chosen on development faces by ``python -m eval side-threshold`` for the shipped side model (the best
#: balanced accuracy of "no palsy -> no clear side, palsy -> a side"): 0.925 called all synthetic and all
#: photographed development faces without palsy unclear, and named a side for 88% of synthetic palsy
#: faces and 97% of the development photos with a full-severity palsy drawn on, the right one on all of
#: those named (the side model learned from edits of those photos, so the photo figures are optimistic).
#: Chosen again with the photos read out of fold (``--crossfit``: two side models of the same recipe, each
#: trained without half of the development photos, each photo read by the one that did not learn from
#: it): the same 0.925, at which 62% of those photos without palsy were left unclear, and a side was named
#: for 82% of them with a full-severity palsy, always the right one (the top side was right on 94%). A new
#: face without palsy gets a side named about one time in three; no threshold avoids that without
#: leaving more palsies unnamed. The side model is sharp (its log-odds are summed evidence), hence the
#: high threshold.
CLEAR_ABOVE = 0.925

#: The share of those out-of-fold development photos without a palsy on which the side model named a side
#: at :data:`CLEAR_ABOVE` (0.38 = 1 - 0.62, see above): shown beside every side the model names. Measured
#: before the side model read turned heads with balanced halves (``faces.pose.HalfBalance``); on the
#: development photos it learned from, the balancing had one more of 50 unedited photos named a side.
UNSEEN_NO_PALSY_NAMED = 0.38
#: Said beside a side the side model names (page, report and command line).
CONFIRM_SIDE = (f"Confirm it if you can: on development photos of people without a palsy that it had not "
                f"learned from, the side model named a side for {UNSEEN_NO_PALSY_NAMED:.0%} of them.")


def _parse_side_request(side: str | Side | None) -> Side | None:
    if side is None or (not isinstance(side, Side) and str(side).strip().lower() == "auto"):
        return None
    return Side.parse(side)


@torch.no_grad()
def side_probabilities(loaded: LoadedModel, geometry: FaceGeometry) -> tuple[dict[Side, float], torch.Tensor]:
    """Mirror-consistent side probabilities for one face and the input tensor ``(1, 3, H, W)`` used."""
    x = face_tensor(geometry, loaded.spec)
    probs = loaded.model(x.to(loaded.device)).float().cpu()[0]
    return {side: float(probs[i]) for i, side in enumerate(SIDE_CLASSES)}, x


@torch.no_grad()
def score_halves(loaded: LoadedModel,
                 geometry: FaceGeometry) -> tuple[dict[Side, float], dict[Side, torch.Tensor]]:
    """Unclamped PSPI per patient half (both in one batch) and the ``(1, 3, H, W)`` inputs used."""
    order = (Side.RIGHT, Side.LEFT)
    x = half_tensor([geometry.halves[s] for s in order], loaded.spec)
    out = loaded.model(x.to(loaded.device)).float().cpu()[:, 0]
    return {s: float(out[i]) for i, s in enumerate(order)}, {s: x[i:i + 1] for i, s in enumerate(order)}


@dataclass(frozen=True)
class _NetworkScores:
    raw_halves: dict[Side, float]
    half_inputs: dict[Side, torch.Tensor]
    full_raw: float | None
    full_input: torch.Tensor | None

    @property
    def halves(self) -> dict[Side, float]:
        return {s: clamp_pspi(v) for s, v in self.raw_halves.items()}

    @property
    def full_face(self) -> float:
        halves = self.halves
        if self.full_raw is not None:
            return clamp_pspi(self.full_raw)
        return 0.5 * (halves[Side.LEFT] + halves[Side.RIGHT])


@torch.no_grad()
def _network_scores(bundle: ModelBundle, geometry: FaceGeometry, timings: dict[str, float]) -> _NetworkScores:
    t = time.perf_counter()
    raw_halves, half_inputs = score_halves(bundle.pain, geometry)
    timings["pain_model"] = (time.perf_counter() - t) * 1000.0
    full_raw, full_input = None, None
    if bundle.full_face_pain is not None:
        t = time.perf_counter()
        full_input = face_tensor(geometry, bundle.full_face_pain.spec)
        full_raw = float(bundle.full_face_pain.model(full_input.to(bundle.full_face_pain.device))[0, 0])
        timings["full_face_model"] = (time.perf_counter() - t) * 1000.0
    return _NetworkScores(raw_halves, half_inputs, full_raw, full_input)


def _model_names(bundle: ModelBundle) -> dict[str, str]:
    return {role: m.describe() for role, m in bundle.loaded().items()}


def _rest_face(reference: Any, bundle: ModelBundle, mirrored: bool,
               background: str = "keep") -> tuple[FaceGeometry, dict[Side, float], float]:
    """The rest face's geometry and clamped network scores (halves, full face), from a photo or from an
    existing assessment of it (whose scores are reused when it was made with the same models)."""
    if isinstance(reference, Assessment):
        rest = reference.reference
        if dict(reference.models) == _model_names(bundle):
            if rest is not None:
                return reference.geometry, dict(rest.absolute_halves), rest.absolute_full_face
            if reference.half_scores:
                return reference.geometry, dict(reference.half_scores), reference.pspi.full_face
        geometry = reference.geometry
    else:
        import faces
        from faces.errors import FaceInputError

        try:
            geometry = faces.analyse(reference, mirrored=bool(mirrored), on_no_face="error",
                                     background=background)
        except FaceInputError as err:
            raise ReferencePhotoError(f"The neutral reference photo cannot be used: {err}") from err
    scores = _network_scores(bundle, geometry, {})
    return geometry, scores.halves, scores.full_face


def _decide_side(override: Side | None, probabilities: dict[Side, float] | None, geometry: FaceGeometry,
                 uncertain_below: float, clear_above: float) -> tuple[Side, str, str, list[str]]:
    """Affected side, side source, side outcome and the warnings about the decision."""
    mirrored = geometry.mirrored
    asymmetry_side = geometry.asymmetry.points_to
    model_choice = None if probabilities is None else max(SIDE_CLASSES, key=lambda s: probabilities[s])
    warnings: list[str] = []
    if override is not None:
        if model_choice is not None and model_choice is not override:
            warnings.append(f"The side was set by hand to the {describe(override, mirrored)}; the side model "
                            f"suggested the {describe(model_choice, mirrored)} "
                            f"(p = {probabilities[model_choice]:.2f}).")
        return override, "override", "set_by_hand", warnings
    if model_choice is not None:
        top = probabilities[model_choice]
        outcome = "affected_side_found" if top >= clear_above else "no_clear_side"
        if outcome == "affected_side_found" and top < uncertain_below:
            warnings.append(f"The side model is uncertain (p = {top:.2f} for the "
                            f"{describe(model_choice, mirrored)}); check the affected side and set it by "
                            "hand if you know it.")
        if asymmetry_side is not None and asymmetry_side is not model_choice:
            warnings.append(f"The geometric asymmetry measures point to the "
                            f"{describe(asymmetry_side, mirrored)}, the side model to the "
                            f"{describe(model_choice, mirrored)}.")
        return model_choice, "model", outcome, warnings
    if asymmetry_side is not None:
        warnings.append("No side model is loaded: the affected side comes from the geometric asymmetry "
                        "measures alone. Set the side by hand if you know it.")
        return asymmetry_side, "geometry", "affected_side_found", warnings
    raise AssessmentError("No side model is loaded and the face shows no clear asymmetry: give the "
                          "affected side (left or right, the patient's side).")


def _no_clear_side_warning(top: float, clear_above: float, scores: dict[Side, float], mirrored: bool) -> str:
    both = " and ".join(f"{describe(s, mirrored)} {scores[s]:.1f}" for s in (Side.LEFT, Side.RIGHT))
    return (f"The photo shows no clear affected side (the side model's strongest choice has p = {top:.2f}, "
            f"below {clear_above:g}): both halves are scored and shown ({both}). If the patient had a "
            "stroke that affects the face, set the side by hand.")


def _face_warnings(geometry: FaceGeometry, bundle: ModelBundle) -> list[str]:
    warnings = []
    if geometry.landmark_source == "template":
        warnings.append("No face was detected: the landmarks come from a template placed over the image, "
                        "so halves and regions are approximate.")
    elif geometry.cut_off:
        warnings.append("The face runs past the edge of the photo, so part of it is missing: the halves "
                        "and regions there are estimated and the scores are less reliable. Use a photo that "
                        "shows the whole face.")
    if geometry.n_faces > 1:
        warnings.append(f"{geometry.n_faces} faces were found; the largest was assessed.")
    turn = geometry.head_turn
    if turn.warn and turn.toward is not None and geometry.landmark_source != "template":
        warnings.append(f"The head is turned about {turn.degrees:.0f}° toward the "
                        f"{describe(turn.toward, geometry.mirrored)}: the camera sees that half "
                        "foreshortened and the other widened, which can look like a palsy and moves both "
                        "halves' scores. "
                        "Use a photo taken from straight in front of the face.")
    return warnings


def assess(
    image: Any = None,
    side: str | Side | None = "auto",
    mirrored: bool = False,
    *,
    models: ModelBundle | None = None,
    geometry: FaceGeometry | None = None,
    landmarks: np.ndarray | None = None,
    on_no_face: str = "error",
    uncertain_below: float = UNCERTAIN_BELOW,
    clear_above: float = CLEAR_ABOVE,
    reference: Any = None,
    background: str = "keep",
) -> Assessment:
    """Assess one photo.

    Args:
        image: anything :func:`faces.read_image` takes (path, bytes, PIL image, ``(H, W, 3)`` uint8 array).
        side: ``"auto"`` (side model) or the affected patient side as known by a clinician (``"left"``,
            ``"right"``, :class:`Side`); an override is recorded as ``side_source == "override"``.
        mirrored: the photo is a mirror image (webcam preview); patient sides account for it.
        models: the bundle to use; default :func:`load_default_models`.
        geometry: an existing :class:`FaceGeometry` (skips :func:`faces.analyse`; ``image`` is ignored and
            ``mirrored`` is read from it).
        landmarks: ``(68, 2)`` photo landmarks given to :func:`faces.analyse` (skips detection).
        on_no_face: ``"error"`` or ``"template"`` (see :func:`faces.analyse`; a template is warned about).
        uncertain_below: top side probability under which a warning says the side model is uncertain.
        clear_above: top side probability under which the photo shows no clear affected side.
        reference: a neutral (rest) photo of the same person, as anything ``image`` takes or an existing
            :class:`Assessment` of it; its mirroring follows this photo's. Scores are then read relative to
            it (``Assessment.reference``); the side decision stays on this photo.
        background: ``"keep"`` or ``"white"``: set everything outside the head to white before the crops
            are cut (:mod:`faces.background`; the reference photo too). Off by default.

    Returns:
        The :class:`Assessment`. PSPI values are clamped to [0, 16].

    Raises:
        faces.errors.FaceInputError: the photo cannot be used (message for the user).
        ReferencePhotoError: the reference photo cannot be used (no face found in it, ...).
        AssessmentError: no side model, no override and inconclusive geometry.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    override = _parse_side_request(side)
    bundle = models if models is not None else load_default_models()
    if geometry is None:
        import faces

        if image is None:
            raise AssessmentError("Give a photo (or an existing face geometry) to assess")
        geometry = faces.analyse(image, mirrored=bool(mirrored), landmarks=landmarks, on_no_face=on_no_face,
                                 background=background)
        timings["face"] = (time.perf_counter() - started) * 1000.0
        timings.update({f"face.{k}": v for k, v in geometry.timings_ms.items() if k != "total"})

    probabilities: dict[Side, float] | None = None
    side_input: torch.Tensor | None = None
    if bundle.side is not None:
        t = time.perf_counter()
        probabilities, side_input = side_probabilities(bundle.side, geometry)
        timings["side_model"] = (time.perf_counter() - t) * 1000.0
    affected, source, outcome, warnings = _decide_side(override, probabilities, geometry, uncertain_below,
                                                        clear_above)
    model_choice = None if probabilities is None else max(SIDE_CLASSES, key=lambda s: probabilities[s])

    network = _network_scores(bundle, geometry, timings)
    t = time.perf_counter()
    estimates = landmark_estimate(geometry)
    timings["landmark_estimate"] = (time.perf_counter() - t) * 1000.0
    halves, full_face = network.halves, network.full_face
    reading: ReferenceReading | None = None
    if reference is not None:
        t = time.perf_counter()
        rest_geometry, rest_halves, rest_full = _rest_face(reference, bundle, geometry.mirrored,
                                                               background)
        half_neutral, full_neutral = neutral_scores(bundle.pain, bundle.full_face_pain)
        reading, reference_warnings = read_against_reference(
            geometry, rest_geometry, absolute_halves=halves, rest_halves=rest_halves,
            absolute_full_face=full_face, rest_full_face=rest_full, landmark_photo=estimates,
            landmark_rest=landmark_estimate(rest_geometry), neutral_half_score=half_neutral,
            neutral_full_face_score=full_neutral)
        warnings += reference_warnings
        halves, full_face = reading.relative_halves, reading.relative_full_face
        estimates = reading.landmark_relative
        timings["reference"] = (time.perf_counter() - t) * 1000.0
    if outcome == "no_clear_side":
        warnings.insert(0, _no_clear_side_warning(probabilities[model_choice], clear_above, halves,
                                                  geometry.mirrored))
    scored = affected.opposite
    disagreement = disagreement_warning(estimates[scored], halves[scored],
                                        describe(scored, geometry.mirrored))
    if disagreement is not None:
        warnings.append(disagreement)
    warnings += _face_warnings(geometry, bundle)
    inputs = ModelInputs(side_input, network.half_inputs, network.full_input)
    t = time.perf_counter()
    domain = check_domain(bundle, inputs)
    timings["domain"] = (time.perf_counter() - t) * 1000.0
    if domain is not None and domain.warning:
        warnings.append(domain.warning)
    synthetic = any(m.trained_on_synthetic for m in bundle.loaded().values())
    warnings.append(DEMO_NOTE if synthetic else RESEARCH_NOTE)

    raw = {"unaffected_half": network.raw_halves[scored], "affected_half": network.raw_halves[affected]}
    if network.full_raw is not None:
        raw["full_face"] = network.full_raw
    full_source = "model" if network.full_raw is not None else "mean_of_halves"
    timings["total"] = (time.perf_counter() - started) * 1000.0
    return Assessment(
        geometry=geometry,
        affected_side=affected,
        side_source=source,
        side_probabilities=probabilities,
        side_model_choice=model_choice,
        asymmetry_side=geometry.asymmetry.points_to,
        pspi=PainScores(halves[scored], halves[affected], full_face, full_source, raw),
        inputs=inputs,
        domain=domain,
        timings_ms=timings,
        warnings=tuple(warnings),
        models=_model_names(bundle),
        side_outcome=outcome,
        half_scores=dict(halves),
        landmark_estimate=dict(estimates),
        reference=reading,
        side_balance=(geometry.half_balance.strength
                      if bundle.side is not None and bundle.side.spec.balance_halves else 0.0),
    )


__all__ = [
    "CLEAR_ABOVE",
    "DEMO_NOTE",
    "DISAGREE_ABOVE",
    "JITTER_PX",
    "REPORTED_SOURCES",
    "RESEARCH_NOTE",
    "ROLES",
    "SIDE_OUTCOMES",
    "UNCERTAIN_BELOW",
    "UNSEEN_NO_PALSY_NAMED",
    "CONFIRM_SIDE",
    "WEIGHTS_DIR",
    "Assessment",
    "AssessmentError",
    "JitterAveraged",
    "LoadedModel",
    "MirrorConsistentSide",
    "MissingWeightsError",
    "ModelBundle",
    "ModelInputs",
    "PainScores",
    "ReferencePhotoError",
    "ReferenceReading",
    "assess",
    "clamp_pspi",
    "default_device",
    "deployed",
    "install",
    "load_bundle",
    "load_default_models",
    "raw_network",
    "role_of",
    "score_halves",
    "side_probabilities",
]
