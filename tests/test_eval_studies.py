"""Protocols measure their leaks; study cells pool held-out predictions and score them per subject."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from data.records import BinaryPainRecord, HalfRecord
from eval.protocols import leakage_summary, make_splits
from eval.studies.cells import baseline_cell, network_cell
from eval.studies.harness import Budget, StudyData
from eval.studies.networks import PAPER_NETWORKS, cpu_subset
from eval.studies.painbinary import tag_records
from faces.sides import Side
from models.preprocess import InputSpec
from models.registry import build_model


def _halves(subjects: int = 6, frames: int = 3) -> list[HalfRecord]:
    halves = (("a", Side.RIGHT), ("b", Side.LEFT))
    return [HalfRecord(Path(f"/d/s{s}_f{f}_{h}.png"), f"s{s}", f"s{s}_f{f}", side, float((s + f) % 5))
            for s in range(subjects) for f in range(frames) for h, side in halves]


def _data(records: list, kind: str = "half_face", binary: bool = False) -> StudyData:
    rng = np.random.default_rng(0)
    targets = np.array([float(r.pain) if binary else r.pspi for r in records], dtype=np.float32)
    images = np.clip(40 + 25 * targets[:, None, None, None] + rng.normal(0, 5, (len(records), 3, 32, 16)),
                     0, 255).astype(np.uint8)
    return StudyData(torch.from_numpy(images), torch.from_numpy(targets), records, InputSpec(kind, 32, 16))


def test_the_report_protocol_leaks_everything_and_subject_wise_nothing() -> None:
    records = _halves()
    report = leakage_summary(make_splits("report", records, seed=0))
    assert not report["leak_free"]
    assert report["held_out_fraction_sharing"] == {"same_image": 1.0, "same_frame": 1.0, "same_subject": 1.0}
    by_image = leakage_summary(make_splits("random_image", records, seed=0))
    assert by_image["held_out_fraction_sharing"]["same_image"] == 0.0
    assert by_image["held_out_fraction_sharing"]["same_frame"] > 0.5  # the other half of a frame
    frame = leakage_summary(make_splits("random", records, seed=0))
    assert frame["held_out_fraction_sharing"]["same_frame"] == 0.0
    assert frame["held_out_fraction_sharing"]["same_subject"] > 0
    for protocol in ("subject", "kfold"):
        assert leakage_summary(make_splits(protocol, records, k=3, seed=0))["leak_free"]
    folds = make_splits("kfold_image", records, k=3, seed=0)
    assert len(folds) == 3 and not leakage_summary(folds)["leak_free"]
    with pytest.raises(ValueError):
        make_splits("cross_dataset", records)


def test_cross_dataset_records_of_different_people_do_not_collide() -> None:
    ours = [BinaryPainRecord(Path(f"/a/s{s}_{f}.png"), f"s{s}", bool(f % 2), f"s{s}_{f}") for s in range(3)
            for f in range(2)]
    theirs = [BinaryPainRecord(Path(f"/b/s{s}_{f}.png"), f"s{s}", bool(f % 2), f"s{s}_{f}") for s in range(2)
              for f in range(2)]
    other = tag_records(_data(theirs, "aligned_face", binary=True), "other")
    (split,) = make_splits("cross_dataset", ours, test_records=other.records)
    assert split.leak_free and other.records[0].subject == "other:s0"


def test_kfold_cells_hold_every_record_out_once_and_beat_the_baseline() -> None:
    data = _data(_halves())
    splits = make_splits("kfold", data.records, k=3, seed=0)
    budget = Budget(epochs=6, batch_size=8, lr=3e-3)
    torch.set_num_threads(1)
    cell = network_cell(lambda: build_model("simple_cnn", outputs=1), "pain", splits, data, budget,
                        n_boot=100)
    base = baseline_cell("pain", splits, data, n_boot=100)
    assert cell["n"] == base["n"] == len(data.records) and cell["subjects"] == 6
    assert cell["leakage"]["leak_free"] and cell["intervals"]["mae"]["n_units"] == 6
    assert cell["metrics"]["mae"] < base["metrics"]["mae"]
    again = network_cell(lambda: build_model("simple_cnn", outputs=1), "pain", splits, data, budget,
                         n_boot=100)
    assert again == cell  # fixed seeds, one thread: deterministic


def test_the_paper_networks_are_offered_by_name() -> None:
    assert set(PAPER_NETWORKS) == {"alexnet", "vgg16", "vgg19", "resnet50", "resnet101", "xception",
                                   "inception_v3", "songnet", "weinet", "silnet"}
    assert cpu_subset() == ["songnet", "weinet", "silnet"]
    for name in ("songnet", "weinet", "silnet", "xception"):
        net = PAPER_NETWORKS[name].build(2).eval()
        assert net(torch.zeros(2, 3, 64, 64)).shape == (2, 2)


def test_rendering_another_configuration_replaces_the_old_files(tmp_path) -> None:
    from dataclasses import replace

    from eval.studies.run import StudyConfig, SynthSet, render

    def config(seed: int) -> StudyConfig:
        return replace(StudyConfig(), datasets={"binary": SynthSet(2, 2, seed, "binary", 0.0, "unbc")})

    folder = render(tmp_path, config(5))["binary"]
    first = sorted(p.relative_to(folder) for p in folder.rglob("*.png"))
    render(tmp_path, config(6))
    second = sorted(p.relative_to(folder) for p in folder.rglob("*.png"))
    fresh = render(tmp_path / "fresh", config(6))["binary"]
    assert len(first) == 4 and second == sorted(p.relative_to(fresh) for p in fresh.rglob("*.png"))
