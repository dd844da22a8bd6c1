"""Render one synthetic face: a shaded, photo-like RGB picture plus its true landmarks.

:func:`render_face` is a pure function of a :class:`FrameSpec` (identity, per-side AUs, palsy, pose,
lighting and camera settings, all random draws already made), so the same spec always gives the same
bytes, and re-rendering a spec with one AU switched off isolates exactly what that AU changed
(:func:`au_change_masks`).

Drawing is done with OpenCV primitives on uint8 canvases; smooth shading comes from a half-resolution
height map lit from the spec's light direction, and soft shadows and wrinkles from two darkening maps
that are blurred once each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import cv2
import numpy as np

from data.synth.aus import AU_NAMES, SIDE_POINTS, Palsy, apply_aus, apply_droop, weaken
from data.synth.geometry import CENTER_X, DEPTH, Pose, apply_affine, catmull_rom, fixed
from data.synth.identity import Identity, neutral_shape
from faces.sides import Side

_SHIFT = 4
_AA = cv2.LINE_AA


@dataclass(frozen=True)
class FrameSpec:
    """Everything needed to render one frame; see :func:`render_face`.

    Attributes:
        identity: the person.
        aus: intended AU intensities per patient side (before any palsy weakening).
        palsy: unilateral palsy, or None.
        size: output width = height in pixels.
        yaw, roll: head pose in degrees (yaw about +-10, roll about +-8).
        scale: face size factor around 1.0.
        offset: face centre shift (dx, dy) as a fraction of ``size``.
        light_azimuth, light_elevation: light direction (degrees; 0-1, 1 = frontal).
        gaze: iris offset (dx, dy) in [-1, 1].
        blur: Gaussian blur sigma in pixels at 256 px (scaled with size); 0 = none.
        noise: sensor noise standard deviation in grey levels.
        jpeg_quality: JPEG round-trip quality 1-100, or 0 for none.
        noise_offset: where in the fixed noise pattern this frame's noise starts.
    """

    identity: Identity
    aus: Mapping[Side, Mapping[str, float]] = field(default_factory=dict)
    palsy: Palsy | None = None
    size: int = 256
    yaw: float = 0.0
    roll: float = 0.0
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)
    light_azimuth: float = 90.0
    light_elevation: float = 0.7
    gaze: tuple[float, float] = (0.0, 0.0)
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int = 0
    noise_offset: tuple[int, int, int] = (0, 0, 1)

    def effective_aus(self) -> dict[Side, dict[str, float]]:
        """AUs each side actually shows (weakened on the palsy side), names as in ``ALL_AUS``."""
        return {side: weaken(self.aus.get(side, {}), self.palsy, side) for side in Side}


@dataclass(frozen=True)
class RenderedFace:
    """A rendered picture and its ground truth.

    Attributes:
        image: (size, size, 3) uint8 RGB.
        landmarks: (68, 2) float64 true pixel coordinates (x, y), iBUG order by image position.
        effective_aus: AUs shown on each patient side.
        face_width: pixel distance between jaw points 0 and 16.
    """

    image: np.ndarray
    landmarks: np.ndarray
    effective_aus: dict[Side, dict[str, float]]
    face_width: float


def face_shape(spec: FrameSpec) -> np.ndarray:
    """True (68, 2) shape in face units: identity, palsy droop, then the effective AUs."""
    return apply_aus(apply_droop(neutral_shape(spec.identity), spec.palsy), spec.effective_aus())


def _pose(spec: FrameSpec) -> Pose:
    s = spec.size
    center = (s * (0.5 + spec.offset[0]), s * (0.49 + spec.offset[1]))
    return Pose(center=center, scale=s * 0.45 * spec.scale, yaw=spec.yaw, roll=spec.roll)


@lru_cache(maxsize=8)
def _noise_pool(size: int) -> np.ndarray:
    rng = np.random.default_rng(20240611)
    return rng.standard_normal((2 * size, 2 * size, 3)).astype(np.float32)


@lru_cache(maxsize=4096)
def _identity_strokes(seed: int) -> np.ndarray:
    """Per-identity brow hair strokes: (N, 4) of (t along brow, v across, angle jitter, length)."""
    rng = np.random.default_rng([seed, 31])
    n = 34
    return np.stack([rng.uniform(0, 1, n), rng.uniform(-0.2, 0.75, n), rng.normal(0, 0.25, n),
                     rng.uniform(0.6, 1.3, n)], axis=1)


@lru_cache(maxsize=512)
def _background(identity: Identity, size: int) -> np.ndarray:
    a = np.array(identity.bg_rgb, np.float32)
    b = np.array(identity.bg_rgb2, np.float32)
    rng = np.random.default_rng([identity.seed, 17])
    if identity.background == "flat":
        img = np.empty((size, size, 3), np.float32)
        img[:] = a
    elif identity.background == "gradient":
        ang = rng.uniform(0, 2 * np.pi)
        g = np.linspace(-1, 1, size, dtype=np.float32)
        ramp = (np.cos(ang) * g[None, :] + np.sin(ang) * g[:, None]) * 0.5 + 0.5
        img = a + (b - a) * ramp[..., None]
    else:
        low = rng.uniform(0, 1, (6, 6)).astype(np.float32)
        ramp = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
        fine = cv2.resize(rng.uniform(0, 1, (24, 24)).astype(np.float32), (size, size),
                          interpolation=cv2.INTER_CUBIC)
        ramp = np.clip(0.75 * ramp + 0.25 * fine, 0, 1)
        img = a + (b - a) * ramp[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


def _blend_poly(img: np.ndarray, polys: list[np.ndarray], colour: tuple[float, ...], alpha: float) -> None:
    """Fill pixel polygons with ``colour`` at opacity ``alpha`` (in place, bounding-box ROI only)."""
    allp = np.vstack(polys)
    h, w = img.shape[:2]
    x0, y0 = np.floor(allp.min(0)).astype(int) - 2
    x1, y1 = np.ceil(allp.max(0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    layer = roi.copy()
    cv2.fillPoly(layer, [fixed(p - (x0, y0), _SHIFT) for p in polys], colour, _AA, _SHIFT)
    cv2.addWeighted(layer, alpha, roi, 1 - alpha, 0, dst=roi)


def _poly(img: np.ndarray, pts: np.ndarray, colour: tuple[float, ...] | float) -> None:
    cv2.fillPoly(img, [fixed(pts, _SHIFT)], colour, _AA, _SHIFT)


def _line(img: np.ndarray, pts: np.ndarray, colour: tuple[float, ...] | float, thickness: int,
          closed: bool = False) -> None:
    cv2.polylines(img, [fixed(pts, _SHIFT)], closed, colour, max(1, int(round(thickness))), _AA, _SHIFT)


def _ellipse(img: np.ndarray, centre: np.ndarray, axes: tuple[float, float], angle: float,
             colour: tuple[float, ...] | float, thickness: int = -1) -> None:
    c = (int(round(centre[0] * 16)), int(round(centre[1] * 16)))
    ax = (max(1, int(round(axes[0] * 16))), max(1, int(round(axes[1] * 16))))
    cv2.ellipse(img, c, ax, float(angle), 0, 360, colour, thickness, _AA, _SHIFT)


def _arc(centre: tuple[float, float], rx: float, ry: float, a0: float, a1: float, n: int) -> np.ndarray:
    a = np.linspace(a0, a1, n)
    return np.stack([centre[0] + rx * np.cos(a), centre[1] - ry * np.sin(a)], axis=1)


class _Scene:
    """Face-unit geometry of one frame projected to pixels."""

    def __init__(self, spec: FrameSpec) -> None:
        self.spec = spec
        self.ident = spec.identity
        self.pose = _pose(spec)
        self.shape = face_shape(spec)
        self.pts = self.pose.project(self.shape, DEPTH)
        self.unit = self.pose.scale
        self.neutral = neutral_shape(spec.identity)
        self.effective = spec.effective_aus()
        self.top_y = float(min(self.neutral[17:27, 1].min(), 0.2))

    def proj(self, pts: np.ndarray, z: float | np.ndarray = 0.0) -> np.ndarray:
        return self.pose.project(np.asarray(pts, dtype=np.float64).reshape(-1, 2), z)

    def skull(self, grow: float = 0.0, n: int = 25) -> np.ndarray:
        """Forehead/skull arc in face units from jaw point 16 over the top to jaw point 0."""
        p = self.neutral
        cx = (p[0, 0] + p[16, 0]) / 2
        cy = (p[0, 1] + p[16, 1]) / 2
        rx = (p[16, 0] - p[0, 0]) / 2 + grow
        ry = cy - (self.top_y - 0.52) + grow
        return _arc((cx, cy), rx, ry, 0.0, np.pi, n)


def _skull_depth(n: int) -> np.ndarray:
    return -0.1 + 0.3 * np.sin(np.linspace(0, np.pi, n))


def _draw_backdrop(img: np.ndarray, sc: _Scene, skin: np.ndarray, hair: tuple[int, ...]) -> None:
    ident = sc.ident
    p = sc.neutral
    cx = CENTER_X
    if ident.hair_style == "long":
        sk = sc.skull(grow=0.07)
        sides = np.array([[p[0, 0] - 0.1, 1.25], [p[16, 0] + 0.1, 1.25]])
        back = sc.proj(np.vstack([sides[1:], sk, sides[:1]]), -0.15)
        _poly(img, back, hair)
        _light_hair(img, [back], sc)
    # Neck and shoulders.
    neck = np.array([[cx - 0.25, 0.7], [cx + 0.25, 0.7], [cx + 0.27, 1.3], [cx - 0.27, 1.3]])
    neck_col = tuple(float(c) for c in skin * 0.68)
    _poly(img, sc.proj(neck, -0.05), neck_col)
    shoulders = sc.proj(np.array([[cx, 1.62]]), -0.1)[0]
    _ellipse(img, shoulders, (sc.unit * 0.95, sc.unit * 0.42), 0, tuple(float(c) for c in ident.cloth_rgb))
    collar = np.array([[cx - 0.27, 1.2], [cx + 0.27, 1.2], [cx, 1.45]])
    _poly(img, sc.proj(collar, 0.0), neck_col)
    if ident.hair_style != "long":
        ear_col = tuple(float(c) for c in skin * 0.85)
        inner_col = tuple(float(c) for c in skin * 0.6)
        for i, sign in ((0, -1), (16, 1)):
            c = sc.proj(np.array([[p[i, 0] + sign * 0.015, (p[0, 1] + p[2, 1]) / 2 + 0.03]]), -0.2)[0]
            _ellipse(img, c, (sc.unit * 0.055, sc.unit * 0.12), 8 * sign, ear_col)
            _ellipse(img, c + (sign * sc.unit * 0.012, 0), (sc.unit * 0.028, sc.unit * 0.08), 8 * sign,
                     inner_col, max(1, int(sc.unit * 0.012)))


def _face_polygon(sc: _Scene) -> np.ndarray:
    sk = sc.skull(n=21)
    return np.vstack([sc.pts[0:17], sc.proj(sk[1:-1], _skull_depth(21)[1:-1])])


def _light_hair(img: np.ndarray, polys: list[np.ndarray], sc: _Scene) -> None:
    """Shade hair polygons (pixels) with a ramp along the light direction and darker lower ends."""
    h, w = img.shape[:2]
    allp = np.vstack(polys)
    x0, y0 = np.maximum(np.floor(allp.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(allp.max(0)).astype(int) + 2, (w, h))
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [fixed(q - (x0, y0), _SHIFT) for q in polys], 255, _AA, _SHIFT)
    az = np.deg2rad(sc.spec.light_azimuth)
    radius = sc.unit * 0.6
    xs = (np.arange(x0, x1, dtype=np.float32) - sc.pose.center[0]) / radius
    ys = (np.arange(y0, y1, dtype=np.float32) - (sc.pose.center[1] - 0.35 * sc.unit)) / radius
    ramp = 1.0 + 0.22 * (np.cos(az) * xs[None, :] - np.sin(az) * ys[:, None])
    ramp -= 0.12 * np.maximum(ys, 0)[:, None]
    factor = 1 + (mask.astype(np.float32) / 255) * (np.clip(ramp, 0.6, 1.3) - 1)
    roi = img[y0:y1, x0:x1]
    roi[:] = np.clip(roi * factor[..., None], 0, 255).astype(np.uint8)


def _draw_hair_front(img: np.ndarray, sc: _Scene, hair: tuple[int, ...]) -> None:
    ident = sc.ident
    if ident.hair_style == "buzz":
        grow, alpha = 0.012, 0.8
    else:
        grow, alpha = 0.05, 1.0
    p = sc.neutral
    outer = sc.skull(grow=grow, n=25)
    brow_top = p[17:27, 1].min()
    line_y = brow_top - 0.27 - ident.hairline
    temple_y = (p[0, 1] + p[17, 1]) / 2 - 0.08
    hx0, hx1 = p[0, 0] + 0.005, p[16, 0] - 0.005
    t = np.linspace(0, 1, 15)
    hairline = np.stack([hx1 + (hx0 - hx1) * t,
                         temple_y + (line_y - temple_y) * np.sin(np.pi * t) ** 0.6], axis=1)
    shape = np.vstack([outer, hairline[::-1]])
    depth = np.concatenate([_skull_depth(25) - 0.02, np.full(15, 0.1)])
    pts = sc.proj(shape, depth)
    if alpha < 1:
        _blend_poly(img, [pts], hair, alpha)
    else:
        _poly(img, pts, hair)
    shaded = [pts]
    if ident.hair_style == "bun":
        top = sc.proj(np.array([[CENTER_X, outer[:, 1].min() - 0.05]]), 0.0)[0]
        _ellipse(img, top, (sc.unit * 0.17, sc.unit * 0.11), 0, hair)
        shaded.append(_arc((top[0], top[1]), sc.unit * 0.17, sc.unit * 0.11, 0, 2 * np.pi, 16))
    if ident.hair_style == "curly":
        for q in sc.proj(outer[::2], -0.05):
            _ellipse(img, q, (sc.unit * 0.06, sc.unit * 0.06), 0, hair)
            shaded.append(_arc((q[0], q[1]), sc.unit * 0.06, sc.unit * 0.06, 0, 2 * np.pi, 10))
    _light_hair(img, shaded, sc)
    rng = np.random.default_rng([ident.seed, 5])
    n = 36
    crown = np.array([CENTER_X, outer[:, 1].min() + 0.04])
    starts = hairline[rng.integers(2, len(hairline) - 2, n)] + (0, -0.015)
    ends = starts + (crown - starts) * rng.uniform(0.25, 0.6, (n, 1)) + rng.normal(0, 0.015, (n, 2))
    segs = sc.proj(np.stack([starts, ends], axis=1).reshape(-1, 2), 0.05)
    strands = list(fixed(segs, _SHIFT).reshape(n, 2, 2))
    shade = tuple(min(255.0, float(c) * 1.3 + 12) for c in hair)
    cv2.polylines(img, strands, False, shade, 1, _AA, _SHIFT)


def _height_map(sc: _Scene, face_poly: np.ndarray) -> np.ndarray:
    """Half-resolution height map of the face (float32), before blurring."""
    s = sc.spec.size
    h = s // 2
    base = np.zeros((h, h), np.float32)
    _poly(base, face_poly / 2, 1.0)
    base = cv2.GaussianBlur(base, (0, 0), h * 0.07)
    feat = np.zeros((h, h), np.float32)
    p = sc.pts / 2
    u = sc.unit / 2
    eff = sc.effective
    _poly(feat, np.vstack([p[27] + (-0.05 * u, 0), p[27] + (0.05 * u, 0), p[30] + (0.06 * u, 0),
                           p[33] + (0, 0.01 * u), p[30] + (-0.06 * u, 0)]), 0.45)
    _ellipse(feat, p[30] + (0, 0.02 * u), (0.07 * u, 0.06 * u), 0, 0.35)
    for side in Side:
        idx = SIDE_POINTS[side]
        ec = (p[36] + p[39]) / 2 if side is Side.RIGHT else (p[42] + p[45]) / 2
        _ellipse(feat, ec - (0, 0.01 * u), (0.13 * u, 0.08 * u), 0, -0.15)
        brow = p[list(idx["brow"])]
        _line(feat, brow + (0, 0.01 * u), 0.18, int(0.05 * u))
        t6 = eff[side]["AU6"] / 5
        droop = sc.spec.palsy.severity if sc.spec.palsy is not None and sc.spec.palsy.side is side else 0.0
        out = float(idx["out"])
        cheek = ec + (out * 0.07 * u, (0.17 - 0.035 * t6 + 0.03 * droop) * u)
        _ellipse(feat, cheek, (0.09 * u, (0.065 + 0.015 * t6) * u), 0, (0.14 + 0.16 * t6) * (1 - 0.5 * droop))
    mouth = p[48:60]
    _poly(feat, mouth, 0.15)
    _ellipse(feat, p[8] - (0, 0.09 * u), (0.1 * u, 0.06 * u), 0, 0.15)
    feat = cv2.GaussianBlur(feat, (0, 0), h * 0.024)
    return base + feat


def _lighting(sc: _Scene, height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse shading factor and specular term at full resolution from the half-res height map."""
    s = sc.spec.size
    k = s * 0.036
    gy, gx = np.gradient(height)
    az = np.deg2rad(sc.spec.light_azimuth)
    e = float(np.clip(sc.spec.light_elevation, 0.2, 1.0))
    r = np.sqrt(1 - e * e)
    lx, ly, lz = r * np.cos(az), -r * np.sin(az), e
    nx, ny = -gx * k, -gy * k
    norm = np.sqrt(nx * nx + ny * ny + 1)
    diffuse = np.clip((nx * lx + ny * ly + lz) / norm, 0, 1)
    shade = np.minimum((0.4 + 0.6 * diffuse) / (0.4 + 0.6 * e), 1.05)
    spec = np.clip(diffuse - 0.93, 0, None) * 6
    shade = cv2.resize(shade.astype(np.float32), (s, s), interpolation=cv2.INTER_LINEAR)
    spec = cv2.resize(spec.astype(np.float32), (s, s), interpolation=cv2.INTER_LINEAR)
    return shade, spec


