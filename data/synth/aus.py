"""Action units, PSPI, palsy and the landmark changes they cause on the synthetic faces.

Action units are keyed by name (``"AU4"``, ``"AU6"``, ``"AU7"``, ``"AU9"``, ``"AU10"``, ``"AU43"``).
AU4..AU10 are intensities in [0, 5]; AU43 (eyes closed) is 0 or 1. Two more AUs that are not part of
PSPI, AU12 (lip-corner puller, a smile) and AU25 (lips part), appear now and then as distractors, as
they do in real pain videos; they never change the PSPI. Every AU is given per *patient*
side (:class:`faces.sides.Side`); in a non-mirrored photo the patient's right is on the image left, so
the patient-right brow is iBUG 17-21, the eye 36-41 and the mouth corner 48.

Shapes here are (68, 2) arrays in face units (see :mod:`data.synth.geometry`), y growing downwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from faces.sides import Side

AU_NAMES = ("AU4", "AU6", "AU7", "AU9", "AU10", "AU43")
#: AUs outside PSPI drawn as distractors (0-5).
OTHER_AUS = ("AU12", "AU25")
ALL_AUS = AU_NAMES + OTHER_AUS
#: FACS code of each AU name (as in UNBC-McMaster FACS files).
AU_CODES = {"AU4": 4, "AU6": 6, "AU7": 7, "AU9": 9, "AU10": 10, "AU43": 43, "AU12": 12, "AU25": 25}
AU_MAX = {"AU4": 5.0, "AU6": 5.0, "AU7": 5.0, "AU9": 5.0, "AU10": 5.0, "AU43": 1.0, "AU12": 5.0, "AU25": 5.0}
#: Unsided face regions each AU changes (on the side where it acts).
AU_REGIONS: dict[str, tuple[str, ...]] = {
    "AU4": ("brow", "forehead"),
    "AU6": ("cheek", "eye"),
    "AU7": ("eye",),
    "AU9": ("nose",),
    "AU10": ("mouth", "nose", "cheek"),
    "AU43": ("eye",),
}
PSPI_MIN, PSPI_MAX = 0.0, 16.0
PALSY_TYPES = ("central", "peripheral")


def pspi(au: Mapping[str, float]) -> float:
    """PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43, clamped to [0, 16].

    ``au`` maps AU names (``"AU4"``; integer codes such as ``4`` also work) to intensities; missing AUs
    count as 0, AU43 counts as 1 when positive.
    """
    values = {(k if isinstance(k, str) else f"AU{int(k)}"): float(v) for k, v in au.items()}
    g = values.get
    score = (g("AU4", 0.0) + max(g("AU6", 0.0), g("AU7", 0.0)) + max(g("AU9", 0.0), g("AU10", 0.0))
             + (1.0 if g("AU43", 0.0) > 0 else 0.0))
    return float(min(max(score, PSPI_MIN), PSPI_MAX))


def zero_aus() -> dict[str, float]:
    """All AUs at 0."""
    return dict.fromkeys(AU_NAMES, 0.0)


@dataclass(frozen=True)
class Palsy:
    """Unilateral facial palsy.

    Attributes:
        side: the affected patient side.
        severity: 0 (none) .. 1 (complete).
        kind: ``"central"`` (spares the forehead) or ``"peripheral"`` (whole side, brow too).
    """

    side: Side
    severity: float
    kind: str = "central"

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", Side.parse(self.side))
        if not 0.0 <= self.severity <= 1.0:
            raise ValueError(f"palsy severity must be in [0, 1], got {self.severity}")
        if self.kind not in PALSY_TYPES:
            raise ValueError(f"palsy kind must be one of {PALSY_TYPES}, got {self.kind!r}")

    def weakening(self, au_name: str) -> float:
        """Factor k in ``AU * (1 - severity * k)`` for ``au_name`` on the affected side."""
        if au_name == "AU4" and self.kind == "central":
            return 0.2
        return 0.85


def weaken(aus: Mapping[str, float], palsy: Palsy | None, side: Side) -> dict[str, float]:
    """AUs as the ``side`` of a face with ``palsy`` can show them (unchanged on the unaffected side)."""
    out = {name: float(aus.get(name, 0.0)) for name in ALL_AUS}
    if palsy is None or palsy.side is not side or palsy.severity <= 0:
        return out
    for name in ALL_AUS:
        factor = 1.0 - palsy.severity * palsy.weakening(name)
        out[name] = out[name] * factor
    out["AU43"] = 1.0 if out["AU43"] >= 0.5 else 0.0
    return out


# Index sets for each patient side in a non-mirrored photo; "out" is the image-x direction away from
# the midline.
SIDE_POINTS: dict[Side, dict[str, tuple[int, ...] | int]] = {
    Side.RIGHT: {"brow": (17, 18, 19, 20, 21), "upper_lid": (37, 38), "lower_lid": (41, 40),
                 "outer": 36, "inner": 39, "corner": 48, "upper_lip": (49, 50), "lower_lip": (59, 58),
                 "inner_upper": (61,), "inner_lower": (67,), "inner_corner": 60, "nostril": (31, 32),
                 "out": -1},
    Side.LEFT: {"brow": (26, 25, 24, 23, 22), "upper_lid": (44, 43), "lower_lid": (46, 47),
                "outer": 45, "inner": 42, "corner": 54, "upper_lip": (53, 52), "lower_lip": (55, 56),
                "inner_upper": (63,), "inner_lower": (65,), "inner_corner": 64, "nostril": (35, 34),
                "out": 1},
}


def apply_droop(shape: np.ndarray, palsy: Palsy | None) -> np.ndarray:
    """Resting droop of the affected side: lower mouth corner, sagging lower lid, brow (peripheral)."""
    p = np.array(shape, dtype=np.float64)
    if palsy is None or palsy.severity <= 0:
        return p
    s = palsy.severity
    idx = SIDE_POINTS[palsy.side]
    out = float(idx["out"])
    corner, inner_corner = int(idx["corner"]), int(idx["inner_corner"])
    p[corner] += (-out * 0.008 * s, 0.045 * s)
    p[inner_corner] += (-out * 0.006 * s, 0.038 * s)
    for i, f in zip(idx["upper_lip"], (0.55, 0.2), strict=True):
        p[i, 1] += 0.04 * s * f
    for i, f in zip(idx["lower_lip"], (0.6, 0.25), strict=True):
        p[i, 1] += 0.04 * s * f
    p[list(idx["inner_upper"]), 1] += 0.012 * s
    p[list(idx["inner_lower"]), 1] += 0.012 * s
    p[list(idx["lower_lid"]), 1] += 0.012 * s
    if palsy.kind == "peripheral":
        p[list(idx["brow"]), 1] += 0.025 * s
    return p


def apply_aus(shape: np.ndarray, aus: Mapping[Side, Mapping[str, float]]) -> np.ndarray:
    """Move landmarks for the AUs on each patient side; returns a new (68, 2) shape in face units."""
    p = np.array(shape, dtype=np.float64)
    for side in Side:
        au = aus.get(side, {})
        idx = SIDE_POINTS[side]
        out = float(idx["out"])
        t4, t6, t7 = au.get("AU4", 0) / 5, au.get("AU6", 0) / 5, au.get("AU7", 0) / 5
        t9, t10, closed = au.get("AU9", 0) / 5, au.get("AU10", 0) / 5, au.get("AU43", 0) > 0
        brow = list(idx["brow"])  # outer -> inner
        p[brow, 1] += 0.04 * t4 * np.array([0.45, 0.6, 0.75, 0.9, 1.0])
        p[brow, 0] -= out * 0.022 * t4 * np.array([0.1, 0.3, 0.5, 0.8, 1.0])
        lower, upper = list(idx["lower_lid"]), list(idx["upper_lid"])
        p[lower, 1] -= 0.013 * t6 + 0.016 * t7
        p[int(idx["outer"]), 1] -= 0.004 * t6
        p[upper, 1] += 0.006 * t7
        if closed:
            p[upper, 1] = p[lower, 1] - 0.002
        nostril = list(idx["nostril"])
        p[nostril, 1] -= 0.014 * t9 + 0.004 * t10
        p[nostril[0], 0] += out * 0.006 * t9
        lip = list(idx["upper_lip"])
        p[lip[0], 1] -= 0.024 * t10
        p[lip[1], 1] -= 0.03 * t10
        p[51, 1] -= 0.5 * 0.026 * t10
        p[list(idx["inner_upper"]), 1] -= 0.026 * t10
        p[62, 1] -= 0.5 * 0.026 * t10
        p[int(idx["corner"]), 1] -= 0.006 * t10
        p[int(idx["inner_corner"]), 1] -= 0.008 * t10
        t12, t25 = au.get("AU12", 0) / 5, au.get("AU25", 0) / 5
        corner, inner_corner = int(idx["corner"]), int(idx["inner_corner"])
        p[corner] += (out * 0.022 * t12, -0.03 * t12)
        p[inner_corner] += (out * 0.018 * t12, -0.025 * t12)
        p[list(idx["upper_lip"])[0]] += (out * 0.006 * t12, -0.008 * t12)
        p[list(idx["lower_lip"])[0]] += (out * 0.008 * t12, -0.012 * t12)
        p[list(idx["inner_lower"]), 1] += 0.014 * t25
        p[66, 1] += 0.5 * 0.016 * t25
        p[list(idx["lower_lip"]), 1] += 0.01 * t25
        p[57, 1] += 0.5 * 0.012 * t25
    return p


def sample_distractors(rng: np.random.Generator) -> dict[str, float]:
    """AU12 (smile) and AU25 (lips part) intensities, each present in about one frame in six."""
    return {name: float(rng.integers(1, 5)) if rng.random() < 0.16 else 0.0 for name in OTHER_AUS}


MIXED_ZERO_SHARE = 0.4


def sample_pspi_target(rng: np.random.Generator, distribution: str) -> int:
    """Draw a target PSPI level: ``"unbc"`` (mostly 0, long tail), ``"balanced"`` (uniform 0..12) or
    ``"mixed"`` (0 with probability :data:`MIXED_ZERO_SHARE`, else uniform 1..14).

    ``"mixed"`` is the demo pain models' prior: a face that shows no pain is the commonest case, so a
    face the model cannot read is not pulled towards the middle of the scale (the balanced prior's mean is
    6), while every level up to 14 is still seen often enough to be learned.
    """
    if distribution == "balanced":
        return int(rng.integers(0, 13))
    if distribution == "mixed":
        return 0 if rng.random() < MIXED_ZERO_SHARE else int(rng.integers(1, 15))
    if distribution == "unbc":
        if rng.random() < 0.65:
            return 0
        return int(min(1 + rng.geometric(0.28) - 1, 15))
    raise ValueError(f"distribution must be 'unbc', 'balanced' or 'mixed', got {distribution!r}")


def sample_aus_for_pspi(rng: np.random.Generator, target: int) -> dict[str, float]:
    """Integer AU intensities whose PSPI equals ``target`` (0..16)."""
    target = int(min(max(target, 0), 16))
    au43 = 1 if target >= 16 or (target >= 4 and rng.random() < min(0.45, target / 24)) else 0
    rest = target - au43
    a = int(rng.integers(max(0, rest - 10), min(5, rest) + 1))
    b = int(rng.integers(max(0, rest - a - 5), min(5, rest - a) + 1))
    parts = [a, b, rest - a - b]
    rng.shuffle(parts)
    out = zero_aus()
    out["AU4"] = float(parts[0])
    for pair, level in ((("AU6", "AU7"), parts[1]), (("AU9", "AU10"), parts[2])):
        first = int(rng.integers(2))
        out[pair[first]] = float(level)
        out[pair[1 - first]] = float(rng.integers(0, level + 1)) if level > 0 else 0.0
    out["AU43"] = float(au43)
    return out
