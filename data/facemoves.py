"""Where a palsy or a pain-like action unit moves the 68 landmarks of a real photo.

Moves are written in a face frame measured on the photo itself: ``out`` points from the midline towards
the side's outer eye corner along the eye line, ``down`` is perpendicular to the eye line towards the
chin, and one unit is the inter-ocular distance (eye centre to eye centre). So an edit means the same on
a rolled, small or large face. The magnitudes follow the synthetic renderer's (:mod:`data.synth.aus`,
whose face unit is about 2.6 inter-ocular distances), so that "severity 1" or "AU4 = 5" asks a photo
for what the renderer draws.

Besides the 68 landmarks, :func:`control_points` adds helper points that move with them (a forehead
point above each brow point, a cheek point and a nasolabial point per side) and a fixed ring around the
face that keeps the warp on the face. Everything is resolved by *image* side here; callers translate
patient sides with :func:`faces.sides.image_side`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from faces.landmarks import LEFT_EYE, N_LANDMARKS, RIGHT_EYE
from faces.sides import ImageSide

#: iBUG indices of each image side's features (brow and lids listed from the outer corner inwards).
SIDE_INDEX: dict[ImageSide, dict[str, tuple[int, ...]]] = {
    ImageSide.LEFT: {"brow": (17, 18, 19, 20, 21), "upper_lid": (37, 38), "lower_lid": (41, 40),
                     "outer": (36,), "corner": (48,), "inner_corner": (60,), "upper_lip": (49, 50),
                     "lower_lip": (59, 58), "inner_upper": (61,), "inner_lower": (67,), "ala": (31,),
                     "nostril": (32,), "jaw": tuple(range(0, 8))},
    ImageSide.RIGHT: {"brow": (26, 25, 24, 23, 22), "upper_lid": (44, 43), "lower_lid": (46, 47),
                      "outer": (45,), "corner": (54,), "inner_corner": (64,), "upper_lip": (53, 52),
                      "lower_lip": (55, 56), "inner_upper": (63,), "inner_lower": (65,), "ala": (35,),
                      "nostril": (34,), "jaw": tuple(range(16, 8, -1))},
}
MIDLINE_UPPER_LIP, MIDLINE_INNER_UPPER = 51, 62
N_HELPERS_PER_SIDE = 7  # five forehead points, one cheek point, one nasolabial point
FOREHEAD_RISE = 0.35  # forehead helper points sit this far (inter-ocular units) above each brow point
RING_SCALE = 1.45  # the fixed ring is the jaw and forehead outline scaled about the face centre
LID_GAP = 0.012  # narrowest lid opening an edit leaves (inter-ocular units); AU43 shuts down to it


@dataclass(frozen=True)
class FaceFrame:
    """Unit vectors of the face frame in photo pixels and the inter-ocular distance."""

    across: np.ndarray  # (2,) image-left eye -> image-right eye
    down: np.ndarray  # (2,) perpendicular to the eye line, towards the chin
    inter_ocular: float

    @classmethod
    def of(cls, landmarks: np.ndarray) -> FaceFrame:
        points = np.asarray(landmarks, dtype=np.float64)
        span = points[list(LEFT_EYE)].mean(0) - points[list(RIGHT_EYE)].mean(0)
        distance = float(np.linalg.norm(span))
        if distance < 1e-6:
            raise ValueError("The eye landmarks coincide; the face frame is undefined.")
        across = span / distance
        return cls(across=across, down=np.array([-across[1], across[0]]), inter_ocular=distance)

    def out(self, side: ImageSide) -> np.ndarray:
        """Unit vector from the midline towards ``side`` of the image."""
        return -self.across if side is ImageSide.LEFT else self.across

    def vector(self, side: ImageSide, out: float, down: float) -> np.ndarray:
        """Pixel displacement for ``out`` / ``down`` given in inter-ocular units."""
        return self.inter_ocular * (out * self.out(side) + down * self.down)


def helper_slots(side: ImageSide) -> dict[str, int]:
    """Index of each helper point within the control points (after the 68 landmarks)."""
    base = N_LANDMARKS + (0 if side is ImageSide.LEFT else N_HELPERS_PER_SIDE)
    return {"forehead": base, "cheek": base + 5, "nasolabial": base + 6}


def control_points(landmarks: np.ndarray) -> tuple[np.ndarray, int]:
    """``(N, 2)`` control points: the landmarks, the moving helpers, then the fixed ring.

    Returns the points and how many of them may move (landmarks and helpers); the rest are the ring.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    frame = FaceFrame.of(points)
    helpers = []
    for side in (ImageSide.LEFT, ImageSide.RIGHT):
        index = SIDE_INDEX[side]
        brow = points[list(index["brow"])]
        helpers.extend(brow - FOREHEAD_RISE * frame.inter_ocular * frame.down)
        lid = points[list(index["lower_lid"])].mean(0)
        corner = points[index["corner"][0]]
        helpers.append((lid + corner) / 2 + 0.25 * frame.inter_ocular * frame.out(side))
        ala = points[index["ala"][0]]
        helpers.append((ala + corner) / 2 + 0.08 * frame.inter_ocular * frame.out(side))
    movable = np.vstack([points, np.array(helpers)])
    centre = points[:N_LANDMARKS].mean(0)
    brows = points[list(range(17, 27))]
    outline = np.vstack([points[:17], brows - 1.1 * frame.inter_ocular * frame.down])
    ring = centre + RING_SCALE * (outline - centre)
    return np.vstack([movable, ring]), len(movable)


