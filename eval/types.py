"""Typed results of the evaluation: an interval with its estimate, and the per-photo predictions a
report is computed from."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval over resampled *subjects*.

    ``low`` / ``high`` bound the central ``level`` mass of the bootstrap distribution; ``n_units`` is the
    number of subjects resampled, ``n_boot`` the number of resamples that gave a defined value.
    """

    estimate: float
    low: float
    high: float
    level: float
    n_units: int
    n_boot: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (inclusive)."""
        return self.low <= value <= self.high

    def describe(self, digits: int = 2) -> str:
        """E.g. ``"1.04 (95% CI 0.91-1.18)"``."""
        return (f"{self.estimate:.{digits}f} ({self.level:.0%} CI {self.low:.{digits}f}-"
                f"{self.high:.{digits}f})")


@dataclass(frozen=True)
class PhotoResult:
    """One test photo through the pipeline, beside its truth. Sides are patient sides (``"left"`` /
    ``"right"`` values of :class:`faces.sides.Side`), None when absent or inconclusive.

    ``pspi_true`` is the subject's intended PSPI (what the unaffected half shows); ``pspi`` holds the
    scores of the ``unaffected_half``, ``affected_half`` and ``full_face`` (clamped to [0, 16]).
    ``p_left`` is the side model's probability that the patient's left is affected.
    """

    image: str
    subject: str
    affected_true: str | None
    affected_pred: str | None
    geometry_side: str | None
    p_left: float | None
    pspi_true: float
    pspi: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["Interval", "PhotoResult"]
