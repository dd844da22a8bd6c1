"""Ground-truth helpers over the named face regions of a synthetic picture.

The regions themselves are :func:`faces.regions.region_masks`, the one landmark-driven definition the
face stage and the explanations use too, here built from a picture's true landmarks in photo
coordinates. This module adds what the ground truth needs: the share of a change map inside each region
(:func:`region_mass`) and sided region keys (:func:`sided`).
"""

from __future__ import annotations

import numpy as np

from faces.regions import region_key, region_masks
from faces.sides import Side


def region_mass(change: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, float]:
    """Fraction (0-1) of the total of ``change`` (H, W) >= 0 inside each region, plus ``"outside"``."""
    total = float(change.sum())
    if total <= 0:
        return {name: 0.0 for name in [*masks, "outside"]}
    fractions = {name: float(change[mask].sum()) / total for name, mask in masks.items()}
    fractions["outside"] = max(0.0, 1.0 - sum(fractions.values()))
    return fractions


def sided(names: tuple[str, ...], side: Side) -> list[str]:
    """Region keys for unsided ``names`` on patient ``side``."""
    return [region_key(name, side) for name in names]


__all__ = ["region_masks", "region_mass", "sided"]
