"""Typed results of the explanation stage and the one interface every explainer implements.

Every explainer follows captum's one-verb style: :meth:`Explainer.attribute` takes a loaded model, the
exact input tensor the pipeline used (``Assessment.inputs``), a target and a :class:`MapSource` saying
where that input came from, and returns an :class:`Explanation`. The explanation carries the signed map
over the model input *and* the same map carried back onto the aligned face crop (canonical flips undone,
so patient sides are where the photo shows them); :meth:`Explanation.photo_map` carries it onto the photo
on demand.

Sides are patient sides (:class:`faces.sides.Side`). Maps are float32; positive values push the target
output up (the side probability, or PSPI: "raises PSPI"), negative values push it down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from faces.sides import Side
from faces.types import FaceGeometry
from models.pipeline import LoadedModel

#: Model roles an explanation can be about ("pain" is the half-face PSPI model).
STAGES = ("side", "pain", "full_face_pain")


@dataclass(frozen=True)
class MapSource:
    """Where a model input came from, so that maps over it can be carried back to the face and photo.

    ``stage`` is the model role: ``"side"`` and ``"full_face_pain"`` take the canonical aligned face
    (``geometry.aligned``, flipped when the photo is mirrored); ``"pain"`` takes the canonical half of the
    patient's ``half`` (``geometry.halves[half].image``, mirrored when it is the image-right half).
    """

    geometry: FaceGeometry
    stage: str
    half: Side | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        if (self.stage == "pain") != (self.half is not None):
            raise ValueError("A 'pain' source names its patient half; face stages have none")
        if self.half is not None:
            object.__setattr__(self, "half", Side.parse(self.half))


@dataclass(frozen=True)
class Explanation:
    """One attribution map for one model output on one input.

    Attributes:
        method: ``"gradcam"``, ``"hirescam"``, ``"integrated_gradients"``, ``"lime"`` or ``"captum_lime"``.
        stage: ``"side"``, ``"pain"`` or ``"full_face_pain"``.
        half: for stage ``"pain"``, the patient half explained; else None.
        target: what was explained, in words: ``"affected: patient's left"`` (side) or ``"pspi"``.
        target_index: the output index (side: index into ``models.registry.SIDE_CLASSES``; pain: 0).
        prediction: the deployed model's value of that output on this input (side probability, raw PSPI).
        input_map: ``(h, w)`` float32, signed, over the model input tensor (canonical orientation).
        face_map: ``(S, S)`` float32 over ``geometry.aligned`` (photo orientation: canonical flips undone);
            0 where the input did not reach (e.g. the other half for a half-face model).
        params: the method's settings (layer, samples, segmentation, fill, ...), JSON-ready values.
        seed: the random seed used, None for deterministic methods.
        seconds: wall time of the attribution.
    """

    method: str
    stage: str
    half: Side | None
    target: str
    target_index: int
    prediction: float
    input_map: np.ndarray
    face_map: np.ndarray
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    seconds: float = 0.0

    @property
    def signed(self) -> bool:
        """True for PSPI maps, whose sign (raises / lowers) is shown; side maps, and the exact evidence
        maps of networks that score by summing non-negative evidence (``params["evidence_map"]``), are
        shown as evidence."""
        return self.stage != "side" and not self.params.get("evidence_map", False)

    def photo_map(self, geometry: FaceGeometry) -> np.ndarray:
        """The face map carried onto the photo: ``(H, W)`` float32, 0 outside the aligned crop."""
        from explain.base import face_to_photo

        return face_to_photo(self.face_map, geometry)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description without pixels."""
        return {
            "method": self.method,
            "stage": self.stage,
            "half": None if self.half is None else self.half.value,
            "target": self.target,
            "target_index": int(self.target_index),
            "prediction": round(float(self.prediction), 6),
            "params": dict(self.params),
            "seed": self.seed,
            "seconds": round(float(self.seconds), 4),
            "input_shape": list(self.input_map.shape),
        }


@dataclass(frozen=True)
class RegionScore:
    """Attribution inside one sided facial region (sums over aligned-face pixels of the face map)."""

    key: str  # "brow_left": region name and patient side
    region: str  # "brow"
    side: Side
    label: str  # "brow, patient's left"
    signed: float  # sum of the signed map inside the region
    absolute: float  # sum of |map| inside the region
    share: float  # absolute / total absolute over the whole face map (0-1)
    pixels: int  # region size in aligned-face pixels


@dataclass(frozen=True)
class RegionSummary:
    """Per-region attribution of one explanation, ranked by ``absolute`` (largest first).

    ``outside_share`` is the share of the absolute mass outside every region (hair, background, padding).
    ``sentence`` is a one-line summary in plain words with patient sides. ``centred``: the map had its
    mean removed (Grad-CAM before the last stage), so its sign is relative to the average part of the input.
    """

    method: str
    stage: str
    half: Side | None
    target: str
    scores: tuple[RegionScore, ...]
    total_absolute: float
    outside_share: float
    sentence: str
    centred: bool = False

    def by_key(self) -> dict[str, RegionScore]:
        return {score.key: score for score in self.scores}

    @property
    def top(self) -> RegionScore | None:
        """The highest-ranked region (None when the map is all zero)."""
        return self.scores[0] if self.scores and self.scores[0].absolute > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "stage": self.stage,
            "half": None if self.half is None else self.half.value,
            "target": self.target,
            "sentence": self.sentence,
            "centred": self.centred,
            "total_absolute": float(self.total_absolute),
            "outside_share": round(float(self.outside_share), 4),
            "regions": [
                {"key": s.key, "region": s.region, "side": s.side.value, "label": s.label,
                 "signed": float(s.signed), "absolute": float(s.absolute), "share": round(float(s.share), 4),
                 "pixels": int(s.pixels)}
                for s in self.scores
            ],
        }


@runtime_checkable
class Explainer(Protocol):
    """One attribution method. ``method`` is its registry name (see :data:`explain.base.METHODS`)."""

    method: str

    def attribute(self, model: LoadedModel, inputs: torch.Tensor, target: int | None = None, *,
                  source: MapSource, **params: Any) -> Explanation:
        """Explain ``model``'s output ``target`` on ``inputs`` ``(1, 3, h, w)`` (normalised, as the
        pipeline made it). ``target`` None means: side, the larger probability; pain, output 0."""
        ...


__all__ = ["STAGES", "Explainer", "Explanation", "MapSource", "RegionScore", "RegionSummary"]
