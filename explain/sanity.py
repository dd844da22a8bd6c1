"""Sanity check by model-parameter randomisation (Adebayo et al. 2018): maps must depend on the weights.

A map that looks the same for a trained network and for one with random weights shows the input (edges,
contrast), not what the model learned. :func:`randomised_copy` re-initialises the raw network inside a
deployed model, either all at once (``"full"``) or the top ``k`` parameterised layers, output side first
(``"cascading"``); :func:`check` explains the same input with the trained and the randomised model and
reports the Spearman rank correlation of the two input maps (signed, and of their absolute values).
The acceptance bar is a signed rank correlation below :data:`THRESHOLD`. For side maps the report also
gives the correlation within each half of the face (:func:`within_halves`), since a side network built
from two halves splits every map, trained or not, into a raising and a lowering half, and that of the maps'
mirror-symmetric parts (:func:`mirror_symmetric_part`), the part that carries the decision.

Written by hand (Quantus' ``ModelParameterRandomisation`` does the same but Quantus cannot be installed
with this project's pins, see :mod:`explain.faithfulness`); the correlation is scipy's ``spearmanr``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from explain.types import Explainer, Explanation, MapSource
from models.pipeline import LoadedModel, raw_network

THRESHOLD = 0.5
MODES = ("full", "cascading")


def parameterised_layers(network: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules with their own ``reset_parameters`` (convolutions, linear layers, norms), input first."""
    return [(name, module) for name, module in network.named_modules()
            if name and hasattr(module, "reset_parameters") and any(True for _ in module.parameters(False))]


def randomised_copy(model: LoadedModel, mode: str = "full", layers: int | None = None,
                    seed: int = 0) -> LoadedModel:
    """A deep copy of ``model`` whose raw network has re-initialised weights (wrappers kept).

    ``mode="full"`` re-initialises every layer; ``"cascading"`` only the last ``layers`` parameterised
    layers (output side first). Normalisation layers get fresh statistics too.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    module = copy.deepcopy(model.model)
    chosen = parameterised_layers(raw_network(module))
    if mode == "cascading":
        chosen = chosen[len(chosen) - int(layers or 1):]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _, layer in chosen:
            layer.reset_parameters()
            if hasattr(layer, "reset_running_stats"):
                layer.reset_running_stats()
    return replace(model, model=module.eval())


def within_halves(first: np.ndarray, second: np.ndarray) -> float:
    """Mean Spearman correlation of two face maps taken within the image's left and right halves apart.

    A side network built from two halves (``side_halves``) gives every map, trained or randomised, the
    same split into a half that raises the named side and one that lowers it; this measures what the
    weights decide beyond that split: where within each half the map lies.
    """
    width = np.shape(first)[1]
    halves = (slice(0, width // 2), slice(width - width // 2, width))
    return float(np.mean([rank_correlation(np.asarray(first)[:, part], np.asarray(second)[:, part])
                          for part in halves]))


def mirror_symmetric_part(face_map: np.ndarray) -> np.ndarray:
    """The part of a face map that is the same on both halves: ``(map + mirrored map) / 2``.

    For a side network that compares the halves (``side_halves``) the rest, ``(map - mirrored map) / 2``,
    is the split into a raising and a lowering half and sums to zero over the face; the symmetric part
    carries the whole decision, each location's share of the difference between the halves.
    """
    values = np.asarray(face_map, np.float64)
    return 0.5 * (values + values[:, ::-1])


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman rank correlation of two maps of the same shape (0 when either is constant)."""
    a, b = np.asarray(first, np.float64).ravel(), np.asarray(second, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"maps differ in shape: {np.shape(first)} vs {np.shape(second)}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


@dataclass(frozen=True)
class SanityResult:
    """Trained vs randomised maps of one input: Spearman of the signed and of the absolute maps."""

    method: str
    stage: str
    mode: str
    layers: int
    spearman: float
    spearman_abs: float

    @property
    def passed(self) -> bool:
        return self.spearman < THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "stage": self.stage, "mode": self.mode, "layers": self.layers,
                "spearman": round(self.spearman, 4), "spearman_abs": round(self.spearman_abs, 4),
                "threshold": THRESHOLD, "passed": self.passed}


def check(explainer: Explainer, model: LoadedModel, inputs: torch.Tensor, target: int | None, *,
          source: MapSource, mode: str = "full", layers: int | None = None, seed: int = 0,
          trained: Explanation | None = None, **params: Any) -> SanityResult:
    """Explain ``inputs`` with ``model`` and with its :func:`randomised_copy`; compare the input maps."""
    original = trained or explainer.attribute(model, inputs, target, source=source, **params)
    random_model = randomised_copy(model, mode, layers, seed)
    randomised = explainer.attribute(random_model, inputs, target, source=source, **params)
    count = len(parameterised_layers(raw_network(model.model)))
    return SanityResult(
        method=original.method, stage=original.stage, mode=mode,
        layers=count if mode == "full" else int(layers or 1),
        spearman=rank_correlation(original.input_map, randomised.input_map),
        spearman_abs=rank_correlation(np.abs(original.input_map), np.abs(randomised.input_map)),
    )


