"""One image reader for training and inference: bit depths and value ranges read the same everywhere."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from data.layouts import load_half_face, read_image_array
from faces import NotAnImageError, read_image
from faces.image_input import read_pixels
from faces.sides import Side


def _gradient(high: int, dtype: type) -> np.ndarray:
    ramp = np.linspace(0, high, 96)
    return np.rint(np.tile(ramp, (120, 1))).astype(dtype)


def test_sixteen_bit_half_faces_train_on_the_values_inference_sees(tmp_path):
    folder = tmp_path / "pain-dataset"
    folder.mkdir()
    sixteen = _gradient(65535, np.uint16)
    for half in ("a", "b"):
        Image.fromarray(sixteen).save(folder / f"s001_f0001_{half}.png")
        (folder / f"s001_f0001_{half}_facs.txt").write_text("2.0\n")
    records = load_half_face(tmp_path)
    assert {r.side for r in records} == {Side.RIGHT, Side.LEFT}
    training = read_image_array(records[0].image_path)
    inference = read_image(records[0].image_path)
    assert training.dtype == np.uint8 and training.ndim == 2
    np.testing.assert_array_equal(np.repeat(training[:, :, None], 3, axis=2), inference)
    # a full-range ramp stays a ramp: not clipped to white
    assert training.min() == 0 and training.max() == 255
    assert 120 <= int(np.median(training)) <= 135


def test_thirty_two_bit_tiff_with_eight_bit_values_keeps_them():
    values = _gradient(255, np.int32)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, "TIFF")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == "I"
    rgb = read_image(buffer.getvalue())
    np.testing.assert_array_equal(rgb[..., 0], values.astype(np.uint8))
    np.testing.assert_array_equal(read_pixels(buffer.getvalue()), values.astype(np.uint8))


def test_thirty_two_bit_tiff_with_sixteen_bit_values_is_scaled():
    values = _gradient(65535, np.int32)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, "TIFF")
    rgb = read_image(buffer.getvalue())
    np.testing.assert_array_equal(rgb[..., 0], np.rint(values / 257.0).astype(np.uint8))


@pytest.mark.parametrize("high", [1.5, 255.0])
def test_float_arrays_above_one_are_refused_not_clipped(high):
    array = np.full((64, 64, 3), high, dtype=np.float32)
    with pytest.raises(NotAnImageError, match=r"\[0, 1\]"):
        read_image(array)


def test_float_arrays_below_zero_are_refused():
    with pytest.raises(NotAnImageError, match=r"\[0, 1\]"):
        read_image(np.full((64, 64), -0.5, dtype=np.float64))
