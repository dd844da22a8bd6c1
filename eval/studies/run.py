"""Render the studies' synthetic datasets and run the seeds' studies; one JSON result.

:class:`StudyConfig` fixes everything (seeds, sizes, budget, networks). The committed run
(``python -m eval studies``) fits this project's 2-core CPU: 64 x 64 faces, 64 x 32 halves, small
datasets, 12 epochs at batch 16 (chosen on a development set, seed 97, where ResNet18 then learns PSPI
and at 5 epochs it did not), and of the cerebral-palsy paper's ten networks the three small ones
(:func:`eval.studies.networks.cpu_subset`). ``--full`` is the paper-sized rerun for a machine with a GPU:
all ten networks at 224 x 224, 30 epochs, larger datasets.

The datasets (``data.synth``; seeds never used elsewhere): ``main`` (faces with and without a palsy, every
layout; PSPI comparison, side comparison, leaky-vs-honest), ``binary`` (UNBC-like PSPI, many pain-free
frames, no palsy: the paper's PAIN-DB role) and ``other`` (every face with a palsy: the CP-PAIN role,
cross-dataset test only).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from eval.studies.networks import PAPER_NETWORKS, cpu_subset


@dataclass(frozen=True)
class SynthSet:
    """One rendered dataset of the studies."""

    subjects: int
    frames: int
    seed: int
    layout: str
    palsy_fraction: float
    distribution: str


def _datasets() -> dict[str, SynthSet]:
    return {"main": SynthSet(30, 6, 2631, "all", 0.6, "balanced"),
            "binary": SynthSet(30, 6, 2633, "binary", 0.0, "unbc"),
            "other": SynthSet(12, 5, 2632, "binary", 1.0, "unbc")}


@dataclass(frozen=True)
class StudyConfig:
    """Everything the studies depend on."""

    datasets: dict[str, SynthSet] = field(default_factory=_datasets)
    epochs: int = 12
    batch_size: int = 16
    lr: float = 1e-3
    k: int = 5
    n_boot: int = 1000
    seed: int = 0
    face_size: int = 64
    pspi_models: tuple[str, ...] = ("simple_cnn", "resnet18", "mobilenet_v2", "efficientnet_b0")
    side_models: tuple[str, ...] = ("side_cnn", "mobilenet_v2")
    paper_networks: tuple[str, ...] = tuple(cpu_subset())
    leaky_model: str = "resnet18"
    studies: tuple[str, ...] = ("comparison", "pain_binary", "leaky")

    def scaled(self, subjects: int, frames: int, epochs: int, k: int, n_boot: int) -> StudyConfig:
        """A small version (tests): every dataset with ``subjects`` x ``frames``."""
        sets = {name: replace(s, subjects=subjects, frames=frames) for name, s in self.datasets.items()}
        return replace(self, datasets=sets, epochs=epochs, k=k, n_boot=n_boot)

    @classmethod
    def full(cls) -> StudyConfig:
        """The paper-sized run for a GPU: all ten networks at 224 x 224, 30 epochs, larger datasets."""
        sets = {"main": SynthSet(120, 10, 2631, "all", 0.6, "balanced"),
                "binary": SynthSet(120, 10, 2633, "binary", 0.0, "unbc"),
                "other": SynthSet(40, 5, 2632, "binary", 1.0, "unbc")}
        return cls(datasets=sets, epochs=30, batch_size=32, face_size=224,
                   paper_networks=tuple(PAPER_NETWORKS))


def render(work: Path, config: StudyConfig, progress: bool = False) -> dict[str, Path]:
    """Render each dataset into ``work/data/<name>`` (reused when already rendered the same way)."""
    from data.synth import SynthConfig, write_dataset

    folders = {}
    for name, s in config.datasets.items():
        folder = work / "data" / name
        synth = SynthConfig(subjects=s.subjects, frames=s.frames, seed=s.seed, layout=s.layout,
                            distribution=s.distribution, palsy_fraction=s.palsy_fraction)
        manifest = folder / "synth_manifest.json"
        if not (manifest.is_file() and json.loads(manifest.read_text())["config"] == asdict(synth)):
            if folder.exists():
                shutil.rmtree(folder)  # never mix the files of two configurations
            write_dataset(folder, synth, progress=progress)
        folders[name] = folder
    return folders


def _layout_dir(folders: dict[str, Path], config: StudyConfig, name: str, layout: str) -> Path:
    """Where ``layout`` of dataset ``name`` lies (a sub-folder only when every layout was written)."""
    return folders[name] / layout if config.datasets[name].layout == "all" else folders[name]


def run_studies(work: Path, config: StudyConfig | None = None, *, threads: int = 1, progress: bool = False,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Render the data, run the configured studies and return their JSON-ready results."""
    from eval.studies.comparison import compare
    from eval.studies.harness import Budget, load_study_data
    from eval.studies.leaky import leaky_study
    from eval.studies.painbinary import pain_binary_study

    config = config or StudyConfig()
    torch.set_num_threads(threads)
    work = Path(work)
    folders = render(work, config, progress)
    # the input cache is keyed by file names, which every seed reuses: one cache per dataset configuration
    cache = work / "cache" / "-".join(f"{name}{s.seed}x{s.subjects}x{s.frames}"
                                      for name, s in config.datasets.items())
    budget = Budget(config.epochs, config.batch_size, config.lr, seed=config.seed)
    face, half = (config.face_size, config.face_size), (config.face_size, config.face_size // 2)
    common = {"n_boot": config.n_boot, "seed": config.seed, "log": log}
    started = time.perf_counter()

    def where(name: str, layout: str) -> Path:
        return _layout_dir(folders, config, name, layout)

    results: dict[str, Any] = {}
    if "comparison" in config.studies or "leaky" in config.studies:
        halves = load_study_data(where("main", "halfface"), "pain", "half_face", half, cache)
    if "comparison" in config.studies:
        log("model comparison")
        sides = load_study_data(where("main", "side"), "side", "aligned_face", face, cache)
        results["comparison"] = {
            "pspi": compare("pain", config.pspi_models, halves, budget, k=config.k, **common),
            "side": compare("side", config.side_models, sides, budget, k=config.k, **common),
        }
    if "pain_binary" in config.studies:
        log("pain / no pain")
        binary = load_study_data(where("binary", "binary"), "pain_binary", "aligned_face", face, cache)
        other = load_study_data(where("other", "binary"), "pain_binary", "aligned_face", face, cache)
        results["pain_binary"] = pain_binary_study(config.paper_networks, binary, other, budget, k=config.k,
                                                   **common)
    if "leaky" in config.studies:
        log("leaky vs honest")
        results["leaky_vs_honest"] = leaky_study(config.leaky_model, halves, budget, **common)
    log(f"studies took {(time.perf_counter() - started) / 60.0:.1f} min")
    return {"studies": results, "config": asdict(config), "threads": threads,
            "cpu_subset_note": ("The committed run trains the networks that fit a 2-core CPU; "
                                "`python -m eval studies --full` trains all of them at the paper's sizes.")}


__all__ = ["StudyConfig", "SynthSet", "render", "run_studies"]
