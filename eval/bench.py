"""``python -m eval bench``: one table of the project's speed, each figure beside its floor or reference.

Measured side by side in one run (median, min and max over repeated runs; ``--quick`` for a short pass):

1. **assess** on 1-megapixel photos (the astronaut and a fresh synthetic face, enlarged), per stage
   (face, side model, pain model, full-face model, total), beside the **physical floor** (the bare
   forward passes of the networks used, no jitter or mirror averaging, on the same inputs) and the
   **earlier app's pipeline shape** (:func:`models.bench.legacy_assess`: whole photo into the side
   model, centre split, stretched half);
2. **Grad-CAM** per stage beside one deployed forward pass and beside pytorch-grad-cam's ``GradCAM`` on
   the same network and layer (the ``grad-cam`` package, a test-only dependency; its rows are left out
   when it is not installed);
3. **LIME**: ours at its defaults beside the ``lime`` package's defaults, time and deletion AUC
   (:func:`explain.bench.measure_photo`);
4. **throughput**: population heatmaps (faces per second, :func:`explain.bench.population_throughput`)
   and evaluation (photos per second through :func:`eval.collect.collect` on a fresh synthetic set);
5. **the dashboard's client round trip** of ``/assess`` with Grad-CAM, p50 and p95, with 1 and with 8
   clients at once (``python -m app.bench`` in a child process: this package does not import the app).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
#: Seed of the synthetic faces used here (not used for training or any other figure).
BENCH_SEED = 5151

Row = tuple[str, list[float], str]  # (measure, values, unit)


def _repeat(call: Callable[[], Any], repeats: int) -> list[float]:
    """Milliseconds of ``repeats`` calls after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def bench_photos() -> dict[str, np.ndarray]:
    """The astronaut portrait and a fresh synthetic face, both enlarged to about one megapixel."""
    from skimage import data as skdata

    from data.synth import render_face, sample_frame_spec, sample_identity
    from explain.bench import megapixel

    spec = sample_frame_spec(np.random.default_rng(BENCH_SEED), sample_identity(BENCH_SEED), "balanced")
    return {"astronaut": megapixel(skdata.astronaut()), "synthetic": megapixel(render_face(spec).image)}


def pipeline_rows(bundle: Any, photos: dict[str, np.ndarray], repeats: int) -> list[Row]:
    """assess per stage, the bare forward passes on the same inputs, and the earlier app's shape."""
    from models.bench import legacy_assess
    from models.pipeline import assess, raw_network

    stages: dict[str, list[float]] = {}
    floor: dict[str, list[float]] = {}
    legacy: list[float] = []
    for photo in photos.values():
        result = assess(photo, models=bundle)
        for _ in range(repeats):
            for key, value in assess(photo, models=bundle).timings_ms.items():
                if "." not in key:
                    stages.setdefault(key, []).append(value)
        inputs = result.inputs
        halves = torch.cat(list(inputs.halves.values()))
        jobs = (("side model", bundle.side, inputs.side), ("pain model, both halves", bundle.pain, halves),
                ("full-face model", bundle.full_face_pain, inputs.full_face))
        with torch.no_grad():
            for name, model, x in jobs:
                if model is not None and x is not None:
                    network = raw_network(model.model)
                    floor.setdefault(name, []).extend(_repeat(lambda n=network, t=x: n(t), repeats))
        legacy.extend(_repeat(lambda p=photo: legacy_assess(p, bundle), repeats))
    rows: list[Row] = [(f"assess: {key.replace('_', ' ')}", values, "ms") for key, values in stages.items()]
    rows += [(f"floor: bare forward pass, {name}", values, "ms") for name, values in floor.items()]
    rows.append(("earlier app's pipeline shape, whole assess", legacy, "ms"))
    return rows


