"""Reading photos into RGB ``uint8`` arrays, with clear errors for inputs we cannot use.

:func:`read_image` accepts a path, raw bytes, a PIL image or a numpy array and returns an
``H x W x 3`` RGB ``uint8`` array. EXIF orientation is applied; grayscale, alpha (composited on white),
16-bit, palette, CMYK and float inputs are normalised. The pixel ceiling is checked from the header
before anything is decoded, and the whole image is decoded once so truncated files fail here rather
than later. Nothing is written to disk and no image content is logged.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from faces.errors import CorruptImageError, ImageTooLargeError, ImageTooSmallError, NotAnImageError

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MIN_SIDE = 48

# Formats a camera, phone export or dataset produces; anything else is refused unopened.
ACCEPTED_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PPM")  # JPEG covers MPO

_NOT_AN_IMAGE = "The file could not be read as an image. Upload a JPEG or PNG photo."
_CORRUPT = (
    "The image file is damaged or incomplete (it may not have finished uploading or copying). "
    "Upload the photo again, or export it again as a JPEG or PNG."
)

ImageSource = str | Path | bytes | bytearray | Image.Image | np.ndarray


def read_image(
    src: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
) -> np.ndarray:
    """Read ``src`` into an RGB ``uint8`` array of shape ``(H, W, 3)``.

    ``src`` is a file path, a ``data:image/...;base64,...`` URL, the bytes of an image file, a PIL image
    or an array: ``(H, W)``,
    ``(H, W, 1)``, ``(H, W, 2)`` (gray + alpha), ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA; ``uint8``,
    ``uint16`` (scaled by 1/257), ``bool`` or float in ``[0, 1]`` (floats outside it are refused, never
    clipped: divide 0-255 data by 255 first).

    An RGB ``uint8`` array input is returned as it is (not copied).

    Raises :class:`~faces.errors.NotAnImageError`, :class:`~faces.errors.CorruptImageError`,
    :class:`~faces.errors.ImageTooLargeError` (more than ``max_pixels`` pixels, checked before
    decoding) or :class:`~faces.errors.ImageTooSmallError` (a side shorter than ``min_side``).
    """
    if isinstance(src, np.ndarray):
        rgb = _array_to_rgb(src, max_pixels)
    elif isinstance(src, Image.Image):
        _check_pixel_count(src.width, src.height, max_pixels)
        rgb = _pil_to_rgb(_decode(src, max_pixels))
    elif isinstance(src, bytes | bytearray | memoryview):
        rgb = _read_bytes(bytes(src), max_pixels)
    elif isinstance(src, str) and src.startswith("data:"):
        rgb = _read_bytes(decode_data_url(src), max_pixels)
    elif isinstance(src, str | Path):
        rgb = _read_bytes(_read_file(Path(src)), max_pixels)
    else:
        raise NotAnImageError(f"{_NOT_AN_IMAGE} (Got a {type(src).__name__}, not an image.)")
    height, width = rgb.shape[:2]
    if min(height, width) < min_side:
        raise ImageTooSmallError(
            f"The image is only {width} x {height} pixels, too small to show a face clearly. "
            f"Upload a photo at least {min_side} pixels on each side (a few hundred is better)."
        )
    return rgb


def read_pixels(src: str | Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A stored image file's pixels for datasets: like :func:`read_image` (same decoding, EXIF
    orientation and bit-depth scaling, so training and inference see the same values), except that
    grayscale files (modes ``1``, ``L``, ``I``, ``I;16``, ``F``) stay ``(H, W)`` uint8 and there is no
    minimum size. Other files are ``(H, W, 3)`` uint8 RGB."""
    data = _read_file(Path(src)) if isinstance(src, str | Path) else bytes(src)
    return _read_bytes(data, max_pixels, keep_gray=True)


_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,",
                       re.ASCII)


def decode_data_url(url: str) -> bytes:
    """The bytes of a base64 ``data:`` URL (as browsers send pasted or dropped images).

    Raises :class:`~faces.errors.NotAnImageError` with its own message for a URL that is not a base64
    image data URL, or whose payload is not valid base64; an empty payload is reported as an empty file.
    """
    match = _DATA_URL.match(url)
    if match is None or not match.group("b64"):
        raise NotAnImageError("The data URL is malformed: expected data:image/<type>;base64,<data>. "
                              "Upload the photo as a file instead.")
    mime = match.group("mime") or ""
    if mime and not mime.lower().startswith("image/"):
        raise NotAnImageError(f"The data URL holds {mime}, not an image. Upload a JPEG or PNG photo.")
    payload = "".join(url[match.end():].split())
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise NotAnImageError("The data URL is malformed: its image data is not valid base64. "
                              "Upload the photo as a file instead.") from err


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as err:
        raise NotAnImageError(f"No image file was found at '{path.name}'. Check the file name.") from err
    except PermissionError as err:
        raise NotAnImageError(f"The file '{path.name}' could not be opened (permission denied).") from err


