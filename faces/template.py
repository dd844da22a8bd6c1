"""The template mean face: 68 landmarks of an average face, for images where no face is detected.

``TEMPLATE_LANDMARKS`` is ``(68, 2)`` in a normalised frame: the midpoint between the eye centres at
the origin, the eye centres at ``(-0.5, 0)`` (image-left eye) and ``(0.5, 0)``, y pointing down, so one
unit is the inter-ocular distance. ``PRECROPPED_PLACEMENT`` says where that frame sits in a pre-cropped
face image: the eye midpoint at ``(x * width, y * height)`` and the inter-ocular distance
``iod * width``.

How the numbers were derived (reproduce with ``python -m faces template``, which calls
:func:`derive_template`): the 100 face crops of ``skimage.data.lfw_subset()`` (25 x 25 pixels) were
enlarged to 200 x 200 (bicubic), run through :func:`faces.detect.detect_faces` and
:func:`faces.detect.fit_landmarks`, each detected face's landmarks mapped into the normalised frame by
the similarity that puts its eye centres at ``(+-0.5, 0)``, averaged, and made left-right symmetric
by averaging with its own mirror image. The placement is the mean of the same per-face eye
heights and inter-ocular distances relative to the crop size, horizontally centred.
"""

from __future__ import annotations

import numpy as np

from faces.landmarks import MIRROR_PERMUTATION, N_LANDMARKS

_TEMPLATE_FLAT = (
    -1.1673, 0.0588,  -1.1554, 0.3599,  -1.1230, 0.6593,  -1.0663, 0.9530,
    -0.9598, 1.2322,  -0.7907, 1.4814,  -0.5710, 1.6868,  -0.3104, 1.8405,
    0.0000, 1.8795,  0.3104, 1.8405,  0.5710, 1.6868,  0.7907, 1.4814,
    0.9598, 1.2322,  1.0663, 0.9530,  1.1230, 0.6593,  1.1554, 0.3599,
    1.1673, 0.0588,  -0.9235, -0.1815,  -0.7885, -0.3145,  -0.5905, -0.3644,
    -0.3816, -0.3455,  -0.1900, -0.2700,  0.1900, -0.2700,  0.3816, -0.3455,
    0.5905, -0.3644,  0.7885, -0.3145,  0.9235, -0.1815,  0.0000, -0.0403,
    0.0000, 0.1486,  0.0000, 0.3366,  0.0000, 0.5312,  -0.2284, 0.6789,
    -0.1199, 0.7202,  0.0000, 0.7546,  0.1199, 0.7202,  0.2284, 0.6789,
    -0.6914, 0.0074,  -0.5714, -0.0633,  -0.4269, -0.0636,  -0.2988, 0.0226,
    -0.4346, 0.0483,  -0.5770, 0.0486,  0.2988, 0.0226,  0.4269, -0.0636,
    0.5714, -0.0633,  0.6914, 0.0074,  0.5770, 0.0486,  0.4346, 0.0483,
    -0.4418, 1.0824,  -0.2892, 0.9828,  -0.1220, 0.9422,  0.0000, 0.9682,
    0.1220, 0.9422,  0.2892, 0.9828,  0.4418, 1.0824,  0.2951, 1.2409,
    0.1305, 1.3083,  0.0000, 1.3200,  -0.1305, 1.3083,  -0.2951, 1.2409,
    -0.3732, 1.0849,  -0.1226, 1.0385,  0.0000, 1.0495,  0.1226, 1.0385,
    0.3732, 1.0849,  0.1241, 1.1676,  0.0000, 1.1812,  -0.1241, 1.1676,
)

TEMPLATE_LANDMARKS = np.array(_TEMPLATE_FLAT, dtype=np.float64).reshape(N_LANDMARKS, 2)
TEMPLATE_LANDMARKS.setflags(write=False)

PRECROPPED_PLACEMENT = (0.5000, 0.3541, 0.3443)  # (eye-midpoint x / width, y / height, inter-ocular / width)


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
