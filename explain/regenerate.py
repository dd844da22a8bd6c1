"""``python -m explain reports``: regenerate every committed explanation report for the installed weights.

One command runs, with the documented seeds and sizes (:data:`FULL`; ``--quick`` uses :data:`QUICK`):

1. **population heatmaps**: a fresh synthetic set (``data.synth``, seed :data:`POPULATION_SEED`, every
   subject with a palsy, balanced PSPI, UNBC layout) rendered into a temporary folder that is deleted
   afterwards, then :func:`explain.population.run` for side / Grad-CAM, pain / Grad-CAM, pain / LIME and
   side and pain / integrated gradients into ``OUT/population/<stage>_<method>/``; each
   ``population.json`` records the set as the command that renders it, not the temporary path;
2. **ground truth** (:mod:`explain.groundtruth`), **faithfulness** (:mod:`explain.faithfulness`) and
   **sanity** (:mod:`explain.sanity`) of :data:`METHODS` on fresh synthetic faces of seed :data:`SEED` into
   ``OUT/groundtruth.json``, ``OUT/faithfulness.json`` and ``OUT/sanity.json``;
3. ``OUT/README.md``, written by :mod:`explain.reports_readme` from those JSON files only (no number is
   typed by hand), with the bench figures of ``OUT/bench.json`` when it is there (the bench is its own
   command, ``python -m explain bench``, because it times the machine rather than the weights).

Every JSON file records which weights it was measured on (:func:`weights_record`: per role the
architecture, the checkpoint's sha256 and creation time, and the training data's description).
Seeds: :data:`SEED` (2026) and :data:`POPULATION_SEED` (4040) were never used for training or to choose
a method (development used seed 7; the demo weights' training seeds are in their cards, and
:func:`check_seeds` refuses weights whose cards name one of these seeds).

Run: ``python -m explain reports [--out explain/reports] [--quick] [--only STEP ...]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.pipeline import ModelBundle, load_bundle, load_default_models

SEED = 2026
POPULATION_SEED = 4040
DEVELOPMENT_SEED = 7
DEFAULT_OUT = Path(__file__).resolve().parent / "reports"
STEPS = ("population", "groundtruth", "faithfulness", "sanity", "readme")
POPULATION_RUNS = (("side", "gradcam"), ("pain", "gradcam"), ("pain", "lime"),
                   ("side", "integrated_gradients"), ("pain", "integrated_gradients"))
#: Methods scored by the ground-truth, faithfulness and sanity reports (HiResCAM and integrated gradients
#: beside the two the acceptance targets are set for; see :mod:`explain.gradcam`).
METHODS = ("gradcam", "lime", "hirescam", "integrated_gradients")


@dataclass(frozen=True)
class Sizes:
    """How many faces each report uses."""

    groundtruth: int = 100
    faithfulness: int = 20
    sanity: int = 20
    population_subjects: int = 20
    population_frames: int = 3


FULL = Sizes()
QUICK = Sizes(groundtruth=8, faithfulness=4, sanity=2, population_subjects=4, population_frames=1)


def population_command(sizes: Sizes) -> str:
    """The command line that renders the population set (recorded instead of the temporary folder)."""
    return (f"python -m data synth --out DIR --subjects {sizes.population_subjects} --frames "
            f"{sizes.population_frames} --seed {POPULATION_SEED} --layout unbc --distribution balanced "
            f"--palsy-fraction 1.0")


def weights_record(bundle: ModelBundle) -> dict[str, Any]:
    """Per role: architecture, checkpoint sha256 (first 16 hex digits), creation time, training data."""
    out: dict[str, Any] = {}
    for role, model in bundle.loaded().items():
        card = model.card
        out[role] = {"architecture": card.architecture,
                     "sha256": str(card.weights.get("sha256", ""))[:16] or None,
                     "created": getattr(card, "created", None),
                     "training_data": card.training_data.get("description")}
    return out


def _seeds(value: Any) -> set[int]:
    """Every integer stored under a key named ``seed`` or ``seeds`` anywhere in a card's data record."""
    found: set[int] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("seed", "seeds"):
                found |= {int(v) for v in (item if isinstance(item, list) else [item]) if isinstance(v, int)}
            else:
                found |= _seeds(item)
    elif isinstance(value, list):
        for item in value:
            found |= _seeds(item)
    return found


