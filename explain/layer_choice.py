"""Which layer resolves the facial regions (Grad-CAM, integrated gradients): measured on synthetic faces
with known causes.

``python -m explain layers --faces 32 --seed 99 [--method gradcam|integrated_gradients]`` renders faces
(true landmarks, no detector) and, per candidate layer of the method (and, for Grad-CAM's PSPI map,
centred or not; see :mod:`explain.gradcam`):

- pain (half-face model): faces where one pain AU group (AU4; AU6+AU7; AU9+AU10; AU43) is active, a
  palsy on the other side; the unaffected half is explained (PSPI). Reported: how often the top-ranked
  region (largest absolute attribution) is one the AU changes (``data.synth.AU_REGIONS``, scored side),
  and the share of the map's absolute mass inside those regions against the share of the face they take;
  also the top region by mean attribution per pixel (area-independent ranking) and the region with the
  largest positive signed sum (for PSPI: what raises the score most; for the side: evidence for it).
- side model: faces with a palsy (no pain AUs) explained for the palsy side. Reported: the share of
  absolute mass inside the regions the palsy changes on the affected side (mouth, eye, cheek; brow and
  forehead too for a peripheral palsy) against their share of the face.
- faithfulness (:mod:`explain.faithfulness`, the neutral-face fill, 8-pixel blocks): the deletion AUC
  against the mean of 10 random orderings, and how often it is below that mean.
- jitter: correlation between maps with and without the jitter averaging (default layers).

It prints a table and returns the figures as a dict; nothing is written.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from data.synth import AU_REGIONS, Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.base import build_explanation
from explain.gradcam import GradCamExplainer, IntegratedGradientsExplainer, default_layer
from explain.regions import summarise
from explain.types import MapSource
from faces.sides import Side
from models.pipeline import Assessment, ModelBundle, assess, load_default_models

#: Candidate (layer, centred) pairs per method and architecture.
CANDIDATES = {
    "gradcam": {
        "resnet18": (("layer2", False), ("layer3", False), ("layer3", True), ("layer4", False)),
        "resnet18_evidence": (("layer2", False), ("layer3", False), ("layer3", True), ("evidence", False)),
        "patch_evidence": (("stage2", False), ("stage3", False), ("evidence", False)),
        "patch_evidence_33": (("stage1", False), ("stage2", False), ("evidence", False)),
        "side_cnn": (("features.block1", False), ("features.block2", False), ("features.block3", False)),
        "side_halves": (("evidence", False),),
    },
    "integrated_gradients": {
        "resnet18": (("conv1", False), ("layer1", False), ("layer2", False), ("layer3", False)),
        "resnet18_evidence": (("conv1", False), ("layer1", False), ("layer2", False), ("layer3", False)),
        "patch_evidence": (("stem", False), ("stage1", False), ("stage2", False), ("stage3", False)),
        "patch_evidence_33": (("stem", False), ("stage1", False), ("stage2", False)),
        "side_cnn": (("features.block1", False), ("features.block2", False), ("features.block3", False)),
        "side_halves": (("face", False), ("evidence", False)),
    },
}
EXPLAINERS = {"gradcam": GradCamExplainer, "integrated_gradients": IntegratedGradientsExplainer}
AU_GROUPS = {"AU4": ("AU4",), "AU6+AU7": ("AU6", "AU7"), "AU9+AU10": ("AU9", "AU10"), "AU43": ("AU43",)}


def _faces(n: int, seed: int, kind: str) -> Iterator[tuple[Assessment, set[str], Side]]:
    """(assessment, changed sided region keys, side explained) for ``n`` faces of ``kind`` pain|side."""
    bundle = load_default_models()
    groups = list(AU_GROUPS)
    for i in range(n):
        rng = np.random.default_rng([seed, i, 31])
        palsy_side = Side.LEFT if i % 2 else Side.RIGHT
        palsy = Palsy(palsy_side, float(rng.uniform(0.6, 1.0)), "peripheral" if i % 4 >= 2 else "central")
        spec = sample_frame_spec(rng, sample_identity(seed * 1000 + i), palsy=palsy)
        if kind == "pain":
            group = AU_GROUPS[groups[i % len(groups)]]
            level = {name: (1.0 if name == "AU43" else float(rng.uniform(3.0, 5.0))) for name in group}
            spec = replace(spec, aus={side: dict(level) for side in Side})
            scored = palsy_side.opposite
            changed = {f"{r}_{scored.value}" for name in group for r in AU_REGIONS[name]}
            explained = scored
        else:
            spec = replace(spec, aus={})
            names = ["mouth", "eye", "cheek"] + (["brow", "forehead"] if palsy.kind == "peripheral" else [])
            changed = {f"{r}_{palsy_side.value}" for r in names}
            explained = palsy_side
        face = render_face(spec)
        yield assess(face.image, side=palsy_side, models=bundle, landmarks=face.landmarks), changed, explained


def _name(layer: str, centre: bool) -> str:
    return f"{layer} centred" if centre else layer


def _score(assessment: Assessment, explanation: Any, changed: set[str], model: Any,
           inputs: torch.Tensor) -> list[float]:
    """[top region hit, top-by-density hit, top-raising hit, mass in changed, their area,
    deletion AUC - random, below random]."""
    from explain.faithfulness import explanation_curves

    summary = summarise(explanation, assessment.geometry)
    regions = assessment.geometry.regions
    face_pixels = sum(int(m.sum()) for m in regions.values())
    area = sum(int(regions[k].sum()) for k in changed) / max(face_pixels, 1)
    mass = sum(s.share for s in summary.scores if s.key in changed) / max(1e-9, 1 - summary.outside_share)
    top = summary.top
    dense = max((s for s in summary.scores if s.pixels), key=lambda s: s.absolute / s.pixels)
    raising = max(summary.scores, key=lambda s: s.signed)
    curves = explanation_curves(explanation, model, inputs)
    gap = curves.deletion_auc - float(np.mean(curves.random_deletion_auc))
    return [float(top is not None and top.key in changed), float(dense.key in changed),
            float(raising.signed > 0 and raising.key in changed), mass, area, gap, float(gap < 0)]


def measure(n: int = 40, seed: int = 99, bundle: ModelBundle | None = None,
            method: str = "gradcam") -> dict[str, Any]:
    """The figures described in the module docstring, for ``method``'s candidate layers."""
    bundle = bundle or load_default_models()
    results: dict[str, Any] = {"faces": n, "seed": seed, "method": method, "pain": {}, "side": {},
                               "jitter_correlation": {}}
    plain, jittered = EXPLAINERS[method](), EXPLAINERS[method](jitter=True)
    for kind in ("pain", "side"):
        model = bundle.pain if kind == "pain" else bundle.side
        if model is None:
            continue
        layers = CANDIDATES[method].get(model.card.architecture,
                                        ((plain.layer_defaults.get(model.card.architecture)
                                          or default_layer(model.card.architecture), False),))
        rows: dict[str, list[list[float]]] = {_name(*pair): [] for pair in layers}
        correlations = []
        for assessment, changed, side in _faces(n, seed, kind):
            stage = "pain" if kind == "pain" else "side"
            source = MapSource(assessment.geometry, stage, side if stage == "pain" else None)
            inputs = assessment.inputs.halves[side] if stage == "pain" else assessment.inputs.side
            target = 0 if stage == "pain" else (0 if side is Side.LEFT else 1)
            for layer, centre in layers:
                input_map, params = plain.input_map(model, inputs, target, layer=layer, centre=centre)
                explanation = build_explanation(method, model, inputs, target, source, input_map,
                                                params=params)
                rows[_name(layer, centre)].append(_score(assessment, explanation, changed, model, inputs))
            a, _ = plain.input_map(model, inputs, target)
            b, _ = jittered.input_map(model, inputs, target)
            correlations.append(float(np.corrcoef(a.ravel(), b.ravel())[0, 1]))
        for layer, values in rows.items():
            means = np.array(values, dtype=float).mean(axis=0)
            names = ("top_region_hit", "top_density_hit", "top_raising_hit", "mass_in_changed",
                     "area_of_changed", "deletion_minus_random", "deletion_below_random")
            results[kind][layer] = {name: float(v) for name, v in zip(names, means, strict=True)}
        results["jitter_correlation"][kind] = {"median": float(np.median(correlations)),
                                              "min": float(np.min(correlations))}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain layers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=40, help="faces per stage (default 40)")
    parser.add_argument("--seed", type=int, default=99, help="synthetic seed (default 99)")
    parser.add_argument("--method", choices=tuple(CANDIDATES), default="gradcam",
                        help="whose candidate layers to compare (default gradcam)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = measure(args.faces, args.seed, method=args.method)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{args.method} layers on {args.faces} synthetic faces per stage (seed {args.seed}, "
          "true landmarks)")
    for kind in ("pain", "side"):
        for layer, row in results[kind].items():
            print(f"  {kind:5s} {layer:15s} top region changed: by sum {row['top_region_hit']:6.1%}, "
                  f"by density {row['top_density_hit']:6.1%}, most raising {row['top_raising_hit']:6.1%}; "
                  "mass in changed "
                  f"{row['mass_in_changed']:6.1%} (area {row['area_of_changed']:6.1%}); "
                  f"deletion AUC - random {row['deletion_minus_random']:+.3f} "
                  f"(below on {row['deletion_below_random']:.0%})")
    for kind, row in results["jitter_correlation"].items():
        print(f"  jitter vs none ({kind}): correlation median {row['median']:.3f}, min {row['min']:.3f}")
    return 0


__all__ = ["CANDIDATES", "main", "measure"]