def chance_above(explanation: Explanation, inputs: torch.Tensor, model: LoadedModel, source: MapSource,
                 draws: int = 200, seed: int = 0) -> float | None:
    """For a map painted over segments (LIME): how often the trained map's own segment values, dealt to
    the segments at random, correlate with it above :data:`THRESHOLD`; None for other maps.

    A map of about 8 constant segments has about 8 degrees of freedom, so two *unrelated* such maps
    cross 0.5 by chance far more often than two pixel maps do: on 8 development faces (seed 7) the
    shuffled maps crossed 0.5 in 5-29% of draws (95th percentiles 0.50-0.80). This is the bar's false
    alarm rate for that face; it is reported beside the maxima.
    """
    from explain.base import input_pixels
    from explain.segments import segments_for

    method = explanation.params.get("segmentation")
    if not method or "segments" not in explanation.params:
        return None
    segments = segments_for(source, model.spec, input_pixels(inputs, model.spec), str(method))
    values = np.array([explanation.input_map[segments.labels == k].mean() if (segments.labels == k).any()
                       else 0.0 for k in range(segments.count)])
    rng = np.random.default_rng(seed)
    hits = [rank_correlation(explanation.input_map, rng.permutation(values)[segments.labels]) > THRESHOLD
            for _ in range(draws)]
    return float(np.mean(hits))


def evaluate(count: int, seed: int, methods: tuple[str, ...] = ("gradcam", "lime"),
             bundle: Any = None) -> dict[str, Any]:
    """Full randomisation on ``count`` fresh synthetic faces (:func:`explain.groundtruth.make_case`):
    per method and stage, the Spearman correlations' median, maximum and the share below the bar; for
    segment maps also the mean chance that an unrelated map on the same segments crosses the bar
    (:func:`chance_above`) and the share of faces expected to cross it by that chance alone."""
    from explain.base import get_explainer
    from explain.groundtruth import case_jobs, make_case
    from models.pipeline import assess, load_default_models

    bundle = bundle or load_default_models()
    randomised = {role: randomised_copy(m, "full", seed=seed) for role, m in bundle.loaded().items()}
    values: dict[str, list[float]] = {}
    within: dict[str, list[float]] = {}
    symmetric: dict[str, list[float]] = {}
    chances: dict[str, list[float]] = {}
    for index in range(count):
        case = make_case(index, seed)
        assessment = assess(case.image, models=bundle, landmarks=case.landmarks)
        jobs = case_jobs(case, assessment, bundle)
        for method in methods:
            explainer = get_explainer(method)
            for stage, model, inputs, target, source in jobs:
                trained = explainer.attribute(model, inputs, target, source=source)
                other = explainer.attribute(randomised[model.role], inputs, target, source=source)
                values.setdefault(f"{method}/{stage}", []).append(
                    rank_correlation(trained.input_map, other.input_map))
                if stage == "side":
                    within.setdefault(f"{method}/{stage}", []).append(
                        within_halves(trained.input_map, other.input_map))
                    symmetric.setdefault(f"{method}/{stage}", []).append(rank_correlation(
                        mirror_symmetric_part(trained.input_map), mirror_symmetric_part(other.input_map)))
                chance = chance_above(trained, inputs, model, source, seed=seed + index)
                if chance is not None:
                    chances.setdefault(f"{method}/{stage}", []).append(chance)
    results: dict[str, dict[str, Any]] = {
        key: {"median": round(float(np.median(v)), 4), "max": round(float(np.max(v)), 4),
              "share_below": round(float(np.mean(np.asarray(v) < THRESHOLD)), 4)}
        for key, v in values.items()}
    for key, found in within.items():
        results[key]["within_halves_median"] = round(float(np.median(found)), 4)
        results[key]["within_halves_max"] = round(float(np.max(found)), 4)
    for key, found in symmetric.items():
        results[key]["symmetric_part_median"] = round(float(np.median(found)), 4)
        results[key]["symmetric_part_max"] = round(float(np.max(found)), 4)
    for key, found in chances.items():
        results[key]["unrelated_above_bar"] = round(float(np.mean(found)), 4)
        results[key]["faces_expected_above_by_chance"] = round(float(np.sum(found)), 2)
    return {"faces": count, "seed": seed, "mode": "full", "threshold": THRESHOLD, "results": results}


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m explain sanity", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--methods", nargs="+", default=["gradcam", "lime"])
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    text = json.dumps(evaluate(args.faces, args.seed, tuple(args.methods)), indent=1)
    print(text)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["MODES", "THRESHOLD", "SanityResult", "chance_above", "check", "evaluate", "main",
           "mirror_symmetric_part", "parameterised_layers", "randomised_copy", "rank_correlation",
           "within_halves"]
