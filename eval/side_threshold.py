"""How sure the side model must be before a side is named: the choice of ``models.pipeline.CLEAR_ABOVE``.

Below that top probability the assessment says "no clear affected side" and scores both halves. The
choice is made on development data only: synthetic faces of a development seed with and without palsy,
and the development part of the offline photos (:mod:`data.photos`) unedited (no palsy) and with a
full-severity palsy drawn on each patient side (:func:`data.realedit.edit_photo`). For every candidate
threshold it reports the share of faces without palsy that get "no clear side" and the share of faces
with a palsy that get a side (and how many of those sides are right), and picks the threshold with the
best balanced accuracy of that yes/no decision, ties going to the lower threshold.

A side model that learned from edits of the development photos is surer of those photos than of any new
one, so a threshold chosen on its own training photos names a side too readily on new faces. With
``--crossfit DIR ...`` (one weights folder per fold, trained with ``python -m models demo-weights
--leave-out-photos K/N``), each development photo is scored by the model of the fold that left it out
(:func:`data.realtrain.photo_fold`): the photo rows are then out-of-fold readings, as a new photo would
be read. The synthetic rows (a development seed no model trained on) come from ``--weights``.

``python -m eval side-threshold [--weights DIR] [--crossfit DIR0 DIR1 ...] [--seed 97] [--subjects 40]
[--out FILE]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: 0.55 ... 0.975 in steps of 0.025, then 0.99, 0.995 and 0.999 for a side model as sharp as the shipped one
CANDIDATES = tuple(round(0.55 + 0.025 * k, 3) for k in range(18)) + (0.99, 0.995, 0.999)


def _row(result: Any, palsy_side: Any, source: str) -> dict[str, Any]:
    top_side = max(result.side_probabilities, key=lambda s: result.side_probabilities[s])
    return {"source": source, "palsy": palsy_side is not None,
            "top": float(result.side_probabilities[top_side]),
            "right_side": None if palsy_side is None else top_side is palsy_side}


def collect(bundle: Any, seed: int, subjects: int, progress: bool = True,
            fold_bundles: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Top side probability on development faces with and without palsy (synthetic and photos); the
    photos are read by ``bundle``, or with ``fold_bundles`` (one per fold) each by the fold's model
    that did not learn from it."""
    from tqdm import tqdm

    from data.photos import offline_photos
    from data.realedit import edit_photo
    from data.realtrain import photo_fold
    from data.synth import make_subject, render_face, sample_frame_spec
    from data.synth.aus import Palsy
    from faces.errors import FaceInputError
    from faces.sides import Side
    from models.pipeline import assess

    photos = offline_photos("development")
    readers = {p.name: bundle for p in photos}
    for fold, reader in enumerate(fold_bundles):
        readers.update({p.name: reader for p in photo_fold(photos, fold, len(fold_bundles))})
    rows = []
    for index in tqdm(range(subjects), desc="synthetic", disable=not progress):
        for fraction in (0.0, 1.0):
            subject = make_subject(index, seed, palsy_fraction=fraction)
            spec = sample_frame_spec(np.random.default_rng([seed, index, int(fraction)]), subject.identity,
                                     "mixed", subject.palsy)
            try:
                result = assess(render_face(spec).image, models=bundle)
            except FaceInputError:
                continue
            rows.append(_row(result, subject.palsy.side if subject.palsy else None, "synthetic"))
    for photo in tqdm(photos, desc="photos", disable=not progress):
        reader = readers[photo.name]
        try:
            rows.append(_row(assess(photo.image, models=reader), None, "photo"))
            for side in Side:
                edited = edit_photo(photo.image, palsy=Palsy(side=side, severity=1.0, kind="peripheral"))
                rows.append(_row(assess(edited.image, models=reader), side, "photo"))
        except (FaceInputError, ValueError):
            continue
    return rows


def sweep(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per threshold and source: no-palsy faces called unclear, palsy faces called clear (and right)."""
    table = []
    for threshold in CANDIDATES:
        entry: dict[str, Any] = {"threshold": threshold}
        for source in ("synthetic", "photo", "all"):
            chosen = [r for r in rows if source == "all" or r["source"] == source]
            free = [r for r in chosen if not r["palsy"]]
            palsy = [r for r in chosen if r["palsy"]]
            unclear = float(np.mean([r["top"] < threshold for r in free])) if free else float("nan")
            clear = [r for r in palsy if r["top"] >= threshold]
            named = len(clear) / len(palsy) if palsy else float("nan")
            entry[source] = {"no_palsy_unclear": round(unclear, 4), "palsy_named": round(named, 4),
                             "named_right": round(float(np.mean([r["right_side"] for r in clear])), 4)
                             if clear else None,
                             "balanced": round(0.5 * (unclear + named), 4), "n": [len(free), len(palsy)]}
        table.append(entry)
    best = max(table, key=lambda e: (e["all"]["balanced"], -e["threshold"]))
    return {"table": table, "chosen": best["threshold"], "chosen_figures": best}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval side-threshold",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="weights folder (default: the shipped demo weights)")
    parser.add_argument("--crossfit", nargs="+", default=[], metavar="DIR",
                        help="one weights folder per fold (demo-weights --leave-out-photos K/N, "
                        "K = 0, 1, ...): each development photo is read by the model that left it out")
    parser.add_argument("--seed", type=int, default=97, help="development seed of the synthetic faces")
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--out", default="build/side_threshold.json")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    import torch

    from data.photos import offline_photos
    from data.realtrain import left_out, photo_fold
    from models.pipeline import load_default_models

    torch.set_num_threads(1)
    if len(args.crossfit) == 1:
        parser.error("--crossfit needs a weights folder for each of at least two folds")
    folds = [load_default_models(folder) for folder in args.crossfit]
    for fold, bundle in enumerate(folds):
        names = {p.name for p in photo_fold(offline_photos("development"), fold, len(folds))}
        if not left_out(bundle.side.card.training_data, names):
            parser.error(f"{args.crossfit[fold]}: its side model must leave out fold {fold} of {len(folds)} "
                         f"of the development photos (demo-weights --leave-out-photos {fold}/{len(folds)})")
    rows = collect(load_default_models(args.weights), args.seed, args.subjects, progress=not args.quiet,
                   fold_bundles=folds)
    result = sweep(rows)
    print(f"{'threshold':>9}  {'no palsy unclear (synth/photo)':>30}  {'palsy named (synth/photo)':>26}"
          "  right")
    for e in result["table"]:
        syn, photo = e["synthetic"], e["photo"]
        print(f"{e['threshold']:>9.3f}  {syn['no_palsy_unclear']:>14.2f} / {photo['no_palsy_unclear']:<13.2f}"
              f"  {syn['palsy_named']:>11.2f} / {photo['palsy_named']:<12.2f}  {e['all']['named_right']}")
    print(f"chosen: {result['chosen']} (best balanced accuracy over all development faces)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, "rows": rows, "command": "python -m eval side-threshold "
                               + " ".join(argv if argv is not None else sys.argv[1:])}, indent=1) + "\n")
    return 0


__all__ = ["CANDIDATES", "collect", "main", "sweep"]
