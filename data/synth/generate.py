"""Subjects, frames and ground truth for the synthetic benchmark.

A :class:`Subject` is a seeded identity with an optional palsy; its frames vary the action units (drawn
to follow a PSPI distribution), head pose, lighting and camera artefacts. :func:`sample_frame_spec`
makes one frame's :class:`~data.synth.render.FrameSpec`; :func:`frame_truth` turns a rendered frame
into the JSON-ready ground truth written beside each image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from data.synth.aus import (
    ALL_AUS,
    AU_NAMES,
    AU_REGIONS,
    PALSY_TYPES,
    Palsy,
    pspi,
    sample_aus_for_pspi,
    sample_distractors,
    sample_pspi_target,
    zero_aus,
)
from data.synth.identity import Identity, sample_identity
from data.synth.regions import region_masks, region_mass, sided
from data.synth.render import FrameSpec, RenderedFace, au_change_masks
from faces.sides import Side, describe

DISTRIBUTIONS = ("unbc", "balanced", "mixed")


@dataclass(frozen=True)
class Subject:
    """One synthetic person: ``name`` like ``"s007"``, identity, palsy (None for no palsy)."""

    name: str
    identity: Identity
    palsy: Palsy | None


def _child_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


#: spread of the head turn of a rendered frame, degrees (clipped at 2.5 of them)
DEFAULT_YAW_SD = 4.0


def make_subject(index: int, seed: int, palsy_fraction: float = 0.5) -> Subject:
    """Subject number ``index`` of a dataset with ``seed``; palsy with probability ``palsy_fraction``."""
    rng = np.random.default_rng([seed, index, 101])
    identity = sample_identity(_child_seed(seed, index))
    palsy = None
    if rng.random() < palsy_fraction:
        palsy = Palsy(side=Side.RIGHT if rng.random() < 0.5 else Side.LEFT,
                      severity=float(rng.uniform(0.35, 1.0)),
                      kind=PALSY_TYPES[int(rng.integers(len(PALSY_TYPES)))])
    return Subject(name=f"s{index + 1:03d}", identity=identity, palsy=palsy)


def sample_frame_spec(
    rng: np.random.Generator,
    identity: Identity,
    distribution: str = "unbc",
    palsy: Palsy | None = None,
    size: int = 256,
    pspi_target: int | None = None,
    yaw_sd: float = DEFAULT_YAW_SD,
) -> FrameSpec:
    """One frame of ``identity``: AUs for a PSPI drawn from ``distribution`` (or ``pspi_target``),
    small pose, lighting and camera variation. The head turns by a normal ``yaw_sd`` degrees, clipped at
    2.5 of them (by default up to 10 degrees either way)."""
    target = sample_pspi_target(rng, distribution) if pspi_target is None else int(pspi_target)
    aus = sample_aus_for_pspi(rng, target) | sample_distractors(rng)
    yaw = float(np.clip(rng.normal(0, yaw_sd), -2.5 * yaw_sd, 2.5 * yaw_sd))
    roll = float(np.clip(rng.normal(0, 3), -8, 8))
    jpeg = int(rng.integers(55, 96)) if rng.random() < 0.6 else 0
    blur = float(rng.uniform(0.2, 1.0)) if rng.random() < 0.5 else 0.0
    return FrameSpec(
        identity=identity,
        aus={Side.RIGHT: dict(aus), Side.LEFT: dict(aus)},
        palsy=palsy,
        size=size,
        yaw=yaw,
        roll=roll,
        scale=float(rng.uniform(0.93, 1.07)),
        offset=(float(rng.uniform(-0.03, 0.03)), float(rng.uniform(-0.025, 0.025))),
        light_azimuth=float(identity.light_azimuth + rng.normal(0, 15)),
        light_elevation=float(np.clip(identity.light_elevation + rng.normal(0, 0.05), 0.3, 0.95)),
        gaze=(float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.3, 0.3))),
        blur=blur,
        noise=float(rng.uniform(0.5, 5.0)),
        jpeg_quality=jpeg,
        noise_offset=(int(rng.integers(0, 4096)), int(rng.integers(0, 4096)), int(rng.choice([-1, 1]))),
    )


def at_rest(spec: FrameSpec) -> FrameSpec:
    """The frame with every action unit at 0 on both sides (no smile or parted lips either): at rest."""
    return dataclasses.replace(spec, aus={side: zero_aus() for side in Side})


def neutral_specs(subjects: int, seed: int, size: int = 256) -> Iterator[FrameSpec]:
    """One frame at rest (:func:`at_rest`) of each of ``subjects`` subjects without palsy: the neutral faces
    that the landmark estimate's neutral point and the PSPI models' rest scores are measured on."""
    for index in range(subjects):
        subject = make_subject(index, seed, palsy_fraction=0.0)
        yield at_rest(sample_frame_spec(np.random.default_rng([seed, index, 7]), subject.identity, size=size,
                                        pspi_target=0))


def subject_frames(subject: Subject, n_frames: int, seed: int, distribution: str = "unbc",
                   size: int = 256, frames_per_sequence: int = 10,
                   yaw_sd: float = DEFAULT_YAW_SD) -> Iterator[tuple[str, str, FrameSpec]]:
    """Yield ``(sequence, frame_id, spec)`` for ``n_frames`` frames of ``subject``.

    Frame ids look like ``s007_seq02_f0013`` (sequence numbers start at 1, frame numbers at 0).
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    subject_index = int(subject.name[1:])
    for k in range(n_frames):
        rng = np.random.default_rng([seed, subject_index, k, 202])
        spec = sample_frame_spec(rng, subject.identity, distribution, subject.palsy, size, yaw_sd=yaw_sd)
        sequence = f"seq{k // frames_per_sequence + 1:02d}"
        yield sequence, f"{subject.name}_{sequence}_f{k:04d}", spec