def _draw_eye(img: np.ndarray, soft: np.ndarray, fine: np.ndarray, sc: _Scene, side: Side) -> None:
    p = sc.pts
    u = sc.unit
    ident = sc.ident
    eye = p[36:42] if side is Side.RIGHT else p[42:48]
    au = sc.effective[side]
    idx = SIDE_POINTS[side]
    out = float(idx["out"])
    # Order each eye outer -> inner along the upper lid, inner -> outer along the lower lid.
    if side is Side.RIGHT:
        upper_pts, lower_pts = eye[[0, 1, 2, 3]], eye[[3, 4, 5, 0]]
    else:
        upper_pts, lower_pts = eye[[3, 2, 1, 0]], eye[[0, 5, 4, 3]]
    upper = catmull_rom(upper_pts, steps=4)
    lower = catmull_rom(lower_pts, steps=4)
    width = float(np.linalg.norm(upper_pts[0] - upper_pts[-1]))
    opening = float(np.mean(lower_pts[1:3, 1]) - np.mean(upper_pts[1:3, 1]))
    centre = (upper_pts[0] + upper_pts[-1]) / 2
    # Socket shadow and lid crease (soft map).
    _ellipse(soft, centre - (0, 0.012 * u), (0.62 * width, 0.5 * width), 0, 0.1)
    crease = catmull_rom(np.vstack([upper_pts[0] + (out * 0.004 * u, -0.012 * u), centre + (0, -0.042 * u),
                                    upper_pts[-1] + (0, -0.014 * u)]), steps=4)
    _line(soft, crease[1:-1], 0.28, max(1, int(0.01 * u)))
    poly = np.vstack([upper, lower[1:-1]])
    x0, y0 = np.floor(poly.min(0)).astype(int) - 3
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 4
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if opening > 0.6 and x1 > x0 and y1 > y0:
        roi = img[y0:y1, x0:x1]
        mask = np.zeros(roi.shape[:2], np.uint8)
        _poly(mask, poly - (x0, y0), 255)
        layer = roi.copy()
        layer[:] = (224, 218, 210)
        gaze = np.array(sc.spec.gaze)
        iris_c = centre + (gaze[0] * 0.12 * width, -0.06 * width + gaze[1] * 0.05 * width) - (x0, y0)
        iris_r = 0.23 * width
        _ellipse(layer, iris_c, (iris_r, iris_r), 0, tuple(float(c) for c in ident.iris_rgb))
        _ellipse(layer, iris_c, (iris_r, iris_r), 0, tuple(float(c) * 0.45 for c in ident.iris_rgb),
                 max(1, int(iris_r * 0.18)))
        _ellipse(layer, iris_c, (iris_r * 0.42, iris_r * 0.42), 0, (12, 10, 10))
        _ellipse(layer, iris_c + (0.35 * iris_r, -0.35 * iris_r), (iris_r * 0.16, iris_r * 0.16), 0,
                 (245, 245, 245))
        a = (mask.astype(np.float32) / 255)[..., None]
        roi[:] = (layer * a + roi * (1 - a)).astype(np.uint8)
        # Shadow of the upper lid on the eyeball.
        shadow = upper + (0, 0.18 * opening)
        _blend_poly(img, [np.vstack([upper, shadow[::-1]])], (60, 50, 50), 0.25)
    lash = tuple(float(c) for c in np.minimum(np.array(ident.brow_rgb) * 0.5, 40))
    lid_w = max(1.0, 0.016 * u)
    wing = upper[0] + (out * 0.02 * u, -0.006 * u)
    _line(img, np.vstack([wing, upper]), lash, lid_w)
    lower_col = tuple(float(c) * 0.55 for c in ident.skin_rgb)
    _line(img, lower[1:], lower_col, max(1.0, 0.006 * u))
    t6, t7 = au["AU6"] / 5, au["AU7"] / 5
    if t6 > 0:
        outer_pt = upper_pts[0]
        for dy in (-0.022, 0.008, 0.038):
            start = outer_pt + (out * 0.03 * u, dy * 0.4 * u)
            end = outer_pt + (out * 0.09 * u, dy * u)
            mid = (start + end) / 2 + (0, 0.006 * u)
            _line(fine, np.vstack([start, mid, end]), 0.55 * t6, max(1, int(0.008 * u)))
        furrow = lower + (0, 0.045 * u)
        _line(soft, furrow[len(furrow) // 3:-1], 0.28 * t6, max(1, int(0.014 * u)))
    if t7 > 0:
        bulge = lower + (0, 0.016 * u)
        _line(fine, bulge[1:-1], 0.45 * t7, max(1, int(0.008 * u)))


def _draw_brow(img: np.ndarray, sc: _Scene, side: Side) -> None:
    ident = sc.ident
    u = sc.unit
    idx = SIDE_POINTS[side]
    brow = sc.pts[list(idx["brow"])]  # outer -> inner
    curve = catmull_rom(brow, steps=3)
    n = len(curve)
    th = ident.brow_thickness * u * np.interp(np.arange(n), [0, n * 0.4, n - 1], [0.45, 0.85, 1.0])
    tang = np.gradient(curve, axis=0)
    tang /= np.linalg.norm(tang, axis=1, keepdims=True) + 1e-9
    normal = np.stack([-tang[:, 1], tang[:, 0]], axis=1)
    normal *= np.sign(normal[:, 1:2] + 1e-9)  # point downwards
    top = curve - normal * (0.3 * th)[:, None]
    bottom = curve + normal * (0.7 * th)[:, None]
    col = tuple(float(c) for c in ident.brow_rgb)
    _blend_poly(img, [np.vstack([top, bottom[::-1]])], col, 0.82)
    strokes = _identity_strokes(ident.seed)
    t = strokes[:, 0] * (n - 1)
    i0 = np.clip(t.astype(int), 0, n - 2)
    f = (t - i0)[:, None]
    base = curve[i0] * (1 - f) + curve[i0 + 1] * f
    nrm = normal[i0]
    tg = tang[i0]
    thick = th[i0][:, None]
    start = base + nrm * (strokes[:, 1:2] * thick)
    direction = tg - nrm * (0.35 + strokes[:, 2:3])
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    end = start + direction * thick * strokes[:, 3:4]
    segs = list(fixed(np.stack([start, end], axis=1).reshape(-1, 2), _SHIFT).reshape(-1, 2, 2))
    cv2.polylines(img, segs, False, tuple(c * 0.65 for c in col), 1, _AA, _SHIFT)


def _draw_nose(img: np.ndarray, soft: np.ndarray, fine: np.ndarray, sc: _Scene) -> None:
    p = sc.pts
    u = sc.unit
    skin = np.array(sc.ident.skin_rgb, np.float64)
    eff = sc.effective
    for side in Side:
        idx = SIDE_POINTS[side]
        out = float(idx["out"])
        a, b = (p[31], p[32]) if side is Side.RIGHT else (p[35], p[34])
        t9 = eff[side]["AU9"] / 5
        # Side of the nose and the wing crease.
        bridge = np.vstack([p[27] + (out * 0.07 * u, 0.02 * u), p[29] + (out * 0.075 * u, 0),
                            a + (out * 0.01 * u, -0.06 * u)])
        _line(soft, bridge, 0.14, max(1, int(0.03 * u)))
        wing = catmull_rom(np.vstack([a + (-out * 0.005 * u, -0.07 * u), a + (out * 0.03 * u, -0.035 * u),
                                      a + (out * 0.012 * u, 0.004 * u)]), steps=4)
        _line(soft, wing, 0.35 + 0.3 * t9, max(1, int(0.016 * u)))
        c = (a + b) / 2 + (0, -0.008 * u)
        d = b - a
        ang = float(np.degrees(np.arctan2(d[1], d[0])))
        _ellipse(img, c, (0.55 * np.linalg.norm(d), 0.22 * np.linalg.norm(d) + 0.004 * u), ang,
                 tuple(float(v) for v in skin * 0.32))
        if t9 > 0:
            for k, y in enumerate((0.36, 0.52, 0.68)):
                q = p[27] + (p[29] - p[27]) * y
                seg = np.vstack([q + (out * 0.02 * u, 0), q + (out * 0.037 * u, -0.007 * u),
                                 q + (out * 0.054 * u, 0.003 * u)])
                _line(fine, seg, 0.5 * t9 * (1 - 0.15 * k), max(1, int(0.008 * u)))
    _ellipse(soft, p[33] + (0, 0.025 * u), (0.07 * u, 0.022 * u), 0, 0.3)
    _line(soft, np.vstack([p[28], p[30] - (0, 0.02 * u)]), -0.12, max(1, int(0.025 * u)))
    _ellipse(soft, p[30] - (0, 0.01 * u), (0.025 * u, 0.02 * u), 0, -0.12)
    jaw = sc.pts[5:12]
    _poly(soft, np.vstack([jaw, (jaw + (0, 0.09 * u))[::-1]]), 0.35)


def _draw_mouth(img: np.ndarray, soft: np.ndarray, sc: _Scene) -> None:
    p = sc.pts
    u = sc.unit
    ident = sc.ident
    lip = np.array(ident.lip_rgb, np.float64)
    outer_up = catmull_rom(p[48:55], steps=3)
    outer_low = catmull_rom(np.vstack([p[54:60], p[48]]), steps=3)
    inner_up = catmull_rom(np.vstack([p[48], p[60:65], p[54]]), steps=3)
    inner_low = catmull_rom(np.vstack([p[54], p[64:68], p[60], p[48]]), steps=3)
    gap = float(np.max(p[[65, 66, 67], 1] - p[[63, 62, 61], 1]))
    if gap > 0.8:
        inner = np.vstack([inner_up, inner_low[1:-1]])
        _poly(img, inner, (50, 22, 24))
        low_x = inner_low[::-1]
        local_gap = np.interp(inner_up[:, 0], low_x[:, 0], low_x[:, 1]) - inner_up[:, 1]
        depth = np.clip(local_gap * 0.7, 0, 0.05 * u)[:, None] * (0, 1)
        teeth = np.vstack([inner_up[2:-2], (inner_up + depth)[2:-2][::-1]])
        _poly(img, teeth, (228, 222, 206))
    _poly(img, np.vstack([outer_up, inner_up[::-1]]), tuple(float(v) for v in lip * 0.88))
    _poly(img, np.vstack([outer_low, inner_low[::-1]]), tuple(float(v) for v in lip))
    _line(img, inner_up, tuple(float(v) for v in lip * 0.42), max(1, 0.012 * u))
    _ellipse(soft, p[57] + (0, 0.03 * u), (0.09 * u, 0.022 * u), 0, 0.28)
    _line(soft, np.vstack([p[33] + (-0.012 * u, 0.02 * u), p[51] + (-0.012 * u, -0.01 * u)]), 0.08,
          max(1, int(0.012 * u)))
    _line(soft, np.vstack([p[33] + (0.012 * u, 0.02 * u), p[51] + (0.012 * u, -0.01 * u)]), 0.08,
          max(1, int(0.012 * u)))


def _draw_folds(soft: np.ndarray, fine: np.ndarray, sc: _Scene) -> None:
    p = sc.pts
    u = sc.unit
    eff = sc.effective
    palsy = sc.spec.palsy
    for side in Side:
        idx = SIDE_POINTS[side]
        out = float(idx["out"])
        a = p[31] if side is Side.RIGHT else p[35]
        corner = p[int(idx["corner"])]
        t10, t4, t12 = eff[side]["AU10"] / 5, eff[side]["AU4"] / 5, eff[side]["AU12"] / 5
        droop = palsy.severity if palsy is not None and palsy.side is side else 0.0
        lines = sc.ident.forehead_lines
        if palsy is not None and palsy.kind == "peripheral":
            lines *= 1 - 0.9 * droop
        if lines > 0.02:
            brow = sc.neutral[list(idx["brow"])]  # outer -> inner, face units, resting position
            mid_x = (sc.neutral[21, 0] + sc.neutral[22, 0]) / 2
            for k, lift in enumerate((0.07, 0.11, 0.15)):
                curve = np.vstack([brow[1:], [[mid_x - out * 0.015, brow[-1, 1]]]]) - (0, lift)
                curve[:, 1] += 0.004 * k
                _line(fine, sc.proj(catmull_rom(curve, steps=3), 0.15), 0.75 * lines * (1 - 0.2 * k),
                      max(1, int(0.007 * u)))
        depth = (sc.ident.nasolabial + 0.45 * t10 + 0.25 * t12) * (1 - 0.85 * droop)
        fold = catmull_rom(np.vstack([a + (out * 0.035 * u, -0.02 * u), a + (out * 0.07 * u, 0.06 * u),
                                      corner + (out * 0.05 * u, 0.0), corner + (out * 0.05 * u, 0.07 * u)]),
                           steps=4)
        _line(soft, fold, 0.32 * depth, max(1, int((0.018 + 0.01 * t10) * u)))
        if t4 > 0:
            inner = p[21] if side is Side.RIGHT else p[22]
            mid_x = (p[21, 0] + p[22, 0]) / 2
            x = mid_x + (inner[0] - mid_x) * 0.45
            seg = np.array([[x, inner[1] - 0.02 * u], [x + out * 0.004 * u, p[27, 1] - 0.005 * u]])
            _line(fine, seg, 0.6 * t4, max(1, int(0.009 * u)))
            _ellipse(soft, np.array([x, inner[1] + 0.01 * u]), (0.02 * u, 0.025 * u), 0,
                     0.18 * t4)


def _finish(img: np.ndarray, spec: FrameSpec, pose: Pose) -> np.ndarray:
    s = spec.size
    if spec.roll:
        img = cv2.warpAffine(img, pose.roll_matrix(), (s, s), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT101)
    if spec.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), spec.blur * s / 256)
    if spec.noise > 0:
        pool = _noise_pool(s)
        oy, ox, sign = spec.noise_offset
        oy, ox = oy % s, ox % s
        noise = pool[oy:oy + s, ox:ox + s] * (spec.noise * (1 if sign >= 0 else -1))
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if spec.jpeg_quality > 0:
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(spec.jpeg_quality)])
        if ok:
            img = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(img)


