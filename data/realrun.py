"""The edit protocol of the real-photo stress benchmark, run on one photo at a time.

:class:`PhotoRun` edits one photo in every way a :class:`RealProtocol` lists (:mod:`data.realedit`) and
records what a pipeline call said about each edit, with the landmark pain estimate
(:mod:`faces.au_proxy`) read beside the network every time. The pipeline is passed in (a callable taking
the photo and keyword arguments such as ``mirrored``, returning an assessment), so this module needs no
model; :mod:`eval.realcheck` runs it with the shipped models and summarises the records.

Per photo:

- **palsy**: each palsy kind on each patient side at each severity: is the affected side found by the
  side model (its top choice, and whether it was also named clearly, above the no-clear-side threshold),
  and by the geometric asymmetry measures?
- **unedited**: the reported PSPI (:attr:`models.assessment.Assessment.reported_pspi`: the unaffected
  half's, or the mean of both halves when no side is clearly affected), each half's and the full face's,
  of a face not in pain;
- **graded pain**: AU4, AU6, AU7, AU9 and AU10 on both sides at each strength (intensity 5 x strength):
  the reported PSPI and the Spearman correlation with the strength, and the same for each patient half;
- **one-sided pain**: the same expression at full strength on one patient side: how far the other half's
  score moves (it should not) and how far the edited half's rises;
- **stability**: the photo shrunk so the face (jaw outline, iBUG 0 to 16) is so many pixels wide, then
  mirrored (assessed with ``mirrored=True``, so patient sides stay put) and rolled by +-8 degrees: how
  far the reported PSPI moves (what a user sees), and how far the PSPI of the same patient half moves.

A photo in which no face is found, or an edit that cannot be made, gives a record that says so; the
summary counts it as a miss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from data.photos import Photo
from data.realedit import edit_photo, pain_aus
from data.synth.aus import Palsy
from faces.au_proxy import estimate_pain
from faces.errors import FaceInputError
from faces.sides import Side


@dataclass(frozen=True)
class RealProtocol:
    """Which edits and variants each photo gets."""

    severities: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    palsy_kinds: tuple[str, ...] = ("central", "peripheral")
    strengths: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    face_widths: tuple[int, ...] = (80, 120)
    roll_degrees: float = 8.0

    @classmethod
    def quick(cls) -> RealProtocol:
        """A reduced protocol for smoke tests: full severity, peripheral palsy, two strengths, 80 px."""
        return cls(severities=(1.0,), palsy_kinds=("peripheral",), strengths=(0.0, 1.0), face_widths=(80,))

    def to_dict(self) -> dict[str, Any]:
        return {"severities": list(self.severities), "palsy_kinds": list(self.palsy_kinds),
                "strengths": list(self.strengths), "face_widths_px": list(self.face_widths),
                "roll_degrees": self.roll_degrees,
                "graded_edit": "AU4, AU6, AU7, AU9, AU10 at 5 x strength on both patient sides",
                "reported_pspi": ("Assessment.reported_pspi: the unaffected half's PSPI with the side "
                                  "chosen by the side model, or the mean of both halves when no side is "
                                  "clearly affected")}


def _half_scores(assessment: Any) -> dict[Any, float]:
    """Clamped PSPI per patient half of an assessment (both halves are always scored)."""
    return {assessment.unaffected_side: assessment.pspi.unaffected_half,
            assessment.affected_side: assessment.pspi.affected_half}


def _p_left(assessment: Any) -> float | None:
    """The side model's probability that the patient's left is affected (None without a side model)."""
    probabilities = assessment.side_probabilities
    return None if not probabilities else round(float(probabilities[Side.LEFT]), 4)


def _reading(assessment: Any) -> dict[str, Any]:
    """Both halves' PSPI, the side model's p(left affected) and whether the side was clear."""
    return {"halves": {side.value: round(v, 3) for side, v in _half_scores(assessment).items()},
            "p_left_affected": _p_left(assessment), "clear_side": bool(assessment.clear_side)}


def _landmark_scores(assessment: Any) -> dict[Any, float]:
    geometry = assessment.geometry
    estimates = estimate_pain(geometry.aligned_landmarks, geometry.mirrored)
    return {side: estimate.pspi for side, estimate in estimates.items()}


def _face_width(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[16] - landmarks[0]))


def _roll(image: np.ndarray, landmarks: np.ndarray, degrees: float) -> np.ndarray:
    centre = tuple(float(v) for v in landmarks.mean(axis=0))
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


class PhotoRun:
    """Runs ``protocol`` on one photo; ``assess`` is the pipeline call ``assess(image, **kwargs)``."""

    def __init__(self, photo: Photo, assess: Callable[..., Any],
                 protocol: RealProtocol | None = None) -> None:
        self.photo, self.assess = photo, assess
        self.protocol = protocol or RealProtocol()

    def _try(self, image: np.ndarray | None, **kwargs: Any) -> Any | None:
        """The assessment, or None when no face is found (or the edit could not be made)."""
        if image is None:
            return None
        try:
            return self.assess(image, **kwargs)
        except FaceInputError:
            return None

    def _edit(self, landmarks: np.ndarray, **edit: Any) -> np.ndarray | None:
        """The edited photo, or None when the edit would fold the face mesh (counted as a miss)."""
        try:
            return edit_photo(self.photo.image, landmarks=landmarks, **edit).image
        except ValueError:
            return None

    def run(self) -> dict[str, Any]:
        """The JSON-ready record of this photo."""
        photo = self.photo
        record: dict[str, Any] = {"name": photo.name, "part": photo.part, "source": photo.source}
        base = self._try(self.photo.image)
        if base is None:
            record["face_found"] = False
            return record
        record["face_found"] = True
        landmarks = base.geometry.landmarks
        record["face_width_px"] = round(_face_width(landmarks), 1)
        lm_base = _landmark_scores(base)
        net_base = _half_scores(base)
        record["unedited"] = {
            "scored_side": base.unaffected_side.value, "pspi": round(float(base.reported_pspi), 3),
            "pspi_source": base.reported_pspi_source,
            "pspi_full_face": round(base.pspi.full_face, 3),
            "pspi_halves": {s.value: round(v, 3) for s, v in net_base.items()},
            "landmark_pspi": round(lm_base[base.unaffected_side], 3),
            "landmark_halves": {s.value: round(v, 3) for s, v in lm_base.items()},
            "side_model_choice": base.side_model_choice.value if base.side_model_choice else None,
            "side_confidence": (round(max(base.side_probabilities.values()), 3)
                                if base.side_probabilities else None),
        }
        record["palsy"] = self._palsy(landmarks)
        record["graded"] = self._graded(landmarks, base)
        record["one_sided"] = {side.value: self._one_sided(landmarks, side, net_base, lm_base)
                               for side in Side}
        record["stability"] = {str(w): self._stability(landmarks, w) for w in self.protocol.face_widths}
        return record

    def _palsy(self, landmarks: np.ndarray) -> list[dict[str, Any]]:
        rows = []
        for kind in self.protocol.palsy_kinds:
            for side in Side:
                for severity in self.protocol.severities:
                    palsy = Palsy(side, severity, kind)
                    result = self._try(self._edit(landmarks, palsy=palsy))
                    model = None if result is None else result.side_model_choice
                    geometric = None if result is None else result.geometry.asymmetry.points_to
                    clear = result is not None and result.clear_side
                    rows.append({"kind": kind, "side": side.value, "severity": severity,
                                 "face_found": result is not None,
                                 "model_correct": model is side,
                                 "model_named_clearly": clear and model is side,
                                 "geometry_correct": geometric is side})
        return rows

    def _graded(self, landmarks: np.ndarray, base: Any) -> dict[str, Any]:
        from scipy.stats import spearmanr

        strengths = self.protocol.strengths
        network, landmark, scored, p_left = [], [], [], []
        halves: dict[Side, list[float]] = {side: [] for side in Side}
        for strength in strengths:
            if strength == 0:
                result = base
            else:
                aus = {side: pain_aus(strength) for side in Side}
                result = self._try(self._edit(landmarks, aus=aus))
            network.append(math.nan if result is None else float(result.reported_pspi))
            landmark.append(math.nan if result is None else _landmark_scores(result)[result.unaffected_side])
            scored.append(None if result is None else (result.unaffected_side.value if result.clear_side
                                                        else "both"))
            p_left.append(None if result is None else _p_left(result))
            both = _half_scores(result) if result is not None else {}
            for side in Side:
                halves[side].append(both.get(side, math.nan))

        def rho(values: list[float]) -> float:
            if any(math.isnan(v) for v in values) or np.ptp(values) == 0:
                return math.nan
            return float(spearmanr(strengths, values).statistic)

        return {"strengths": list(strengths), "pspi": [round(v, 3) for v in network],
                "landmark_pspi": [round(v, 3) for v in landmark], "scored_sides": scored,
                "p_left_affected": p_left,
                "half_pspi": {side.value: [round(v, 3) for v in values] for side, values in halves.items()},
                "half_spearman": {side.value: round(rho(values), 4) for side, values in halves.items()},
                "spearman": round(rho(network), 4), "landmark_spearman": round(rho(landmark), 4)}

    def _one_sided(self, landmarks: np.ndarray, side: Side, net_base: dict, lm_base: dict) -> dict[str, Any]:
        result = self._try(self._edit(landmarks, aus={side: pain_aus(1.0)}))
        if result is None:
            return {"face_found": False}
        net, lm = _half_scores(result), _landmark_scores(result)
        other = side.opposite
        return {"face_found": True,
                "edited_half_rise": round(net[side] - net_base[side], 3),
                "other_half_moved": round(abs(net[other] - net_base[other]), 3),
                "landmark_edited_half_rise": round(lm[side] - lm_base[side], 3),
                "landmark_other_half_moved": round(abs(lm[other] - lm_base[other]), 3)}

    def _stability(self, landmarks: np.ndarray, width: int) -> dict[str, Any]:
        scale = min(1.0, width / max(_face_width(landmarks), 1.0))
        image = self.photo.image
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_points = landmarks * scale
        base = self._try(small)
        if base is None:
            return {"face_found": False}
        side = base.unaffected_side
        net0, lm0 = _half_scores(base)[side], _landmark_scores(base)[side]
        reported0 = float(base.reported_pspi)
        variants = {"mirror": (np.ascontiguousarray(small[:, ::-1]), True),
                    "roll+": (_roll(small, small_points, self.protocol.roll_degrees), False),
                    "roll-": (_roll(small, small_points, -self.protocol.roll_degrees), False)}
        moved: dict[str, float | None] = {}
        half_moved: dict[str, float | None] = {}
        lm_moved: dict[str, float | None] = {}
        # every reading's halves and side probability, so other ways of reporting can be scored offline
        readings: dict[str, dict[str, Any] | None] = {"base": _reading(base)}
        for name, (variant, mirrored) in variants.items():
            result = self._try(variant, mirrored=mirrored)
            readings[name] = None if result is None else _reading(result)
            moved[name] = None if result is None else round(abs(float(result.reported_pspi) - reported0), 3)
            half_moved[name] = None if result is None else round(abs(_half_scores(result)[side] - net0), 3)
            lm_moved[name] = None if result is None else round(abs(_landmark_scores(result)[side] - lm0), 3)
        def largest(values: dict[str, float | None]) -> float | None:
            found = [v for v in values.values() if v is not None]
            return max(found) if len(found) == len(values) else None

        return {"face_found": True, "face_width_px": round(_face_width(small_points), 1),
                "pspi": round(reported0, 3), "half_pspi": round(net0, 3), "moved": moved,
                "half_moved": half_moved, "landmark_moved": lm_moved, "readings": readings,
                "max_moved": largest(moved),
                "half_max_moved": largest(half_moved), "landmark_max_moved": largest(lm_moved)}
