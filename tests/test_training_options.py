"""Training options for photographs: soft "no palsy" side targets, dlib landmarks for every image, extra
training folders, stronger domain randomisation and the mixed PSPI prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data.layouts import write_half_face_pair, write_unbc_frame
from data.synth.aus import MIXED_ZERO_SHARE, sample_pspi_target
from faces.sides import Side
from models.augment import augment
from models.epochs import loss_function
from models.preprocess import InputSpec
from models.samples import NO_CLEAR_SIDE, expand, load_records, prepare, target_of
from models.train import TrainConfig, TrainingError, validation_metrics


def _unbc(root, subjects: tuple[str, ...], palsy: dict[str, Side | None]) -> None:
    rng = np.random.default_rng(0)
    landmarks = np.tile(np.array([[20.0, 20.0]]), (68, 1)) + rng.normal(0, 3, (68, 2))
    for subject in subjects:
        for f in range(2):
            image = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
            write_unbc_frame(root, subject, "seq01", f"{subject}_seq01_f{f:04d}", image, float(f), None,
                             landmarks, palsy_side=palsy[subject])


def test_frames_without_palsy_train_the_side_model_towards_even_odds_only_when_asked(tmp_path) -> None:
    _unbc(tmp_path / "d", ("s001", "s002"), {"s001": Side.LEFT, "s002": None})
    skip = TrainConfig(task="side", data=tmp_path / "d", out=tmp_path / "o")
    even = TrainConfig(task="side", data=tmp_path / "d", out=tmp_path / "o", side_no_palsy="even")
    assert {r.subject for r in load_records(skip)[0]} == {"s001"}
    records, _, _ = load_records(even)
    by_subject = {r.subject: r for r in records}
    assert target_of(by_subject["s001"], skip) == 0.0  # patient-left is class 0
    assert target_of(by_subject["s002"], skip) is None
    assert target_of(by_subject["s002"], even) == NO_CLEAR_SIDE == 0.5
    with pytest.raises(ValueError):
        TrainConfig(task="side", data=tmp_path / "d", out=tmp_path / "o", side_no_palsy="maybe")


def test_soft_side_loss_is_lowest_at_even_odds_for_a_face_without_palsy() -> None:
    loss = loss_function("side", 2)
    target = torch.tensor([NO_CLEAR_SIDE])
    even, sure = loss(torch.zeros(1, 2), target), loss(torch.tensor([[0.0, 4.0]]), target)
    assert even.item() == pytest.approx(np.log(2), abs=1e-6) and sure.item() > even.item()
    # hard labels behave as ordinary cross-entropy
    hard = loss(torch.tensor([[2.0, 0.0]]), torch.tensor([0.0]))
    assert hard.item() == pytest.approx(torch.nn.functional.cross_entropy(
        torch.tensor([[2.0, 0.0]]), torch.tensor([0])).item(), abs=1e-6)


def test_side_validation_scores_sides_on_palsy_faces_and_reports_no_palsy_confidence() -> None:
    outputs = torch.tensor([[3.0, 0.0], [0.0, 3.0], [0.0, 0.2], [1.0, 0.0]])
    targets = torch.tensor([0.0, 1.0, 0.5, 0.5])
    found = validation_metrics("side", outputs, targets, targets)
    assert found["n"] == 2 and found["accuracy"] == 1.0
    assert found["no_palsy"]["n"] == 2
    expected = np.mean([1 / (1 + np.exp(-0.2)), 1 / (1 + np.exp(-1.0))])
    assert found["no_palsy"]["mean_top_probability"] == pytest.approx(expected, abs=1e-6)


def test_detect_ignores_landmark_files_and_file_uses_them(tmp_path) -> None:
    _unbc(tmp_path / "d", ("s001",), {"s001": Side.RIGHT})
    seen = []

    class Geometry:
        def __init__(self, image):
            self.aligned, self.mirrored = image, False

    def fake_analyse(path, mirrored, *, landmarks=None, on_no_face="error"):
        from data.layouts import read_image_array

        seen.append(landmarks is not None)
        return Geometry(read_image_array(path))

    spec = InputSpec(kind="aligned_face", height=16, width=16)
    for mode, expected in (("file", True), ("detect", False)):
        seen.clear()
        config = TrainConfig(task="pain", data=tmp_path / "d", out=tmp_path / "o", input_kind="aligned_face",
                             landmarks=mode)
        records, _, _ = load_records(config)
        prepare(expand(records, config, "aligned_face"), spec, None, analyse=fake_analyse, progress=False,
                landmarks=mode)
        assert seen and all(flag is expected for flag in seen)


def test_extra_training_folders_are_added_and_repeated_subjects_refused(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for root, subject in ((tmp_path / "a", "s001"), (tmp_path / "b", "lfw002"), (tmp_path / "c", "s001")):
        half = rng.integers(0, 255, (40, 20, 3), dtype=np.uint8)
        write_half_face_pair(root, f"{subject}_f000", half, half, 1.0, 2.0)
    config = TrainConfig(task="pain", data=tmp_path / "a", out=tmp_path / "o", extra_data=[tmp_path / "b"])
    records, _, _ = load_records(config)
    assert {r.subject for r in records} == {"s001", "lfw002"} and len(records) == 4
    clash = TrainConfig(task="pain", data=tmp_path / "a", out=tmp_path / "o", extra_data=[tmp_path / "c"])
    with pytest.raises(TrainingError, match="repeats subjects"):
        load_records(clash)


def test_domain_randomisation_varies_photometry_but_keeps_range_and_labels() -> None:
    images = torch.full((16, 3, 32, 16), 128, dtype=torch.uint8)
    targets = torch.arange(16, dtype=torch.float32)
    light, _ = augment(images, targets, "pain", torch.Generator().manual_seed(0), max_shift=0, max_rotation=0,
                       max_scale=0, grayscale_p=0, low_resolution_p=0)
    strong, out_targets = augment(images, targets, "pain", torch.Generator().manual_seed(0), max_shift=0,
                                  max_rotation=0, max_scale=0, grayscale_p=0, low_resolution_p=0,
                                  randomise=True)
    assert torch.equal(out_targets, targets)
    assert strong.min() >= 0 and strong.max() <= 255
    # more spread between images, and noise inside an image that was flat
    assert strong.mean(dim=(1, 2, 3)).std() > light.mean(dim=(1, 2, 3)).std()
    assert strong.std(dim=(2, 3)).mean() > light.std(dim=(2, 3)).mean() + 0.5


def test_mixed_prior_puts_about_forty_percent_at_zero_and_reaches_fourteen() -> None:
    rng = np.random.default_rng(0)
    draws = np.array([sample_pspi_target(rng, "mixed") for _ in range(4000)])
    assert abs((draws == 0).mean() - MIXED_ZERO_SHARE) < 0.03
    assert draws.max() == 14 and draws.min() == 0 and draws.mean() < 5
