"""The evaluation report of a weights folder on a labelled dataset, and the committed report of the
shipped demo weights on a fresh synthetic test set.

``python -m eval demo-report`` renders a test set of 40 new synthetic subjects x 10 frames, each with a
palsy on one side, from :data:`FRESH_SEED` (a seed no training, validation or development set used: the
demo weights were trained on seeds 1 and 2 and chosen on seed 99), assesses every photo with the
shipped weights and writes ``eval/reports/demo_report.json`` (read by the dashboard) and
``demo_report.html``. One thread and fixed seeds make it deterministic: rerunning gives the same JSON.

Baselines take their constants from the models' training splits as recorded in the model cards: the
PSPI mean and median of the full-face model's training frames, the side classes' counts of the side
model's training split.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from eval.baselines import fraction_above, training_stats_from_card
from eval.collect import collect
from eval.html import render_html
from eval.report import build_report

#: Seed of the fresh synthetic test set of the committed report (never used for anything else).
FRESH_SEED = 2611
TEST_SUBJECTS, TEST_FRAMES = 40, 10
EXPLAIN_REPORTS = Path(__file__).resolve().parent.parent / "explain" / "reports"


def render_test_set(work: Path, seed: int = FRESH_SEED, subjects: int = TEST_SUBJECTS,
                    frames: int = TEST_FRAMES, progress: bool = False) -> Path:
    """Render (or reuse) the test set: UNBC layout, balanced PSPI, every subject with a palsy."""
    from dataclasses import asdict

    from data.synth import SynthConfig, write_dataset

    folder = Path(work) / f"test-seed{seed}-{subjects}x{frames}"
    config = SynthConfig(subjects=subjects, frames=frames, seed=seed, layout="unbc", distribution="balanced",
                         palsy_fraction=1.0)
    manifest = folder / "synth_manifest.json"
    if not (manifest.is_file() and json.loads(manifest.read_text())["config"] == asdict(config)):
        if folder.exists():
            shutil.rmtree(folder)  # never mix the files of two configurations
        write_dataset(folder, config, progress=progress)
    return folder


def training_baselines(bundle: Any, threshold: float = 0.0) -> dict[str, Any]:
    """Baseline constants from the cards of a :class:`models.pipeline.ModelBundle` (see module doc)."""
    reference = bundle.full_face_pain or bundle.pain
    pspi = training_stats_from_card(reference.card.to_dict())
    pspi["fraction_positive"] = fraction_above(pspi["histogram"], threshold)
    pspi["from"] = f"{reference.role} model's training split"
    out: dict[str, Any] = {"pspi": pspi}
    if bundle.side is not None:
        side = training_stats_from_card(bundle.side.card.to_dict())
        if "counts" not in side:
            # trained on frames labelled with PSPI (the side comes from the palsy record, or even odds
            # without one): every face is also shown mirrored with the label swapped, so the prior is even
            side = {"counts": {"left": 1, "right": 1}, "n": side.get("n"),
                    "note": "even prior: mirror augmentation swaps the label of every training face"}
        out["side"] = {**side, "from": "side model's training split"}
    return out


def _models(bundle: Any) -> dict[str, Any]:
    return {role: {"architecture": m.card.architecture, "input": m.card.input,
                   "weights_sha256": m.card.weights.get("sha256"),
                   "trained_on": m.card.training_data.get("description")}
            for role, m in bundle.loaded().items()}


def seed_check(bundle: Any, seed: int) -> dict[str, Any]:
    """Whether the test set's seed differs from every seed the models' training data was rendered with
    (synthetic identities derive from the dataset seed, so a different seed shares no subject)."""
    used = {}
    for role, model in bundle.loaded().items():
        synthetic = (model.card.training_data or {}).get("synthetic") or {}
        used[role] = (synthetic.get("config") or {}).get("seed")
    clean = seed not in used.values() and None not in used.values()
    verdict = ("no leakage: the test set's seed differs from every training set's seed" if clean else
               "cannot rule out leakage: a model was trained on the same seed or on unrecorded data")
    return {"test_seed": seed, "training_seeds": used, "leak_free": clean, "verdict": verdict}


def explanation_scores(reports_dir: Path = EXPLAIN_REPORTS) -> dict[str, Any]:
    """Explanation scores per model (pointing game against the known causes, deletion / insertion AUC),
    read from the reports :mod:`explain` commits (``explain/reports/*.json``, e.g.
    ``python -m explain.groundtruth``) without their per-case rows; a note when there are none."""
    found: dict[str, Any] = {}
    for path in sorted(Path(reports_dir).glob("*.json")) if Path(reports_dir).is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            found[path.stem] = {k: v for k, v in data.items() if not (isinstance(v, list) and len(v) > 50)}
    if not found:
        return {"status": "not available: no explanation report in explain/reports yet"}
    return {"status": "from explain/reports", "reports": found}


def write_report(data_dir: Path, weights_dir: Path | None, out_dir: Path, *, studies: Path | None = None,
                 threshold: float = 0.0, n_boot: int = 1000, seed: int = 0, limit: int | None = None,
                 progress: bool = True, command: str = "", name: str = "report",
                 data_description: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assess ``data_dir`` with the models of ``weights_dir`` and write ``<name>.json`` / ``<name>.html``."""
    from models.pipeline import WEIGHTS_DIR, load_bundle

    bundle = load_bundle(weights_dir or WEIGHTS_DIR, device="cpu")
    results, summary = collect(Path(data_dir), bundle, limit=limit, progress=progress)
    data = {**(data_description or {"folder": Path(data_dir).name}), **summary}
    report = build_report(results, training_baselines(bundle, threshold), threshold=threshold,
                          n_boot=n_boot, seed=seed, data=data, models=_models(bundle))
    report["command"] = command
    report["curves"] = {role: {"curves": m.card.curves} for role, m in bundle.loaded().items()}
    report["explanations"] = explanation_scores()
    if studies is not None and Path(studies).is_file():
        report["studies"] = json.loads(Path(studies).read_text(encoding="utf-8"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out_dir / f"{name}.html").write_text(render_html(report, "Evaluation of the demo weights"),
                                          encoding="utf-8")
    return report


def build_demo_report(work: Path, out_dir: Path, *, seed: int = FRESH_SEED, subjects: int = TEST_SUBJECTS,
                      frames: int = TEST_FRAMES, studies: Path | None = None, weights_dir: Path | None = None,
                      n_boot: int = 1000, progress: bool = True) -> dict[str, Any]:
    """Render the fresh test set and write ``demo_report.json`` / ``.html`` (see module doc)."""
    import torch

    torch.set_num_threads(1)
    folder = render_test_set(work, seed, subjects, frames, progress)
    description = {"description": (f"fresh synthetic test set: {subjects} subjects x {frames} frames, seed "
                                   f"{seed} (used for nothing else), every subject with a palsy on one side, "
                                   "balanced PSPI, UNBC layout; whole pipeline with dlib landmarks"),
                   "seed": seed}
    from models.pipeline import WEIGHTS_DIR, load_bundle

    description["leakage"] = seed_check(load_bundle(weights_dir or WEIGHTS_DIR, device="cpu"), seed)
    command = "python -m eval demo-report" + (f" --seed {seed}" if seed != FRESH_SEED else "")
    return write_report(folder, weights_dir, out_dir, studies=studies, n_boot=n_boot, progress=progress,
                        command=command, name="demo_report", data_description=description)


__all__ = ["FRESH_SEED", "build_demo_report", "explanation_scores", "render_test_set", "seed_check",
           "training_baselines", "write_report"]
