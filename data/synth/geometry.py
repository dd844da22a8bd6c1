"""Face geometry for the synthetic renderer: the mean 68-point shape, depths, pose and curve helpers.

Coordinates come in two frames. *Face units* are the frame of :data:`TEMPLATE`: a frontal mean face
whose jaw spans about x in [0.08, 0.97] and whose brows-to-chin span is about y in [0.18, 1.06]
(y grows downwards, as in images). *Pixels* are image coordinates ``(x, y)`` of the rendered picture.
Each face-unit point also carries a depth ``z`` (towards the camera, face units) so that a small head
yaw can be drawn as a rotation about the vertical axis followed by orthographic projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faces.landmarks import MIRROR_PERMUTATION, N_LANDMARKS

_MEAN_SHAPE = np.array([
    (0.0792, 0.3392), (0.0829, 0.4570), (0.0968, 0.5756), (0.1221, 0.6919), (0.1687, 0.8003),
    (0.2398, 0.8957), (0.3257, 0.9771), (0.4223, 1.0433), (0.5318, 1.0608), (0.6413, 1.0398),
    (0.7381, 0.9723), (0.8244, 0.8896), (0.8948, 0.7925), (0.9394, 0.6815), (0.9611, 0.5622),
    (0.9706, 0.4418), (0.9712, 0.3221), (0.1638, 0.2492), (0.2178, 0.2043), (0.2913, 0.1924),
    (0.3675, 0.2036), (0.4393, 0.2331), (0.5864, 0.2281), (0.6602, 0.1959), (0.7375, 0.1824),
    (0.8132, 0.1928), (0.8708, 0.2353), (0.5153, 0.3186), (0.5162, 0.3962), (0.5171, 0.4738),
    (0.5182, 0.5532), (0.4337, 0.6041), (0.4755, 0.6208), (0.5207, 0.6343), (0.5659, 0.6188),
    (0.6071, 0.6016), (0.2524, 0.3311), (0.2987, 0.3026), (0.3557, 0.3030), (0.4037, 0.3387),
    (0.3525, 0.3500), (0.2968, 0.3505), (0.6313, 0.3341), (0.6791, 0.2965), (0.7360, 0.2947),
    (0.7829, 0.3213), (0.7403, 0.3418), (0.6850, 0.3437), (0.3532, 0.7462), (0.4146, 0.7191),
    (0.4777, 0.7068), (0.5227, 0.7171), (0.5698, 0.7054), (0.6352, 0.7157), (0.6995, 0.7394),
    (0.6394, 0.8052), (0.5764, 0.8354), (0.5254, 0.8417), (0.4764, 0.8375), (0.4138, 0.8100),
    (0.3801, 0.7500), (0.4780, 0.7451), (0.5234, 0.7489), (0.5711, 0.7433), (0.6724, 0.7442),
    (0.5725, 0.7766), (0.5240, 0.7834), (0.4776, 0.7785),
])

#: Horizontal centre of the template face (face units).
CENTER_X = 0.525


def _symmetric(shape: np.ndarray) -> np.ndarray:
    mirrored = shape.copy()
    mirrored[:, 0] = 2 * CENTER_X - mirrored[:, 0]
    mirrored = mirrored[MIRROR_PERMUTATION]
    return (shape + mirrored) / 2


def _depths() -> np.ndarray:
    z = np.zeros(N_LANDMARKS)
    angles = (np.arange(17) - 8) / 8 * (np.pi / 2) * 0.95
    z[:17] = -0.12 + 0.32 * np.cos(angles)
    brow = np.linspace(0.12, 0.22, 5)
    z[17:22] = brow
    z[22:27] = brow[::-1]
    z[27:31] = (0.25, 0.31, 0.37, 0.44)
    z[31:36] = (0.27, 0.33, 0.36, 0.33, 0.27)
    z[36:42] = (0.12, 0.17, 0.18, 0.18, 0.17, 0.16)
    z[42:48] = (0.18, 0.18, 0.17, 0.12, 0.16, 0.17)
    z[48:60] = (0.2, 0.27, 0.31, 0.32, 0.31, 0.27, 0.2, 0.27, 0.3, 0.31, 0.3, 0.27)
    z[60:68] = (0.21, 0.29, 0.31, 0.29, 0.21, 0.29, 0.31, 0.29)
    return z


#: Symmetric mean face (68, 2) in face units, iBUG order, as seen in a non-mirrored frontal photo.
TEMPLATE = _symmetric(_MEAN_SHAPE)
#: Depth (68,) of each template point towards the camera, face units.
DEPTH = _depths()


@dataclass(frozen=True)
class Pose:
    """Placement of a face in the picture.

    Attributes:
        center: pixel position ``(x, y)`` where face point ``(CENTER_X, 0.5)`` lands.
        scale: pixels per face unit.
        yaw: degrees, positive turns the face towards the image right (the image-left half widens).
        roll: degrees, in-plane rotation applied to the finished picture (positive is counter-clockwise).
    """

    center: tuple[float, float]
    scale: float
    yaw: float = 0.0
    roll: float = 0.0

    def project(self, points: np.ndarray, depth: np.ndarray | float = 0.0) -> np.ndarray:
        """Face units ``(N, 2)`` with depths ``(N,)`` -> pixels ``(N, 2)`` before roll."""
        pts = np.asarray(points, dtype=np.float64)
        theta = np.deg2rad(self.yaw)
        x = (pts[:, 0] - CENTER_X) * np.cos(theta) + np.asarray(depth) * np.sin(theta)
        y = pts[:, 1] - 0.5
        return np.stack([self.center[0] + x * self.scale, self.center[1] + y * self.scale], axis=1)

    def roll_matrix(self) -> np.ndarray:
        """(2, 3) affine that applies the roll about ``center`` in pixels."""
        import cv2

        return cv2.getRotationMatrix2D((float(self.center[0]), float(self.center[1])), self.roll, 1.0)


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to points (N, 2)."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def catmull_rom(points: np.ndarray, closed: bool = False, steps: int = 4) -> np.ndarray:
    """Smooth curve (M, 2) through ``points`` (N, 2), ``steps`` samples per segment."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < 3:
        return pts
    if closed:
        ext = np.vstack([pts[-1], pts, pts[:2]])
    else:
        ext = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
    n_seg = len(pts) if closed else len(pts) - 1
    t = np.linspace(0, 1, steps, endpoint=False)[None, :, None]
    t2, t3 = t * t, t * t * t
    p0, p1, p2, p3 = (ext[i:i + n_seg, None, :] for i in range(4))
    curve = 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                   + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
    curve = curve.reshape(-1, 2)
    return curve if closed else np.vstack([curve, pts[-1:]])


def fixed(points: np.ndarray, shift: int = 4) -> np.ndarray:
    """Pixel points (N, 2) -> int32 fixed-point array (N, 1, 2) for cv2 drawing with ``shift``."""
    return np.round(np.asarray(points) * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
