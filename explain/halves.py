"""Which half of the face a side decision rests on: each half replaced in turn, the probability re-read.

``python -m explain halves [--faces 12] [--seed 7] [--weights DIR]``

On synthetic faces with a palsy on a known patient side (:func:`explain.groundtruth.make_case`), the side
model's input is taken as the assessment made it; then the half of the levelled face that shows the
affected side, and in turn the other half, is replaced by a fill (:func:`explain.faithfulness.removal_fill`:
the average relaxed face matched to the input's colour, or a blurred copy), and the probability of the
true affected side is read again with the deployed model (mirror average kept, no jitter: the model LIME
and the deletion curves query). A model that reads the palsy where it is drawn loses confidence when the
affected half is replaced; one that reads it from the other half's look loses it when that one is.

The halves are the image's halves (the levelled face is centred on the face, so its midline is near the
centre): the patient's left is the image's right, as the side model sees it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

FILLS = ("neutral", "blur")


def replaced_halves(image: np.ndarray, affected_on_image_right: bool,
                    fill_image: np.ndarray) -> dict[str, np.ndarray]:
    """``{"affected": ..., "other": ...}``: ``image`` (h, w, 3) uint8 with that half taken from
    ``fill_image``."""
    width = image.shape[1]
    right, left = slice(width // 2, width), slice(0, width // 2)
    parts = {"affected": right if affected_on_image_right else left,
             "other": left if affected_on_image_right else right}
    out = {}
    for name, part in parts.items():
        copy = image.copy()
        copy[:, part] = fill_image[:, part]
        out[name] = copy
    return out


def evaluate(count: int, seed: int, *, bundle: Any = None, progress: bool = False) -> dict[str, Any]:
    """Median probability of the true affected side on ``count`` faces: intact, and with the affected or
    the other half replaced by each fill; the per-face values in ``faces_detail``."""
    from explain.base import input_pixels
    from explain.faithfulness import removal_fill, scorer
    from explain.groundtruth import make_case
    from explain.lime import queried_model
    from faces.sides import ImageSide, image_side
    from models.pipeline import assess, load_default_models
    from models.registry import SIDE_CLASSES

    bundle = bundle or load_default_models()
    if bundle.side is None:
        raise ValueError("no side model is loaded")
    indices: Any = range(count)
    if progress:
        from tqdm import tqdm

        indices = tqdm(indices, desc="halves", unit="face")
    rows = []
    for index in indices:
        case = make_case(index, seed)
        assessment = assess(case.image, models=bundle, landmarks=case.landmarks)
        model, inputs = bundle.side, assessment.inputs.side
        target = SIDE_CLASSES.index(case.palsy.side)
        image = input_pixels(inputs, model.spec)
        score = scorer(queried_model(model, False), model.spec, target)
        row = {"intact": float(score(image[None])[0])}
        for fill in FILLS:
            fill_image = removal_fill(image, fill, model.spec)
            on_right = image_side(case.palsy.side) is ImageSide.RIGHT  # the crop is never mirrored
            versions = replaced_halves(image, on_right, fill_image)
            for name, version in versions.items():
                row[f"{name}_half_{fill}"] = float(score(version[None])[0])
        rows.append(row)
    keys = list(rows[0]) if rows else []
    return {"faces": count, "seed": seed,
            "read": "probability of the true affected side (deployed side model, no jitter)",
            "median": {k: round(float(np.median([r[k] for r in rows])), 3) for k in keys},
            "faces_detail": [{k: round(v, 4) for k, v in r.items()} for r in rows]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain halves", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weights", type=Path, default=None, help="model weights folder (default: shipped)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    from models.pipeline import load_default_models

    report = evaluate(args.faces, args.seed, bundle=load_default_models(args.weights), progress=True)
    for key, value in report["median"].items():
        print(f"{key:>22}: {value:.3f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["FILLS", "evaluate", "main", "replaced_halves"]
