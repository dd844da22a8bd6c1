"""Speed (and, on labelled synthetic faces, accuracy) of the pipeline beside the earlier app's shape.

``python -m models bench`` measures, on a 1-megapixel photo (``skimage.data.astronaut`` upscaled to
1000 x 1000):

- **cold start**: a fresh interpreter importing the pipeline, loading the models and assessing the photo
  once (the time a person waits after launching), split into its parts;
- **median assess latency** over repeated calls (no explanations): face stage, side model, pain model;
- the same for **the earlier Streamlit app's pipeline shape** (:func:`legacy_assess`): the whole photo
  resized into the side model, the image split at its centre column, the chosen half stretched to
  224 x 224 into the pain model. Its side label is read as an *image* side, as a bare "left"/"right"
  invites; in a non-mirrored photo that sends the affected half, which is the mistake this project
  avoids. It runs on the same networks, so the comparison isolates the pipeline shape.

With ``--data DIR`` (a dataset of full-face synthetic images with ``<stem>.truth.json`` beside each, or
any full-face layout whose records carry the affected side / PSPI) both pipelines are also scored: side
accuracy, how often the truly unaffected half was the one scored, and PSPI MAE against the ground truth of
the unaffected half. Both run as deployed: faces are detected, dataset landmarks are not used.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from eval.metrics import accuracy, mae
from faces.sides import ImageSide, Side, patient_side
from models.checkpoint import ModelCard, save_checkpoint
from models.pipeline import ModelBundle, assess, clamp_pspi, load_bundle
from models.preprocess import InputSpec, normalise
from models.registry import SIDE_CLASSES, build_model

LEGACY_PAIN_SIZE = (224, 224)


def benchmark_photo(side: int = 1000) -> np.ndarray:
    """``skimage.data.astronaut()`` (512 x 512) upscaled to ``side x side`` RGB uint8 (1 MP by default)."""
    from skimage import data

    return cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_CUBIC)


def random_weights(folder: Path, *, seed: int = 0) -> Path:
    """Write randomly initialised default models (side_cnn 128x128, resnet18 128x64) for timing only."""
    torch.manual_seed(seed)
    note = "Random initialisation, written for timing only: its outputs mean nothing."
    for role, arch, task, kind, outputs in (("side", "side_cnn", "side", "aligned_face", 2),
                                            ("pain", "resnet18", "pain", "half_face", 1)):
        card = ModelCard(architecture=arch, task=task, outputs=outputs,
                         input=InputSpec.default(kind).to_dict(), notes=[note],
                         training_data={"description": "none (random weights)"})
        save_checkpoint(build_model(arch, outputs=outputs).eval(), card, folder / role)
    return folder


@dataclass(frozen=True)
class LegacyResult:
    """What the earlier app's pipeline shape produces for one photo.

    ``side_label`` is the bare label the side model gave ("left" / "right"); ``half_image_side`` the
    image half it then scored (the other image half, reading the label as an image side);
    ``half_patient_side`` the patient side that half shows in a non-mirrored photo.
    """

    side_label: str
    half_image_side: ImageSide
    half_patient_side: Side
    pspi: float
    timings_ms: dict[str, float]


@torch.no_grad()
def legacy_assess(image: np.ndarray, bundle: ModelBundle) -> LegacyResult:
    """The earlier app's shape on our networks: no face detection, image-centre split, stretched half."""
    if bundle.side is None:
        raise ValueError("The legacy shape needs a side model")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    side_spec = bundle.side.spec
    whole = cv2.resize(image, (side_spec.width, side_spec.height), interpolation=cv2.INTER_AREA)
    x = normalise(torch.from_numpy(whole).permute(2, 0, 1)[None].contiguous(), side_spec)
    probs = torch.softmax(bundle.side.network(x.to(bundle.side.device)), dim=1)[0]
    label = SIDE_CLASSES[int(probs.argmax())].value
    timings["side_model"] = (time.perf_counter() - start) * 1000.0
    t = time.perf_counter()
    affected_image_side = ImageSide(label)
    used = ImageSide.RIGHT if affected_image_side is ImageSide.LEFT else ImageSide.LEFT
    mid = image.shape[1] // 2
    half = image[:, :mid] if used is ImageSide.LEFT else image[:, mid:]
    stretched = cv2.resize(half, LEGACY_PAIN_SIZE[::-1], interpolation=cv2.INTER_AREA)
    pain_spec = bundle.pain.spec
    x = normalise(torch.from_numpy(stretched).permute(2, 0, 1)[None].contiguous(), pain_spec)
    pspi = float(bundle.pain.network(x.to(bundle.pain.device))[0, 0])
    timings["pain_model"] = (time.perf_counter() - t) * 1000.0
    timings["total"] = (time.perf_counter() - start) * 1000.0
    return LegacyResult(label, used, patient_side(used, mirrored=False), clamp_pspi(pspi), timings)