def au_region_report(spec: FrameSpec, landmarks: np.ndarray) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Per active (side, AU): changed-pixel count, in-region fraction and per-region fractions.

    Returns the JSON-ready report and the change maps ``"<AU>_<side>" -> (H, W) uint8`` (grey levels of
    change, summed over RGB and capped at 255).
    """
    masks = region_masks(landmarks, (spec.size, spec.size))
    changes = au_change_masks(spec)
    report: dict[str, Any] = {}
    maps: dict[str, np.ndarray] = {}
    for (side, name), change in changes.items():
        key = f"{name}_{side.value}"
        fractions = region_mass(change, masks)
        own = sided(AU_REGIONS[name], side)
        report[key] = {
            "changed_pixels": int((change > 0).sum()),
            "in_region_fraction": float(sum(fractions[r] for r in own)),
            "regions": own,
            "region_fractions": {k: round(v, 4) for k, v in fractions.items() if v >= 0.005},
        }
        maps[key] = np.minimum(change, 255).astype(np.uint8)
    return report, maps


def frame_truth(subject: Subject, sequence: str, frame_id: str, spec: FrameSpec, rendered: RenderedFace,
                au_report: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON-ready ground truth of one frame (sides are patient sides; the photo is not mirrored).

    Keys: ``landmarks`` (68 x [x, y] pixels), ``aus`` (shown, per side), ``aus_intended`` (before palsy
    weakening), ``pspi`` (per side, from the shown AUs), ``pspi_true`` (the subject's pain, from the
    intended AUs), ``palsy`` (side, severity, kind, label) or None, ``unaffected_side``,
    ``active_au_regions`` (``"<AU>_<side>"`` -> sided region names the AU changes), ``pose``,
    ``camera``, ``identity`` and, when ``au_report`` is given, ``au_regions`` (measured change per AU).
    """
    effective = rendered.effective_aus
    intended = {side: {n: float(spec.aus.get(side, {}).get(n, 0.0)) for n in ALL_AUS} for side in Side}
    palsy = spec.palsy
    truth: dict[str, Any] = {
        "frame_id": frame_id,
        "subject": subject.name,
        "sequence": sequence,
        "image_size": [spec.size, spec.size],
        "mirrored": False,
        "landmarks": np.round(rendered.landmarks, 3).tolist(),
        "face_width": round(rendered.face_width, 3),
        "aus": {side.value: {n: round(v, 4) for n, v in effective[side].items()} for side in Side},
        "aus_intended": {side.value: intended[side] for side in Side},
        "pspi": {side.value: pspi(effective[side]) for side in Side},
        "pspi_true": max(pspi(intended[side]) for side in Side),
        "palsy": None if palsy is None else {
            "side": palsy.side.value, "severity": round(palsy.severity, 4), "kind": palsy.kind,
            "label": describe(palsy.side),
        },
        "unaffected_side": None if palsy is None else palsy.side.opposite.value,
        "pose": {"yaw": round(spec.yaw, 3), "roll": round(spec.roll, 3), "scale": round(spec.scale, 4)},
        "camera": {"blur": round(spec.blur, 3), "noise": round(spec.noise, 3),
                   "jpeg_quality": spec.jpeg_quality},
        "identity": spec.identity.to_json(),
    }
    truth["active_au_regions"] = {
        f"{name}_{side.value}": sided(AU_REGIONS[name], side)
        for side in Side for name in AU_NAMES if effective[side][name] > 0
    }
    if au_report is not None:
        truth["au_regions"] = au_report
    return truth
