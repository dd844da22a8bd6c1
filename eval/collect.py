"""Run the two-stage pipeline on every full-face photo of a labelled dataset and keep one
:class:`~eval.types.PhotoResult` per photo beside its truth.

The truth is the synthetic renderer's ``<stem>.truth.json`` when present (the subject's intended PSPI
``pspi_true``, which the unaffected half shows, and the palsy side), else the record's own labels (PSPI,
palsy or affected side) for real datasets. Photos where no face is found are counted, not scored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from eval.types import PhotoResult
from faces.sides import Side


def truth_of(record: Any) -> tuple[Side | None, float | None]:
    """(affected patient side, PSPI the unaffected half shows) of a record."""
    path = Path(record.image_path)
    truth_file = path.with_name(path.stem + ".truth.json")
    if truth_file.is_file():
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        palsy = truth.get("palsy")
        return (Side.parse(palsy["side"]) if palsy else None), float(truth["pspi_true"])
    side = getattr(record, "affected_side", None) or getattr(record, "palsy_side", None)
    pspi = getattr(record, "pspi", None)
    return side, None if pspi is None else float(pspi)


def landmark_estimate(result: Any) -> float | None:
    """The landmark-based PSPI estimate (:mod:`faces.au_proxy`) of the scored half, None without it."""
    try:
        from faces.au_proxy import estimate_pain
    except ImportError:
        return None
    geometry = result.geometry
    return float(estimate_pain(geometry.landmarks, geometry.mirrored)[result.unaffected_side].pspi)


def collect(data_dir: Path, bundle: Any, *, limit: int | None = None,
            progress: bool = True) -> tuple[list[PhotoResult], dict[str, Any]]:
    """Assess every full-face photo of ``data_dir`` with the models of ``bundle``.

    Returns the per-photo results (sorted by image path) and a summary: photos, faces not found, records
    without a PSPI label. ``bundle`` is a :class:`models.pipeline.ModelBundle`.
    """
    from data.layouts import load_any
    from data.records import HalfRecord
    from faces.errors import FaceInputError
    from models.pipeline import assess

    records = sorted((r for r in load_any(data_dir) if not isinstance(r, HalfRecord)),
                     key=lambda r: str(r.image_path))[:limit]
    results, missed, unlabelled = [], 0, 0
    root = Path(data_dir).resolve()
    for record in tqdm(records, desc="assessing photos", unit="photo", disable=not progress):
        affected, pspi_true = truth_of(record)
        if pspi_true is None:
            unlabelled += 1
            continue
        try:
            result = assess(record.image_path, models=bundle)
        except FaceInputError:
            missed += 1
            continue
        probabilities = result.side_probabilities
        scores = {"unaffected_half": round(result.pspi.unaffected_half, 6),
                  "affected_half": round(result.pspi.affected_half, 6),
                  "full_face": round(result.pspi.full_face, 6)}
        landmark = landmark_estimate(result)
        if landmark is not None:
            scores["landmark_unaffected_half"] = round(landmark, 6)
        try:
            name = Path(record.image_path).resolve().relative_to(root).as_posix()
        except ValueError:
            name = Path(record.image_path).name
        results.append(PhotoResult(
            image=name,
            subject=str(record.subject),
            affected_true=affected.value if affected else None,
            affected_pred=result.affected_side.value if result.side_source == "model" else None,
            geometry_side=result.asymmetry_side.value if result.asymmetry_side else None,
            p_left=None if probabilities is None else round(float(probabilities[Side.LEFT]), 6),
            pspi_true=pspi_true,
            pspi=scores,
        ))
    summary = {"photos": len(records), "face_not_found": missed, "without_pspi": unlabelled,
               "scored": len(results), "subjects": len({r.subject for r in results})}
    return results, summary


__all__ = ["collect", "landmark_estimate", "truth_of"]
