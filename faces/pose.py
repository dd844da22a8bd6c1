"""Head turn (yaw): how far the face is turned away from the camera, and toward which patient side.

Everything downstream compares the two halves of a frontal face. A turned head shows one half wider and
the other foreshortened, which reads as asymmetry to the side model and changes what each half-face crop
holds. The landmarks tell how far the head is turned: the nose tip (iBUG 30) stands out from the face, so
under a turn it moves sideways against the jaw outline (iBUG 0 and 16), which lies further back.

The **turn index** is the nose tip's horizontal offset from the midpoint of the jaw outline's two ends,
over the distance between those ends, in the levelled face (roll removed): 0 on a frontal face, positive
when the nose points toward the image right. It is turned into degrees by :data:`DEGREES_PER_UNIT`, a
least-squares slope through the origin fitted on development faces: 20 synthetic people (seed 6060, half
with a palsy) rendered at yaws of 0, 10, 15, 20, 25 and 30 degrees and -15 and -30 degrees, landmarks
fitted by dlib as on a photo (111.5 degrees per unit, residual standard deviation 3.4 degrees; dlib's
jaw outline follows the turned face less than the true one, so the slope is fitted on dlib's landmarks).
Real faces differ in how far the nose stands out, so the degrees are approximate.

:data:`TURN_WARNING_DEGREES` is where the assessment warns. On those development faces, from a turn of 20
degrees the side model (reading the face without half balancing, below) named the true palsy side
clearly on 8 of 10 faces (10 of 10 up to 10 degrees), and on faces without a palsy its top probability
rose from a median of 0.55 (frontal) to 0.71.
``python -m eval headturn`` measures the estimate and the warning on fresh faces and on the real photos.

**Half balancing** (:class:`HalfBalance`) evens out what a turn does to the widths of the two halves: the
levelled face is stretched horizontally, piecewise linearly, so that the jaw outline's two ends lie at
the same distance from the facial midline, and the midline moves to the crop's centre column. Nothing
moves vertically. It is blended in with the estimated turn: not at all up to
:data:`BALANCE_FROM_DEGREES` (a frontal face is read exactly as before), fully from
:data:`BALANCE_FULL_DEGREES`, linearly between (so the reading does not jump at a threshold). The side
model reads the face balanced when its card says so (``InputSpec.balance_halves``). Chosen on
development data only: on 40 synthetic people per development seed (6060 and 6262, half with a palsy)
rendered at turns of -30 to 30 degrees, the share of palsy faces whose side the shipped side model named
clearly and rightly, less the share of faces without palsy given a side, averaged over the turns, rose
from 0.900 and 0.919 to 0.950 and 0.950; on the development photos (which that model learned from), a
full-severity palsy's side was named clearly and rightly on 0.96 against 0.97 (peripheral and central),
and 49 against 50 of 50 unedited photos were left without a clear side. Balancing the whole face at every
turn did as well on the synthetic faces (0.944, 0.950) and worse on those photos (0.94; 47 of 50).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faces.sides import ImageSide, Side, patient_side

NOSE_TIP = 30
JAW_ENDS = (0, 16)
#: Degrees of yaw per unit of the turn index (see the module docstring).
DEGREES_PER_UNIT = 111.5
#: The assessment warns from this estimated turn on (see the module docstring).
TURN_WARNING_DEGREES = 20.0
#: Half balancing starts above this estimated turn and is complete from BALANCE_FULL_DEGREES.
BALANCE_FROM_DEGREES = 10.0
BALANCE_FULL_DEGREES = 20.0


@dataclass(frozen=True)
class HeadTurn:
    """The head's estimated turn: ``degrees`` >= 0 and the patient side it is turned ``toward`` (the side
    whose half the camera sees foreshortened; None on a frontal face). ``index`` is the signed turn index
    (positive: the nose points toward the image right)."""

    degrees: float
    toward: Side | None
    index: float

    @property
    def warn(self) -> bool:
        return self.degrees >= TURN_WARNING_DEGREES

    def to_dict(self) -> dict[str, object]:
        toward = None if self.toward is None else self.toward.value
        return {"degrees": round(self.degrees, 1), "toward": toward, "index": round(self.index, 4),
                "warning_from_degrees": TURN_WARNING_DEGREES}


def turn_index(levelled_landmarks: np.ndarray) -> float:
    """The signed turn index of ``(68, 2)`` landmarks in a levelled face (see the module docstring)."""
    points = np.asarray(levelled_landmarks, dtype=np.float64)
    left, right = points[JAW_ENDS[0], 0], points[JAW_ENDS[1], 0]
    width = right - left
    if abs(width) < 1e-6:
        return 0.0
    return float((points[NOSE_TIP, 0] - (left + right) / 2.0) / width)


def head_turn(levelled_landmarks: np.ndarray, mirrored: bool = False) -> HeadTurn:
    """The head's turn from landmarks in a levelled face (``FaceGeometry.aligned_landmarks``)."""
    index = turn_index(levelled_landmarks)
    degrees = abs(index) * DEGREES_PER_UNIT
    toward = None if degrees < 1.0 else patient_side(ImageSide.RIGHT if index > 0 else ImageSide.LEFT,
                                                     mirrored)
    return HeadTurn(float(degrees), toward, index)


