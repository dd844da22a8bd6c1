"""How faithful a map is to the model: deletion and insertion curves, their AUC, and random orderings.

Written by hand, because no installed library does it for a one-output regressor: captum's metrics
(``captum.metrics.infidelity`` / ``sensitivity_max``) score perturbation agreement and map stability,
not deletion curves, and Quantus (which has pointing game, relevance mass / rank accuracy, model-parameter
randomisation and ROAD, a classifier-only deletion variant) cannot be installed with this project's pins:
quantus 0.6.0 requires ``opencv-python`` (the GUI build), which installs a second ``cv2`` package over
our ``opencv-python-headless<5``. The simple Quantus-style localisation metrics are in
:mod:`explain.groundtruth`; the randomisation test is :mod:`explain.sanity`.

Protocol (Petsiuk et al., RISE): the input is cut into **units**, pixel blocks of ``block`` x ``block``
input pixels (default 8: 128 units on a 128x64 half, 256 on a 128x128 face) or the segments of a
:class:`~explain.segments.Segments`. Units are ranked by their mean attribution, **largest signed value
first** (most evidence for the side, most raising PSPI; ties broken at random with the seed).
**Deletion** replaces units, in that order, by the **fill**; **insertion** starts from the fill and puts
the units back. Two fills (:func:`removal_fill`): ``"neutral"`` (the default and the headline of the
reports), the same units of an average relaxed face matched to the input's colour
(:mod:`explain.neutral`), and ``"blur"``, a blurred copy of the input (Gaussian, sigma 8% of the input's
longer side, :func:`blurred`). They ask different questions: "what if this part looked as on a relaxed
face?" and "what if this part's detail were gone?". The demo pain model reads a closed eye or a lowered
brow as the absence of an open eye or a relaxed brow, so blurring those regions *raises* its PSPI
(:mod:`explain.groundtruth`); a map that shows the pain where it is drawn then fails the blur test and
passes the neutral one, and a map that marks only what blurring would lower does the opposite. The
reports give both. ``steps`` + 1 images per curve (fractions 0, 1/steps, ... 1 of the units) go through the
model in batches. The AUC is the trapezoid mean over the fraction axis (0..1).

**Side maps are also removed in mirror pairs** (:func:`mirror_pair_units`, ``side_pairs`` in the report):
a unit of the side model's input is then a block together with its mirror image about the face's midline
(the input's centre column, where the side network cuts the face into its two halves), ranked by the map's
mean over both, and the random orderings draw the same pair units. Single blocks ask "does removing this
part of this half move the side?", the question a reader of the map asks; pairs ask "does making this
location the same on both halves move it?". The side network compares the halves, so removing detail
from one half only can itself make the halves differ, and a fill that does not look palsy-free to it
(the neutral face: :mod:`explain.halves`) then hides the evidence the map points to; removed in pairs,
the location's comparison is gone whatever the fill looks like. On 12 development faces (seed 7) the side
Grad-CAM's deletion AUC was below the random mean on 11 in pairs against 5 in single blocks with the
neutral fill (blur: 12 and 12), LIME's on 9 against 12 (blur: 11 and 9). The headline stays single blocks.

Curves are normalised so AUCs are comparable: the side target is a probability already (0-1, used as
is); PSPI (unbounded regression) is expressed as ``(f - f_fill) / max(|f_input - f_fill|, 1)``, the
score's height above the fully filled input in units of the intact input's height (at least one PSPI
point), so a deletion curve runs from about 1 to exactly 0 and an insertion curve the other way.
A good map has a **low deletion AUC** and a high insertion AUC; each is compared with the mean AUC of
``n_random`` (default 10) random orderings of the same units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from explain.base import input_pixels
from explain.types import Explanation
from models.pipeline import LoadedModel
from models.preprocess import InputSpec, normalise

#: Blur of the fill, as a fraction of the input's longer side.
BLUR_FRACTION = 0.08
DEFAULT_BLOCK = 8
DEFAULT_STEPS = 16
DEFAULT_RANDOM = 10
CURVE_FILLS = ("neutral", "blur")
DEFAULT_FILL = "neutral"


def blurred(image: np.ndarray, fraction: float = BLUR_FRACTION) -> np.ndarray:
    """Gaussian-blurred copy of a uint8 ``(h, w, 3)`` image, sigma ``fraction`` x its longer side."""
    sigma = max(0.5, fraction * max(image.shape[:2]))
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def block_units(shape: tuple[int, int], block: int = DEFAULT_BLOCK) -> np.ndarray:
    """``(h, w)`` int32 unit labels: row-major ``block`` x ``block`` tiles (edge tiles may be smaller)."""
    rows = np.arange(shape[0]) // block
    cols = np.arange(shape[1]) // block
    per_row = (shape[1] + block - 1) // block
    return (rows[:, None] * per_row + cols[None, :]).astype(np.int32)


def mirror_pair_units(shape: tuple[int, int], block: int = DEFAULT_BLOCK) -> np.ndarray:
    """``(h, w)`` int32 unit labels: each ``block`` x ``block`` tile together with its mirror image about the
    vertical centre line (one label per pair; a centre column of tiles, when the count is odd, pairs with
    itself). Needs a width that the tiles divide, so that tiles and their mirrors line up."""
    if shape[1] % block:
        raise ValueError(f"mirror pairs need a width divisible by the block ({shape[1]} by {block})")
    per_row = shape[1] // block
    rows = np.arange(shape[0]) // block
    cols = np.arange(shape[1]) // block
    paired = np.minimum(cols, per_row - 1 - cols)
    return (rows[:, None] * ((per_row + 1) // 2) + paired[None, :]).astype(np.int32)


def unit_scores(attribution: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Mean attribution per unit ``(U,)`` for labels ``0 .. U-1``."""
    count = int(units.max()) + 1
    sums = np.bincount(units.ravel(), weights=np.asarray(attribution, np.float64).ravel(), minlength=count)
    sizes = np.bincount(units.ravel(), minlength=count)
    return sums / np.maximum(sizes, 1)


