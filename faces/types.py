"""Typed results of the face-geometry stage.

Conventions (see ``faces.sides``): every :class:`~faces.sides.Side` is the patient's anatomical side.
Images are RGB ``uint8`` arrays ``H x W x 3``; points are ``(x, y)`` float pixel coordinates; affine
transforms are ``2 x 3`` float arrays mapping homogeneous ``(x, y, 1)`` source points to destination points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faces.pose import HalfBalance, HeadTurn, half_balance, head_turn
from faces.sides import Side


@dataclass(frozen=True)
class HalfFace:
    """One half of the levelled face, cut at the facial midline, in canonical orientation.

    ``image`` always looks like a patient-right half as seen in a non-mirrored photo (midline on the
    image's right edge); a patient-left half is mirrored to get there (``flipped`` is then True).
    Halves keep their aspect ratio (about 2:1 tall), they are never stretched.
    """

    side: Side
    image: np.ndarray  # (H, W, 3) uint8, canonical orientation
    flipped: bool  # True when the pixels were mirrored to reach canonical orientation
    aligned_to_half: np.ndarray  # (2, 3) affine: aligned-face coords -> half coords (includes any flip)
    regions: dict[str, np.ndarray]  # unsided region name ("eye", "cheek", ...) -> (H, W) bool mask
    face_width: float  # pixels from the midline to the face outline on this side (aligned-face scale)

    def to_aligned(self, half_map: np.ndarray) -> np.ndarray:
        """Place a (H, W) map computed on ``image`` back into aligned-face orientation (undo the flip)."""
        return half_map[:, ::-1] if self.flipped else half_map


@dataclass(frozen=True)
class AsymmetryMeasure:
    """One geometric asymmetry measure, normalised by the inter-ocular distance.

    Sign convention: ``value > 0`` points to the *patient's left* being the affected (weaker or drooping)
    side, ``value < 0`` to the patient's right. Mirroring the photo flips the sign.
    """

    name: str
    value: float
    points_to: Side | None  # None when |value| is below the measure's noise threshold
    description: str


@dataclass(frozen=True)
class Asymmetry:
    """All measures plus an overall index (>= 0) and the side the measures point to, if any.

    ``score`` is the signed weighted evidence behind ``points_to`` (same sign convention as the
    measures: > 0 points to the patient's left); ``points_to`` is None when it is too weak.
    """

    measures: tuple[AsymmetryMeasure, ...]
    index: float
    points_to: Side | None
    score: float = 0.0

    def by_name(self) -> dict[str, AsymmetryMeasure]:
        return {m.name: m for m in self.measures}


@dataclass(frozen=True)
class FaceGeometry:
    """Everything the face stage knows about one photo."""

    image_size: tuple[int, int]  # (height, width) of the photo
    mirrored: bool  # the photo is a mirror image (webcam preview); patient sides account for it
    n_faces: int  # faces detected (the largest is used); 0 when landmarks came from elsewhere
    landmark_source: str  # "detector", "given" or "template" (template fallback, reported to the user)
    face_box: tuple[float, float, float, float]  # (x0, y0, x1, y1) in photo pixels
    landmarks: np.ndarray  # (68, 2) photo coords, iBUG order as labelled by image position
    roll_degrees: float  # eye-line angle in the photo; levelling rotated by its negative
    aligned: np.ndarray  # (S, S, 3) uint8 levelled canonical face crop
    aligned_landmarks: np.ndarray  # (68, 2) in aligned coords
    aligned_to_image: np.ndarray  # (2, 3) affine: aligned coords -> photo coords
    midline_x: float  # x of the (vertical) facial midline in aligned coords
    halves: dict[Side, HalfFace]
    regions: dict[str, np.ndarray]  # "<region>_<side>" (patient side) -> (S, S) bool mask, aligned coords
    asymmetry: Asymmetry
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def cut_off(self) -> bool:
        """True when landmarks fall outside the photo: the face runs past its edge, so part is missing."""
        height, width = self.image_size
        x, y = self.landmarks[:, 0], self.landmarks[:, 1]
        return bool((x < 0).any() or (y < 0).any() or (x > width - 1).any() or (y > height - 1).any())

    @property
    def head_turn(self) -> HeadTurn:
        """The head's estimated turn away from the camera (:mod:`faces.pose`)."""
        return head_turn(self.aligned_landmarks, self.mirrored)

    @property
    def half_balance(self) -> HalfBalance:
        """The stretch that evens out a turned head's halves in ``aligned`` (:mod:`faces.pose`)."""
        return half_balance(self.aligned_landmarks, self.midline_x, self.aligned.shape[1])

    @property
    def inter_ocular(self) -> float:
        """Distance between the eye centres in aligned pixels."""
        pts = self.aligned_landmarks
        return float(np.linalg.norm(pts[36:42].mean(0) - pts[42:48].mean(0)))
