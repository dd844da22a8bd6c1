"""What every explainer shares: carrying maps between frames, targets, the method registry and
:func:`explain`, the one call that explains an :class:`~models.pipeline.Assessment`.

Frames (all maps are float32, ``(rows, cols)``):

- **input**: the model input tensor ``(h, w)``, canonical orientation (the side model's face has the
  patient's right on the image left; a half always looks like a patient-right half).
- **face**: ``geometry.aligned`` ``(S, S)``, the levelled crop in the photo's own orientation.
- **photo**: the original photo ``(H, W)``.

:func:`to_face_map` undoes the resize-and-pad (:func:`models.preprocess.to_source`), then the canonical
flip (a mirrored photo's face for the face models; the image-right half for the half model) and the half
balancing of a model that reads the face balanced (``InputSpec.balance_halves``), and places a half into
the face crop through ``HalfFace.aligned_to_half``; :func:`face_to_input` is its inverse (e.g.
region masks onto the input); :func:`face_to_photo` warps with ``geometry.aligned_to_image``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import torch

from explain.types import STAGES, Explainer, Explanation, MapSource
from faces.sides import Side
from faces.types import FaceGeometry
from models.pipeline import Assessment, LoadedModel, ModelBundle, load_default_models
from models.preprocess import InputSpec, fit_box, flip, to_source
from models.registry import SIDE_CLASSES

#: Method name -> ``"module:Class"``, imported on first use (LIME is not imported unless asked for).
METHODS: dict[str, str] = {
    "gradcam": "explain.gradcam:GradCamExplainer",
    "hirescam": "explain.gradcam:HiResCamExplainer",
    "integrated_gradients": "explain.gradcam:IntegratedGradientsExplainer",
    "lime": "explain.lime:LimeExplainer",
    "captum_lime": "explain.lime:CaptumLimeExplainer",
}

#: The methods that take a layer (``layer=``) rather than LIME's samples and seed.
GRADIENT_METHODS = ("gradcam", "hirescam", "integrated_gradients")

HALVES_CHOICES = ("unaffected", "both")


class ExplainError(ValueError):
    """An explanation cannot be made as asked (unknown method, missing model or input); says why."""


# ----------------------------------------------------------------------------- frames


def source_shape(source: MapSource) -> tuple[int, int]:
    """``(rows, cols)`` of the image that was fitted into the model input (aligned face or half)."""
    if source.stage == "pain":
        return tuple(source.geometry.halves[source.half].image.shape[:2])  # type: ignore[index,return-value]
    return tuple(source.geometry.aligned.shape[:2])  # type: ignore[return-value]


def _flipped_face(source: MapSource) -> bool:
    return source.stage != "pain" and source.geometry.mirrored


def to_face_map(input_map: np.ndarray, source: MapSource, spec: InputSpec) -> np.ndarray:
    """A map over the model input ``spec.size`` -> ``(S, S)`` float32 over ``geometry.aligned``.

    Padding is dropped, the map is resized bilinearly to the fitted image, canonical flips are undone,
    and a half's map is placed into the face crop (0 on the other half and outside).
    """
    fitted = to_source(np.asarray(input_map, np.float32), source_shape(source), spec)
    geometry = source.geometry
    size = geometry.aligned.shape[0]
    if source.stage != "pain":
        face = flip(fitted) if _flipped_face(source) else fitted
        if spec.balance_halves:
            face = geometry.half_balance.undo(np.ascontiguousarray(face))
        return np.ascontiguousarray(face, dtype=np.float32)
    half = geometry.halves[source.half]
    return cv2.warpAffine(fitted, half.aligned_to_half, (size, size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0).astype(np.float32)


def face_to_input(face_map: np.ndarray, source: MapSource, spec: InputSpec, *,
                  nearest: bool = False) -> np.ndarray:
    """Inverse of :func:`to_face_map`: ``(S, S)`` over the aligned face -> ``spec.size`` over the input
    (canonical orientation; 0 on padding). ``nearest`` keeps label/mask values (bool in, bool out)."""
    array = np.asarray(face_map)
    as_bool = array.dtype == bool
    values = array.astype(np.float32)
    interpolation = cv2.INTER_NEAREST if nearest or as_bool else cv2.INTER_LINEAR
    geometry = source.geometry
    if source.stage == "pain":
        half = geometry.halves[source.half]
        rows, cols = half.image.shape[:2]
        fitted = cv2.warpAffine(values, half.aligned_to_half, (cols, rows), flags=interpolation,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    else:
        if spec.balance_halves:
            values = geometry.half_balance.apply(values, nearest=interpolation == cv2.INTER_NEAREST, fill=0.0)
        fitted = flip(values) if _flipped_face(source) else values
    top, left, new_h, new_w = fit_box(fitted.shape[0], fitted.shape[1], spec)
    out = np.zeros(spec.size, np.float32)
    out[top:top + new_h, left:left + new_w] = cv2.resize(np.ascontiguousarray(fitted), (new_w, new_h),
                                                         interpolation=interpolation)
    return out > 0.5 if as_bool else out


def face_to_photo(face_map: np.ndarray, geometry: FaceGeometry) -> np.ndarray:
    """``(S, S)`` map over ``geometry.aligned`` -> ``(H, W)`` float32 over the photo (0 outside the crop)."""
    height, width = geometry.image_size
    return cv2.warpAffine(np.asarray(face_map, np.float32), geometry.aligned_to_image, (width, height),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def input_pixels(inputs: torch.Tensor, spec: InputSpec) -> np.ndarray:
    """The normalised input ``(1, 3, h, w)`` back as the uint8 ``(h, w, 3)`` image the model saw."""
    x = inputs.detach().float().cpu()[0]
    mean = torch.tensor(spec.mean).view(3, 1, 1)
    std = torch.tensor(spec.std).view(3, 1, 1)
    pixels = ((x * std + mean) * 255.0).round().clamp(0, 255).byte()
    return pixels.permute(1, 2, 0).contiguous().numpy()


# ----------------------------------------------------------------------------- targets


def resolve_target(stage: str, target: int | str | Side | None) -> int:
    """Output index for ``target``: side stages take a :class:`Side`, its text or an index into
    ``SIDE_CLASSES``; pain stages only output 0. None: side -> patient-left (0), pain -> 0."""
    if stage == "side":
        if target is None:
            return 0
        if isinstance(target, int | np.integer):
            if not 0 <= int(target) < len(SIDE_CLASSES):
                raise ExplainError(f"Side target index must be 0 or 1, got {target}")
            return int(target)
        return SIDE_CLASSES.index(Side.parse(target))
    if target not in (None, 0, "pspi"):
        raise ExplainError(f"The {stage} model has one output (PSPI, index 0); got target {target!r}")
    return 0


def target_label(stage: str, index: int) -> str:
    """``"affected: patient's left"`` for side index 0, ``"pspi"`` for pain stages."""
    if stage == "side":
        return f"affected: patient's {SIDE_CLASSES[index].value}"
    return "pspi"


@torch.no_grad()
def model_output(model: LoadedModel, inputs: torch.Tensor, index: int) -> float:
    """The deployed model's output ``index`` on ``inputs`` (side probability, or raw PSPI)."""
    return float(model.model(inputs.to(model.device)).float().cpu()[0, index])