def render_face(spec: FrameSpec) -> RenderedFace:
    """Render ``spec`` to a (size, size, 3) uint8 RGB picture with its true landmarks (68, 2)."""
    s = spec.size
    sc = _Scene(spec)
    ident = spec.identity
    skin = np.array(ident.skin_rgb, np.float64)
    hair = tuple(float(c) for c in ident.hair_rgb)
    img = _background(ident, s).copy()
    _draw_backdrop(img, sc, skin, hair)
    face_poly = _face_polygon(sc)
    face_mask = np.zeros((s, s), np.uint8)
    _poly(face_mask, face_poly, 255)
    _poly(img, face_poly, tuple(float(c) for c in skin))
    soft = np.zeros((s, s), np.float32)
    fine = np.zeros((s, s), np.float32)
    _draw_folds(soft, fine, sc)
    _draw_nose(img, soft, fine, sc)
    _draw_mouth(img, soft, sc)
    for side in Side:
        _draw_eye(img, soft, fine, sc, side)
        _draw_brow(img, sc, side)
    shade, spec_term = _lighting(sc, _height_map(sc, face_poly))
    margin = int(s * 0.05)
    x0, y0 = np.maximum(np.floor(face_poly.min(0)).astype(int) - margin, 0)
    x1, y1 = np.minimum(np.ceil(face_poly.max(0)).astype(int) + 2 * margin, s)
    box = (slice(y0, y1), slice(x0, x1))
    soft_box = cv2.GaussianBlur(soft[box], (0, 0), s * 0.012, borderType=cv2.BORDER_CONSTANT)
    fine_box = cv2.GaussianBlur(fine[box], (0, 0), max(0.5, s * 0.0025), borderType=cv2.BORDER_CONSTANT)
    m = face_mask[box].astype(np.float32) * (1 / 255)
    factor = (1 + m * (shade[box] - 1)) * (1 - np.clip(soft_box, -0.25, 0.8))
    factor *= 1 - np.minimum(fine_box, 0.8)
    out = img[box].astype(np.float32) * factor[..., None] + (m * spec_term[box] * 45)[..., None]
    img[box] = np.clip(out, 0, 255).astype(np.uint8)
    _draw_hair_front(img, sc, hair)
    img = _finish(img, spec, sc.pose)
    landmarks = apply_affine(sc.pose.roll_matrix(), sc.pts) if spec.roll else sc.pts.copy()
    return RenderedFace(image=img, landmarks=landmarks, effective_aus=spec.effective_aus(),
                        face_width=float(np.linalg.norm(landmarks[16] - landmarks[0])))


