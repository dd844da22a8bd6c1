"""Training-free geometric asymmetry measures (Emotrics-style) from the levelled landmarks.

Each measure compares the patient's two sides, is normalised by the inter-ocular distance (or is a log
ratio), and follows the sign convention of :class:`faces.types.AsymmetryMeasure`: a positive value
points to the *patient's left* as the affected (weaker, drooping) side. Patient sides come from
:func:`faces.landmarks.groups_for`, so a mirrored photo analysed with ``mirrored=True`` gives the same
values as the original photo. Below its noise threshold a measure points nowhere.

The overall ``index`` is the weighted mean of ``|value| / threshold`` (1 means "at noise level"), and
the overall side is a weighted vote of the measures that point somewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faces.landmarks import UPPER_LIP_TOP, groups_for
from faces.sides import Side
from faces.types import Asymmetry, AsymmetryMeasure


@dataclass(frozen=True)
class MeasureSpec:
    """How one measure is judged: its noise threshold, vote weight and plain-words description."""

    threshold: float
    weight: float
    description: str


MEASURES: dict[str, MeasureSpec] = {
    "mouth_corner_height": MeasureSpec(
        0.03, 1.0, "Mouth-corner height difference (the affected corner sits lower)."
    ),
    "commissure_excursion": MeasureSpec(
        0.04, 1.0,
        "Distance of each mouth corner from the centre of the upper lip (shorter on the affected side).",
    ),
    "palpebral_fissure": MeasureSpec(
        0.15, 0.5,
        "Log ratio of the eye openings (in peripheral palsy the affected eye is wider open).",
    ),
    "brow_height": MeasureSpec(
        0.04, 0.75, "Brow height above the eye line (the affected brow sits lower)."
    ),
    "nasolabial_proxy": MeasureSpec(
        0.04, 0.75,
        "Distance from the nose wing to the mouth corner (longer on the affected side, where the "
        "nasolabial fold flattens).",
    ),
}

_EYE_OPENING_PAIRS = ((1, 5), (2, 4))  # upper/lower lid pairs within each 6-point eye group


def _side_points(points: np.ndarray, side: Side, mirrored: bool) -> dict[str, np.ndarray]:
    groups = groups_for(side, mirrored)
    eye = points[list(groups["eye"])]
    return {
        "eye": eye,
        "brow": points[list(groups["brow"])],
        "mouth_corner": points[groups["mouth_corner"][0]],
        "ala": points[groups["ala"][0]],
    }


def _eye_opening(eye: np.ndarray) -> float:
    return float(np.mean([np.linalg.norm(eye[a] - eye[b]) for a, b in _EYE_OPENING_PAIRS]))


def signed_values(aligned_landmarks: np.ndarray, mirrored: bool = False) -> dict[str, float]:
    """Raw signed value of each measure (positive: the patient's left looks affected).

    ``aligned_landmarks`` is ``(68, 2)`` on the levelled face (eye line horizontal, y downwards).
    """
    points = np.asarray(aligned_landmarks, dtype=np.float64)
    left = _side_points(points, Side.LEFT, mirrored)
    right = _side_points(points, Side.RIGHT, mirrored)
    inter_ocular = float(np.linalg.norm(left["eye"].mean(0) - right["eye"].mean(0)))
    eye_line_y = (left["eye"].mean(0)[1] + right["eye"].mean(0)[1]) / 2.0
    lip_centre = points[UPPER_LIP_TOP]

    def brow_height(sided: dict[str, np.ndarray]) -> float:
        return float(eye_line_y - sided["brow"][:, 1].mean())

    def excursion(sided: dict[str, np.ndarray]) -> float:
        return float(np.linalg.norm(sided["mouth_corner"] - lip_centre))

    def ala_to_corner(sided: dict[str, np.ndarray]) -> float:
        return float(np.linalg.norm(sided["mouth_corner"] - sided["ala"]))

    opening_left, opening_right = _eye_opening(left["eye"]), _eye_opening(right["eye"])
    floor = 1e-3 * inter_ocular
    return {
        "mouth_corner_height": (left["mouth_corner"][1] - right["mouth_corner"][1]) / inter_ocular,
        "commissure_excursion": (excursion(right) - excursion(left)) / inter_ocular,
        "palpebral_fissure": math.log(max(opening_left, floor) / max(opening_right, floor)),
        "brow_height": (brow_height(right) - brow_height(left)) / inter_ocular,
        "nasolabial_proxy": (ala_to_corner(left) - ala_to_corner(right)) / inter_ocular,
    }


def measure_asymmetry(aligned_landmarks: np.ndarray, mirrored: bool = False) -> Asymmetry:
    """All measures, the overall index (>= 0) and the side the measures point to (or None)."""
    values = signed_values(aligned_landmarks, mirrored)
    measures = []
    vote = 0.0
    weighted_index = 0.0
    for name, spec in MEASURES.items():
        value = float(values[name])
        points_to = None
        if abs(value) >= spec.threshold:
            points_to = Side.LEFT if value > 0 else Side.RIGHT
            vote += spec.weight * math.copysign(1.0, value)
        weighted_index += spec.weight * abs(value) / spec.threshold
        measures.append(AsymmetryMeasure(name, value, points_to, spec.description))
    index = weighted_index / sum(spec.weight for spec in MEASURES.values())
    overall = None if vote == 0 else (Side.LEFT if vote > 0 else Side.RIGHT)
    return Asymmetry(measures=tuple(measures), index=float(index), points_to=overall)