def build_explanation(method: str, model: LoadedModel, inputs: torch.Tensor, target_index: int,
                      source: MapSource, input_map: np.ndarray, *, params: Mapping[str, Any] | None = None,
                      seed: int | None = None, started: float | None = None,
                      prediction: float | None = None) -> Explanation:
    """Assemble an :class:`Explanation` from an input map: the face map, label and prediction filled in.

    ``started`` is a ``time.perf_counter()`` value taken before the attribution began.
    """
    input_map = np.ascontiguousarray(np.asarray(input_map, np.float32))
    if input_map.shape != model.spec.size:
        raise ValueError(f"input_map must have the input's shape {model.spec.size}, got {input_map.shape}")
    value = model_output(model, inputs, target_index) if prediction is None else float(prediction)
    return Explanation(
        method=method, stage=source.stage, half=source.half, target=target_label(source.stage, target_index),
        target_index=int(target_index), prediction=value, input_map=input_map,
        face_map=to_face_map(input_map, source, model.spec), params=dict(params or {}), seed=seed,
        seconds=0.0 if started is None else time.perf_counter() - started,
    )


# ----------------------------------------------------------------------------- registry and entry point


def get_explainer(method: str, **options: Any) -> Explainer:
    """An explainer instance for ``method`` (a key of :data:`METHODS`), its module imported now."""
    if method not in METHODS:
        raise ExplainError(f"Unknown explanation method {method!r}; known: {', '.join(METHODS)}")
    module_name, class_name = METHODS[method].split(":")
    return getattr(importlib.import_module(module_name), class_name)(**options)