def ranking(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit indices, largest score first, ties in random order."""
    tie_break = rng.permutation(len(scores))
    order = np.lexsort((tie_break, -np.asarray(scores)))
    return order


@dataclass(frozen=True)
class Curves:
    """Deletion and insertion curves of one map.

    ``fractions`` ``(steps + 1,)`` of units removed (deletion) or restored (insertion); ``deletion`` and
    ``insertion`` the normalised model output there; ``*_auc`` their trapezoid means;
    ``random_deletion_auc`` / ``random_insertion_auc`` the AUCs of each random ordering.
    """

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float
    random_deletion_auc: np.ndarray
    random_insertion_auc: np.ndarray
    output_input: float
    output_fill: float
    normaliser: float
    fill: str
    units: int

    @property
    def random_deletion_mean(self) -> float:
        return float(self.random_deletion_auc.mean())

    @property
    def random_insertion_mean(self) -> float:
        return float(self.random_insertion_auc.mean())

    @property
    def deletion_beats_random(self) -> bool:
        """Deletion AUC below the random orderings' mean (what a faithful map should give)."""
        return self.deletion_auc < self.random_deletion_mean

    def to_dict(self) -> dict[str, object]:
        return {
            "deletion_auc": round(self.deletion_auc, 4), "insertion_auc": round(self.insertion_auc, 4),
            "random_deletion_auc_mean": round(self.random_deletion_mean, 4),
            "random_insertion_auc_mean": round(self.random_insertion_mean, 4),
            "random_orderings": len(self.random_deletion_auc), "fill": self.fill, "units": self.units,
            "fractions": [round(float(v), 4) for v in self.fractions],
            "deletion": [round(float(v), 4) for v in self.deletion],
            "insertion": [round(float(v), 4) for v in self.insertion],
            "output_input": round(self.output_input, 4), "output_fill": round(self.output_fill, 4),
            "normaliser": round(self.normaliser, 4),
        }


def auc(values: np.ndarray, fractions: np.ndarray) -> float:
    """Trapezoid area under ``values`` over ``fractions`` (0..1)."""
    v = np.asarray(values, np.float64)
    x = np.asarray(fractions, np.float64)
    return float(np.sum((v[1:] + v[:-1]) * np.diff(x)) / 2.0)


def scorer(module: torch.nn.Module, spec: InputSpec, target: int,
           batch: int = 128) -> Callable[[np.ndarray], np.ndarray]:
    """``f(images (N, h, w, 3) uint8) -> (N,)`` float64: ``module``'s output ``target``, batched."""
    device = next(module.parameters()).device

    @torch.no_grad()
    def score(images: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(images), batch):
            chunk = torch.from_numpy(np.ascontiguousarray(images[start:start + batch]))
            x = normalise(chunk.permute(0, 3, 1, 2).contiguous(), spec).to(device)
            out.append(module(x)[:, target].double().cpu())
        return torch.cat(out).numpy()

    return score


def _curve_images(image: np.ndarray, fill: np.ndarray, units: np.ndarray, order: np.ndarray,
                  counts: np.ndarray, insertion: bool) -> np.ndarray:
    """Images with the first ``counts[i]`` units of ``order`` removed (deletion) or restored."""
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    pixel_rank = rank[units]  # (h, w): position of each pixel's unit in the order
    chosen = pixel_rank[None, :, :] < counts[:, None, None]  # (S, h, w)
    start, other = (fill, image) if insertion else (image, fill)
    return np.where(chosen[..., None], other[None], start[None])


def curves(image: np.ndarray, attribution: np.ndarray, score: Callable[[np.ndarray], np.ndarray], *,
           units: np.ndarray | None = None, block: int = DEFAULT_BLOCK, steps: int = DEFAULT_STEPS,
           n_random: int = DEFAULT_RANDOM, regression: bool = False, fill: np.ndarray | None = None,
           fill_name: str = "blur", seed: int = 0) -> Curves:
    """Deletion and insertion curves of ``attribution`` ``(h, w)`` on the uint8 ``image`` ``(h, w, 3)``.

    ``score`` maps a uint8 batch to the explained output (:func:`scorer`). ``units`` defaults to
    :func:`block_units` of ``block``; ``regression`` normalises as the module docstring says.
    """
    unit_map = block_units(image.shape[:2], block) if units is None else np.asarray(units, np.int32)
    count = int(unit_map.max()) + 1
    filled = blurred(image) if fill is None else fill
    rng = np.random.default_rng(seed)
    counts = np.unique(np.round(np.linspace(0, count, steps + 1)).astype(np.int64))
    fractions = counts / count
    orders = [ranking(unit_scores(attribution, unit_map), rng)] + [rng.permutation(count)
                                                                    for _ in range(n_random)]
    batch = np.concatenate([_curve_images(image, filled, unit_map, order, counts, insertion)
                            for order in orders for insertion in (False, True)])
    raw = score(batch).reshape(len(orders), 2, len(counts))
    f_input, f_fill = float(raw[0, 0, 0]), float(raw[0, 0, -1])
    normaliser = max(abs(f_input - f_fill), 1.0) if regression else 1.0
    offset = f_fill if regression else 0.0
    values = (raw - offset) / normaliser
    aucs = np.array([[auc(values[o, k], fractions) for k in range(2)] for o in range(len(orders))])
    return Curves(fractions=fractions, deletion=values[0, 0], insertion=values[0, 1],
                  deletion_auc=float(aucs[0, 0]), insertion_auc=float(aucs[0, 1]),
                  random_deletion_auc=aucs[1:, 0], random_insertion_auc=aucs[1:, 1],
                  output_input=f_input, output_fill=f_fill, normaliser=normaliser, fill=fill_name,
                  units=count)


def removal_fill(image: np.ndarray, fill: str, spec: InputSpec) -> np.ndarray:
    """The uint8 picture removed units are replaced with: ``"blur"`` (:func:`blurred`) or ``"neutral"``
    (:func:`explain.neutral.neutral_fill`, the average neutral face matched to the input's colour)."""
    if fill == "blur":
        return blurred(image)
    if fill == "neutral":
        from explain.neutral import neutral_fill

        return neutral_fill(image, spec)
    raise ValueError(f"fill must be one of {CURVE_FILLS}, got {fill!r}")


def explanation_curves(explanation: Explanation, model: LoadedModel, inputs: torch.Tensor, *,
                       jitter: bool = False, fill: str = DEFAULT_FILL, side_pairs: bool = False,
                       **options: Any) -> Curves:
    """:func:`curves` for an explanation of ``model`` on the ``inputs`` it explained.

    ``jitter=False`` (default) scores with the deployed model without its jitter average, the model LIME
    queries (5-6x cheaper; mirror average kept for the side model); ``jitter=True`` with the full
    deployed model. ``side_pairs=True`` removes a side map in mirror pairs (:func:`mirror_pair_units`)
    unless ``units`` are given.
    """
    from explain.lime import queried_model

    image = input_pixels(inputs, model.spec)
    score = scorer(queried_model(model, jitter), model.spec, int(explanation.target_index))
    side = explanation.stage == "side"
    if side and side_pairs and options.get("units") is None:
        options["units"] = mirror_pair_units(image.shape[:2], int(options.get("block", DEFAULT_BLOCK)))
    return curves(image, explanation.input_map, score, regression=not side,
                  fill=removal_fill(image, fill, model.spec), fill_name=fill, **options)


def _summarise_curves(found: dict[str, list[Curves]]) -> dict[str, dict[str, float]]:
    return {key: {
        "deletion_below_random": round(float(np.mean([c.deletion_beats_random for c in curves_])), 4),
        "insertion_above_random": round(float(np.mean([c.insertion_auc > c.random_insertion_mean
                                                       for c in curves_])), 4),
        "deletion_auc_median": round(float(np.median([c.deletion_auc for c in curves_])), 4),
        "random_deletion_auc_median": round(float(np.median([c.random_deletion_mean for c in curves_])), 4),
        "insertion_auc_median": round(float(np.median([c.insertion_auc for c in curves_])), 4),
        "random_insertion_auc_median": round(float(np.median([c.random_insertion_mean for c in curves_])), 4),
    } for key, curves_ in found.items()}


def evaluate(count: int, seed: int, methods: tuple[str, ...] = ("gradcam", "lime"), *,
             progress: bool = False, bundle: Any = None,
             fills: tuple[str, ...] = CURVE_FILLS) -> dict[str, Any]:
    """Deletion / insertion against random orderings on ``count`` fresh synthetic faces
    (:func:`explain.groundtruth.make_case`), per method and stage (side: the true affected side; pain:
    the unaffected half): the share of faces whose deletion AUC is below the random mean (target >= 0.9)
    and whose insertion AUC is above it, and the median AUCs. Each map is scored with every fill of
    ``fills``; ``results`` holds the first, ``other_fills`` the rest, and ``side_pairs`` (per fill) the
    side maps removed in mirror pairs."""
    from explain.base import get_explainer
    from explain.groundtruth import case_jobs, make_case
    from models.pipeline import assess, load_default_models

    bundle = bundle or load_default_models()
    explainers = {m: get_explainer(m) for m in methods}
    found: dict[str, dict[str, list[Curves]]] = {fill: {} for fill in fills}
    pairs: dict[str, dict[str, list[Curves]]] = {fill: {} for fill in fills}  # side maps in mirror pairs
    indices: Any = range(count)
    if progress:
        from tqdm import tqdm

        indices = tqdm(indices, desc="faithfulness", unit="face")
    for index in indices:
        case = make_case(index, seed)
        assessment = assess(case.image, models=bundle, landmarks=case.landmarks)
        jobs = case_jobs(case, assessment, bundle)
        for method, explainer in explainers.items():
            for stage, model, inputs, target, source in jobs:
                explanation = explainer.attribute(model, inputs, target, source=source)
                for fill in fills:
                    curve = explanation_curves(explanation, model, inputs, fill=fill)
                    found[fill].setdefault(f"{method}/{stage}", []).append(curve)
                    if stage == "side":
                        paired = explanation_curves(explanation, model, inputs, fill=fill, side_pairs=True)
                        pairs[fill].setdefault(f"{method}/{stage}", []).append(paired)
    return {"faces": count, "seed": seed, "fill": fills[0], "block": DEFAULT_BLOCK, "steps": DEFAULT_STEPS,
            "random_orderings": DEFAULT_RANDOM, "scored_with": "deployed model without jitter",
            "results": _summarise_curves(found[fills[0]]),
            "other_fills": {fill: _summarise_curves(found[fill]) for fill in fills[1:]},
            "side_pairs": {fill: _summarise_curves(pairs[fill]) for fill in fills}}


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m explain faithfulness",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--methods", nargs="+", default=["gradcam", "lime"])
    parser.add_argument("--fills", nargs="+", choices=CURVE_FILLS, default=list(CURVE_FILLS),
                        help="what removed units are replaced with (the first is the headline)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    report = evaluate(args.faces, args.seed, tuple(args.methods), progress=True, fills=tuple(args.fills))
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["BLUR_FRACTION", "CURVE_FILLS", "DEFAULT_FILL", "Curves", "auc", "block_units", "blurred",
           "curves", "evaluate", "explanation_curves", "main", "mirror_pair_units", "ranking", "removal_fill",
           "scorer", "unit_scores"]