@dataclass(frozen=True)
class HalfBalance:
    """A horizontal piecewise-linear stretch of the levelled face (see the module docstring).

    In the levelled crop the midline is at ``midline_x`` with the jaw ends ``left_width`` and
    ``right_width`` pixels to its image left and right; in the balanced crop the midline is at
    ``centre_x`` and they are ``left_target`` and ``right_target`` away. ``strength`` is the blend
    (0: identity, 1: equal halves centred in the crop)."""

    midline_x: float
    left_width: float
    right_width: float
    centre_x: float
    left_target: float
    right_target: float
    strength: float

    @classmethod
    def identity(cls, midline_x: float = 0.0) -> HalfBalance:
        return cls(midline_x, 1.0, 1.0, midline_x, 1.0, 1.0, 0.0)

    @property
    def is_identity(self) -> bool:
        return self.strength == 0.0

    @staticmethod
    def _stretch(x: np.ndarray, origin: float, target: float, left: float, right: float) -> np.ndarray:
        """``x`` with ``origin`` moved to ``target``, offsets scaled by ``left`` below it, ``right`` above."""
        offset = np.asarray(x, dtype=np.float64) - origin
        return target + offset * np.where(offset <= 0, left, right)

    def to_levelled(self, x: np.ndarray) -> np.ndarray:
        """x in the balanced crop -> x in the levelled crop (any shape)."""
        return self._stretch(x, self.centre_x, self.midline_x, self.left_width / self.left_target,
                             self.right_width / self.right_target)

    def to_balanced(self, x: np.ndarray) -> np.ndarray:
        """x in the levelled crop -> x in the balanced crop (the inverse of :meth:`to_levelled`)."""
        return self._stretch(x, self.midline_x, self.centre_x, self.left_target / self.left_width,
                             self.right_target / self.right_width)

    def _remap(self, image: np.ndarray, source_x: np.ndarray, nearest: bool,
               fill: float | None) -> np.ndarray:
        rows, cols = image.shape[:2]
        map_x = np.broadcast_to(source_x.astype(np.float32)[None, :], (rows, cols))
        map_y = np.broadcast_to(np.arange(rows, dtype=np.float32)[:, None], (rows, cols))
        border = cv2.BORDER_REPLICATE if fill is None else cv2.BORDER_CONSTANT
        return cv2.remap(image, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
                         cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR, borderMode=border,
                         borderValue=0.0 if fill is None else fill)

    def apply(self, image: np.ndarray, *, nearest: bool = False, fill: float | None = None) -> np.ndarray:
        """The levelled crop (or a map over it) ``(S, S[, C])`` balanced; borders repeat the edge pixels,
        or take ``fill``. The identity returns ``image`` itself."""
        if self.is_identity:
            return image
        return self._remap(image, self.to_levelled(np.arange(image.shape[1])), nearest, fill)

    def undo(self, image: np.ndarray, *, nearest: bool = False, fill: float | None = 0.0) -> np.ndarray:
        """A map over the balanced crop back over the levelled crop (outside it: ``fill``)."""
        if self.is_identity:
            return image
        return self._remap(image, self.to_balanced(np.arange(image.shape[1])), nearest, fill)


def half_balance(levelled_landmarks: np.ndarray, midline_x: float, size: int,
                 turn_degrees: float | None = None) -> HalfBalance:
    """The :class:`HalfBalance` of a levelled face of side ``size`` (``FaceGeometry.aligned_landmarks``
    and ``midline_x``), blended in with its estimated turn (or ``turn_degrees``)."""
    points = np.asarray(levelled_landmarks, dtype=np.float64)
    degrees = head_turn(points).degrees if turn_degrees is None else float(turn_degrees)
    strength = float(np.clip((degrees - BALANCE_FROM_DEGREES) / (BALANCE_FULL_DEGREES - BALANCE_FROM_DEGREES),
                             0.0, 1.0))
    left_width = midline_x - points[JAW_ENDS[0], 0]
    right_width = points[JAW_ENDS[1], 0] - midline_x
    if strength == 0.0 or min(left_width, right_width) < 1.0:
        return HalfBalance.identity(midline_x)
    even = (left_width + right_width) / 2.0
    return HalfBalance(
        midline_x=float(midline_x), left_width=float(left_width), right_width=float(right_width),
        centre_x=float(midline_x + strength * ((size - 1) / 2.0 - midline_x)),
        left_target=float(left_width + strength * (even - left_width)),
        right_target=float(right_width + strength * (even - right_width)), strength=strength)


__all__ = ["BALANCE_FROM_DEGREES", "BALANCE_FULL_DEGREES", "DEGREES_PER_UNIT", "TURN_WARNING_DEGREES",
           "HalfBalance", "HeadTurn", "half_balance", "head_turn", "turn_index"]
