"""A landmark-based pain estimate: action-unit proxies per patient half and a small monotone model.

Beside the pain network, as the asymmetry measures stand beside the side model, this reads each half of
the face from its 68 landmarks alone. Seven proxies per patient side, measured along the face's own axes
(the eye line and its perpendicular, so head roll does not matter) and divided by the inter-ocular
distance. Eye centres here are the midpoints of the eye corners, which the lids do not move, so
narrowing one eye neither tilts the frame nor changes the other half's proxies:

- ``brow_eye``: how far the inner brow sits above the eye centre (AU4 lowers it);
- ``brow_tilt``: how far the inner end of the brow sits above its outer end (AU4 pulls the inner end down);
- ``eye_aperture``: the vertical lid opening (AU6 and AU7 narrow it, AU43 shuts it);
- ``lower_lid``: how far the lower lid sits below the eye corners (AU6 and AU7 raise it);
- ``eye_aspect``: the eye aspect ratio, opening over eye width (AU43);
- ``nose_lip``: the distance from the base of the nose (subnasale) down to the upper lip (AU10 raises
  the lip);
- ``ala_nose``: how far the nose wing sits below the nose tip (AU9 raises the nostril).

Each PSPI term (``AU4``, ``AU6/7`` = max(AU6, AU7), ``AU9/10`` = max(AU9, AU10), ``AU43``) is a sum of
monotone piecewise-linear functions of its proxies, each falling as its distance grows; the PSPI is
their sum, clamped to [0, 16]. The knots live in ``au_proxy.json`` beside this module, fitted by
``python -m data fit-au-proxy`` on synthetic faces with the landmarks dlib fits to them (not the true
ones), which is how the estimate meets a photo. Without a neutral reference photo the proxies compare a
face with the synthetic population, so a person's resting brow height or eye opening passes into the
estimate; read it as a cross-check, not a measurement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from faces.landmarks import LEFT_EYE_INNER, LEFT_EYE_OUTER, N_LANDMARKS, RIGHT_EYE_INNER, RIGHT_EYE_OUTER
from faces.sides import ImageSide, Side, image_side

MODEL_PATH = Path(__file__).with_name("au_proxy.json")
FEATURES = ("brow_eye", "brow_tilt", "eye_aperture", "lower_lid", "eye_aspect", "nose_lip", "ala_nose")
TERMS = ("AU4", "AU6/7", "AU9/10", "AU43")
TERM_FEATURES: dict[str, tuple[str, ...]] = {
    "AU4": ("brow_eye", "brow_tilt"),
    "AU6/7": ("eye_aperture", "lower_lid"),
    "AU9/10": ("nose_lip", "ala_nose"),
    "AU43": ("eye_aspect",),
}
TERM_MAX = {"AU4": 5.0, "AU6/7": 5.0, "AU9/10": 5.0, "AU43": 1.0}
PSPI_RANGE = (0.0, 16.0)

# iBUG indices per image side: brow (outer -> inner), eye (outer, upper x2, inner, lower x2), nose wing,
# upper lip (outer, inner). The nose tip (30) and subnasale (33) lie on the midline.
_INDEX: dict[ImageSide, dict[str, tuple[int, ...]]] = {
    ImageSide.LEFT: {"brow": (17, 18, 19, 20, 21), "eye": (36, 37, 38, 39, 40, 41), "ala": (31,),
                     "upper_lip": (49, 50)},
    ImageSide.RIGHT: {"brow": (26, 25, 24, 23, 22), "eye": (45, 44, 43, 42, 47, 46), "ala": (35,),
                      "upper_lip": (53, 52)},
}
NOSE_TIP, SUBNASALE = 30, 33


@dataclass(frozen=True)
class HalfPainEstimate:
    """The landmark estimate for one patient half: proxies, PSPI terms (AU intensities) and PSPI."""

    side: Side
    features: Mapping[str, float]  # proxy name -> value (inter-ocular units or a ratio)
    aus: Mapping[str, float]  # "AU4", "AU6/7", "AU9/10" (0-5), "AU43" (0-1, how likely the eye is shut)
    pspi: float  # sum of the terms, clamped to [0, 16]

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side.value, "pspi": round(self.pspi, 3),
                "aus": {k: round(float(v), 3) for k, v in self.aus.items()},
                "features": {k: round(float(v), 4) for k, v in self.features.items()}}


def half_features(landmarks: np.ndarray, side: Side, mirrored: bool = False) -> dict[str, float]:
    """The seven proxies of the patient's ``side`` from ``(68, 2)`` landmarks (photo or aligned coords)."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must be ({N_LANDMARKS}, 2), got {points.shape}")
    span = (points[[LEFT_EYE_INNER, LEFT_EYE_OUTER]].mean(0)
            - points[[RIGHT_EYE_INNER, RIGHT_EYE_OUTER]].mean(0))
    inter_ocular = float(np.linalg.norm(span))
    if inter_ocular < 1e-6:
        raise ValueError("The eye landmarks coincide; the proxies are undefined.")
    across = span / inter_ocular
    down = np.array([-across[1], across[0]])
    index = _INDEX[image_side(side, mirrored)]
    eye = points[list(index["eye"])]
    level = (eye @ down) / inter_ocular  # heights along the face's downward axis
    brow_level = (points[list(index["brow"])] @ down) / inter_ocular
    eye_centre = float(level[[0, 3]].mean())
    inner_brow, outer_brow = float(brow_level[3:].mean()), float(brow_level[:2].mean())
    ala = float(points[index["ala"][0]] @ down) / inter_ocular
    lip = float((points[list(index["upper_lip"])] @ down).mean()) / inter_ocular
    aperture = float(np.mean([level[5] - level[1], level[4] - level[2]]))
    width = float(np.linalg.norm(eye[0] - eye[3])) / inter_ocular
    return {
        "brow_eye": eye_centre - inner_brow,
        "brow_tilt": outer_brow - inner_brow,
        "eye_aperture": aperture,
        "lower_lid": float(level[[4, 5]].mean() - level[[0, 3]].mean()),
        "eye_aspect": aperture / max(width, 1e-6),
        "nose_lip": lip - float(points[SUBNASALE] @ down) / inter_ocular,
        "ala_nose": ala - float(points[NOSE_TIP] @ down) / inter_ocular,
    }


