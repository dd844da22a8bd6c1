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
from typing import Any

import numpy as np
import torch

from faces.sides import Side, describe
from faces.types import FaceGeometry
from models.assessment import (
    DEMO_NOTE,
    RESEARCH_NOTE,
    Assessment,
    AssessmentError,
    ModelInputs,
    PainScores,
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
from models.networks import JITTER_PX, JitterAveraged, MirrorConsistentSide, deployed, raw_network
from models.preprocess import face_tensor, half_tensor
from models.registry import SIDE_CLASSES

#: Below this top probability the side decision is reported as uncertain.
UNCERTAIN_BELOW = 0.65


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

    Returns:
        The :class:`Assessment`. PSPI values are clamped to [0, 16].

    Raises:
        faces.errors.FaceInputError: the photo cannot be used (message for the user).
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
        geometry = faces.analyse(image, mirrored=bool(mirrored), landmarks=landmarks, on_no_face=on_no_face)
        timings["face"] = (time.perf_counter() - started) * 1000.0
        timings.update({f"face.{k}": v for k, v in geometry.timings_ms.items() if k != "total"})
    warnings: list[str] = []

    probabilities: dict[Side, float] | None = None
    model_choice: Side | None = None
    side_input: torch.Tensor | None = None
    if bundle.side is not None:
        t = time.perf_counter()
        probabilities, side_input = side_probabilities(bundle.side, geometry)
        timings["side_model"] = (time.perf_counter() - t) * 1000.0
        model_choice = max(SIDE_CLASSES, key=lambda s: probabilities[s])
    asymmetry_side = geometry.asymmetry.points_to

    if override is not None:
        affected, source = override, "override"
        if model_choice is not None and model_choice is not override:
            warnings.append(f"The side was set by hand to the {describe(override, geometry.mirrored)}; "
                            f"the side model suggested the {describe(model_choice, geometry.mirrored)} "
                            f"(p = {probabilities[model_choice]:.2f}).")
    elif model_choice is not None:
        affected, source = model_choice, "model"
        top = probabilities[model_choice]
        if top < uncertain_below:
            warnings.append(f"The side model is uncertain (p = {top:.2f} for the "
                            f"{describe(model_choice, geometry.mirrored)}); check the affected side and set "
                            "it by hand if you know it.")
    elif asymmetry_side is not None:
        affected, source = asymmetry_side, "geometry"
        warnings.append("No side model is loaded: the affected side comes from the geometric asymmetry "
                        "measures alone. Set the side by hand if you know it.")
    else:
        raise AssessmentError("No side model is loaded and the face shows no clear asymmetry: give the "
                              "affected side (left or right, the patient's side).")
    if source == "model" and asymmetry_side is not None and asymmetry_side is not model_choice:
        warnings.append(f"The geometric asymmetry measures point to the "
                        f"{describe(asymmetry_side, geometry.mirrored)}, the side model to the "
                        f"{describe(model_choice, geometry.mirrored)}.")

    t = time.perf_counter()
    raw_halves, half_inputs = score_halves(bundle.pain, geometry)
    timings["pain_model"] = (time.perf_counter() - t) * 1000.0
    unaffected, affected_score = clamp_pspi(raw_halves[affected.opposite]), clamp_pspi(raw_halves[affected])
    raw = {"unaffected_half": raw_halves[affected.opposite], "affected_half": raw_halves[affected]}
    full_input = None
    if bundle.full_face_pain is not None:
        t = time.perf_counter()
        full_input = face_tensor(geometry, bundle.full_face_pain.spec)
        with torch.no_grad():
            full_raw = float(bundle.full_face_pain.model(full_input.to(bundle.full_face_pain.device))[0, 0])
        timings["full_face_model"] = (time.perf_counter() - t) * 1000.0
        raw["full_face"] = full_raw
        full_face, full_source = clamp_pspi(full_raw), "model"
    else:
        full_face, full_source = 0.5 * (unaffected + affected_score), "mean_of_halves"

    if geometry.landmark_source == "template":
        warnings.append("No face was detected: the landmarks come from a template placed over the image, "
                        "so halves and regions are approximate.")
    elif geometry.cut_off:
        warnings.append("The face runs past the edge of the photo, so part of it is missing: the halves "
                        "and regions there are estimated and the scores are less reliable. Use a photo that "
                        "shows the whole face.")
    if geometry.n_faces > 1:
        warnings.append(f"{geometry.n_faces} faces were found; the largest was assessed.")
    inputs = ModelInputs(side_input, half_inputs, full_input)
    t = time.perf_counter()
    domain = check_domain(bundle, inputs)
    timings["domain"] = (time.perf_counter() - t) * 1000.0
    if domain is not None and domain.warning:
        warnings.append(domain.warning)
    if any(m.trained_on_synthetic for m in bundle.loaded().values()):
        warnings.append(DEMO_NOTE)
    else:
        warnings.append(RESEARCH_NOTE)
    timings["total"] = (time.perf_counter() - started) * 1000.0
    return Assessment(
        geometry=geometry,
        affected_side=affected,
        side_source=source,
        side_probabilities=probabilities,
        side_model_choice=model_choice,
        asymmetry_side=asymmetry_side,
        pspi=PainScores(unaffected, affected_score, full_face, full_source, raw),
        inputs=inputs,
        domain=domain,
        timings_ms=timings,
        warnings=tuple(warnings),
        models={role: m.describe() for role, m in bundle.loaded().items()},
    )


__all__ = [
    "DEMO_NOTE",
    "JITTER_PX",
    "RESEARCH_NOTE",
    "ROLES",
    "UNCERTAIN_BELOW",
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