def check_seeds(bundle: ModelBundle) -> None:
    """Refuse weights whose training data (as their cards record it) came from one of the report seeds."""
    for role, model in bundle.loaded().items():
        clash = _seeds(model.card.training_data) & {SEED, POPULATION_SEED}
        if clash:
            raise SystemExit(f"The {role} weights were trained on seed {sorted(clash)[0]}, a report seed; "
                             "pick other report seeds.")


def _write(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def run_population(out: Path, bundle: ModelBundle, sizes: Sizes, weights: dict[str, Any],
                   progress: bool) -> None:
    """Render the population set into a temporary folder and write the three population reports."""
    from data.synth import SynthConfig, write_dataset
    from explain.population import run

    described = population_command(sizes)
    with tempfile.TemporaryDirectory(prefix="explain-population-") as folder:
        write_dataset(folder, SynthConfig(subjects=sizes.population_subjects, frames=sizes.population_frames,
                                          seed=POPULATION_SEED, layout="unbc", distribution="balanced",
                                          palsy_fraction=1.0), progress=progress)
        for stage, method in POPULATION_RUNS:
            target = out / "population" / f"{stage}_{method}"
            for old in target.glob("*.png"):
                old.unlink()
            report = run(folder, stage, method, target, bundle=bundle, progress=progress,
                         data_label=described)
            report["weights"] = weights
            _write(target / "population.json", report)


def run(out: Path = DEFAULT_OUT, sizes: Sizes = FULL, *, steps: Sequence[str] = STEPS,
        bundle: ModelBundle | None = None, progress: bool = True,
        methods: Sequence[str] = METHODS, neutral: bool = True) -> dict[str, float]:
    """Regenerate the reports of ``steps`` into ``out``; returns each step's wall time in seconds.
    ``neutral`` adds the idealised neutral-reference LIME to the ground truth."""
    from explain import faithfulness, groundtruth, sanity
    from explain.reports_readme import write_readme

    out = Path(out)
    bundle = bundle or load_default_models()
    check_seeds(bundle)
    weights = weights_record(bundle)
    meta = {"weights": weights, "sizes": asdict(sizes), "command": "python -m explain reports"}
    seconds: dict[str, float] = {}
    for step in steps:
        started = time.perf_counter()
        if step == "population":
            run_population(out, bundle, sizes, weights, progress)
        elif step == "groundtruth":
            scored = (*methods, groundtruth.NEUTRAL_LIME) if neutral else tuple(methods)
            report = groundtruth.evaluate(sizes.groundtruth, SEED, scored,
                                          bundle=bundle, progress=progress)
            _write(out / "groundtruth.json", {**report, **meta})
        elif step == "faithfulness":
            report = faithfulness.evaluate(sizes.faithfulness, SEED, tuple(methods), bundle=bundle,
                                                progress=progress)
            _write(out / "faithfulness.json", {**report, **meta})
        elif step == "sanity":
            report = sanity.evaluate(sizes.sanity, SEED, tuple(methods), bundle=bundle)
            _write(out / "sanity.json", {**report, **meta})
        elif step == "readme":
            write_readme(out)
        else:
            raise ValueError(f"unknown step {step!r}; steps are {', '.join(STEPS)}")
        seconds[step] = round(time.perf_counter() - started, 1)
        if progress:
            print(f"{step}: {seconds[step]:.0f} s", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain reports", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="report folder (default: explain/reports)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not the figures)")
    parser.add_argument("--only", nargs="+", choices=STEPS, default=None, help="run only these steps")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="methods the ground truth, faithfulness and sanity score (default: all)")
    parser.add_argument("--no-neutral", action="store_true",
                        help="leave the idealised neutral-reference LIME out of the ground truth")
    parser.add_argument("--weights", type=Path, default=None, help="weights folder (default: shipped)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    bundle = load_bundle(args.weights) if args.weights else None
    seconds = run(args.out, QUICK if args.quick else FULL, steps=args.only or STEPS, bundle=bundle,
                  methods=args.methods, neutral=not args.no_neutral)
    print(f"Reports written to {args.out} in {sum(seconds.values()):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["DEVELOPMENT_SEED", "FULL", "METHODS", "POPULATION_RUNS", "POPULATION_SEED", "QUICK", "SEED",
           "STEPS", "Sizes", "check_seeds", "main", "population_command", "run", "run_population",
           "weights_record"]