def monotone_curve(x: float | np.ndarray, knots_x: list[float], knots_y: list[float]) -> np.ndarray:
    """Piecewise-linear curve through the knots, flat beyond the end knots."""
    return np.interp(np.asarray(x, dtype=np.float64), np.asarray(knots_x), np.asarray(knots_y))


def check_model(model: Mapping[str, Any]) -> None:
    """Raise ValueError unless every curve has increasing knots and falls (never rises) along them."""
    for term in TERMS:
        for feature in TERM_FEATURES[term]:
            curve = model["terms"][term][feature]
            kx, ky = np.asarray(curve["x"], float), np.asarray(curve["y"], float)
            if kx.shape != ky.shape or kx.size < 2 or np.any(np.diff(kx) <= 0) or np.any(np.diff(ky) > 1e-9):
                raise ValueError(f"the {term} curve of {feature} is not a falling curve on increasing knots")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    model = json.loads(Path(path).read_text())
    check_model(model)
    return model


def load_model(path: Path | str | None = None) -> dict[str, Any]:
    """The monotone model (the committed ``au_proxy.json`` by default), checked and cached."""
    return _load(str(Path(path or MODEL_PATH).resolve()))


def terms_from_features(features: Mapping[str, float], model: Mapping[str, Any]) -> dict[str, float]:
    """PSPI terms from one half's proxies: per term, the sum of its curves clipped to the term's range."""
    out = {}
    for term in TERMS:
        total = sum(float(monotone_curve(features[f], model["terms"][term][f]["x"],
                                         model["terms"][term][f]["y"])) for f in TERM_FEATURES[term])
        out[term] = float(np.clip(total, 0.0, TERM_MAX[term]))
    return out


def estimate_half(landmarks: np.ndarray, side: Side, mirrored: bool = False,
                  model: Mapping[str, Any] | None = None) -> HalfPainEstimate:
    """The landmark pain estimate of the patient's ``side``."""
    features = half_features(landmarks, side, mirrored)
    aus = terms_from_features(features, model if model is not None else load_model())
    total = float(np.clip(sum(aus.values()), *PSPI_RANGE))
    return HalfPainEstimate(side=side, features=features, aus=aus, pspi=total)


def estimate_pain(landmarks: np.ndarray, mirrored: bool = False,
                  model: Mapping[str, Any] | None = None) -> dict[Side, HalfPainEstimate]:
    """The landmark pain estimate of both patient halves."""
    chosen = model if model is not None else load_model()
    return {side: estimate_half(landmarks, side, mirrored, chosen) for side in Side}