def _stage_inputs(assessment: Assessment, bundle: ModelBundle, stage: str,
                  halves: str) -> list[tuple[LoadedModel, torch.Tensor, MapSource]]:
    geometry = assessment.geometry
    if stage == "side":
        if bundle.side is None or assessment.inputs.side is None:
            raise ExplainError("No side model was used for this assessment, so there is no side map")
        return [(bundle.side, assessment.inputs.side, MapSource(geometry, "side"))]
    if stage == "full_face_pain":
        if bundle.full_face_pain is None or assessment.inputs.full_face is None:
            raise ExplainError("No full-face pain model was used for this assessment")
        return [(bundle.full_face_pain, assessment.inputs.full_face, MapSource(geometry, "full_face_pain"))]
    sides = [assessment.unaffected_side] + ([assessment.affected_side] if halves == "both" else [])
    return [(bundle.pain, assessment.inputs.halves[s], MapSource(geometry, "pain", s)) for s in sides]


def _known_output(assessment: Assessment, source: MapSource, index: int) -> float | None:
    """The deployed model's output the assessment already holds for this input and target, if any."""
    raw = assessment.pspi.raw
    if source.stage == "side":
        probabilities = assessment.side_probabilities
        return None if probabilities is None else float(probabilities[SIDE_CLASSES[index]])
    if source.stage == "full_face_pain":
        return raw.get("full_face")
    return raw.get("unaffected_half" if source.half is assessment.unaffected_side else "affected_half")


def explain(assessment: Assessment, stage: str = "both", method: str = "gradcam", *,
            models: ModelBundle | None = None, halves: str = "unaffected",
            target: int | str | Side | None = None, explainer: Explainer | None = None,
            **params: Any) -> list[Explanation]:
    """Explain an assessment with the exact tensors it used (``assessment.inputs``).

    Args:
        stage: ``"side"``, ``"pain"`` (half face), ``"full_face_pain"`` or ``"both"`` (side, then pain;
            the side map is left out when no side model was used).
        method: a key of :data:`METHODS`.
        models: the bundle the assessment was made with (default :func:`load_default_models`).
        halves: ``"unaffected"`` (the scored half) or ``"both"`` (unaffected, then affected).
        target: side stage only: the side to explain (default: the assessment's affected side).
        explainer: an explainer to reuse (default: a new one for ``method``).
        params: passed to the explainer's ``attribute``.

    Returns:
        The explanations in the order side, pain halves, full face.
    """
    if stage not in (*STAGES, "both"):
        raise ExplainError(f"stage must be one of {(*STAGES, 'both')}, got {stage!r}")
    if halves not in HALVES_CHOICES:
        raise ExplainError(f"halves must be one of {HALVES_CHOICES}, got {halves!r}")
    bundle = models if models is not None else load_default_models()
    worker = explainer if explainer is not None else get_explainer(method)
    stages = [stage]
    if stage == "both":
        stages = (["side"] if assessment.inputs.side is not None else []) + ["pain"]
    results: list[Explanation] = []
    for name in stages:
        index = resolve_target(name, target if target is not None else assessment.affected_side) \
            if name == "side" else 0
        for model, inputs, source in _stage_inputs(assessment, bundle, name, halves):
            known = _known_output(assessment, source, index) if getattr(worker, "accepts_prediction", False) \
                else None
            extra = {} if known is None else {"prediction": known}
            results.append(worker.attribute(model, inputs, index, source=source, **params, **extra))
    return results


__all__ = [
    "GRADIENT_METHODS",
    "HALVES_CHOICES",
    "METHODS",
    "ExplainError",
    "build_explanation",
    "explain",
    "face_to_input",
    "face_to_photo",
    "get_explainer",
    "input_pixels",
    "model_output",
    "resolve_target",
    "source_shape",
    "target_label",
    "to_face_map",
]
