"""read_image: every conversion path gives the right RGB pixels, every bad input its own error."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from skimage import data

from faces import (
    CorruptImageError,
    FaceInputError,
    ImageTooLargeError,
    ImageTooSmallError,
    NoFaceFoundError,
    NotAnImageError,
    analyse,
    read_image,
)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming ``width x height``, followed by a tiny IDAT and IEND."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + checksum

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()


# Conversion paths -------------------------------------------------------------------------------


def test_rgb_png_round_trip_is_exact(photo):
    assert np.array_equal(read_image(encode(Image.fromarray(photo), "PNG")), photo)


def test_path_and_pil_inputs_read_the_same_pixels(photo, tmp_path):
    path = tmp_path / "face.png"
    path.write_bytes(encode(Image.fromarray(photo), "PNG"))
    assert np.array_equal(read_image(path), photo)
    assert np.array_equal(read_image(str(path)), photo)
    assert np.array_equal(read_image(Image.fromarray(photo)), photo)


def test_grayscale_becomes_three_equal_channels():
    gray = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1))
    rgb = read_image(encode(Image.fromarray(gray), "PNG"))
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8
    for channel in range(3):
        assert np.array_equal(rgb[..., channel], gray)


def test_rgba_is_composited_on_white():
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[:32] = (255, 0, 0, 255)  # opaque red
    rgba[32:48] = (0, 0, 255, 0)  # fully transparent: white
    rgba[48:] = (255, 0, 0, 128)  # half-transparent red over white
    rgb = read_image(encode(Image.fromarray(rgba), "PNG"))
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[40, 0]) == (255, 255, 255)
    assert tuple(rgb[60, 0]) == (255, 127, 127)


def test_gray_with_alpha_is_composited_on_white():
    la = np.zeros((64, 64, 2), dtype=np.uint8)
    la[..., 0] = 0
    la[..., 1] = 255
    la[32:, :, 1] = 0
    rgb = read_image(encode(Image.fromarray(la), "PNG"))
    assert tuple(rgb[0, 0]) == (0, 0, 0)
    assert tuple(rgb[63, 0]) == (255, 255, 255)


def test_sixteen_bit_png_is_scaled_not_clipped():
    values = np.zeros((64, 64), dtype=np.uint16)
    values[:16] = 65535
    values[16:32] = 128 * 257
    values[32:48] = 257
    rgb = read_image(encode(Image.fromarray(values), "PNG"))
    assert rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (255, 255, 255)
    assert tuple(rgb[20, 0]) == (128, 128, 128)
    assert tuple(rgb[40, 0]) == (1, 1, 1)
    assert tuple(rgb[60, 0]) == (0, 0, 0)


def test_sixteen_bit_and_float_arrays_are_scaled():
    sixteen = np.full((64, 64, 3), 200 * 257, dtype=np.uint16)
    assert np.all(read_image(sixteen) == 200)
    unit_float = np.full((64, 64, 3), 0.5, dtype=np.float32)
    assert np.all(read_image(unit_float) == 128)
    assert np.all(read_image(np.ones((64, 64), dtype=bool)) == 255)


def test_palette_with_transparency_is_composited():
    indices = np.zeros((64, 64), dtype=np.uint8)
    indices[32:] = 1
    image = Image.fromarray(indices)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0, 0, 0] * 254)
    rgb = read_image(encode(image, "PNG", transparency=1))
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[63, 0]) == (255, 255, 255)


def test_palette_without_transparency_uses_the_palette_colours():
    indices = np.zeros((64, 64), dtype=np.uint8)
    indices[32:] = 1
    image = Image.fromarray(indices)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0, 0, 0] * 254)
    rgb = read_image(encode(image, "GIF"))
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[63, 0]) == (0, 0, 255)


@pytest.mark.parametrize("fmt", ["TIFF", "JPEG"])
def test_cmyk_becomes_rgb(fmt):
    cmyk = Image.new("CMYK", (64, 64), (0, 255, 255, 0))  # red
    cmyk.paste((255, 0, 255, 0), (0, 32, 64, 64))  # green
    rgb = read_image(encode(cmyk, fmt)).astype(int)
    tolerance = 0 if fmt == "TIFF" else 12
    assert np.abs(rgb[8, 8] - (255, 0, 0)).max() <= tolerance
    assert np.abs(rgb[56, 8] - (0, 255, 0)).max() <= tolerance


def test_exif_orientation_is_applied():
    stored = np.zeros((48, 64, 3), dtype=np.uint8)
    stored[:16, :16] = (255, 0, 0)  # red block at the stored top-left
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    rgb = read_image(encode(image, "JPEG", exif=exif, quality=95)).astype(int)
    assert rgb.shape == (64, 48, 3)
    assert np.abs(rgb[4, 43] - (255, 0, 0)).max() < 30  # the red block is now top-right
    assert np.abs(rgb[4, 4]).max() < 30


# Bad inputs -------------------------------------------------------------------------------------


def assert_message(err: pytest.ExceptionInfo) -> None:
    message = str(err.value)
    assert isinstance(err.value, FaceInputError)
    assert len(message) > 30 and message[0].isupper()


def test_text_is_not_an_image():
    with pytest.raises(NotAnImageError, match="could not be read as an image") as err:
        read_image(b"name,score\nsubject01,3\n")
    assert_message(err)


def test_empty_bytes_say_the_file_is_empty():
    with pytest.raises(NotAnImageError, match="empty") as err:
        read_image(b"")
    assert_message(err)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(NotAnImageError, match="No image file") as err:
        read_image(tmp_path / "missing.jpg")
    assert_message(err)


def test_unsupported_array_shape_and_type():
    with pytest.raises(NotAnImageError):
        read_image(np.zeros((64, 64, 5), dtype=np.uint8))
    with pytest.raises(NotAnImageError):
        read_image(np.full((64, 64), np.nan))
    with pytest.raises(NotAnImageError):
        read_image(12345)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_corrupt(photo, fmt):
    whole = encode(Image.fromarray(photo), fmt)
    with pytest.raises(CorruptImageError, match="damaged or incomplete") as err:
        read_image(whole[: len(whole) // 2])
    assert_message(err)


def test_huge_header_is_refused_before_decoding():
    with pytest.raises(ImageTooLargeError, match="too large") as err:
        read_image(png_header_only(100_000, 100_000))
    assert_message(err)


def test_pil_decompression_bomb_guard_is_reported_as_too_large():
    with pytest.raises(ImageTooLargeError):
        read_image(png_header_only(100_000, 100_000), max_pixels=10**12)


def test_pixel_ceiling_applies_to_arrays_and_pil_images(photo):
    with pytest.raises(ImageTooLargeError):
        read_image(photo, max_pixels=100_000)
    with pytest.raises(ImageTooLargeError):
        read_image(Image.fromarray(photo), max_pixels=100_000)


def test_tiny_image_is_too_small():
    with pytest.raises(ImageTooSmallError, match="too small") as err:
        read_image(encode(Image.new("RGB", (40, 300)), "PNG"))
    assert_message(err)


def test_photo_without_a_face_says_so():
    with pytest.raises(NoFaceFoundError, match="No face was found") as err:
        analyse(data.coffee())
    assert_message(err)


def test_each_bad_input_has_its_own_error_type():
    kinds = {NotAnImageError, CorruptImageError, ImageTooLargeError, ImageTooSmallError, NoFaceFoundError}
    assert len(kinds) == 5
    assert all(issubclass(kind, FaceInputError) and issubclass(kind, ValueError) for kind in kinds)
