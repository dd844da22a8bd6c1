"""The counterfactual view: "what would the score be if the brow were lowered this much?".

The photo last assessed in a session is edited in memory (:func:`data.realedit.edit_photo`, a
landmark-driven warp with the magnitudes of the synthetic renderer) to show more of one pain-like
action-unit group on one or both patient sides, and the edited photo is assessed again with the same side
decision (and the same neutral reference photo, if one was given). The view shows both levelled faces and
how each half's PSPI moved. Nothing here touches the disk: the edited photo lives only in this result
and in the image the page is sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from data.realedit import edit_photo, pain_aus
from faces.sides import Side, describe
from models.pipeline import Assessment, ModelBundle, assess

#: The page's action-unit groups: label -> the action units the edit raises together.
AU_GROUPS: dict[str, tuple[str, ...]] = {
    "AU4 brow lowering": ("AU4",),
    "AU6/7 lid narrowing": ("AU6", "AU7"),
    "AU9/10 upper-lip raise": ("AU9", "AU10"),
    "AU43 eye closure": ("AU43",),
}
#: The page's side choices: label -> the patient sides edited.
EDIT_SIDES: dict[str, tuple[Side, ...]] = {
    "Both sides": (Side.LEFT, Side.RIGHT),
    "Patient's left": (Side.LEFT,),
    "Patient's right": (Side.RIGHT,),
}
DEFAULT_STRENGTH = 0.6


@dataclass(frozen=True)
class Counterfactual:
    """An edited copy of the assessed photo and its assessment beside the original's.

    ``before`` and ``after`` are the clamped PSPI per patient half; ``original_face`` and ``edited_face``
    are the levelled face crops the models saw."""

    group: str
    action_units: dict[str, float]
    sides: tuple[Side, ...]
    strength: float
    original: Assessment
    edited: Assessment
    original_face: np.ndarray
    edited_face: np.ndarray
    seconds: float

    @property
    def before(self) -> dict[Side, float]:
        return dict(self.original.half_scores)

    @property
    def after(self) -> dict[Side, float]:
        return dict(self.edited.half_scores)

    def edit_description(self) -> str:
        """E.g. "AU4 brow lowering at strength 0.60 on the patient's right (image left)"."""
        mirrored = self.original.mirrored
        where = ("both sides" if len(self.sides) == 2
                 else f"the {describe(self.sides[0], mirrored)}")
        return f"{self.group} at strength {self.strength:.2f} on {where}"

    def score_lines(self) -> list[str]:
        """One line per half, the edited half (or halves) first: "PSPI of the patient's right (image
        left) half: 1.2 -> 5.8 (+4.6)"."""
        order = sorted(Side, key=lambda s: (s not in self.sides, s.value))
        scored = self.original.unaffected_side if self.original.clear_side else None
        lines = []
        for side in order:
            before, after = self.before[side], self.after[side]
            edited = ("edited" if side in self.sides else "not edited") + (
                ", the reported score" if side is scored else "")
            lines.append(f"PSPI of the {describe(side, self.original.mirrored)} half ({edited}): "
                         f"{before:.1f} -> {after:.1f} ({after - before:+.1f})")
        return lines

    def landmark_line(self) -> str:
        """The landmark estimate's PSPI per half before and after the edit: a cross-check that the warp
        moved the face points as the action units would."""
        before, after = self.original.landmark_estimate, self.edited.landmark_estimate
        parts = [f"{describe(side, self.original.mirrored)} {before[side].pspi:.1f} -> {after[side].pspi:.1f}"
                 for side in (Side.LEFT, Side.RIGHT)]
        return "Landmark estimate (cross-check from the face points): " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (no pixels); sides are patient sides."""
        def per_side(scores: dict[Side, float]) -> dict[str, float]:
            return {f"patient_{side.value}": round(scores[side], 4) for side in Side}

        return {
            "edit": {"group": self.group, "action_units": self.action_units,
                     "sides": [side.value for side in self.sides], "strength": self.strength},
            "description": self.edit_description(),
            "side_decision": {"side": self.original.affected_side.value,
                              "description": self.original.describe(self.original.affected_side)},
            "half_scores_before": per_side(self.before),
            "half_scores_after": per_side(self.after),
            "change": {f"patient_{side.value}": round(self.after[side] - self.before[side], 4)
                       for side in Side},
            "landmark_pspi_before": per_side({s: e.pspi for s, e in self.original.landmark_estimate.items()}),
            "landmark_pspi_after": per_side({s: e.pspi for s, e in self.edited.landmark_estimate.items()}),
            "lines": self.score_lines(),
            "warnings": list(self.edited.warnings),
            "seconds": round(self.seconds, 3),
        }


def parse_group(value: str | None) -> str:
    """An action-unit group label for a page choice or a short name ("AU4", "au6/7", "AU43")."""
    text = str(value or "").strip()
    for label in AU_GROUPS:
        if text.lower() in (label.lower(), label.split()[0].lower()):
            return label
    choices = ", ".join(f"'{label}'" for label in AU_GROUPS)
    raise ValueError(f"The action-unit group {text[:40]!r} is not one of {choices} "
                     "(or 'AU4', 'AU6/7', 'AU9/10', 'AU43').")


def parse_sides(value: str | None) -> tuple[Side, ...]:
    """Patient sides to edit for a page choice or ``"both"``, ``"left"``, ``"right"``."""
    if value in EDIT_SIDES:
        return EDIT_SIDES[value]
    text = str(value or "both").strip().lower()
    if text in ("both", "both sides"):
        return EDIT_SIDES["Both sides"]
    try:
        return (Side.parse(text),)
    except ValueError:
        choices = ", ".join(f"'{label}'" for label in EDIT_SIDES)
        raise ValueError(f"The side to edit {text[:40]!r} is not one of {choices} "
                         "(or 'both', 'left', 'right': the patient's side).") from None


def parse_strength(value: Any) -> float:
    """An edit strength in [0, 1]; anything else is refused with a message for the page."""
    try:
        strength = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"The edit strength must be a number from 0 to 1, got {str(value)[:40]!r}") from None
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"The edit strength must lie from 0 to 1, got {strength:g}")
    return strength


def counterfactual(photo: np.ndarray, original: Assessment, group: str | None, sides: str | None,
                   strength: Any, *, models: ModelBundle, reference: Assessment | None = None,
                   ) -> Counterfactual:
    """Edit ``photo`` (the pixels ``original`` was assessed from) and assess it again.

    The edit starts from the landmarks the original assessment found; the edited photo goes through the
    whole pipeline again (face detection included), with the original's affected side set by hand so that
    both assessments score the same halves, and with the same neutral ``reference`` when one was used.

    Raises:
        ValueError: an unknown group or side, a strength outside [0, 1], or an edit the warp refuses.
        faces.errors.FaceInputError: no face is found on the edited photo.
    """
    label, edit_sides, amount = parse_group(group), parse_sides(sides), parse_strength(strength)
    started = time.perf_counter()
    units = pain_aus(amount, AU_GROUPS[label])
    geometry = original.geometry
    edited = edit_photo(photo, aus={side: units for side in edit_sides}, landmarks=geometry.landmarks,
                        mirrored=geometry.mirrored)
    again = assess(edited.image, side=original.affected_side.value, mirrored=geometry.mirrored,
                   models=models, reference=reference)
    return Counterfactual(group=label, action_units={k: round(v, 3) for k, v in units.items()},
                          sides=edit_sides, strength=amount, original=original, edited=again,
                          original_face=geometry.aligned, edited_face=again.geometry.aligned,
                          seconds=time.perf_counter() - started)
