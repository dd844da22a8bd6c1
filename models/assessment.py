"""What one assessment found: the result types of :func:`models.pipeline.assess` and their JSON form.

:class:`Assessment` carries the face geometry and the exact model inputs (:class:`ModelInputs`), so
explanations need not recompute anything; :class:`PainScores` holds the PSPI per half and for the full
face, clamped to the scale's range by :func:`clamp_pspi`. Every side is a patient side.

Side outcomes (:data:`SIDE_OUTCOMES`): ``"affected_side_found"`` (the side model, or the asymmetry measures
when no side model is loaded, named a side clearly), ``"no_clear_side"`` (the side model's top probability
was below the clear threshold: ``affected_side`` holds its tentative choice, both halves are scored and
shown, and the clinician is asked to set the side) and ``"set_by_hand"`` (a clinician's override).

The one PSPI an assessment reports (:attr:`Assessment.reported_pspi`) is the unaffected half's once a side
is known. With no clear affected side either half may be the unaffected one, so the mean of both halves is
reported instead: it does not hang on the tentative side, which flips on faces without a palsy.

With a neutral reference photo of the same person, :class:`ReferenceReading` keeps the absolute scores of
the photo and of the rest face; the reported PSPI (``pspi``, ``half_scores``) is then the relative one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from data.records import PSPI_MAX, PSPI_MIN
from faces.au_proxy import HalfPainEstimate
from faces.sides import Side, describe
from faces.types import FaceGeometry, HalfFace
from models.domain import DomainCheck

RESEARCH_NOTE = "Research use only, not a medical device."
DEMO_NOTE = ("Demo weights trained on synthetic, computer-drawn faces, not on patients: research use only, "
             "not a medical device.")


#: What :attr:`Assessment.side_outcome` can be (see the module docstring).
SIDE_OUTCOMES = ("affected_side_found", "no_clear_side", "set_by_hand")
#: Where :attr:`Assessment.reported_pspi` comes from.
REPORTED_SOURCES = ("unaffected_half", "mean_of_halves")


class AssessmentError(ValueError):
    """The assessment cannot be made as asked (e.g. no side model and no override); says what to do."""


class ReferencePhotoError(AssessmentError):
    """The neutral reference photo cannot be used (no face in it, unreadable); the message names it."""


def clamp_pspi(value: float) -> float:
    """A PSPI prediction clamped to the scale's range [0, 16]."""
    return float(min(max(value, PSPI_MIN), PSPI_MAX))


@dataclass(frozen=True)
class PainScores:
    """PSPI in [0, 16] (clamped) for the unaffected half, the affected half and the full face.

    ``full_face_source`` is ``"model"`` when a full-face pain model scored the whole face, otherwise
    ``"mean_of_halves"`` (the mean of the two half scores). ``raw`` holds the unclamped model outputs.
    """

    unaffected_half: float
    affected_half: float
    full_face: float
    full_face_source: str
    raw: Mapping[str, float] = field(default_factory=dict)


def _sided(values: Mapping[Side, float]) -> dict[str, float]:
    return {f"patient_{side.value}": round(float(values[side]), 4) for side in (Side.LEFT, Side.RIGHT)}


def _estimates(values: Mapping[Side, HalfPainEstimate]) -> dict[str, Any]:
    return {f"patient_{side.value}": values[side].to_dict() for side in (Side.LEFT, Side.RIGHT)}


