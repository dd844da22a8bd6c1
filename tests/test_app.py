"""The dashboard: handlers give readable messages for every bad input, and a live server keeps serving."""

from __future__ import annotations

import io
import os
import socket
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

import app  # noqa: F401  (sets the offline environment before Gradio is imported)
import faces
from app import handlers
from app.launch import LaunchOptions, launch, parse_auth, share_available
from faces import errors
from faces.sides import Side
from models.pipeline import WEIGHTS_DIR


def _png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb)."""
    raw = bytearray(_png_bytes(np.zeros((4, 4, 3), np.uint8)))
    ihdr = struct.pack(">II", width, height) + bytes(raw[24:29])
    raw[16:29] = ihdr
    raw[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(raw)


@pytest.fixture(scope="module")
def astronaut_png() -> bytes:
    return _png_bytes(skdata.astronaut())


BAD_INPUTS = {
    "not an image": (b"%PDF-1.4 this is a document, not a photo", errors.NotAnImageError),
    "truncated": (None, errors.CorruptImageError),
    "bomb": (None, errors.ImageTooLargeError),
    "too small": (None, errors.ImageTooSmallError),
    "no face": (None, errors.NoFaceFoundError),
}


@pytest.fixture(scope="module")
def bad_inputs(astronaut_png: bytes) -> dict[str, tuple[bytes, type]]:
    rng = np.random.default_rng(0)
    built = dict(BAD_INPUTS)
    built["truncated"] = (astronaut_png[: len(astronaut_png) // 2], errors.CorruptImageError)
    built["bomb"] = (_bomb_png(), errors.ImageTooLargeError)
    built["too small"] = (_png_bytes(np.full((20, 20, 3), 128, np.uint8)), errors.ImageTooSmallError)
    texture = (rng.random((300, 300, 3)) * 40 + 100).astype(np.uint8)
    built["no face"] = (_png_bytes(texture), errors.NoFaceFoundError)
    return built


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_each_bad_input_gets_its_own_error_and_the_handler_shows_it(name, bad_inputs):
    payload, error_type = bad_inputs[name]
    with pytest.raises(error_type) as raised:
        faces.analyse(payload)
    message = str(raised.value)
    assert len(message) > 20
    view = handlers.analyse_face(payload, mirrored=False)
    assert not view.ok
    assert message in view.message
    assert view.annotated is None and view.halves is None


def test_bad_input_messages_are_distinct(bad_inputs):
    messages = set()
    for payload, error_type in bad_inputs.values():
        with pytest.raises(error_type) as raised:
            faces.analyse(payload)
        messages.add(str(raised.value))
    assert len(messages) == len(bad_inputs)


def test_no_photo_asks_for_one():
    assert handlers.analyse_face(None).message == handlers.NO_PHOTO_MESSAGE
    assert handlers.analyse_face(b"").message == handlers.NO_PHOTO_MESSAGE


@pytest.mark.parametrize("side", ["upper", "patient's middle", "3"])
def test_invalid_side_value_gets_its_own_message(side, astronaut_png):
    view = handlers.analyse_face(astronaut_png, side=side)
    assert not view.ok
    assert "is not one of" in view.message and "patient's side" in view.message
    assert handlers.UNEXPECTED_MESSAGE not in view.message


@pytest.mark.parametrize("side", ["auto", "Patient's left", "right", "patient-left"])
def test_valid_side_values_are_read_as_patient_sides(side):
    assert handlers.side_request(side) in ("auto", "left", "right")


@pytest.mark.parametrize(("url", "expected"), [
    ("data:image/png;base64", "malformed"),
    ("data:image/png;base64,!!!!not-base64", "not valid base64"),
    ("data:image/png,rawbytes", "malformed"),
    ("data:text/plain;base64,aGVsbG8=", "not an image"),
    ("data:image/png;base64,", "empty"),
])
def test_malformed_data_urls_get_their_own_message(url, expected):
    with pytest.raises(errors.NotAnImageError, match=expected):
        faces.read_image(url)
    view = handlers.analyse_face(url)
    assert not view.ok and expected in view.message


def test_a_valid_data_url_reads_as_the_file(astronaut_png):
    import base64

    url = "data:image/png;base64," + base64.b64encode(astronaut_png).decode()
    np.testing.assert_array_equal(faces.read_image(url), faces.read_image(astronaut_png))
    assert handlers.analyse_face(url).ok


def test_handler_shows_face_with_patient_side_labels(astronaut_png):
    view = handlers.analyse_face(astronaut_png, mirrored=False)
    assert view.ok, view.message
    assert view.annotated.ndim == 3 and view.annotated.dtype == np.uint8
    captions = [caption for _, caption in view.halves]
    assert captions == ["patient's right (image left)", "patient's left (image right)"]
    # Halves are displayed as in the photo: the patient-right half is the image-left part of the face.
    geometry = faces.analyse(astronaut_png)
    right_half = geometry.halves[Side.RIGHT]
    assert np.array_equal(view.halves[0][0], right_half.to_aligned(right_half.image))
    assert view.asymmetry_rows[-1][0] == "overall asymmetry index"
    assert len(view.asymmetry_rows) == len(geometry.asymmetry.measures) + 1


def test_mirrored_flag_relabels_the_halves(astronaut_png):
    view = handlers.analyse_face(astronaut_png, mirrored=True)
    assert [caption for _, caption in view.halves] == [
        "patient's right (image right)", "patient's left (image left)"]
    assert "mirrored" in view.message


WEIGHTS = any(WEIGHTS_DIR.glob("*.json"))


@pytest.mark.skipif(not WEIGHTS, reason="no shipped demo weights")
def test_assessment_names_patient_sides_and_marks_the_scored_half(astronaut_png):
    view = handlers.analyse_face(astronaut_png, mirrored=False, side="Patient's right")
    text = view.assessment
    assert "**Affected side: patient's right (image left)** (set by hand)" in text
    assert "**unaffected half** (patient's left (image right))" in text
    assert "affected half (patient's right (image left))" in text
    assert "synthetic" in text  # the demo-weights warning travels with every result
    auto = handlers.analyse_face(astronaut_png, mirrored=False).assessment
    assert "decided by the side model" in auto and "p(patient's left affected)" in auto


def test_without_weights_the_face_stage_still_shows(astronaut_png, monkeypatch):
    from models.pipeline import MissingWeightsError

    def missing():
        raise MissingWeightsError("No model weights folder at /nowhere.")

    monkeypatch.setattr("models.pipeline.load_default_models", missing)
    view = handlers.analyse_face(astronaut_png)
    assert view.ok and view.annotated is not None
    assert view.assessment.startswith("**No pain model is available**") and "/nowhere" in view.assessment


def test_auth_parsing():
    assert parse_auth("clinician:s3cret") == ("clinician", "s3cret")
    assert parse_auth(None) is None
    with pytest.raises(ValueError):
        parse_auth("no-colon")


def test_gradio_cache_is_private():
    cache = Path(os.environ["GRADIO_TEMP_DIR"])
    assert cache.is_dir()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_server_answers_named_endpoint_and_survives_bad_input(tmp_path, astronaut_png, bad_inputs,
                                                                   capsys):
    from gradio_client import Client, handle_file

    good = tmp_path / "face.png"
    good.write_bytes(astronaut_png)
    bad = tmp_path / "broken.png"
    bad.write_bytes(bad_inputs["truncated"][0])
    # Gradio's stock image input would fail on these two with a generic error before our handler runs.
    not_image = tmp_path / "document.png"
    not_image.write_bytes(bad_inputs["not an image"][0])
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bad_inputs["bomb"][0])
    available, _ = share_available()
    port = _free_port()
    # --share is asked for; without the tunnel program the app must say so and keep serving locally.
    demo = launch(LaunchOptions(port=port, share=True), block=False)
    try:
        if not available:
            assert "served locally only" in capsys.readouterr().out
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for path, expect_ok in ((bad, False), (not_image, False), (bomb, False), (good, True), (bad, False)):
            message, annotated, halves, _table, result = client.predict(
                handle_file(str(path)), False, "Patient's left", api_name="/analyse_face")
            if expect_ok:
                assert annotated is not None and len(halves) == 2
                assert "face" in message.lower()
                if WEIGHTS:
                    assert "Affected side: patient's left (image right)** (set by hand)" in result
            else:
                assert message.startswith("**Cannot assess this photo.**")
                assert annotated is None
    finally:
        demo.close()