def au_change_masks(spec: FrameSpec, threshold: float = 6.0,
                    with_artefacts: bool = False) -> dict[tuple[Side, str], np.ndarray]:
    """For every AU active on a side, the (size, size) float32 per-pixel change it causes.

    Each entry is ``sum over RGB of |image - image without that AU|`` (grey levels); the AU is switched
    off on that side only, every other setting (pose, lighting, blur) is kept. Sensor noise and JPEG
    compression are left out unless ``with_artefacts`` (JPEG blocks smear a change over 8x8 tiles that
    the AU did not touch). Pixels whose change is below ``threshold`` are set to 0.
    """
    if not with_artefacts:
        spec = replace(spec, noise=0.0, jpeg_quality=0)
    base = render_face(spec).image.astype(np.int16)
    eff = spec.effective_aus()
    out: dict[tuple[Side, str], np.ndarray] = {}
    for side in Side:
        for name in AU_NAMES:
            if eff[side][name] <= 0:
                continue
            aus = {sd: dict(spec.aus.get(sd, {})) for sd in Side}
            aus[side][name] = 0.0
            other = render_face(replace(spec, aus=aus)).image.astype(np.int16)
            diff = np.abs(base - other).sum(axis=2).astype(np.float32)
            diff[diff < threshold] = 0
            out[(side, name)] = diff
    return out
