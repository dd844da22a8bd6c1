"""Edits of real photos with known truth: a unilateral palsy and pain-like action units.

A real portrait of someone not in pain, edited so that the truth is known, tests whether models trained
on rendered faces carry over to photographs, and the same edit answers "what would the score be if the
brow were lowered this much". :func:`edit_photo` finds the 68 landmarks (:func:`faces.analyse`, dlib)
unless they are given, moves them as a palsy and/or action units would (:mod:`data.facemoves`: the
magnitudes of the synthetic renderer, measured in inter-ocular distances along the face's own axes) and
warps the photo to follow (:func:`data.warp.piecewise_affine_warp`; when the lips touch, the inner lip
points are left out of the warp's mesh, since dlib often fits a closed mouth with them crossed). Two
things a warp cannot move are painted: a palsy flattens the nasolabial fold, and a peripheral palsy the
forehead lines, by blending the photo with a blurred copy of itself inside a feathered band, in
proportion to the severity.

Sides are patient sides (:class:`faces.sides.Side`); ``mirrored=True`` says the photo is a mirror image,
so a patient-left edit lands on the image left. The returned :class:`EditTruth` says what was done:
palsy side, kind and severity, the AU intensities added per patient side and their PSPI, and which
landmarks moved from where to where (the intended positions; a detector re-fitted on the edited photo
will be close to, not exactly on, them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from data.facemoves import (
    SIDE_INDEX,
    FaceFrame,
    asymmetry_moves,
    au_moves,
    control_points,
    helper_slots,
    palsy_moves,
)
from data.synth.aus import AU_NAMES, Palsy, pspi
from data.warp import piecewise_affine_warp
from faces.analyse import analyse
from faces.landmarks import N_LANDMARKS
from faces.sides import ImageSide, Side, describe, image_side

SMOOTH_SIGMA = 0.02  # displacement blur, in inter-ocular distances
FLATTEN = {"nasolabial": 0.65, "forehead": 0.75}  # blend weight towards the blurred photo at severity 1
MOVED_BELOW_PX = 0.05  # a landmark counts as moved when it moved at least this far
INNER_LIP = tuple(range(60, 68))
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))  # upper / lower inner lip points facing each other
CLOSED_MOUTH_GAP = 0.04  # inner lips closer than this (inter-ocular units) count as touching


@dataclass(frozen=True)
class EditTruth:
    """What an edit did. ``aus`` maps each patient side to the AU intensities added there (0-5, AU43 0-1);
    ``pspi_added`` is the PSPI of those AUs per side; ``landmarks_before`` / ``landmarks_after`` are
    ``(68, 2)`` photo coordinates; ``moved`` lists the iBUG indices that moved."""

    palsy: Palsy | None
    aus: Mapping[Side, Mapping[str, float]]
    pspi_added: Mapping[Side, float]
    landmarks_before: np.ndarray
    landmarks_after: np.ndarray
    moved: tuple[int, ...]
    mirrored: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def moved_on(self, side: Side) -> tuple[int, ...]:
        """Moved landmark indices that belong to the patient's ``side`` (midline points excluded)."""
        own = {i for group in SIDE_INDEX[image_side(side, self.mirrored)].values() for i in group}
        return tuple(i for i in self.moved if i in own)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (patient sides spelled out)."""
        palsy = None if self.palsy is None else {
            "side": self.palsy.side.value, "description": describe(self.palsy.side, self.mirrored),
            "severity": round(self.palsy.severity, 4), "kind": self.palsy.kind,
        }
        return {
            "palsy": palsy,
            "aus": {side.value: {k: round(float(v), 4) for k, v in self.aus.get(side, {}).items()}
                    for side in Side},
            "pspi_added": {side.value: round(float(self.pspi_added[side]), 4) for side in Side},
            "mirrored": self.mirrored,
            "moved": list(self.moved),
            "landmarks_before": np.round(self.landmarks_before, 3).tolist(),
            "landmarks_after": np.round(self.landmarks_after, 3).tolist(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class EditedPhoto:
    """The edited photo (same size and dtype as the input) and its truth."""

    image: np.ndarray
    truth: EditTruth


def _clean_aus(aus: Mapping[Side | str, Mapping[str, float]] | None) -> dict[Side, dict[str, float]]:
    out: dict[Side, dict[str, float]] = {side: {} for side in Side}
    for key, values in (aus or {}).items():
        side = Side.parse(key)
        for name, value in values.items():
            if name not in AU_NAMES:
                raise ValueError(f"Unknown action unit {name!r}; expected one of {AU_NAMES}")
            top = 1.0 if name == "AU43" else 5.0
            if not 0.0 <= float(value) <= top:
                raise ValueError(f"{name} must lie in [0, {top:g}], got {value}")
            if float(value) > 0:
                out[side][name] = float(value)
    return out


def _band_mask(shape: tuple[int, int], polyline: np.ndarray, thickness: float) -> np.ndarray:
    """``(H, W)`` float32 mask in [0, 1]: a feathered band of ``thickness`` pixels along ``polyline``."""
    mask = np.zeros(shape, dtype=np.float32)
    width = max(1, round(thickness))
    cv2.polylines(mask, [np.round(polyline * 16).astype(np.int32)], False, 1.0, width, cv2.LINE_AA, 4)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), max(thickness / 2.5, 0.5)) * 1.6, 0.0, 1.0)


def _flatten(image: np.ndarray, mask: np.ndarray, weight: float, sigma: float) -> np.ndarray:
    """Blend ``image`` towards a blurred copy inside ``mask`` (``weight`` at mask 1)."""
    if weight <= 0 or not np.any(mask > 0):
        return image
    blurred = cv2.GaussianBlur(image.astype(np.float32), (0, 0), max(sigma, 0.5))
    alpha = (weight * mask)[..., None] if image.ndim == 3 else weight * mask
    mixed = image.astype(np.float32) * (1.0 - alpha) + blurred * alpha
    return np.clip(np.round(mixed), 0, 255).astype(image.dtype)


def _paint_palsy(image: np.ndarray, points: np.ndarray, frame: FaceFrame, palsy: Palsy,
                 side: ImageSide) -> np.ndarray:
    """Soften the nasolabial fold (and, for a peripheral palsy, the forehead lines) on ``side``."""
    index, slots, iod = SIDE_INDEX[side], helper_slots(side), frame.inter_ocular
    ala, corner = points[index["ala"][0]], points[index["corner"][0]]
    fold = np.array([ala + 0.1 * iod * frame.out(side), points[slots["nasolabial"]],
                     corner + 0.06 * iod * frame.out(side)])
    mask = _band_mask(image.shape[:2], fold, 0.14 * iod)
    image = _flatten(image, mask, FLATTEN["nasolabial"] * palsy.severity, 0.06 * iod)
    if palsy.kind == "peripheral":
        forehead = points[slots["forehead"]:slots["forehead"] + 5]
        mask = _band_mask(image.shape[:2], forehead - 0.1 * iod * frame.down, 0.3 * iod)
        image = _flatten(image, mask, FLATTEN["forehead"] * palsy.severity, 0.05 * iod)
    return image


def _mouth_closed(points: np.ndarray, frame: FaceFrame) -> bool:
    """Whether the inner lips touch (or, as dlib often fits a closed mouth, cross)."""
    gaps = [(points[lower] - points[upper]) @ frame.down for upper, lower in INNER_LIP_PAIRS]
    return min(gaps) < CLOSED_MOUTH_GAP * frame.inter_ocular


def _pspi_of(aus: Mapping[str, float]) -> float:
    """PSPI of added AUs; a partial eye closure counts as AU43 from half-way shut."""
    return pspi({**aus, "AU43": 1.0 if aus.get("AU43", 0.0) >= 0.5 else 0.0})


def _landmarks_of(image: np.ndarray, mirrored: bool) -> np.ndarray:
    return analyse(image, mirrored=mirrored).landmarks


def edit_photo(
    image: np.ndarray,
    *,
    palsy: Palsy | None = None,
    aus: Mapping[Side | str, Mapping[str, float]] | None = None,
    landmarks: np.ndarray | None = None,
    mirrored: bool = False,
    asymmetry: tuple[np.random.Generator, float] | None = None,
) -> EditedPhoto:
    """Draw a resting palsy and/or pain-like action units onto a photo.

    Args:
        image: ``(H, W, 3)`` RGB ``uint8`` (or ``(H, W)`` gray) photo of one face.
        palsy: the palsy to draw (patient side, severity 0-1, ``"central"`` or ``"peripheral"``).
        aus: per patient side, AU intensities to add (``"AU4"``, ``"AU6"``, ``"AU7"``, ``"AU9"``,
            ``"AU10"`` 0-5; ``"AU43"`` 0-1, the fraction of the way the upper lid closes).
        landmarks: ``(68, 2)`` photo landmarks; found with :func:`faces.analyse` when None.
        mirrored: the photo is a mirror image; patient sides account for it.
        asymmetry: ``(rng, scale)``: also shift the parts of both halves by a random resting asymmetry
            (:func:`data.facemoves.asymmetry_moves`), which the truth does not count as palsy or AU.

    Returns:
        :class:`EditedPhoto`. With no palsy (or severity 0) and no AU above 0 the image is unchanged.

    Raises:
        faces.errors.NoFaceFoundError: no landmarks given and no face found.
        ValueError: bad AU names or values, or an edit that would fold the face over itself.
    """
    image = np.asarray(image)
    added = _clean_aus(aus)
    points = np.asarray(_landmarks_of(image, mirrored) if landmarks is None else landmarks, dtype=np.float64)
    if points.shape != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks must be ({N_LANDMARKS}, 2), got {points.shape}")
    controls, n_movable = control_points(points)
    frame = FaceFrame.of(points)
    moves = np.zeros_like(controls)
    if palsy is not None and palsy.severity > 0:
        moves[:n_movable] += palsy_moves(frame, image_side(palsy.side, mirrored), n_movable, palsy.severity,
                                         palsy.kind == "peripheral")
    if asymmetry is not None:
        rng, scale = asymmetry
        for image_half in ImageSide:
            moves[:n_movable] += asymmetry_moves(frame, image_half, n_movable, rng, scale)
    for side in Side:
        if added[side]:
            moves[:n_movable] += au_moves(frame, image_side(side, mirrored), n_movable, added[side],
                                          controls[:n_movable] + moves[:n_movable])
    target = controls + moves
    used = np.ones(len(controls), dtype=bool)
    if _mouth_closed(points, frame):
        used[list(INNER_LIP)] = False  # the lips touch: the outer lip outline carries the warp alone
    edited = piecewise_affine_warp(image, controls[used], target[used], SMOOTH_SIGMA * frame.inter_ocular)
    notes: list[str] = []
    if palsy is not None and palsy.severity > 0:
        edited = _paint_palsy(edited, target, frame, palsy, image_side(palsy.side, mirrored))
        notes.append("nasolabial fold softened" + (" and forehead lines smoothed"
                                                    if palsy.kind == "peripheral" else ""))
    shift = np.linalg.norm(moves[:N_LANDMARKS], axis=1)
    truth = EditTruth(
        palsy=palsy if palsy is not None and palsy.severity > 0 else None,
        aus=added,
        pspi_added={side: _pspi_of(added[side]) for side in Side},
        landmarks_before=points.copy(),
        landmarks_after=target[:N_LANDMARKS].copy(),
        moved=tuple(int(i) for i in np.flatnonzero(shift >= MOVED_BELOW_PX)),
        mirrored=bool(mirrored),
        notes=tuple(notes),
    )
    return EditedPhoto(image=edited, truth=truth)


PAIN_AUS = ("AU4", "AU6", "AU7", "AU9", "AU10")  # the graded pain-like expression (no eye closure)


def pain_aus(strength: float, aus: tuple[str, ...] = PAIN_AUS) -> dict[str, float]:
    """AU intensities of a graded pain-like expression: each of ``aus`` at ``5 * strength`` (AU43 at
    ``strength``), ``strength`` in [0, 1]."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")
    return {name: (strength if name == "AU43" else 5.0 * strength) for name in aus}
