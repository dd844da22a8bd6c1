"""Reading a photo against a neutral (rest) photo of the same person.

A clinician can often take a photo of the patient at rest. :func:`read_against_reference` then reads the
assessment relative to that face, which removes the person's identity (resting brow height, eye opening)
and the palsy's resting droop from the scores:

- **network**: per patient half and for the full face,
  ``relative = clamp(score(photo) - score(rest) + neutral)`` on the clamped [0, 16] scores, where
  ``neutral`` is the model's own typical score of a face at rest (``ModelCard.neutral_score``: the median
  over synthetic faces with every action unit at 0, written by ``python -m eval reference
  --fit-neutral``; 0 when a card has none). The rest photo thus replaces the population's rest reading by
  the person's own, as the landmark estimate below does; subtracting the rest score alone would also
  subtract the model's floor and pull every reading down by it. The absolute scores of both photos are
  kept;
- **landmark estimate** (:mod:`faces.au_proxy`): per half, each proxy's change from the rest face is added
  to the proxy value of a *neutral synthetic face* (:func:`load_neutral`), and the result goes through the
  same monotone model. A face showing exactly its rest expression thus reads as the neutral face does.

The neutral point is stored in ``au_neutral.json`` beside this module: per proxy, the median over both
halves of synthetic faces without palsy at PSPI 0 (no pain action unit), with the landmarks dlib fits to
them, as the monotone model was fitted (written by ``python -m eval reference --fit-neutral``, which
records its command and seed in the file).

:func:`compare_faces` warns when the two photos differ much in head roll (more than
:data:`ROLL_LIMIT_DEGREES`) or face size (inter-ocular distances more than :data:`SIZE_RATIO_LIMIT` apart),
since the landmarks and crops of the two are then less comparable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from faces.au_proxy import FEATURES, PSPI_RANGE, HalfPainEstimate, load_model, terms_from_features
from faces.landmarks import LEFT_EYE_INNER, LEFT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_EYE_OUTER
from faces.sides import Side
from faces.types import FaceGeometry
from models.assessment import ReferenceReading, clamp_pspi

NEUTRAL_PATH = Path(__file__).with_name("au_neutral.json")
#: Seed of the neutral synthetic faces that the neutral point and the models' neutral scores are fitted on.
NEUTRAL_SEED = 301

#: Head rolls of the photo and the rest photo further apart than this (degrees) are warned about.
ROLL_LIMIT_DEGREES = 10.0
#: Inter-ocular distances (pixels) of the two photos more than this factor apart are warned about.
SIZE_RATIO_LIMIT = 1.5


@lru_cache(maxsize=4)
def _read_neutral(path: str) -> dict[str, float]:
    data = json.loads(Path(path).read_text())
    values = {name: float(data["features"][name]) for name in FEATURES}
    if not all(np.isfinite(list(values.values()))):
        raise ValueError(f"{path}: the neutral point has a value that is not a number")
    return values


def load_neutral(path: Path | str | None = None) -> dict[str, float]:
    """The proxies of a neutral synthetic face (``au_neutral.json`` by default), checked and cached."""
    return dict(_read_neutral(str(Path(path or NEUTRAL_PATH).resolve())))


def relative_estimate(photo: HalfPainEstimate, rest: HalfPainEstimate, *,
                      neutral: Mapping[str, float] | None = None,
                      model: Mapping[str, Any] | None = None) -> HalfPainEstimate:
    """One half's landmark estimate read against the same half at rest: the proxies become
    ``neutral + (photo - rest)`` and go through the monotone model."""
    if photo.side is not rest.side:
        raise ValueError(f"halves differ: the photo's {photo.side.value}, the rest face's {rest.side.value}")
    point = neutral if neutral is not None else load_neutral()
    features = {name: float(point[name] + photo.features[name] - rest.features[name]) for name in FEATURES}
    aus = terms_from_features(features, model if model is not None else load_model())
    return HalfPainEstimate(side=photo.side, features=features, aus=aus,
                            pspi=float(np.clip(sum(aus.values()), *PSPI_RANGE)))


def inter_ocular_px(geometry: FaceGeometry) -> float:
    """Distance in photo pixels between the two eye centres (midpoints of the eye corners)."""
    points = np.asarray(geometry.landmarks, dtype=np.float64)
    return float(np.linalg.norm(points[[LEFT_EYE_INNER, LEFT_EYE_OUTER]].mean(0)
                                - points[[RIGHT_EYE_INNER, RIGHT_EYE_OUTER]].mean(0)))


def compare_faces(photo: FaceGeometry, rest: FaceGeometry) -> tuple[float, float, list[str]]:
    """Roll difference (degrees), size ratio (photo over rest) and plain warnings when they are large."""
    roll = float(photo.roll_degrees - rest.roll_degrees)
    roll = (roll + 180.0) % 360.0 - 180.0
    ratio = inter_ocular_px(photo) / max(inter_ocular_px(rest), 1e-6)
    warnings = []
    if abs(roll) > ROLL_LIMIT_DEGREES:
        warnings.append(f"The head is tilted differently in the photo and in the reference photo "
                        f"({roll:+.0f} degrees apart): the comparison with the rest face is less reliable. "
                        "Take both photos with the head held the same way.")
    if not 1.0 / SIZE_RATIO_LIMIT <= ratio <= SIZE_RATIO_LIMIT:
        warnings.append(f"The face is {ratio:.1f} times as large in the photo as in the reference photo: the "
                        "comparison with the rest face is less reliable. Take both photos from the same "
                        "distance.")
    if photo.mirrored != rest.mirrored:
        warnings.append("One of the two photos is marked as a mirror image and the other not: patient sides "
                        "of the two are compared as marked.")
    return roll, ratio, warnings


def read_against_reference(photo: FaceGeometry, rest: FaceGeometry, *,
                           absolute_halves: Mapping[Side, float], rest_halves: Mapping[Side, float],
                           absolute_full_face: float, rest_full_face: float,
                           landmark_photo: Mapping[Side, HalfPainEstimate],
                           landmark_rest: Mapping[Side, HalfPainEstimate],
                           neutral: Mapping[str, float] | None = None,
                           model: Mapping[str, Any] | None = None, neutral_half_score: float = 0.0,
                           neutral_full_face_score: float = 0.0) -> tuple[ReferenceReading, list[str]]:
    """The :class:`ReferenceReading` of a photo against its rest photo (clamped scores in, see the module
    docstring) and the warnings :func:`compare_faces` gives. ``neutral_half_score`` and
    ``neutral_full_face_score`` are the models' typical rest scores (:func:`neutral_scores`)."""
    roll, ratio, warnings = compare_faces(photo, rest)
    reading = ReferenceReading(
        absolute_halves=dict(absolute_halves),
        rest_halves=dict(rest_halves),
        relative_halves={s: clamp_pspi(absolute_halves[s] - rest_halves[s] + neutral_half_score)
                         for s in Side},
        absolute_full_face=float(absolute_full_face),
        rest_full_face=float(rest_full_face),
        relative_full_face=clamp_pspi(absolute_full_face - rest_full_face + neutral_full_face_score),
        landmark_rest=dict(landmark_rest),
        landmark_relative={s: relative_estimate(landmark_photo[s], landmark_rest[s], neutral=neutral,
                                                model=model) for s in Side},
        roll_difference_degrees=roll,
        size_ratio=ratio,
        rest_geometry=rest,
    )
    return reading, warnings