def _add(moves: np.ndarray, indices: tuple[int, ...], delta: np.ndarray) -> None:
    moves[list(indices)] += delta


def palsy_moves(frame: FaceFrame, side: ImageSide, n_points: int, severity: float,
                peripheral: bool) -> np.ndarray:
    """``(n_points, 2)`` pixel moves of a resting palsy droop on image ``side``."""
    moves = np.zeros((n_points, 2))
    index, slots, s = SIDE_INDEX[side], helper_slots(side), float(severity)
    _add(moves, index["corner"], frame.vector(side, -0.03 * s, 0.117 * s))
    _add(moves, index["inner_corner"], frame.vector(side, -0.02 * s, 0.099 * s))
    for i, f in zip(index["upper_lip"], (0.55, 0.2), strict=True):
        _add(moves, (i,), frame.vector(side, 0.0, 0.104 * s * f))
    for i, f in zip(index["lower_lip"], (0.6, 0.25), strict=True):
        _add(moves, (i,), frame.vector(side, 0.0, 0.104 * s * f))
    _add(moves, index["inner_upper"] + index["inner_lower"], frame.vector(side, 0.0, 0.031 * s))
    _add(moves, index["lower_lid"], frame.vector(side, 0.0, 0.031 * s))
    _add(moves, (slots["nasolabial"],), frame.vector(side, -0.015 * s, 0.05 * s))
    _add(moves, (slots["cheek"],), frame.vector(side, 0.0, 0.03 * s))
    if peripheral:
        _add(moves, index["brow"], frame.vector(side, 0.0, 0.065 * s))
        forehead = tuple(range(slots["forehead"], slots["forehead"] + 5))
        _add(moves, forehead, frame.vector(side, 0.0, 0.04 * s))
    return moves


#: Spread (inter-ocular units, per axis) of the random resting asymmetry of each part of a face half
#: (:func:`asymmetry_moves`): about a quarter of the largest palsy move of that part, in any direction.
ASYMMETRY_SPREAD: dict[str, float] = {"brow": 0.02, "upper_lid": 0.008, "lower_lid": 0.008, "outer": 0.008,
                                      "corner": 0.025, "lips": 0.015, "nose": 0.012}


def asymmetry_moves(frame: FaceFrame, side: ImageSide, n_points: int, rng: np.random.Generator,
                    scale: float = 1.0) -> np.ndarray:
    """``(n_points, 2)`` pixel moves of a random resting asymmetry on image ``side``: each part (brow, lids,
    mouth corner, lips, nose wing) shifted as a whole in a random direction, by a normal amount of spread
    :data:`ASYMMETRY_SPREAD` x ``scale``. Real faces are not symmetric, and not in the palsy's pattern
    (a coherent droop of the mouth corner, the lower lid and, peripheral, the brow): a side model shown
    such shifts on both halves, with the truth unchanged, cannot take any asymmetry for a palsy."""
    moves = np.zeros((n_points, 2))
    index = SIDE_INDEX[side]
    parts = {"brow": index["brow"], "upper_lid": index["upper_lid"], "lower_lid": index["lower_lid"],
             "outer": index["outer"], "corner": index["corner"] + index["inner_corner"],
             "lips": index["upper_lip"] + index["lower_lip"], "nose": index["ala"] + index["nostril"]}
    for name, indices in parts.items():
        out, down = rng.normal(0.0, ASYMMETRY_SPREAD[name] * scale, 2)
        _add(moves, indices, frame.vector(side, float(out), float(down)))
    return moves