def _median_ms(values: list[float]) -> float:
    return round(float(statistics.median(values)), 2)


def latency(image: np.ndarray, bundle: ModelBundle, repeats: int = 20) -> dict[str, Any]:
    """Median per-step timings (ms) of :func:`assess` and :func:`legacy_assess` after one warm-up each."""
    assess(image, models=bundle)
    legacy_assess(image, bundle)
    ours: dict[str, list[float]] = {}
    theirs: dict[str, list[float]] = {}
    for _ in range(repeats):
        for key, value in assess(image, models=bundle).timings_ms.items():
            ours.setdefault(key, []).append(value)
        for key, value in legacy_assess(image, bundle).timings_ms.items():
            theirs.setdefault(key, []).append(value)
    return {"repeats": repeats,
            "pipeline_ms": {k: _median_ms(v) for k, v in ours.items()},
            "legacy_ms": {k: _median_ms(v) for k, v in theirs.items()}}


_COLD_START = """
import json, sys, time
t0 = time.perf_counter()
import torch
torch.set_num_threads(int(sys.argv[3]))
from models.pipeline import assess, load_default_models
t1 = time.perf_counter()
bundle = load_default_models(sys.argv[1])
t2 = time.perf_counter()
assess(sys.argv[2], models=bundle)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_models_s": t2 - t1, "first_assess_s": t3 - t2,
                  "result_at": time.time()}))
"""


def cold_start(weights_dir: Path, photo_path: Path, threads: int) -> dict[str, float]:
    """A fresh interpreter importing the pipeline, loading the models and assessing ``photo_path``.

    ``to_first_result_s`` runs from launching the process to the first assessment being ready (the
    wait a person sees); ``process_s`` also includes the interpreter's shutdown.
    """
    root = Path(__file__).resolve().parent.parent
    started_wall, started = time.time(), time.perf_counter()
    command = [sys.executable, "-c", _COLD_START, str(weights_dir), str(photo_path), str(threads)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    process = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold-start run failed: {done.stderr.strip()[-2000:]}")
    parts = json.loads(done.stdout.strip().splitlines()[-1])
    first = parts.pop("result_at") - started_wall
    return {"to_first_result_s": round(first, 3), "process_s": round(process, 3),
            **{k: round(v, 3) for k, v in parts.items()}}


def _truth(record: Any) -> tuple[Side | None, float | None]:
    """(affected patient side, PSPI of the unaffected half) from ``<stem>.truth.json`` or the record."""
    path = Path(record.image_path)
    truth_file = path.with_name(path.stem + ".truth.json")
    if truth_file.is_file():
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        palsy = truth.get("palsy")
        per_side = truth.get("pspi") or {}
        if palsy:
            affected = Side.parse(palsy["side"])
            return affected, float(per_side.get(affected.opposite.value, truth.get("pspi_true", 0.0)))
        values = [float(v) for v in per_side.values()]
        return None, (sum(values) / len(values) if values else None)
    affected = getattr(record, "affected_side", None) or getattr(record, "palsy_side", None)
    pspi = getattr(record, "pspi", None)
    return affected, (None if pspi is None else float(pspi))


def accuracy_on(data_dir: Path, bundle: ModelBundle, limit: int = 50) -> dict[str, Any]:
    """Score both pipeline shapes on up to ``limit`` full-face images of ``data_dir`` (see module doc)."""
    from data.layouts import load_any
    from data.records import HalfRecord
    from faces import read_image
    from faces.errors import FaceInputError

    records = [r for r in load_any(data_dir) if not isinstance(r, HalfRecord)][:limit]
    if not records:
        raise ValueError(f"{data_dir} holds no full-face images to benchmark on")
    rows = {"pipeline": [], "legacy": []}
    failures = 0
    for record in records:
        affected, target = _truth(record)
        try:
            image = read_image(record.image_path)
            ours = assess(image, models=bundle)
        except FaceInputError:
            failures += 1
            continue
        theirs = legacy_assess(image, bundle)
        rows["pipeline"].append((affected, target, ours.affected_side, ours.unaffected_side,
                                 ours.pspi.unaffected_half))
        rows["legacy"].append((affected, target, Side.parse(theirs.side_label), theirs.half_patient_side,
                               theirs.pspi))
    report: dict[str, Any] = {"images": len(records), "face_not_found": failures}
    for name, items in rows.items():
        sided = [r for r in items if r[0] is not None]
        scored = [r for r in items if r[1] is not None]
        report[name] = {
            "side_accuracy": _rounded(accuracy([r[2] for r in sided], [r[0] for r in sided])),
            "scored_the_unaffected_half": _rounded(accuracy([r[3] for r in sided],
                                                            [r[0].opposite for r in sided])),
            "pspi_mae": _rounded(mae([r[4] for r in scored], [r[1] for r in scored])),
            "n_with_side": len(sided),
            "n_with_pspi": len(scored),
        }
    return report


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


#: ``--layout`` choices: the deployed networks' weight layout for the latency (see ``models.networks``).
LAYOUTS = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}


