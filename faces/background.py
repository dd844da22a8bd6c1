"""Background removal from the landmarks: everything outside the head set to white.

The cerebral-palsy pain study removed photo backgrounds (set to white, there with a U2-Net salient-object
network) before training, so the networks saw only the person. No such network ships offline here, so
the head is outlined from the 68 landmarks instead:

- the **face**: the polygon of the jaw line (points 0-16) closed over the brows (17-26);
- the **cranium and hair**: an ellipse standing on the brow line, as wide as the jaw's outer points
  (0 and 16) plus 10% on each side and reaching up by 0.8 x that width (the forehead and hair of an
  adult head; hair beyond it, a long fringe or a beard below the jaw, is cut);
- the union of the two, feathered by a Gaussian of 2% of the face width so the edge is not a hard cut.

Pixels outside are blended to white (``255``). ``python -m eval realcheck --background white`` measures
what it does on real photos. On the development photos (``--part development``, 49 faces, the shipped
demo weights, which were trained on renders with backgrounds), white against kept backgrounds:

- side accuracy at full severity 0.83 against 0.89;
- unedited PSPI median 1.63 against 1.34 (max 8.65 against 8.23);
- Spearman share 0.92 against 0.94;
- the other half moved by a one-sided edit, median 0.10 against 0.07;
- mirror / roll at 80 px, median 0.30 against 0.21.

It is worse on every figure, so it is **off by default** (``background="keep"``). These weights never saw
a white background; whether training with it would help is not measured.
"""

from __future__ import annotations

import cv2
import numpy as np

from faces.landmarks import JAW, LEFT_BROW, RIGHT_BROW

#: Outline choices of :func:`faces.analyse`: keep the photo as it is, or set the background to white.
BACKGROUNDS = ("keep", "white")
WIDEN = 0.10
CRANIUM_HEIGHT = 0.8
FEATHER = 0.02


def head_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` float32 in [0, 1]: 1 on the head outlined from ``points`` ``(68, 2)``, 0 outside."""
    height, width = shape
    points = np.asarray(points, np.float64)
    mask = np.zeros((height, width), np.uint8)
    brows = points[list(RIGHT_BROW) + list(LEFT_BROW)]
    face = np.concatenate([points[list(JAW)], brows[::-1]])
    cv2.fillPoly(mask, [np.round(face).astype(np.int32)], 1)
    left, right = points[JAW[0]], points[JAW[-1]]
    jaw_width = float(np.linalg.norm(right - left))
    if jaw_width < 2:
        return mask.astype(np.float32)
    along = (right - left) / jaw_width
    up = np.array([along[1], -along[0]])  # perpendicular to the jaw line, towards the top of the head
    centre = (left + right) / 2.0
    base = centre + up * float(np.dot(brows.mean(axis=0) - centre, up))  # on the brow line
    angle = float(np.degrees(np.arctan2(along[1], along[0])))
    middle = (int(round(base[0])), int(round(base[1])))
    half_width = int(round(jaw_width * (0.5 + WIDEN)))
    cranium = np.zeros_like(mask)
    cv2.ellipse(cranium, middle, (half_width, int(round(jaw_width * CRANIUM_HEIGHT))), angle, 180, 360, 1, -1)
    # the band between the brow line and the jaw's outer points (temples, ears' front)
    cv2.ellipse(cranium, middle, (half_width, max(1, int(round(abs(float(np.dot(centre - base, up))))))),
                angle, 0, 180, 1, -1)
    mask = np.maximum(mask, cranium).astype(np.float32)
    sigma = max(0.5, FEATHER * jaw_width)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma, sigmaY=sigma), 0.0, 1.0)


def whiten_background(photo: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A copy of the uint8 ``photo`` with everything outside :func:`head_mask` blended to white."""
    mask = head_mask(points, photo.shape[:2])
    if photo.ndim == 3:
        mask = mask[..., None]
    out = photo.astype(np.float32) * mask + 255.0 * (1.0 - mask)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


__all__ = ["BACKGROUNDS", "head_mask", "whiten_background"]
