"""Training data from real photos: edits with known truth of the development photos, written in the
layouts the trainer reads.

Rendered faces teach a network what pain and palsy do to a face, but not what a photograph looks like:
skin, hair, lenses, lighting and compression. :func:`write_real_edits` takes the photos of the
development part of :mod:`data.photos` (never the held-out part, which the published real-photo figures
come from) and draws onto each, many times over, a known expression and optionally a palsy
(:func:`data.realedit.edit_photo`), so that the models see real photographs whose truth is known:

- the intended expression is drawn from the synthetic prior (:func:`data.synth.aus.sample_pspi_target`
  and :func:`~data.synth.aus.sample_aus_for_pspi`: the same AU mixtures the renderer uses); a photo that
  is not edited at all is labelled PSPI 0, on the premise that the development portraits show no pain;
- with probability ``palsy_share`` a palsy (patient side, severity 0.35-1, central or peripheral) is drawn
  too, and the affected side shows the expression weakened as :func:`data.synth.aus.weaken` weakens it;
- half of the edits are made on the mirror image of the photo (a new face for the network; the truth is
  computed on the image as written, so patient sides stay right).

Written layouts (each a folder under ``out``): ``unbc`` (the frame labelled with the intended PSPI and the
palsy side, for the side and full-face models) and ``halfface`` (each half labelled with the PSPI it
shows, cut with the landmarks dlib fits to the edited photo, as the pipeline cuts a photo). Subjects are
named after the photo (``lfw042``; the astronaut portrait and its copies are one subject, ``astro0``), so
a subject-wise split keeps every copy of a person on one side.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data.layouts import write_half_face_pair, write_unbc_frame
from data.photos import Photo
from data.realedit import edit_photo
from data.synth.aus import AU_CODES, PALSY_TYPES, Palsy, pspi, sample_aus_for_pspi, sample_pspi_target, weaken
from data.synth.write import cut_halves
from faces.errors import FaceInputError
from faces.sides import Side

LAYOUTS = ("unbc", "halfface")
MANIFEST = "realedit_manifest.json"


@dataclass(frozen=True)
class RealEditConfig:
    """What :func:`write_real_edits` makes: ``edits`` per photo, the PSPI prior, the palsy share, seed."""

    edits: int = 24
    seed: int = 0
    distribution: str = "mixed"
    palsy_share: float = 0.5
    mirror_share: float = 0.5
    asymmetry: float = 0.0  # scale of the random resting asymmetry drawn on every edit (0: none)


def subject_of(photo: Photo) -> str:
    """The subject name of a photo for the layouts' subject pattern: ``lfw-042`` -> ``lfw042``; a
    portrait and its grey and half-size copies share one name (``astronaut`` -> ``astro0``)."""
    base = photo.name.split("-grey")[0].split("-half-jpeg")[0]
    if base.startswith("lfw-"):
        return "lfw" + base[4:]
    letters = "".join(ch for ch in base if ch.isalpha())[:5] or "photo"
    return f"{letters}0"


def photo_fold(photos: Sequence[Photo], fold: int, folds: int) -> list[Photo]:
    """The photos of fold ``fold`` of ``folds``, split by subject (:func:`subject_of`): subjects in order of
    first appearance are dealt to the folds in turn, so every copy of a person lands in one fold.

    Used to leave part of the development photos out of a training run, to choose settings on photos the
    model did not learn from (:mod:`eval.side_threshold`).
    """
    if not 0 <= fold < folds:
        raise ValueError(f"fold must be in 0..{folds - 1}, got {fold}")
    order: dict[str, int] = {}
    for photo in photos:
        order.setdefault(subject_of(photo), len(order))
    return [p for p in photos if order[subject_of(p)] % folds == fold]


def learned_photos(training_data: Mapping[str, Any]) -> set[str]:
    """The development photos whose edits a model learned from, from the ``training_data`` record of its
    card (the manifests :func:`write_real_edits` wrote, under ``extra_manifests``)."""
    return {name for manifest in training_data.get("extra_manifests", [])
            for name in manifest.get("photos", [])}


def left_out(training_data: Mapping[str, Any], names: set[str]) -> bool:
    """Whether a model learned from photo edits, but from none of the photos ``names``."""
    seen = learned_photos(training_data)
    return bool(seen) and not seen & names


def _facs(aus: dict[str, float]) -> dict[int, float]:
    return {AU_CODES[name]: float(v) for name, v in aus.items() if v > 0 and name in AU_CODES}


def _one_edit(rng: np.random.Generator, image: np.ndarray, config: RealEditConfig) -> tuple[Any, dict]:
    """One random edit of ``image``: ``(edited photo, truth)``; truth has the per-side PSPI."""
    target = sample_pspi_target(rng, config.distribution)
    intended = sample_aus_for_pspi(rng, target)
    palsy = None
    if rng.random() < config.palsy_share:
        palsy = Palsy(side=Side.RIGHT if rng.random() < 0.5 else Side.LEFT,
                      severity=float(rng.uniform(0.35, 1.0)),
                      kind=PALSY_TYPES[int(rng.integers(len(PALSY_TYPES)))])
    shown = {side: weaken(intended, palsy, side) for side in Side}
    edited = edit_photo(image, palsy=palsy, aus={side: {k: v for k, v in shown[side].items() if v > 0}
                                                 for side in Side},
                        asymmetry=(rng, config.asymmetry) if config.asymmetry > 0 else None)
    truth = {"pspi_true": float(pspi(intended)),
             "pspi": {side.value: float(pspi(shown[side])) for side in Side},
             "aus_intended": intended, "palsy": None if palsy is None else
             {"side": palsy.side.value, "severity": palsy.severity, "kind": palsy.kind}}
    return edited, truth


def write_real_edits(out: str | Path, photos: Sequence[Photo], config: RealEditConfig,
                     progress: bool = True) -> dict[str, Any]:
    """Write ``config.edits`` edits of every photo into ``out/unbc`` and ``out/halfface``.

    Refuses held-out photos. A photo without a detectable face is skipped, and so is an edit that cannot
    be made or after which dlib finds no face (both counted in the manifest). Returns the manifest (also
    written to ``out/realedit_manifest.json``).
    """
    held_out = [p.name for p in photos if p.part != "development"]
    if held_out:
        raise ValueError(f"only development photos may train a model; held-out photos given: {held_out[:3]}")
    out = Path(out)
    counts: Counter[str] = Counter()
    histogram: Counter[int] = Counter()
    per_subject: Counter[str] = Counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(photos) * config.edits, desc="real-photo edits", unit="edit")
    for index, photo in enumerate(photos):
        subject = subject_of(photo)
        rng = np.random.default_rng([config.seed, index, 303])
        for _ in range(config.edits):
            if bar is not None:
                bar.update(1)
            image = photo.image[:, ::-1].copy() if rng.random() < config.mirror_share else photo.image
            try:
                edited, truth = _one_edit(rng, image, config)
                halves = cut_halves(edited.image, None)
            except FaceInputError:
                counts["no_face"] += 1
                continue
            except ValueError:
                counts["edit_refused"] += 1
                continue
            number = per_subject[subject]
            per_subject[subject] += 1
            frame_id = f"{subject}_seq01_f{number:04d}"
            palsy_side = None if truth["palsy"] is None else Side(truth["palsy"]["side"])
            image_path = write_unbc_frame(out / "unbc", subject, "seq01", frame_id, edited.image,
                                          truth["pspi_true"], _facs(truth["aus_intended"]), None,
                                          palsy_side=palsy_side)
            record = {**truth, "photo": photo.name, "source": photo.source}
            image_path.with_suffix(".truth.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
            write_half_face_pair(out / "halfface", frame_id, halves[Side.RIGHT], halves[Side.LEFT],
                                 truth["pspi"][Side.RIGHT.value], truth["pspi"][Side.LEFT.value])
            histogram[int(round(truth["pspi_true"]))] += 1
            counts["written"] += 1
    if bar is not None:
        bar.close()
    manifest = {"generator": "data.realtrain", "config": asdict(config),
                "photos": [p.name for p in photos], "subjects": sorted(per_subject),
                "layouts": {name: name for name in LAYOUTS}, "counts": dict(counts),
                "pspi_true_histogram": {str(k): histogram[k] for k in sorted(histogram)},
                "side_convention": "patient's anatomical side; the patient's right is on the image left"}
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


__all__ = ["LAYOUTS", "MANIFEST", "RealEditConfig", "learned_photos", "left_out", "photo_fold", "subject_of",
           "write_real_edits"]
