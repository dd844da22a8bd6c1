"""Training-free geometric asymmetry measures (Emotrics-style) from the levelled landmarks.

Each measure compares the patient's two sides, is normalised by the inter-ocular distance (or is a log
ratio), and follows the sign convention of :class:`faces.types.AsymmetryMeasure`: a positive value
points to the *patient's left* as the affected (weaker, drooping) side. Patient sides come from
:func:`faces.landmarks.groups_for`, so a mirrored photo analysed with ``mirrored=True`` gives the same
values as the original photo.

Each measure has a noise threshold below which it points nowhere. The thresholds sit at about twice
the spread the dlib landmarks show on faces without palsy (synthetic benchmark faces, and the
left-right disagreement between a photo and its mirror image on scikit-image's LFW subset), and near
the differences reported as normal in healthy faces (2-3 mm, with an inter-ocular distance of about
63 mm). Commissure excursion is a mostly horizontal distance, so head yaw shortens it on the far side;
each side's excursion is rescaled by that side's share of the face width to cancel this.

Overall, ``index`` is the weighted mean of ``|value| / threshold`` (1 means "at noise level") and
``score`` a soft weighted vote, the weighted mean of ``value / threshold`` clipped to +-2 per
measure; ``points_to`` is the side ``score`` points to when ``|score| >= SCORE_THRESHOLD``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faces.align import estimate_midline_x
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
        0.05, 1.0, "Mouth-corner height difference (the affected corner sits lower)."
    ),
    "commissure_excursion": MeasureSpec(
        0.07, 0.5,
        "Distance of each mouth corner from the centre of the upper lip, corrected for head turn "
        "(shorter on the affected side).",
    ),
    "palpebral_fissure": MeasureSpec(
        0.18, 0.5,
        "Log ratio of the eye openings (in peripheral palsy the affected eye is wider open).",
    ),
    "brow_height": MeasureSpec(
        0.05, 0.5, "Brow height above the eye line (the affected brow sits lower)."
    ),
    "nasolabial_proxy": MeasureSpec(
        0.06, 0.75,
        "Distance from the nose wing to the mouth corner (longer on the affected side, where the "
        "nasolabial fold flattens).",
    ),
}

SCORE_THRESHOLD = 0.35  # |score| needed before the measures together point to a side
_VOTE_CLIP = 2.0  # one measure counts at most this many thresholds in the score
_EYE_OPENING_PAIRS = ((1, 5), (2, 4))  # upper/lower lid pairs within each 6-point eye group


def _side_points(points: np.ndarray, side: Side, mirrored: bool) -> dict[str, np.ndarray]:
    groups = groups_for(side, mirrored)
    eye = points[list(groups["eye"])]
    return {
        "eye": eye,
        "brow": points[list(groups["brow"])],
        "mouth_corner": points[groups["mouth_corner"][0]],
        "ala": points[groups["ala"][0]],
        "jaw": points[list(groups["jaw"])],
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
    midline_x = estimate_midline_x(points)
    half_width = {
        side: max(float(np.max(np.abs(sided["jaw"][:, 0] - midline_x))), 1e-3 * inter_ocular)
        for side, sided in ((Side.LEFT, left), (Side.RIGHT, right))
    }
    mean_half_width = (half_width[Side.LEFT] + half_width[Side.RIGHT]) / 2.0

    def brow_height(sided: dict[str, np.ndarray]) -> float:
        return float(eye_line_y - sided["brow"][:, 1].mean())

    def excursion(sided: dict[str, np.ndarray], side: Side) -> float:
        yaw_correction = mean_half_width / half_width[side]
        return float(np.linalg.norm(sided["mouth_corner"] - lip_centre)) * yaw_correction

    def ala_to_corner(sided: dict[str, np.ndarray]) -> float:
        return float(np.linalg.norm(sided["mouth_corner"] - sided["ala"]))

    opening_left, opening_right = _eye_opening(left["eye"]), _eye_opening(right["eye"])
    floor = 1e-3 * inter_ocular
    return {
        "mouth_corner_height": (left["mouth_corner"][1] - right["mouth_corner"][1]) / inter_ocular,
        "commissure_excursion": (excursion(right, Side.RIGHT) - excursion(left, Side.LEFT)) / inter_ocular,
        "palpebral_fissure": math.log(max(opening_left, floor) / max(opening_right, floor)),
        "brow_height": (brow_height(right) - brow_height(left)) / inter_ocular,
        "nasolabial_proxy": (ala_to_corner(left) - ala_to_corner(right)) / inter_ocular,
    }


def measure_asymmetry(aligned_landmarks: np.ndarray, mirrored: bool = False) -> Asymmetry:
    """All measures, the overall index (>= 0), score and the side they point to (or None)."""
    values = signed_values(aligned_landmarks, mirrored)
    measures = []
    total_weight = sum(spec.weight for spec in MEASURES.values())
    index = score = 0.0
    for name, spec in MEASURES.items():
        value = float(values[name])
        points_to = None
        if abs(value) >= spec.threshold:
            points_to = Side.LEFT if value > 0 else Side.RIGHT
        index += spec.weight * abs(value) / spec.threshold / total_weight
        score += spec.weight * float(np.clip(value / spec.threshold, -_VOTE_CLIP, _VOTE_CLIP)) / total_weight
        measures.append(AsymmetryMeasure(name, value, points_to, spec.description))
    overall = None
    if abs(score) >= SCORE_THRESHOLD:
        overall = Side.LEFT if score > 0 else Side.RIGHT
    return Asymmetry(measures=tuple(measures), index=float(index), points_to=overall, score=float(score))
