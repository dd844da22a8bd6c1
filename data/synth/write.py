"""Write synthetic datasets in the project's dataset layouts, with ground truth beside every image.

Layouts (written through :mod:`data.layouts`, so the real-data loaders read them unchanged):

- ``unbc``: ``Images/<subject>/<sequence>/<frame>.png`` with PSPI, FACS, AAM landmarks and palsy side;
- ``halfface``: ``pain-dataset/<frame>_a.png`` (patient-right half) and ``<frame>_b.png`` (patient-left
  half), each as it appears in the photo (not mirrored), labelled with that half's PSPI;
- ``side``: full faces plus ``labels.csv`` (``left``/``right`` = affected patient side, ``skip`` when the
  subject has no palsy);
- ``binary``: ``pain/`` and ``no_pain/`` folders (pain = the subject's true PSPI > 0).

Ground truth goes beside each image as ``<image stem>.truth.json``; with ``au_masks`` the per-AU change
maps of full-face images go beside them as ``<image stem>.aumask.npz``. Frame ids look like
``s007_seq02_f0013`` so that subject-wise splits can parse the subject.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data.layouts import write_binary_pain, write_half_face_pair, write_side_labels, write_unbc_frame
from data.synth.aus import ALL_AUS, AU_CODES
from data.synth.generate import (
    DEFAULT_YAW_SD,
    DISTRIBUTIONS,
    Subject,
    au_region_report,
    frame_truth,
    make_subject,
    subject_frames,
)
from data.synth.render import RenderedFace, render_face
from faces.errors import FaceInputError
from faces.sides import Side

LAYOUT_NAMES = ("unbc", "halfface", "side", "binary")
HALVES_FROM = ("truth", "dlib")


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. ``layout`` is one of :data:`LAYOUT_NAMES` or ``"all"``. ``halves_from`` says how
    the half-face layout's halves are cut: ``"truth"`` (the renderer's landmarks) or ``"dlib"`` (the
    landmarks dlib fits, as on a photo; a frame where dlib finds no face gets no halves)."""

    subjects: int = 10
    frames: int = 20
    seed: int = 0
    layout: str = "unbc"
    distribution: str = "unbc"
    palsy_fraction: float = 0.5
    size: int = 256
    au_masks: bool = False
    halves_from: str = "truth"
    #: spread of the head turn, degrees (:func:`data.synth.generate.sample_frame_spec`)
    yaw_sd: float = DEFAULT_YAW_SD

    def layouts(self) -> tuple[str, ...]:
        if self.layout == "all":
            return LAYOUT_NAMES
        if self.layout not in LAYOUT_NAMES:
            raise ValueError(f"layout must be one of {LAYOUT_NAMES} or 'all', got {self.layout!r}")
        return (self.layout,)


def cut_halves(image: np.ndarray, landmarks: np.ndarray | None) -> dict[Side, np.ndarray]:
    """The two half faces ``(H, W/2, 3)`` uint8 as they appear in the photo (patient-left not mirrored),
    cut at the facial midline of the levelled face by :func:`faces.analyse`: from ``landmarks`` (the
    true ones), or with None from the landmarks dlib fits, exactly as the pipeline cuts a photo.

    Raises :class:`faces.errors.FaceInputError` when dlib finds no face."""
    from faces import analyse

    geometry = analyse(image, landmarks=landmarks)
    out = {}
    for side, half in geometry.halves.items():
        out[side] = np.ascontiguousarray(half.image[:, ::-1] if half.flipped else half.image)
    return out


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")


def _write_masks(path: Path, maps: dict[str, np.ndarray]) -> None:
    with path.open("wb") as handle:
        np.savez_compressed(handle, **maps)


def _facs(aus_by_side: dict[str, dict[str, float]]) -> dict[int, float]:
    """Frame-level FACS codes: each AU at its stronger side's intended intensity (active AUs only)."""
    best = {name: max(float(side[name]) for side in aus_by_side.values()) for name in ALL_AUS}
    return {AU_CODES[name]: value for name, value in best.items() if value > 0}


def _layout_root(out: Path, config: SynthConfig, layout: str) -> Path:
    return out / layout if config.layout == "all" else out


def _frames(config: SynthConfig) -> Iterator[tuple[Subject, str, str, Any]]:
    for index in range(config.subjects):
        subject = make_subject(index, config.seed, config.palsy_fraction)
        for sequence, frame_id, spec in subject_frames(subject, config.frames, config.seed,
                                                       config.distribution, config.size,
                                                       yaw_sd=config.yaw_sd):
            yield subject, sequence, frame_id, spec


