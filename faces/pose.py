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
degrees the side model named the true palsy side clearly on 8 of 10 faces (10 of 10 up to 10 degrees),
and on faces without a palsy its top probability rose from a median of 0.55 (frontal) to 0.71.
``python -m eval headturn`` measures the estimate and the warning on fresh faces and on the real photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faces.sides import ImageSide, Side, patient_side

NOSE_TIP = 30
JAW_ENDS = (0, 16)
#: Degrees of yaw per unit of the turn index (see the module docstring).
DEGREES_PER_UNIT = 111.5
#: The assessment warns from this estimated turn on (see the module docstring).
TURN_WARNING_DEGREES = 20.0


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


__all__ = ["DEGREES_PER_UNIT", "TURN_WARNING_DEGREES", "HeadTurn", "head_turn", "turn_index"]