@dataclass(frozen=True)
class ReferenceReading:
    """Scores read against a neutral (rest) photo of the same person.

    Network PSPI per patient half and for the full face: ``absolute`` (this photo), ``rest`` (the rest
    photo) and ``relative`` = clamp(absolute - rest), all clamped to [0, 16]. ``landmark_rest`` is the
    landmark estimate of the rest face and ``landmark_relative`` the estimate read against it (proxies'
    change from rest added to a neutral synthetic face, see :mod:`models.reference`).
    ``roll_difference_degrees`` is this photo's head roll minus the rest photo's; ``size_ratio`` this
    face's inter-ocular distance in pixels over the rest face's.
    """

    absolute_halves: Mapping[Side, float]
    rest_halves: Mapping[Side, float]
    relative_halves: Mapping[Side, float]
    absolute_full_face: float
    rest_full_face: float
    relative_full_face: float
    landmark_rest: Mapping[Side, HalfPainEstimate]
    landmark_relative: Mapping[Side, HalfPainEstimate]
    roll_difference_degrees: float
    size_ratio: float
    rest_geometry: FaceGeometry | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "network_pspi": {
                "absolute": _sided(self.absolute_halves) | {"full_face": round(self.absolute_full_face, 4)},
                "rest": _sided(self.rest_halves) | {"full_face": round(self.rest_full_face, 4)},
                "relative": _sided(self.relative_halves) | {"full_face": round(self.relative_full_face, 4)},
                "relative_meaning": "clamp(photo - rest) to [0, 16], per patient half and for the full face",
            },
            "landmark_estimate_rest": _estimates(self.landmark_rest),
            "landmark_estimate_relative": _estimates(self.landmark_relative),
            "roll_difference_degrees": round(float(self.roll_difference_degrees), 2),
            "size_ratio": round(float(self.size_ratio), 3),
        }


@dataclass(frozen=True)
class ModelInputs:
    """The exact normalised tensors the models saw (CPU, float32).

    ``side``: ``(1, 3, H, W)`` canonical face crop (patient's right on the image left) or None without a
    side model. ``halves``: per patient side, ``(1, 3, H, W)`` canonical half (looks like a patient-right
    half). ``full_face``: ``(1, 3, H, W)`` or None without a full-face pain model.
    """

    side: torch.Tensor | None
    halves: Mapping[Side, torch.Tensor]
    full_face: torch.Tensor | None


