"""Model inputs: canonical orientation, aspect ratio kept, normalisation from the spec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faces.sides import Side
from models.preprocess import InputSpec, canonical_half, fit, normalise, parse_size, to_tensor


def test_half_is_fitted_without_stretching_and_anchored_at_the_midline() -> None:
    spec = InputSpec.default("half_face", (128, 64))
    half = np.zeros((200, 80, 3), np.uint8)  # 2.5:1, narrower than the frame
    half[:, -1] = 255  # midline column
    out = fit(half, spec)
    assert out.shape == (128, 64, 3)
    # scale 128/200 -> width 51; the pad goes on the outer (left) side, the midline stays on the right
    assert (out[:, -1] > 100).all() and (out[:, -3] == 0).all()
    assert (out[:, :10] == np.array(spec.pad_value, np.uint8)).all()


def test_square_face_is_centred_and_padded_to_mean() -> None:
    spec = InputSpec.default("aligned_face", (64, 64))
    face = np.full((100, 50, 3), 7, np.uint8)
    out = fit(face, spec)
    assert out.shape == (64, 64, 3)
    assert (out[:, 32] == 7).all()
    assert (out[:, 0] == np.array(spec.pad_value, np.uint8)).all()
    tensor = normalise(torch.from_numpy(out).permute(2, 0, 1)[None], spec)
    assert torch.allclose(tensor[0, :, 0, 0], torch.zeros(3), atol=0.02)


def test_canonical_half_flips_patient_left_only() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert np.array_equal(canonical_half(image, Side.RIGHT), image)
    assert np.array_equal(canonical_half(image, Side.LEFT), image[:, ::-1])


def test_to_tensor_shapes_and_grayscale() -> None:
    spec = InputSpec(kind="half_face", height=32, width=16, grayscale=True)
    batch = to_tensor([np.random.default_rng(0).integers(0, 255, (40, 20, 3), dtype=np.uint8),
                       np.zeros((40, 20), np.uint8)], spec)
    assert batch.shape == (2, 3, 32, 16) and batch.dtype == torch.float32


def test_spec_round_trip_and_parse_size() -> None:
    spec = InputSpec.default("half_face")
    assert InputSpec.from_dict(spec.to_dict()) == spec
    assert parse_size("128x64") == (128, 64)
    assert parse_size("96") == (96, 96)
    with pytest.raises(ValueError, match="height x width"):
        parse_size("big")
    with pytest.raises(ValueError, match="kind"):
        InputSpec(kind="torso", height=32, width=32)


def test_tensors_are_contiguous_nchw() -> None:
    spec = InputSpec.default("half_face", (32, 16))
    assert to_tensor(np.zeros((40, 20, 3), np.uint8), spec).is_contiguous()


def test_to_source_undoes_fit() -> None:
    from models.preprocess import fit_box, to_source

    spec = InputSpec.default("half_face", (128, 64))
    top, left, new_h, new_w = fit_box(200, 80, spec)
    assert (top, left, new_h, new_w) == (0, 13, 128, 51)
    input_map = np.zeros(spec.size, np.float32)
    input_map[:, left:] = 1.0
    input_map[:, :left] = 9.0  # padding: dropped
    back = to_source(input_map, (200, 80, 3), spec)
    assert back.shape == (200, 80) and np.allclose(back, 1.0)