def _read_bytes(data: bytes, max_pixels: int, keep_gray: bool = False) -> np.ndarray:
    if not data:
        raise NotAnImageError("The file is empty (0 bytes). Upload a JPEG or PNG photo.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except Image.DecompressionBombError as err:
            raise _too_large(_claimed_pixels(str(err)), max_pixels) from err
        except UnidentifiedImageError as err:
            raise NotAnImageError(_not_an_image_message(data)) from err
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise CorruptImageError(_CORRUPT) from err
        _check_pixel_count(image.width, image.height, max_pixels)
        decoded = _decode(image, max_pixels)
        if keep_gray and decoded.mode in _GRAY_MODES:
            return _to_uint8(_gray_values(decoded))
        return _pil_to_rgb(decoded)


def _not_an_image_message(data: bytes) -> str:
    head = data[:32]
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypavif"):
        return "HEIC/AVIF photos are not supported. Export the photo as JPEG (or PNG) and upload that."
    if head.startswith(b"%PDF"):
        return "This is a PDF document, not a photo. Upload a JPEG or PNG photo."
    return _NOT_AN_IMAGE


def _decode(image: Image.Image, max_pixels: int) -> Image.Image:
    """Decode every pixel now (so truncation is caught here) and apply the EXIF orientation."""
    try:
        image.seek(0)
        image.load()
    except Image.DecompressionBombError as err:
        raise _too_large(None, max_pixels) from err
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as err:
        raise CorruptImageError(_CORRUPT) from err
    try:
        oriented = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        oriented = image  # an unreadable EXIF block: keep the stored orientation
    return oriented if oriented is not None else image


def _check_pixel_count(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise _too_large((width, height), max_pixels)


def _claimed_pixels(pil_message: str) -> int | None:
    """The pixel count PIL's decompression-bomb guard names in its message (None if it names none)."""
    match = re.search(r"\((\d+) pixels\)", pil_message)
    return int(match.group(1)) if match else None


def _too_large(size: tuple[int, int] | int | None, max_pixels: int) -> ImageTooLargeError:
    if isinstance(size, tuple):
        dims = f" ({size[0]} x {size[1]} pixels)"
    else:
        dims = f" ({size / 1e6:.0f} megapixels)" if size else ""
    return ImageTooLargeError(
        f"The image is too large{dims}: the limit is {max_pixels / 1e6:.0f} megapixels. "
        "Resize the photo (a few megapixels is plenty) and upload it again."
    )


_GRAY_MODES = ("1", "L", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def _gray_values(image: Image.Image) -> np.ndarray:
    """Samples of a one-channel image in a dtype that says their range: ``I;16*`` files are 16-bit
    (uint16); 32-bit ``I`` files hold 8-bit values when none exceeds 255 (uint8), else 16-bit ones."""
    mode = image.mode
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    values = np.asarray(image)
    if mode.startswith("I;16"):
        return values.astype(np.uint16)
    if mode == "I" and values.size and values.min() >= 0:
        if values.max() <= 255:
            return values.astype(np.uint8)
        if values.max() <= 65535:
            return values.astype(np.uint16)
    return values


def _pil_to_rgb(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode.startswith("I") or mode == "F":
        return _array_to_rgb(_gray_values(image), max_pixels=None)
    if mode == "P" and "transparency" in image.info or mode in ("PA", "LA", "La", "RGBA", "RGBa"):
        return _composite_on_white(np.asarray(image.convert("RGBA")))
    try:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except (ValueError, OSError) as err:
        raise NotAnImageError(f"{_NOT_AN_IMAGE} (Unsupported colour mode {mode}.)") from err


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """``(H, W, 4)`` uint8 RGBA -> ``(H, W, 3)`` uint8 RGB over a white background."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Scale any numeric array to ``uint8`` by its dtype's range (bool, 8/16-bit, float in [0, 1])."""
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * 255
    if np.issubdtype(values.dtype, np.floating):
        if not np.all(np.isfinite(values)):
            raise NotAnImageError(f"{_NOT_AN_IMAGE} (The array contains NaN or infinite values.)")
        low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        if low < -1e-3 or high > 1.0 + 1e-3:
            raise NotAnImageError(
                f"{_NOT_AN_IMAGE} (Float pixel values must lie in [0, 1]; these run from {low:.4g} to "
                f"{high:.4g}. Divide 0-255 values by 255 first.)")
        return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    if np.issubdtype(values.dtype, np.integer):
        low, high = int(values.min(initial=0)), int(values.max(initial=0))
        if low < 0 or high > 65535:
            raise NotAnImageError(f"{_NOT_AN_IMAGE} (Pixel values outside the 8- or 16-bit range.)")
        if values.dtype.itemsize == 1 or high <= 255 and values.dtype != np.uint16:
            return values.astype(np.uint8)
        return np.rint(values.astype(np.float64) / 257.0).astype(np.uint8)
    raise NotAnImageError(f"{_NOT_AN_IMAGE} (Unsupported pixel type {values.dtype}.)")


def _array_to_rgb(array: np.ndarray, max_pixels: int | None) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or array.ndim == 3 and array.shape[2] not in (2, 3, 4):
        raise NotAnImageError(
            f"{_NOT_AN_IMAGE} (An array of shape {array.shape} is not an image; expected H x W or "
            "H x W x 3.)"
        )
    if array.size == 0:
        raise NotAnImageError("The image is empty (0 pixels). Upload a JPEG or PNG photo.")
    if max_pixels is not None:
        _check_pixel_count(array.shape[1], array.shape[0], max_pixels)
    values = _to_uint8(np.asarray(array))
    if values.ndim == 2:
        return np.repeat(values[..., None], 3, axis=2)
    channels = values.shape[2]
    if channels == 3:
        return np.ascontiguousarray(values)
    if channels == 2:
        gray, alpha = values[..., :1], values[..., 1:]
        return _composite_on_white(np.concatenate([gray, gray, gray, alpha], axis=2))
    return _composite_on_white(values)
