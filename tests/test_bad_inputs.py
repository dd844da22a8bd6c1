"""The bad-input suite, run against the pipeline and against the live dashboard.

Every input either gets its own clear message or the correct result; the server keeps serving; the
photo bytes are not left anywhere on disk (the upload's cached copy is deleted once read).
"""

from __future__ import annotations

import io
import os
import socket
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

import app  # noqa: F401  (offline environment before Gradio is imported)
from app import handlers
from app.launch import LaunchOptions, launch
from faces import errors
from models.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` with almost no data behind it."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + checksum

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def zip_bomb_png() -> bytes:
    """A real, valid PNG of 9000 x 9000 grey pixels that compresses to a few hundred kilobytes."""
    return encode(Image.new("L", (9000, 9000), 0), "PNG", optimize=False)


@dataclass(frozen=True)
class Case:
    """A bad (or awkward) input and what must come of it."""

    payload: bytes | np.ndarray | str
    error: type[Exception] | None  # None: a correct result is expected
    words: str  # in the message (error) or in the warnings (result); "" for a plain result
    side: str = "auto"


def build_cases() -> dict[str, Case]:
    astronaut = skdata.astronaut()
    face = Image.fromarray(astronaut)
    jpeg = encode(face, "JPEG", quality=92)
    sixteen = (astronaut.mean(axis=2) * 257).astype(np.uint16)
    rotated = face.rotate(90, expand=True)  # stored sideways, EXIF says to turn it back upright
    exif = rotated.getexif()
    exif[0x0112] = 6
    frames = [face, Image.fromarray(astronaut[:, ::-1].copy())]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    several = np.full((512, 900, 3), 200, np.uint8)
    several[:, :512] = astronaut
    several[156:356, 620:820] = np.asarray(face.resize((200, 200)))
    border = np.ascontiguousarray(astronaut[:, 200:])  # the face is cut by the image's left edge
    return {
        "empty file": Case(b"", errors.NotAnImageError, "empty"),
        "text renamed .jpg": Case(b"these are notes, not a photo\n" * 4, errors.NotAnImageError,
                                  "could not be read as an image"),
        "truncated JPEG": Case(jpeg[: len(jpeg) // 3], errors.CorruptImageError, "damaged or incomplete"),
        "PNG decompression bomb": Case(zip_bomb_png(), errors.ImageTooLargeError, "9000 x 9000"),
        "1x1 image": Case(encode(Image.new("RGB", (1, 1)), "PNG"), errors.ImageTooSmallError, "1 x 1"),
        "20000x20000 image": Case(header_only_png(20000, 20000), errors.ImageTooLargeError, "400 megapixels"),
        "animated GIF": Case(gif.getvalue(), None, ""),
        "CMYK JPEG": Case(encode(face.convert("CMYK"), "JPEG", quality=92), None, ""),
        "16-bit PNG": Case(encode(Image.fromarray(sixteen), "PNG"), None, ""),
        "32-bit integer TIFF": Case(encode(Image.fromarray(astronaut.mean(axis=2).astype(np.int32)), "TIFF"),
                                    None, ""),
        "float array above 1": Case(astronaut.astype(np.float32), errors.NotAnImageError, "[0, 1]"),
        "float array below 0": Case(astronaut.astype(np.float32) / 255.0 - 0.5, errors.NotAnImageError,
                                    "[0, 1]"),
        "EXIF-rotated photo": Case(encode(rotated, "JPEG", exif=exif, quality=92), None, ""),
        "no face": Case(encode(Image.fromarray(np.tile(np.linspace(60, 190, 300, dtype=np.uint8), (300, 1))),
                               "PNG"), errors.NoFaceFoundError, "No face was found in the photo"),
        "several faces": Case(encode(Image.fromarray(several), "PNG"), None, "the largest was assessed"),
        "extreme dark": Case(encode(Image.fromarray((astronaut * 0.04).astype(np.uint8)), "PNG"),
                             errors.NoFaceFoundError, "very dark"),
        "extreme bright": Case(encode(Image.fromarray(np.full((400, 400, 3), 250, np.uint8)), "PNG"),
                               errors.NoFaceFoundError, "very bright"),
        "face at the image border": Case(encode(Image.fromarray(border), "PNG"), None,
                                         "runs past the edge of the photo"),
        "invalid side value": Case(jpeg, ValueError, "'upper'", side="upper"),
        "malformed data URL": Case("data:image/png;base64,@@@not base64@@@", errors.NotAnImageError,
                                   "data URL is malformed"),
    }


CASES = build_cases()


@pytest.mark.parametrize("name", list(CASES))
def test_pipeline_gives_each_bad_input_its_own_message_or_the_right_result(name):
    case = CASES[name]
    side = handlers.side_request(case.side) if case.error is not ValueError else case.side
    if case.error is not None:
        with pytest.raises(case.error, match=None) as raised:
            assess(case.payload, side=side)
        assert case.words in str(raised.value), str(raised.value)
        return
    result = assess(case.payload, side=side)
    assert 0.0 <= result.pspi.unaffected_half <= 16.0
    assert abs(result.geometry.roll_degrees) < 15  # upright: EXIF applied, first GIF frame, no sideways face
    if case.words:
        assert any(case.words in w for w in result.warnings), result.warnings


def test_messages_are_distinct():
    errors_only = {n: c for n, c in CASES.items() if c.error is not None and c.error is not ValueError}
    messages = set()
    for case in errors_only.values():
        with pytest.raises(errors.FaceInputError) as raised:
            assess(case.payload)
        messages.add(str(raised.value))
    assert len(messages) >= len(errors_only) - 1  # the two float cases share one message, with values


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _files_holding(payloads: list[bytes], roots: list[Path], skip: Path) -> list[Path]:
    """Files under ``roots`` (but not ``skip``) whose bytes equal one of ``payloads``."""
    sizes = {len(p): p for p in payloads}
    found = []
    for root in roots:
        for folder, _dirs, names in os.walk(root):
            if Path(folder) == skip or skip in Path(folder).parents:
                continue
            for name in names:
                path = Path(folder) / name
                try:
                    size = path.stat().st_size
                    if size in sizes and path.read_bytes() == sizes[size]:
                        found.append(path)
                except OSError:
                    continue
    return found


def test_live_dashboard_answers_every_bad_input_and_keeps_no_copy(tmp_path):
    from gradio_client import Client, handle_file

    port = _free_port()
    demo = launch(LaunchOptions(port=port), block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        uploads = []
        for name, case in CASES.items():
            if isinstance(case.payload, np.ndarray):
                continue  # arrays are a Python-API input; the page takes files
            if isinstance(case.payload, str):
                photo = {"url": case.payload}  # a data URL, as a browser may send a pasted image
            else:
                path = tmp_path / f"upload{len(uploads)}.{'jpg' if 'JPEG' in name else 'png'}"
                path.write_bytes(case.payload)
                uploads.append(case.payload)
                photo = handle_file(str(path))
            status, *_rest, data = client.predict(photo, False, case.side, "Grad-CAM", 64, api_name="/assess")
            if case.error is None:
                assert data is not None, (name, status)
                assert 0.0 <= data["pspi"]["unaffected_half"] <= 16.0
                if case.words:
                    assert any(case.words in w for w in data["warnings"]), (name, data["warnings"])
            else:
                assert data is None and case.words in status, (name, status)
                assert handlers.UNEXPECTED_MESSAGE not in status
        # the server is still up, and no uploaded photo was left on disk, in the cache or anywhere else
        assert client.predict(handle_file(str(ROOT / "app" / "examples" / "synthetic_2.jpg")), False,
                              "auto", "Grad-CAM", 64, api_name="/assess")[-1] is not None
        roots = [Path(tempfile.gettempdir()), ROOT]  # the dashboard's cache is in the first
        # this test's own copies, and those of earlier pytest runs and other workers
        pytest_folders = next(p for p in tmp_path.parents if p.name.startswith("pytest-of-"))
        assert _files_holding([u for u in uploads if len(u) > 64], roots, pytest_folders) == []
    finally:
        demo.close()
