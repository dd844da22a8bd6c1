"""Identities for the synthetic faces: face shape, skin tone, features, hair, clothing and backdrop.

An :class:`Identity` is everything about a person (and their usual setting) that stays fixed across the
frames of one subject. :func:`sample_identity` draws one from a seeded generator, and
:func:`neutral_shape` turns it into the resting 68-point shape in face units (see
:mod:`data.synth.geometry`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from data.synth.geometry import CENTER_X, TEMPLATE

#: Skin tones from very light to very dark (RGB, 0-255), interpolated by ``Identity.skin_tone``.
SKIN_PALETTE = np.array([
    (240, 208, 184), (230, 188, 156), (218, 168, 128), (192, 136, 96),
    (160, 108, 74), (124, 82, 56), (92, 60, 42), (62, 42, 32),
], dtype=np.float64)

HAIR_COLOURS = {
    "black": (24, 20, 18), "dark_brown": (52, 36, 26), "brown": (92, 64, 42), "auburn": (120, 58, 32),
    "blonde": (196, 160, 104), "grey": (150, 146, 140), "white": (212, 208, 200),
}
IRIS_COLOURS = {
    "dark_brown": (58, 36, 24), "brown": (96, 62, 36), "hazel": (120, 100, 56), "green": (86, 112, 70),
    "blue": (84, 120, 160), "grey": (116, 124, 130),
}
HAIR_STYLES = ("short", "long", "buzz", "bun", "curly")
BACKGROUNDS = ("flat", "gradient", "noise")


@dataclass(frozen=True)
class Identity:
    """A synthetic person. Lengths are in face units; colours are RGB tuples 0-255.

    Shape factors near 1.0 mean the mean face; offsets near 0.0 mean the mean face.
    """

    seed: int
    face_width: float  # 0.9-1.08, horizontal scale of the whole face
    face_height: float  # 0.94-1.06, vertical scale
    jaw_width: float  # 0.86-1.06, width of the lower jaw relative to the cheekbones
    chin_length: float  # -0.03..0.04, extra chin drop
    eye_spacing: float  # -0.015..0.015, extra half distance between the eyes
    eye_size: float  # 0.9-1.12
    eye_open: float  # 0.85-1.2, vertical opening of the eyes
    brow_height: float  # -0.012..0.02, brows raised above the mean
    brow_thickness: float  # 0.022-0.034
    brow_arch: float  # -0.008..0.018, raise of the brow's middle
    nose_length: float  # -0.025..0.03
    nose_width: float  # 0.88-1.22
    mouth_width: float  # 0.88-1.12
    upper_lip: float  # 0.75-1.3, upper-lip thickness factor
    lower_lip: float  # 0.75-1.35
    skin_tone: float  # 0 (very light) .. 1 (very dark)
    skin_rgb: tuple[int, int, int]
    lip_rgb: tuple[int, int, int]
    iris_rgb: tuple[int, int, int]
    hair_rgb: tuple[int, int, int]
    brow_rgb: tuple[int, int, int]
    hair_style: str  # one of HAIR_STYLES
    hairline: float  # 0.0-0.09, how far the hairline sits above the default
    nasolabial: float  # 0.2-0.5, resting depth of the nasolabial fold
    cloth_rgb: tuple[int, int, int]
    background: str  # one of BACKGROUNDS
    bg_rgb: tuple[int, int, int]
    bg_rgb2: tuple[int, int, int]
    light_azimuth: float  # 25-155 degrees, where the key light comes from (0 = image right, 90 = above)
    light_elevation: float  # 0.55-0.88, how frontal the light is (1 = head-on)
    forehead_lines: float  # 0-0.5, depth of the resting horizontal forehead lines (0 = smooth)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict of all fields."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _rgb(values: np.ndarray) -> tuple[int, int, int]:
    clipped = np.clip(np.round(values), 0, 255).astype(int)
    return int(clipped[0]), int(clipped[1]), int(clipped[2])


def skin_colour(tone: float) -> np.ndarray:
    """RGB (3,) float of the palette at ``tone`` in [0, 1]."""
    pos = float(np.clip(tone, 0, 1)) * (len(SKIN_PALETTE) - 1)
    i = min(int(pos), len(SKIN_PALETTE) - 2)
    f = pos - i
    return SKIN_PALETTE[i] * (1 - f) + SKIN_PALETTE[i + 1] * f


def sample_identity(seed: int) -> Identity:
    """Draw an identity from ``seed`` (same seed -> same identity)."""
    rng = np.random.default_rng([seed, 7919])
    u = rng.uniform
    tone = float(u(0, 1))
    skin = skin_colour(tone) * (1 + rng.normal(0, 0.03, 3))
    red_lip = skin * np.array([0.86, 0.62, 0.62]) + np.array([30, 0, 6]) * (1 - 0.5 * tone)
    lip_strength = u(0.35, 1.0)
    lip = red_lip * lip_strength + skin * np.array([0.8, 0.68, 0.66]) * (1 - lip_strength)
    dark = tone > 0.55
    iris_names = ["dark_brown", "brown"] if dark else list(IRIS_COLOURS)
    iris = np.array(IRIS_COLOURS[iris_names[rng.integers(len(iris_names))]]) * u(0.85, 1.15)
    hair_names = ["black", "dark_brown", "black", "grey"] if dark else list(HAIR_COLOURS)
    hair_name = hair_names[rng.integers(len(hair_names))]
    hair = np.array(HAIR_COLOURS[hair_name]) * u(0.85, 1.1)
    brow = hair if hair_name not in ("blonde", "white", "grey") else hair * 0.55
    brow = np.minimum(brow, skin * 0.45)
    style = HAIR_STYLES[rng.integers(len(HAIR_STYLES))]
    background = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    bg = rng.uniform(30, 230, 3)
    bg2 = np.clip(bg + rng.normal(0, 45, 3), 0, 255)
    cloth = rng.uniform(20, 220, 3)
    return Identity(
        seed=int(seed),
        face_width=float(u(0.9, 1.08)),
        face_height=float(u(0.94, 1.06)),
        jaw_width=float(u(0.86, 1.06)),
        chin_length=float(u(-0.03, 0.04)),
        eye_spacing=float(u(-0.015, 0.015)),
        eye_size=float(u(0.9, 1.12)),
        eye_open=float(u(0.85, 1.2)),
        brow_height=float(u(-0.012, 0.02)),
        brow_thickness=float(u(0.022, 0.034)),
        brow_arch=float(u(-0.008, 0.018)),
        nose_length=float(u(-0.025, 0.03)),
        nose_width=float(u(0.88, 1.22)),
        mouth_width=float(u(0.88, 1.12)),
        upper_lip=float(u(0.75, 1.3)),
        lower_lip=float(u(0.75, 1.35)),
        skin_tone=tone,
        skin_rgb=_rgb(skin),
        lip_rgb=_rgb(lip),
        iris_rgb=_rgb(iris),
        hair_rgb=_rgb(hair),
        brow_rgb=_rgb(brow),
        hair_style=style,
        hairline=float(u(0.0, 0.09)),
        nasolabial=float(u(0.2, 0.5)),
        cloth_rgb=_rgb(cloth),
        background=background,
        bg_rgb=_rgb(bg),
        bg_rgb2=_rgb(bg2),
        light_azimuth=float(u(25, 155)),
        light_elevation=float(u(0.55, 0.88)),
        forehead_lines=float(max(0.0, u(-0.2, 0.5))),
    )


@lru_cache(maxsize=4096)
def _neutral_shape(identity: Identity) -> np.ndarray:
    shape = _build_neutral_shape(identity)
    shape.setflags(write=False)
    return shape


def neutral_shape(identity: Identity) -> np.ndarray:
    """The identity's resting, symmetric 68-point shape (68, 2) in face units, iBUG order (a copy)."""
    return _neutral_shape(identity).copy()


