"""Training engine: a few steps on tiny generated data lower the loss; runs resume; leaks are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from data.layouts import write_half_face_pair, write_side_labels
from faces.sides import Side
from models.augment import augment
from models.checkpoint import load_checkpoint
from models.epochs import evaluate, train_one_epoch
from models.preprocess import InputSpec
from models.registry import build_model
from models.train import TrainConfig, TrainingError, run_training, validation_metrics


def _half(level: float, rng: np.random.Generator) -> np.ndarray:
    """A 40 x 20 half whose brightness encodes the PSPI (learnable), plus noise."""
    base = 40 + 12 * level
    return np.clip(base + rng.normal(0, 4, (40, 20, 3)), 0, 255).astype(np.uint8)


def _half_face_dataset(root, subjects: int = 6, frames: int = 4) -> None:
    rng = np.random.default_rng(0)
    for s in range(subjects):
        for f in range(frames):
            pspi = float((s + f) % 8)
            write_half_face_pair(root, f"s{s:03d}_f{f:03d}", _half(pspi, rng), _half(pspi, rng)[:, ::-1],
                                 pspi, pspi)


def test_a_few_epochs_lower_the_loss() -> None:
    torch.manual_seed(0)
    spec = InputSpec(kind="half_face", height=32, width=16)
    rng = np.random.default_rng(1)
    targets = torch.tensor(rng.integers(0, 8, 64), dtype=torch.float32)
    stacked = np.stack([_half(float(t), rng) for t in targets])[:, :32, :16]
    images = torch.from_numpy(stacked.transpose(0, 3, 1, 2).copy())
    model = build_model("simple_cnn", outputs=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    before, _ = evaluate(model, images, targets, spec, "pain")
    for epoch in range(8):
        train_one_epoch(model, images, targets, spec, "pain", optimizer, batch_size=16,
                        generator=torch.Generator().manual_seed(epoch))
    after, outputs = evaluate(model, images, targets, spec, "pain")
    assert after < 0.5 * before
    metrics = validation_metrics("pain", outputs, targets, targets)
    assert metrics["mae"] < metrics["baseline_mean_mae"]


def test_side_augmentation_swaps_labels_with_the_flip_and_halves_are_never_flipped() -> None:
    images = torch.zeros(64, 3, 8, 8, dtype=torch.uint8)
    images[:, :, :, :4] = 200  # bright image-left half
    targets = torch.zeros(64)
    x, y = augment(images, targets, "side", torch.Generator().manual_seed(0), max_shift=0, max_rotation=0,
                   max_scale=0)
    flipped = x[:, 0, 4, 6] > x[:, 0, 4, 1]
    assert flipped.any() and (~flipped).any()
    assert torch.equal(y, flipped.float())
    x, y = augment(images, targets, "pain", torch.Generator().manual_seed(0), max_shift=0, max_rotation=0,
                   max_scale=0)
    assert (x[:, 0, 4, 1] > x[:, 0, 4, 6]).all() and torch.equal(y, targets)


def test_grey_and_low_resolution_augmentations() -> None:
    generator = torch.Generator().manual_seed(0)
    colour = torch.randint(0, 256, (6, 3, 48, 32), generator=generator, dtype=torch.uint8)
    x, _ = augment(colour, torch.zeros(6), "pain", torch.Generator().manual_seed(1), grayscale_p=1.0,
                   low_resolution_p=0.0)
    assert torch.allclose(x[:, 0], x[:, 1]) and torch.allclose(x[:, 1], x[:, 2])
    checker = ((torch.arange(48)[:, None] + torch.arange(32)[None, :]) % 2 * 255).to(torch.uint8)
    sharp = checker.expand(6, 3, 48, 32).contiguous()
    kept, _ = augment(sharp, torch.zeros(6), "pain", torch.Generator().manual_seed(1), max_shift=0,
                      max_rotation=0, max_scale=0, grayscale_p=0.0, low_resolution_p=0.0)
    blurred, _ = augment(sharp, torch.zeros(6), "pain", torch.Generator().manual_seed(1), max_shift=0,
                         max_rotation=0, max_scale=0, grayscale_p=0.0, low_resolution_p=1.0)
    # a one-pixel checkerboard does not survive shrinking: the detail (neighbour differences) is gone
    detail = lambda t: (t[..., 1:] - t[..., :-1]).abs().mean()  # noqa: E731
    assert detail(blurred) < 0.2 * detail(kept)


def test_run_training_writes_a_card_and_resumes(tmp_path) -> None:
    _half_face_dataset(tmp_path / "data")
    config = TrainConfig(task="pain", data=tmp_path / "data", out=tmp_path / "run", arch="simple_cnn",
                         split="subject", epochs=2, batch_size=8, lr=3e-3, input_size=(32, 16),
                         progress=False, command="python -m models train pain", threads=1)
    result = run_training(config)
    card = json.loads(result.card_path.read_text())
    assert card["task"] == "pain" and card["architecture"] == "simple_cnn"
    assert card["input"]["kind"] == "half_face"
    assert (card["input"]["height"], card["input"]["width"]) == (32, 16)
    assert len(card["curves"]) == 2 and {"train_loss", "val_loss", "val_mae"} <= set(card["curves"][0])
    assert card["split"]["protocol"] == "subject" and card["split"]["leakage"]["leak_free"]
    assert {"mae", "rmse", "pearson_r", "baseline_mean_mae"} <= set(card["metrics"])
    assert len(card["training_data"]["listing_sha256"]) == 64
    assert card["init"].startswith("scratch")
    assert card["command"] == "python -m models train pain" and card["seed"] == 0
    model, _ = load_checkpoint(result.card_path)
    assert model(torch.zeros(1, 3, 32, 16)).shape == (1, 1)
    assert list((tmp_path / "run" / "cache").glob("inputs-*.npz"))

    config.epochs = 3
    with pytest.raises(TrainingError, match="different run"):
        run_training(config)  # epochs are part of the run's identity
    config.epochs = 2
    again = run_training(config)  # resumes: nothing left to do, same history
    assert json.loads(again.card_path.read_text())["curves"] == card["curves"]


def test_random_split_with_repeated_subjects_is_refused_unless_allowed(tmp_path) -> None:
    _half_face_dataset(tmp_path / "data")
    config = TrainConfig(task="pain", data=tmp_path / "data", out=tmp_path / "run", arch="simple_cnn",
                         split="random", epochs=1, batch_size=8, input_size=(32, 16), progress=False)
    with pytest.raises(TrainingError, match="allow-leak"):
        run_training(config)
    config.allow_leak = True
    card = json.loads(run_training(config).card_path.read_text())
    assert card["split"]["allow_leak"] is True
    assert any("leak" in note for note in card["notes"])


def test_side_training_uses_the_face_stage_and_metrics_per_class(tmp_path) -> None:
    rng = np.random.default_rng(0)
    entries = []
    for s in range(6):
        for f in range(4):
            side = Side.LEFT if (s + f) % 2 else Side.RIGHT
            image = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
            entries.append((f"s{s:03d}_f{f:03d}.png", image, side))
    write_side_labels(tmp_path / "sides", entries)
    calls = []

    class FakeGeometry:
        def __init__(self, image):
            self.aligned, self.mirrored = image, False

    def fake_analyse(path, mirrored, *, landmarks=None, on_no_face="error"):
        from data.layouts import read_image_array

        calls.append(path)
        return FakeGeometry(read_image_array(path))

    config = TrainConfig(task="side", data=tmp_path / "sides", out=tmp_path / "run", split="subject",
                         epochs=1, batch_size=8, input_size=(32, 32), progress=False)
    result = run_training(config, analyse=fake_analyse)
    assert len(calls) == 24
    assert set(result.metrics["recall"]) == {"patient_left_affected", "patient_right_affected"}
    assert set(result.metrics["per_class"]) == set(result.metrics["recall"])
    assert sum(map(sum, result.metrics["confusion"]["matrix"])) == result.metrics["n"]
    assert result.card.class_names == ["patient_left_affected", "patient_right_affected"]


def test_command_line_trains_and_records_the_command(tmp_path, capsys) -> None:
    from models.__main__ import main

    _half_face_dataset(tmp_path / "data")
    argv = ["train", "pain", "--data", str(tmp_path / "data"), "--arch", "simple_cnn", "--split", "kfold",
            "--fold", "1", "--folds", "3", "--out", str(tmp_path / "run"), "--epochs", "1",
            "--batch-size", "8",
            "--input-size", "32x16", "--half-precision", "--bf16", "--quiet"]
    assert main(argv) == 0
    card = json.loads((tmp_path / "run" / "model.json").read_text())
    assert card["command"].startswith("python -m models train pain --data")
    assert card["split"]["fold"] == 1 and card["weights"]["dtype"] == "float16"
    assert card["training_data"]["hyperparameters"]["bf16"] is True
    assert "validation: n " in capsys.readouterr().out
    assert main(["train", "pain", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r2")]) == 2


def test_all_folds_are_trained_and_summarised(tmp_path, capsys) -> None:
    from models.__main__ import main

    _half_face_dataset(tmp_path / "data")
    argv = ["train", "pain", "--data", str(tmp_path / "data"), "--arch", "simple_cnn", "--split", "kfold",
            "--fold", "all", "--folds", "3", "--out", str(tmp_path / "run"), "--epochs", "1",
            "--batch-size", "8", "--input-size", "32x16", "--quiet"]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "run" / "kfold_summary.json").read_text())
    assert [f["fold"] for f in summary["folds"]] == [0, 1, 2]
    assert summary["summary"]["mae"]["n"] == 3
    assert all((tmp_path / "run" / f"fold{k}" / "model.json").is_file() for k in range(3))
    assert "mean over folds" in capsys.readouterr().out


def test_the_input_cache_is_not_reused_for_a_rewritten_image(tmp_path) -> None:
    import os

    from models.samples import expand, load_records, prepare

    _half_face_dataset(tmp_path / "data", subjects=2, frames=1)
    config = TrainConfig(task="pain", data=tmp_path / "data", out=tmp_path / "run", arch="simple_cnn",
                         input_size=(32, 16), progress=False)
    records, _, _ = load_records(config)
    samples = expand(sorted(records, key=lambda r: str(r.image_path)), config, "half_face")
    spec = InputSpec(kind="half_face", height=32, width=16)
    first = prepare(samples, spec, tmp_path / "cache", progress=False)
    assert torch.equal(prepare(samples, spec, tmp_path / "cache", progress=False).images, first.images)
    path = samples[0].record.image_path
    write_half_face_pair(tmp_path / "data", path.stem[:-2], np.full((40, 20, 3), 250, np.uint8),
                         np.full((40, 20, 3), 250, np.uint8), 1.0, 1.0)
    os.utime(path, ns=(1, 1))  # a new file of the same size would still differ in its time
    again = prepare(samples, spec, tmp_path / "cache", progress=False)
    assert not torch.equal(again.images[0], first.images[0])