def run_bench(weights_dir: Path | None = None, *, repeats: int = 20, threads: int = 2,
              data_dir: Path | None = None, limit: int = 50, layout: str = "channels_last") -> dict[str, Any]:
    """Cold start, latency and (with ``data_dir``) accuracy of both pipeline shapes; returns the report.

    ``layout`` puts the loaded networks' weights in that memory layout before the latency is measured
    (``"channels_last"``, what :func:`models.networks.deployed` ships, or ``"contiguous"``, to compare);
    the cold start always runs the shipped pipeline."""
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_dir = Path(tmp)
        note = None
        if weights_dir is None:
            weights_dir = random_weights(tmp_dir / "weights")
            note = "random-initialised side_cnn 128x128 + resnet18 128x64 (timing only, no accuracy)"
        photo = benchmark_photo()
        photo_path = tmp_dir / "astronaut_1mp.png"
        cv2.imwrite(str(photo_path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        cold = cold_start(weights_dir, photo_path, threads)
        bundle = load_bundle(weights_dir)
        for loaded in bundle.loaded().values():
            loaded.network.to(memory_format=LAYOUTS[layout])
        report: dict[str, Any] = {
            "photo": "skimage.data.astronaut upscaled to 1000x1000 (1 MP)",
            "threads": threads,
            "weights_layout": layout,
            "device": str(bundle.device),
            "weights": note or str(weights_dir),
            "models": {role: m.describe() for role, m in bundle.loaded().items()},
            "cold_start": cold,
            "latency": latency(photo, bundle, repeats),
            "targets": {"cold_start_s": 3.0, "median_assess_ms": 150.0},
        }
        if data_dir is not None:
            report["accuracy"] = accuracy_on(Path(data_dir), bundle, limit)
    return report


def format_report(report: dict[str, Any]) -> str:
    """Plain-text table of :func:`run_bench`'s report."""
    lat = report["latency"]
    ours, theirs = lat["pipeline_ms"], lat["legacy_ms"]
    cold = report["cold_start"]
    lines = [
        f"photo: {report['photo']}; {report['threads']} threads on {report['device']}; "
        f"weights {report.get('weights_layout', 'channels_last')}",
        f"models: {report['weights']}",
        f"cold start to first result: {cold['to_first_result_s']:.2f} s (import {cold['import_s']:.2f} s, "
        f"load models {cold['load_models_s']:.2f} s, first assess {cold['first_assess_s']:.2f} s); "
        f"target < {report['targets']['cold_start_s']:.0f} s",
        f"median latency over {lat['repeats']} runs (ms)      this pipeline   earlier app shape",
    ]
    for key in ("face", "side_model", "pain_model", "full_face_model", "total"):
        lines.append(f"  {key:<36}{_fmt(ours.get(key), 1):>14}{_fmt(theirs.get(key), 1):>20}")
    lines.append(f"  target for this pipeline's total: < {report['targets']['median_assess_ms']:.0f} ms")
    if "accuracy" in report:
        acc = report["accuracy"]
        lines.append(f"on {acc['images']} labelled images ({acc['face_not_found']} without a face found):")
        for key in ("side_accuracy", "scored_the_unaffected_half", "pspi_mae"):
            a, b = acc["pipeline"][key], acc["legacy"][key]
            lines.append(f"  {key:<36}{_fmt(a):>14}{_fmt(b):>20}")
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


__all__ = [
    "LAYOUTS",
    "LegacyResult",
    "accuracy_on",
    "benchmark_photo",
    "cold_start",
    "format_report",
    "latency",
    "legacy_assess",
    "random_weights",
    "run_bench",
]
