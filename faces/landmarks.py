"""The iBUG 68-point landmark layout used throughout the project.

Index groups follow the iBUG 300-W annotation (0-based). In that layout, points are named by their
position in a non-mirrored frontal photo: ``RIGHT_EYE`` (36-41) is the eye on the image left, which is
the *patient's right* eye in an ordinary photo. Detectors label by image position, so for a mirrored
photo the same indices fall on the patient's left; :func:`groups_for` resolves that.

``MIRROR_PERMUTATION[i]`` is the index that point ``i`` becomes when the face is flipped horizontally
(x -> W - 1 - x), so ``flipped[MIRROR_PERMUTATION] `` reorders flipped points back into iBUG order.
"""

from __future__ import annotations

import numpy as np

from faces.sides import Side

N_LANDMARKS = 68

JAW = tuple(range(0, 17))
RIGHT_BROW = tuple(range(17, 22))  # image-left brow in a non-mirrored photo (patient's right)
LEFT_BROW = tuple(range(22, 27))
NOSE_BRIDGE = tuple(range(27, 31))
NOSE_LOWER = tuple(range(31, 36))
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
MOUTH_OUTER = tuple(range(48, 60))
MOUTH_INNER = tuple(range(60, 68))

# Single points used by geometry and asymmetry measures (non-mirrored naming).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 36, 39
LEFT_EYE_INNER, LEFT_EYE_OUTER = 42, 45
RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER = 48, 54
RIGHT_ALA, LEFT_ALA = 31, 35  # outer nostril points (nose wings)
NOSE_TIP = 30
CHIN = 8
UPPER_LIP_TOP = 51
LOWER_LIP_BOTTOM = 57
MIDLINE_POINTS = (27, 28, 29, 30, 33, 51, 62, 66, 57, 8)

# UNBC-McMaster AAM landmarks have 66 points: the 68-point layout without the inner mouth corners.
AAM66_DROPPED = (60, 64)


def _mirror_permutation() -> np.ndarray:
    perm = np.arange(N_LANDMARKS)
    pairs: list[tuple[int, int]] = []
    pairs += [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (59, 55), (58, 56)]  # outer mouth
    pairs += [(60, 64), (61, 63), (67, 65)]  # inner mouth
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


MIRROR_PERMUTATION = _mirror_permutation()


def mirror_landmarks(points: np.ndarray, width: int) -> np.ndarray:
    """Landmarks (68, 2) of the horizontally flipped image of width ``width``, back in iBUG order."""
    flipped = np.asarray(points, dtype=np.float64).copy()
    flipped[:, 0] = (width - 1) - flipped[:, 0]
    return flipped[MIRROR_PERMUTATION]


def groups_for(side: Side, mirrored: bool = False) -> dict[str, tuple[int, ...]]:
    """Index groups (brow, eye, mouth corner, nose wing, jaw) that lie on the patient's ``side``."""
    image_left = (side is Side.RIGHT) != mirrored
    if image_left:
        return {"brow": RIGHT_BROW, "eye": RIGHT_EYE, "mouth_corner": (RIGHT_MOUTH_CORNER,),
                "ala": (RIGHT_ALA,), "jaw": JAW[:8]}
    return {"brow": LEFT_BROW, "eye": LEFT_EYE, "mouth_corner": (LEFT_MOUTH_CORNER,),
            "ala": (LEFT_ALA,), "jaw": JAW[9:]}