def neutral_scores(pain: Any = None, full_face: Any = None) -> tuple[float, float]:
    """The typical rest scores ``(half, full face)`` the cards of the loaded ``pain`` and ``full_face``
    models record (``ModelCard.neutral_score["value"]``); 0 for a model without one."""
    def value(model: Any) -> float:
        return float((model.card.neutral_score or {}).get("value", 0.0)) if model is not None else 0.0

    return value(pain), value(full_face)


def fit_neutral_scores(bundle: Any, subjects: int = 120, seed: int = NEUTRAL_SEED,
                       size: int = 256) -> dict[str, dict[str, Any]]:
    """Per PSPI role of ``bundle`` (``pain``, ``full_face_pain``): the median clamped score over neutral
    synthetic faces (those of :func:`eval.reference.fit_neutral`: no palsy, every action unit 0, dlib
    landmarks; both halves for the half model), for ``ModelCard.neutral_score``. The demo recipe measures
    it for every PSPI model it trains (:func:`models.demo.build_demo_weights`)."""
    from data.synth import neutral_specs, render_face
    from faces.errors import FaceInputError
    from models.pipeline import assess

    halves: list[float] = []
    full: list[float] = []
    for spec in neutral_specs(subjects, seed, size):
        try:
            result = assess(render_face(spec).image, side=Side.LEFT, models=bundle)
        except FaceInputError:
            continue
        halves += [float(result.half_scores[s]) for s in Side]
        if result.pspi.full_face is not None:
            full.append(float(result.pspi.full_face))
    fitted = {"data": "synthetic faces without palsy, every action unit 0, landmarks fitted by dlib",
              "subjects": subjects, "seed": seed, "statistic": "median of the clamped score"}
    out = {"pain": {"value": round(float(np.median(halves)), 4), "scores": len(halves), **fitted}}
    if full:
        out["full_face_pain"] = {"value": round(float(np.median(full)), 4), "scores": len(full), **fitted}
    return out


def write_neutral_scores(weights_dir: Path, scores: dict[str, dict[str, Any]], command: str) -> list[Path]:
    """Put each role's neutral score into its card in ``weights_dir`` (the weights file is untouched)."""
    from models.checkpoint import update_card

    return [update_card(weights_dir, role, neutral_score={**score, "command": command})
            for role, score in scores.items()]


__all__ = ["NEUTRAL_PATH", "NEUTRAL_SEED", "ROLL_LIMIT_DEGREES", "SIZE_RATIO_LIMIT", "compare_faces",
           "fit_neutral_scores", "inter_ocular_px", "load_neutral", "neutral_scores",
           "read_against_reference", "relative_estimate", "write_neutral_scores"]
