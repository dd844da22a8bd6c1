"""The template mean face: 68 landmarks of an average face, for images where no face is detected.

``TEMPLATE_LANDMARKS`` is ``(68, 2)`` in a normalised frame: the midpoint between the eye centres at
the origin, the eye centres at ``(-0.5, 0)`` (image-left eye) and ``(0.5, 0)``, y pointing down, so one
unit is the inter-ocular distance. ``PRECROPPED_PLACEMENT`` says where that frame sits in a pre-cropped
face image: the eye midpoint at ``(x * width, y * height)`` and the inter-ocular distance
``iod * width``.

How the numbers were derived (reproduce with ``python -m faces template``, which calls
:func:`derive_template`): the 100 face crops of ``skimage.data.lfw_subset()`` (25 x 25 pixels) were
enlarged to 200 x 200 (bicubic) and run through :func:`faces.detect.detect_faces` (88 were found) and
:func:`faces.detect.fit_landmarks`; each face's landmarks were mapped into the normalised frame by the
similarity that puts its eye centres at ``(+-0.5, 0)``, averaged, and made left-right symmetric by
averaging with their own mirror image. The placement is the mean of the same per-face eye
heights and inter-ocular distances relative to the crop size, horizontally centred.
"""

from __future__ import annotations

import numpy as np

from faces.landmarks import MIRROR_PERMUTATION, N_LANDMARKS

_TEMPLATE_FLAT = (
    -1.1694, 0.0560,  -1.1581, 0.3578,  -1.1263, 0.6580,  -1.0708, 0.9545,
    -0.9656, 1.2349,  -0.7958, 1.4874,  -0.5750, 1.6935,  -0.3124, 1.8496,
    0.0000, 1.8892,  0.3124, 1.8496,  0.5750, 1.6935,  0.7958, 1.4874,
    0.9656, 1.2349,  1.0708, 0.9545,  1.1263, 0.6580,  1.1581, 0.3578,
    1.1694, 0.0560,  -0.9262, -0.1817,  -0.7913, -0.3162,  -0.5931, -0.3672,
    -0.3830, -0.3485,  -0.1896, -0.2737,  0.1896, -0.2737,  0.3830, -0.3485,
    0.5931, -0.3672,  0.7913, -0.3162,  0.9262, -0.1817,  0.0000, -0.0427,
    0.0000, 0.1462,  0.0000, 0.3354,  0.0000, 0.5304,  -0.2283, 0.6801,
    -0.1196, 0.7206,  0.0000, 0.7538,  0.1196, 0.7206,  0.2283, 0.6801,
    -0.6927, 0.0083,  -0.5716, -0.0629,  -0.4267, -0.0638,  -0.2985, 0.0218,
    -0.4343, 0.0479,  -0.5761, 0.0488,  0.2985, 0.0218,  0.4267, -0.0638,
    0.5716, -0.0629,  0.6927, 0.0083,  0.5761, 0.0488,  0.4343, 0.0479,
    -0.4432, 1.0833,  -0.2898, 0.9839,  -0.1222, 0.9426,  0.0000, 0.9681,
    0.1222, 0.9426,  0.2898, 0.9839,  0.4432, 1.0833,  0.2958, 1.2414,
    0.1312, 1.3096,  0.0000, 1.3224,  -0.1312, 1.3096,  -0.2958, 1.2414,
    -0.3744, 1.0863,  -0.1228, 1.0409,  0.0000, 1.0512,  0.1228, 1.0409,
    0.3744, 1.0863,  0.1253, 1.1684,  0.0000, 1.1827,  -0.1253, 1.1684,
)

TEMPLATE_LANDMARKS = np.array(_TEMPLATE_FLAT, dtype=np.float64).reshape(N_LANDMARKS, 2)
TEMPLATE_LANDMARKS.setflags(write=False)

PRECROPPED_PLACEMENT = (0.5000, 0.3541, 0.3425)  # (eye-midpoint x / width, y / height, inter-ocular / width)


def place_template(height: int, width: int) -> np.ndarray:
    """Template landmarks ``(68, 2)`` in the pixel coordinates of a pre-cropped face image."""
    x_frac, y_frac, iod_frac = PRECROPPED_PLACEMENT
    scale = iod_frac * width
    return TEMPLATE_LANDMARKS * scale + np.array([x_frac * width, y_frac * height])


def to_normalised_frame(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks ``(68, 2)`` in the normalised frame (eye centres moved to ``(-0.5, 0)`` and ``(0.5, 0)``)."""
    points = np.asarray(landmarks, dtype=np.float64)
    left_eye, right_eye = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    axis = right_eye - left_eye
    scale = float(np.linalg.norm(axis))
    cos_a, sin_a = axis / scale
    rotation = np.array([[cos_a, sin_a], [-sin_a, cos_a]]) / scale
    return (points - (left_eye + right_eye) / 2.0) @ rotation.T


def symmetrised(normalised: np.ndarray) -> np.ndarray:
    """Average of normalised landmarks ``(68, 2)`` and their left-right mirror image."""
    mirrored = np.asarray(normalised, dtype=np.float64) * np.array([-1.0, 1.0])
    return (normalised + mirrored[MIRROR_PERMUTATION]) / 2.0


def derive_template(enlarged_side: int = 200) -> tuple[np.ndarray, tuple[float, float, float], int]:
    """Re-derive the template from ``skimage.data.lfw_subset()``: (landmarks, placement, faces used)."""
    import cv2
    from skimage import data

    from faces.detect import detect_faces, fit_landmarks

    faces = data.lfw_subset()[:100]
    normalised, placements = [], []
    for face in faces:
        pixels = np.clip(np.rint(face * 255.0), 0, 255).astype(np.uint8)
        enlarged = cv2.resize(pixels, (enlarged_side, enlarged_side), interpolation=cv2.INTER_CUBIC)
        boxes = detect_faces(enlarged)
        if not boxes:
            continue
        points = fit_landmarks(enlarged, boxes[0])
        normalised.append(to_normalised_frame(points))
        left_eye, right_eye = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
        middle = (left_eye + right_eye) / 2.0
        placements.append(
            (middle[0] / enlarged_side, middle[1] / enlarged_side,
             np.linalg.norm(right_eye - left_eye) / enlarged_side)
        )
    template = symmetrised(np.mean(normalised, axis=0))
    mean_placement = np.mean(placements, axis=0)
    placement = (0.5, float(mean_placement[1]), float(mean_placement[2]))
    return template, placement, len(normalised)


def format_template(template: np.ndarray, placement: tuple[float, float, float]) -> str:
    """Python source text of the two constants, as committed in this module."""
    pairs = [f"{x:.4f}, {y:.4f}," for x, y in np.asarray(template)]
    rows = ["    " + "  ".join(pairs[i:i + 4]) for i in range(0, len(pairs), 4)]
    return (
        "_TEMPLATE_FLAT = (\n" + "\n".join(rows) + "\n)\n\n"
        f"PRECROPPED_PLACEMENT = ({placement[0]:.4f}, {placement[1]:.4f}, {placement[2]:.4f})"
    )