@dataclass(frozen=True)
class Assessment:
    """Everything one assessment found, with the geometry and inputs explanations need.

    Sides are patient sides. ``side_probabilities`` (patient-left / patient-right affected) come from the
    side model and are kept when a clinician overrides the side; ``side_source`` is ``"model"``,
    ``"override"`` or ``"geometry"`` (no side model: the asymmetry measures decided). ``asymmetry_side``
    is where the geometric measures point (None when inconclusive). ``timings_ms`` has one entry per step.

    ``side_outcome`` is one of :data:`SIDE_OUTCOMES`; with ``"no_clear_side"`` ``affected_side`` is the
    side model's tentative choice. ``half_scores`` is the reported PSPI (clamped) of each patient half,
    always both. ``landmark_estimate`` is the landmark pain estimate (:mod:`faces.au_proxy`) of both halves,
    read against the rest face when a reference was given. ``reference`` holds the reading against a
    neutral photo (None without one); then ``pspi`` and ``half_scores`` are relative to it.
    ``domain`` says how far the model inputs lie from the models' training inputs (:mod:`models.domain`;
    None when no model card carries statistics). ``side_balance`` is how far the side model's face had a
    turned head's halves evened out (``FaceGeometry.half_balance``: 0 = read as levelled, 1 = fully).
    """

    geometry: FaceGeometry
    affected_side: Side
    side_source: str
    side_probabilities: Mapping[Side, float] | None
    side_model_choice: Side | None
    asymmetry_side: Side | None
    pspi: PainScores
    inputs: ModelInputs
    timings_ms: Mapping[str, float]
    warnings: tuple[str, ...]
    models: Mapping[str, str]
    side_outcome: str = "affected_side_found"
    half_scores: Mapping[Side, float] = field(default_factory=dict)
    landmark_estimate: Mapping[Side, HalfPainEstimate] = field(default_factory=dict)
    reference: ReferenceReading | None = None
    domain: DomainCheck | None = None
    side_balance: float = 0.0

    @property
    def clear_side(self) -> bool:
        """False when the photo showed no clear affected side (the side is tentative)."""
        return self.side_outcome != "no_clear_side"

    @property
    def reported_pspi_source(self) -> str:
        """``"mean_of_halves"`` when no side is clearly affected (and both halves were scored), else
        ``"unaffected_half"``."""
        return "unaffected_half" if self.clear_side or len(self.half_scores) < 2 else "mean_of_halves"

    @property
    def reported_pspi(self) -> float:
        """The one PSPI reported (clamped): the unaffected half's, or with no clear affected side the mean
        of both halves (see the module docstring)."""
        if self.reported_pspi_source == "unaffected_half":
            return self.pspi.unaffected_half
        return clamp_pspi(sum(self.half_scores[side] for side in (Side.LEFT, Side.RIGHT)) / 2.0)

    @property
    def pspi_reading(self) -> str:
        """``"relative_to_reference"`` with a neutral reference photo, else ``"absolute"``."""
        return "absolute" if self.reference is None else "relative_to_reference"

    @property
    def mirrored(self) -> bool:
        return self.geometry.mirrored

    @property
    def unaffected_side(self) -> Side:
        """The patient side that was scored (the opposite of the affected side)."""
        return self.affected_side.opposite

    @property
    def scored_side(self) -> Side:
        return self.unaffected_side

    @property
    def unaffected_half(self) -> HalfFace:
        """The half the PSPI was taken from: ``geometry.halves[unaffected_side]``."""
        return self.geometry.halves[self.unaffected_side]

    @property
    def affected_half(self) -> HalfFace:
        return self.geometry.halves[self.affected_side]

    @property
    def geometry_agrees(self) -> bool | None:
        """Whether the asymmetry measures point to the side model's choice (None if either is missing)."""
        if self.side_model_choice is None or self.asymmetry_side is None:
            return None
        return self.asymmetry_side is self.side_model_choice

    def describe(self, side: Side) -> str:
        """E.g. "patient's left (image right)" for this photo's mirroring."""
        return describe(side, self.mirrored)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with plainly named fields (no pixels)."""
        def side_entry(side: Side | None) -> dict[str, str] | None:
            return None if side is None else {"side": side.value, "description": self.describe(side)}

        probabilities = None if self.side_probabilities is None else {
            "patient_left": float(self.side_probabilities[Side.LEFT]),
            "patient_right": float(self.side_probabilities[Side.RIGHT]),
        }
        asymmetry = self.geometry.asymmetry
        return {
            "affected_side": side_entry(self.affected_side),
            "unaffected_side": side_entry(self.unaffected_side),
            "scored_half": side_entry(self.scored_side),
            "side_source": self.side_source,
            "side_outcome": self.side_outcome,
            "side_probabilities": probabilities,
            "side_probabilities_meaning": "probability that this patient side is the affected one",
            "side_model_choice": side_entry(self.side_model_choice),
            "pspi": {
                "unaffected_half": round(self.pspi.unaffected_half, 4),
                "affected_half": round(self.pspi.affected_half, 4),
                "full_face": round(self.pspi.full_face, 4),
                "full_face_source": self.pspi.full_face_source,
                "range": [PSPI_MIN, PSPI_MAX],
            },
            "reported_pspi": {"value": round(self.reported_pspi, 4), "source": self.reported_pspi_source},
            "pspi_reading": self.pspi_reading,
            "half_scores": _sided(self.half_scores) if self.half_scores else None,
            "landmark_estimate": _estimates(self.landmark_estimate) if self.landmark_estimate else None,
            "reference": None if self.reference is None else self.reference.to_dict(),
            "asymmetry": {
                "points_to": side_entry(asymmetry.points_to),
                "agrees_with_side_model": self.geometry_agrees,
                "index": round(float(asymmetry.index), 4),
                "measures": [
                    {"name": m.name, "value": round(float(m.value), 4), "points_to": side_entry(m.points_to),
                     "description": m.description}
                    for m in asymmetry.measures
                ],
                "units": "fraction of the inter-ocular distance; > 0 points to the patient's left",
            },
            "mirrored": self.mirrored,
            "face": {"faces_found": self.geometry.n_faces, "landmark_source": self.geometry.landmark_source,
                     "roll_degrees": round(float(self.geometry.roll_degrees), 2),
                     "head_turn": {**self.geometry.head_turn.to_dict(),
                                   "side_model_balance": round(float(self.side_balance), 3)}},
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
            "warnings": list(self.warnings),
            "domain": None if self.domain is None else self.domain.to_dict(),
            "models": dict(self.models),
        }


__all__ = ["DEMO_NOTE", "REPORTED_SOURCES", "RESEARCH_NOTE", "SIDE_OUTCOMES", "Assessment", "AssessmentError",
           "ModelInputs", "PainScores", "ReferencePhotoError", "ReferenceReading", "clamp_pspi"]