def _reference_gradcam(model: Any, inputs: torch.Tensor, target: int, layer_name: str) -> Callable[[], Any]:
    """A call of pytorch-grad-cam's GradCAM on the raw network at the same layer (our own target)."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from models.pipeline import raw_network

    network = raw_network(model.model)
    layer = dict(network.named_modules())[layer_name]
    cam = GradCAM(model=network, target_layers=[layer])
    return lambda: cam(input_tensor=inputs, targets=[ClassifierOutputTarget(target)])


def explanation_rows(bundle: Any, photos: dict[str, np.ndarray], repeats: int) -> list[Row]:
    """Grad-CAM against a forward pass and pytorch-grad-cam; our LIME against the lime package."""
    from explain.bench import measure_photo, stage_jobs
    from explain.gradcam import default_layer
    from models.pipeline import assess

    try:
        import pytorch_grad_cam  # noqa: F401
        reference = True
    except ImportError:
        reference = False
    values: dict[tuple[str, str], list[float]] = {}
    for photo in photos.values():
        result = assess(photo, models=bundle)
        for stage, row in measure_photo(result, bundle, repeats).items():
            for key, value in row.items():
                values.setdefault((stage, key), []).append(value * 1000.0 if key.endswith("_s") else value)
        if reference:
            for stage, (model, inputs, target, _source) in stage_jobs(result, bundle).items():
                call = _reference_gradcam(model, inputs, target, default_layer(model.card.architecture))
                values.setdefault((stage, "reference_gradcam_s"), []).extend(_repeat(call, repeats))
    labels = (("forward_s", "one deployed forward pass", "ms"), ("gradcam_s", "Grad-CAM (ours)", "ms"),
              ("reference_gradcam_s", "pytorch-grad-cam GradCAM, same layer", "ms"),
              ("gradcam_over_forward", "Grad-CAM / forward pass (target <= 3)", "x"),
              ("lime_s", "LIME, ours (regions, 128 samples)", "ms"),
              ("lime_reference_s", "LIME, lime package defaults (quickshift, 1000)", "ms"),
              ("lime_deletion", "deletion AUC, our LIME (lower is better)", ""),
              ("lime_reference_deletion", "deletion AUC, lime package defaults", ""),
              ("gradcam_deletion", "deletion AUC, Grad-CAM", ""),
              ("gradcam_random_deletion", "deletion AUC, random orderings (mean of 10)", ""))
    return [(f"{stage}: {label}", values[(stage, key)], unit) for stage in ("side", "pain")
            for key, label, unit in labels if (stage, key) in values]


def throughput_rows(bundle: Any, faces: int) -> list[Row]:
    """Population heatmaps and evaluation, in images per second."""
    from data.synth import SynthConfig, write_dataset
    from eval.collect import collect
    from explain.bench import population_throughput

    rows: list[Row] = [(f"population heatmaps: {key.replace('_', ' ')}", [value], "faces/s")
                       for key, value in population_throughput(bundle, faces).items()]
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(folder, SynthConfig(subjects=max(2, faces // 8), frames=4, seed=BENCH_SEED,
                                          layout="unbc", palsy_fraction=1.0), progress=False)
        started = time.perf_counter()
        results, _ = collect(Path(folder), bundle, progress=False)
        rows.append(("evaluation: photos through the whole pipeline",
                     [len(results) / (time.perf_counter() - started)], "photos/s"))
    return rows


def client_rows(repeats: int, clients: tuple[int, ...]) -> list[Row]:
    """The dashboard's ``/assess`` round trip (Grad-CAM), from ``python -m app.bench --json``."""
    rows: list[Row] = []
    for count in clients:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, "-m", "app.bench", "--clients", str(count), "--repeats", str(repeats),
                       "--methods", "Grad-CAM", "--json", out.name]
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
            if done.returncode != 0:  # say why, not only that it failed
                tail = "\n".join(done.stderr.strip().splitlines()[-15:])
                raise RuntimeError(f"{' '.join(command[1:])} exited with {done.returncode}:\n{tail}")
            times = json.loads(Path(out.name).read_text())["Grad-CAM"]
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        rows.append((f"dashboard /assess + Grad-CAM, {count} client(s): p50", [float(np.median(times))], "s"))
        rows.append((f"dashboard /assess + Grad-CAM, {count} client(s): p95", [p95], "s"))
    return rows


def format_table(rows: list[Row]) -> str:
    lines = [f"{'measure':66}{'median':>10}{'min':>10}{'max':>10}  unit"]
    for name, values, unit in rows:
        median, low, high = float(np.median(values)), float(np.min(values)), float(np.max(values))
        digits = 3 if unit in ("", "x", "s") else 1
        lines.append(f"{name:66}{median:>10.{digits}f}{low:>10.{digits}f}{high:>10.{digits}f}  {unit}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller throughput runs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-dashboard", action="store_true", help="leave out the client round trips")
    args = parser.parse_args(argv)
    from models.pipeline import load_default_models

    torch.set_num_threads(args.threads)
    repeats, faces = (3, 16) if args.quick else (10, 64)
    bundle = load_default_models()
    photos = bench_photos()
    rows = pipeline_rows(bundle, photos, repeats)
    rows += explanation_rows(bundle, photos, repeats)
    rows += throughput_rows(bundle, faces)
    if not args.no_dashboard:
        rows += client_rows(4 if args.quick else 12, (1, 8))
    sizes = ", ".join(f"{name} {photo.shape[1]}x{photo.shape[0]}" for name, photo in photos.items())
    print(f"python -m eval bench{' --quick' if args.quick else ''}: {repeats} repeats, {args.threads} "
          f"threads, photos: {sizes}")
    print(format_table(rows))
    return 0