def _build_neutral_shape(identity: Identity) -> np.ndarray:
    p = TEMPLATE.copy()
    cx, cy = CENTER_X, 0.5
    # Jaw: narrow/widen the lower jaw progressively, lengthen the chin.
    jaw = np.arange(17)
    lower = np.clip((p[jaw, 1] - 0.45) / 0.6, 0, 1)
    p[jaw, 0] = cx + (p[jaw, 0] - cx) * (1 + (identity.jaw_width - 1) * lower)
    p[jaw, 1] += identity.chin_length * lower ** 2
    # Eyes: spacing, size and opening about each eye centre.
    for eye, sign in ((slice(36, 42), -1), (slice(42, 48), 1)):
        centre = p[eye].mean(axis=0)
        d = p[eye] - centre
        d[:, 0] *= identity.eye_size
        d[:, 1] *= identity.eye_size * identity.eye_open
        p[eye] = centre + d + np.array([sign * identity.eye_spacing, 0])
    # Brows.
    arch = np.array([0.0, 0.7, 1.0, 0.6, 0.0])
    for brow, sign in ((slice(17, 22), -1), (slice(22, 27), 1)):
        p[brow, 1] -= identity.brow_height + identity.brow_arch * (arch if sign < 0 else arch[::-1])
        p[brow, 0] += sign * identity.eye_spacing
    # Nose: length moves tip and base, width scales the base.
    p[29, 1] += identity.nose_length * 0.6
    p[30:36, 1] += identity.nose_length
    p[31:36, 0] = cx + (p[31:36, 0] - cx) * identity.nose_width
    # Mouth: width and lip thickness about the mouth line.
    mouth = slice(48, 68)
    line_y = p[[60, 64, 62, 66], 1].mean()
    p[mouth, 0] = cx + (p[mouth, 0] - cx) * identity.mouth_width
    upper = [49, 50, 51, 52, 53]
    lower = [55, 56, 57, 58, 59]
    p[upper, 1] = line_y + (p[upper, 1] - line_y) * identity.upper_lip
    p[lower, 1] = line_y + (p[lower, 1] - line_y) * identity.lower_lip
    p[60:68, 1] = line_y + (p[60:68, 1] - line_y) * 0.15
    p[mouth, 1] += identity.nose_length * 0.6
    # Whole face.
    p[:, 0] = cx + (p[:, 0] - cx) * identity.face_width
    p[:, 1] = cy + (p[:, 1] - cy) * identity.face_height
    return p