def write_dataset(out: str | Path, config: SynthConfig, progress: bool = True) -> dict[str, Any]:
    """Render ``config.subjects * config.frames`` faces and write them to ``out``; returns the manifest.

    A single layout is written into ``out`` itself; ``layout="all"`` writes ``out/<layout>/`` for each.
    ``out/synth_manifest.json`` records the configuration, counts and the PSPI histogram.
    """
    if config.distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {config.distribution!r}")
    if not 0.0 <= config.palsy_fraction <= 1.0:
        raise ValueError(f"palsy_fraction must be in [0, 1], got {config.palsy_fraction}")
    if config.halves_from not in HALVES_FROM:
        raise ValueError(f"halves_from must be one of {HALVES_FROM}, got {config.halves_from!r}")
    if not 0.0 < config.yaw_sd <= 16.0:
        raise ValueError(f"yaw_sd must be in (0, 16] degrees, got {config.yaw_sd}")
    if config.subjects < 1 or config.frames < 1 or config.size < 64:
        raise ValueError("need at least 1 subject, 1 frame and a size of at least 64 pixels")
    out = Path(out)
    layouts = config.layouts()
    out.mkdir(parents=True, exist_ok=True)
    histogram: Counter[int] = Counter()
    missed_halves: list[str] = []
    palsy_counts: Counter[str] = Counter()
    total = config.subjects * config.frames
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="synth", unit="face")

    def one(subject: Subject, sequence: str, frame_id: str,
            spec: Any) -> tuple[RenderedFace, dict[str, Any], dict[str, np.ndarray]]:
        rendered = render_face(spec)
        report, maps = au_region_report(spec, rendered.landmarks) if config.au_masks else (None, {})
        truth = frame_truth(subject, sequence, frame_id, spec, rendered, report)
        histogram[int(round(truth["pspi_true"]))] += 1
        palsy_counts[subject.palsy.side.value if subject.palsy else "none"] += 1
        full_face_stems: list[Path] = []
        if "unbc" in layouts:
            root = _layout_root(out, config, "unbc")
            path = write_unbc_frame(
                root, subject.name, sequence, frame_id, rendered.image, truth["pspi_true"],
                _facs(truth["aus_intended"]), rendered.landmarks,
                palsy_side=subject.palsy.side if subject.palsy else None,
            )
            full_face_stems.append(path.with_suffix(""))
        if "halfface" in layouts:
            root = _layout_root(out, config, "halfface")
            try:
                halves = cut_halves(rendered.image,
                                    None if config.halves_from == "dlib" else rendered.landmarks)
            except FaceInputError:
                halves = None
                missed_halves.append(frame_id)
        if "halfface" in layouts and halves is not None:
            path_a, path_b = write_half_face_pair(
                root, frame_id, halves[Side.RIGHT], halves[Side.LEFT],
                truth["pspi"][Side.RIGHT.value], truth["pspi"][Side.LEFT.value],
            )
            for path, side in ((path_a, Side.RIGHT), (path_b, Side.LEFT)):
                _write_json(path.with_suffix(".truth.json"), {**truth, "half": side.value})
        if "binary" in layouts:
            root = _layout_root(out, config, "binary")
            path = write_binary_pain(root, frame_id, rendered.image, truth["pspi_true"] > 0)
            full_face_stems.append(path.with_suffix(""))
        for stem in full_face_stems:
            _write_json(stem.with_suffix(".truth.json"), truth)
            if maps:
                _write_masks(stem.with_suffix(".aumask.npz"), maps)
        if bar is not None:
            bar.update(1)
        return rendered, truth, maps

    if "side" in layouts:
        root = _layout_root(out, config, "side")

        def entries() -> Iterator[tuple[str, np.ndarray, Side | None]]:
            for subject, sequence, frame_id, spec in _frames(config):
                rendered, truth, maps = one(subject, sequence, frame_id, spec)
                _write_json(root / f"{frame_id}.truth.json", truth)
                if maps:
                    _write_masks(root / f"{frame_id}.aumask.npz", maps)
                yield frame_id, rendered.image, subject.palsy.side if subject.palsy else None

        write_side_labels(root, entries())
    else:
        for item in _frames(config):
            one(*item)
    if bar is not None:
        bar.close()
    manifest = {
        "generator": "data.synth",
        "config": {k: getattr(config, k) for k in SynthConfig.__dataclass_fields__},
        # folders relative to the manifest: a dataset does not record where it was written
        "layouts": {name: _layout_root(Path("."), config, name).as_posix() for name in layouts},
        "faces": total,
        "pspi_true_histogram": {str(k): histogram[k] for k in sorted(histogram)},
        "frames_by_palsy_side": dict(sorted(palsy_counts.items())),
        "halves_cut_from": ("landmarks dlib fitted to the render (as the pipeline cuts a photo)"
                            if config.halves_from == "dlib" else "the renderer's true landmarks"),
        "halves_not_written_no_face_found": missed_halves,
        "side_convention": "patient's anatomical side; the patient's right is on the image left",
    }
    _write_json(out / "synth_manifest.json", manifest)
    return manifest


__all__ = ["LAYOUT_NAMES", "SynthConfig", "cut_halves", "write_dataset"]