def au_moves(frame: FaceFrame, side: ImageSide, n_points: int, aus: Mapping[str, float],
             current: np.ndarray) -> np.ndarray:
    """``(n_points, 2)`` pixel moves of pain-like AUs (intensities 0-5; AU43 0-1) on image ``side``.

    ``current`` ``(n_points, 2)`` are the control points before these moves (eye closure moves the
    upper lid onto wherever the lower lid ends up).
    """
    moves = np.zeros((n_points, 2))
    index, slots = SIDE_INDEX[side], helper_slots(side)
    t4, t6, t7 = (float(aus.get(name, 0.0)) / 5.0 for name in ("AU4", "AU6", "AU7"))
    t9, t10 = (float(aus.get(name, 0.0)) / 5.0 for name in ("AU9", "AU10"))
    closure = float(np.clip(aus.get("AU43", 0.0), 0.0, 1.0))
    brow_down = 0.104 * t4 * np.array([0.45, 0.6, 0.75, 0.9, 1.0])
    brow_in = 0.057 * t4 * np.array([0.1, 0.3, 0.5, 0.8, 1.0])
    for k, i in enumerate(index["brow"]):
        delta = frame.vector(side, -brow_in[k], brow_down[k])
        moves[i] += delta
        moves[slots["forehead"] + k] += 0.5 * delta
    _add(moves, index["lower_lid"], frame.vector(side, 0.0, -(0.034 * t6 + 0.042 * t7)))
    _add(moves, index["outer"], frame.vector(side, 0.0, -0.010 * t6))
    _add(moves, (slots["cheek"],), frame.vector(side, 0.0, -0.05 * t6))
    _add(moves, index["upper_lid"], frame.vector(side, 0.0, 0.016 * t7))
    _add(moves, index["ala"], frame.vector(side, 0.016 * t9, -(0.036 * t9 + 0.010 * t10)))
    _add(moves, index["nostril"], frame.vector(side, 0.0, -(0.036 * t9 + 0.010 * t10)))
    _add(moves, (slots["nasolabial"],), frame.vector(side, 0.0, -(0.02 * t9 + 0.03 * t10)))
    for i, rise in zip(index["upper_lip"], (0.062, 0.078), strict=True):
        _add(moves, (i,), frame.vector(side, 0.0, -rise * t10))
    _add(moves, index["inner_upper"], frame.vector(side, 0.0, -0.068 * t10))
    _add(moves, (MIDLINE_UPPER_LIP, MIDLINE_INNER_UPPER), frame.vector(side, 0.0, -0.034 * t10))
    _add(moves, index["corner"], frame.vector(side, 0.0, -0.016 * t10))
    _add(moves, index["inner_corner"], frame.vector(side, 0.0, -0.021 * t10))
    _keep_lids_apart(moves, current, frame, side)
    if closure > 0:
        lower = current[list(index["lower_lid"])] + moves[list(index["lower_lid"])]
        upper = current[list(index["upper_lid"])] + moves[list(index["upper_lid"])]
        shut = lower - LID_GAP * frame.inter_ocular * frame.down
        moves[list(index["upper_lid"])] += closure * (shut - upper)
    return moves


def _keep_lids_apart(moves: np.ndarray, current: np.ndarray, frame: FaceFrame, side: ImageSide) -> None:
    """Stop a rising lower lid :data:`LID_GAP` below the upper lid (or at the gap it had, if smaller),
    so narrowing a small eye never folds the lids over each other."""
    index = SIDE_INDEX[side]
    for upper, lower in zip(index["upper_lid"], index["lower_lid"], strict=True):
        before = float((current[lower] - current[upper]) @ frame.down)
        after = float((current[lower] + moves[lower] - current[upper] - moves[upper]) @ frame.down)
        floor = min(LID_GAP * frame.inter_ocular, max(before, 0.0))
        if after < floor:
            moves[lower] += (floor - after) * frame.down
