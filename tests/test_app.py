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
from app.headline import CONFIRM_SIDE
from app.launch import parse_auth
from faces import errors


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
    view = handlers.assess_photo(payload)
    assert not view.ok
    assert message in view.message
    assert view.annotated is None and view.heatmaps is None and view.data is None


def test_bad_input_messages_are_distinct(bad_inputs):
    messages = set()
    for payload, error_type in bad_inputs.values():
        with pytest.raises(error_type) as raised:
            faces.analyse(payload)
        messages.add(str(raised.value))
    assert len(messages) == len(bad_inputs)


def test_no_photo_asks_for_one():
    assert handlers.assess_photo(None).message == handlers.NO_PHOTO_MESSAGE
    assert handlers.assess_photo("").message == handlers.NO_PHOTO_MESSAGE
    assert "The file is empty" in handlers.assess_photo(b"").message
    assert handlers.explain_more(None).message == handlers.NO_RESULT_MESSAGE
    assert handlers.faithfulness(None).message == handlers.NO_RESULT_MESSAGE


@pytest.mark.parametrize("side", ["upper", "patient's middle", "3"])
def test_invalid_side_value_gets_its_own_message(side, astronaut_png):
    view = handlers.assess_photo(astronaut_png, side=side)
    assert not view.ok
    assert "is not one of" in view.message and "patient's side" in view.message
    assert handlers.UNEXPECTED_MESSAGE not in view.message


@pytest.mark.parametrize("side", ["auto", "Patient's left", "right", "patient-left"])
def test_valid_side_values_are_read_as_patient_sides(side):
    assert handlers.side_request(side) in ("auto", "left", "right")


def test_scripts_may_ask_for_hirescam_by_name(astronaut_png):
    from app.session import parse_methods

    assert parse_methods("HiResCAM") == parse_methods("hirescam") == ("hirescam",)
    view = handlers.assess_photo(astronaut_png, False, "Patient's left", "hirescam")
    assert view.ok, view.message
    assert [caption.split(" · ")[1] for _, caption in view.heatmaps] == ["HiResCAM", "HiResCAM"]


def test_the_page_offers_integrated_gradients(astronaut_png):
    from app.session import METHOD_CHOICES, parse_methods

    assert METHOD_CHOICES["Integrated gradients"] == ("integrated_gradients",)
    named = parse_methods("Integrated gradients")
    assert named == parse_methods("integrated_gradients") == parse_methods("IG")
    view = handlers.assess_photo(astronaut_png, False, "Patient's left", "Integrated gradients")
    assert view.ok, view.message
    assert [caption.split(" · ")[1] for _, caption in view.heatmaps] == ["Integrated gradients"] * 2


def test_invalid_method_and_sample_count_get_their_own_messages(astronaut_png):
    assert "is not one of" in handlers.assess_photo(astronaut_png, method="magic").message
    assert "must be a number" in handlers.assess_photo(astronaut_png, samples="many").message


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
    view = handlers.assess_photo(url)
    assert not view.ok and expected in view.message


def test_a_valid_data_url_reads_as_the_file(astronaut_png):
    import base64

    url = "data:image/png;base64," + base64.b64encode(astronaut_png).decode()
    np.testing.assert_array_equal(faces.read_image(url), faces.read_image(astronaut_png))


@pytest.fixture(scope="module")
def astronaut_view(astronaut_png):
    view = handlers.assess_photo(astronaut_png, False, "Patient's right", "Grad-CAM")
    assert view.ok, view.message
    return view


def test_assessment_names_patient_sides_and_marks_the_scored_half(astronaut_view):
    text = astronaut_view.headline
    assert "**Affected side: patient's right (image left)** (set by hand)" in text
    assert CONFIRM_SIDE not in text  # only a side the model names comes with how often it errs
    assert "scored on the **unaffected half**, the patient's left (image right)" in text
    assert "| affected half (patient's right (image left))" in text
    assert "synthetic" in text  # the demo-weights warning travels with every result
    data = astronaut_view.data
    assert data["scored_half"]["side"] == "left" and data["side_source"] == "override"
    assert 0.0 <= data["pspi"]["unaffected_half"] <= 16.0


def test_the_asymmetry_table_ends_with_the_head_turn(astronaut_view):
    name, degrees, toward, note = astronaut_view.asymmetry[-1]
    turn = astronaut_view.data["face"]["head_turn"]
    assert name == "head turn" and degrees == f"{turn['degrees']:.0f}°"
    assert turn["degrees"] < 5  # the astronaut faces the camera (estimated 0.8°)
    assert toward == "facing the camera" or toward.startswith("patient's")
    assert "not seen alike" in note
    assert not [w for w in astronaut_view.data["warnings"] if "turned" in w]
    assert turn["side_model_balance"] == 0.0 and "stretched" not in note  # a frontal face is read as is


def test_grad_cam_maps_of_both_stages_with_patient_side_region_summaries(astronaut_view):
    captions = [caption for _, caption in astronaut_view.heatmaps]
    assert len(captions) == 2
    assert captions[0].startswith("Side · Grad-CAM") and "patient's right" in captions[0]
    assert captions[1].startswith("Pain · Grad-CAM") and "patient's left (image right) half" in captions[1]
    for image, _ in astronaut_view.heatmaps:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.std() > 5
    side_map, pain_map = astronaut_view.data["explanations"]
    assert side_map["stage"] == "side" and pain_map["stage"] == "pain" and pain_map["half"] == "left"
    labels = [r["label"] for r in pain_map["regions"]["regions"] if r["absolute"] > 0]
    assert labels and all(label.endswith("patient's left") for label in labels)  # the scored half only
    assert astronaut_view.summary.count("patient's") >= 2
    assert astronaut_view.side_plot is not None and astronaut_view.pain_plot is not None
    assert "download='pain-assessment.html'" in astronaut_view.report


def test_mirrored_flag_keeps_patient_sides(astronaut_png):
    view = handlers.assess_photo(astronaut_png, True, "Patient's right", "Grad-CAM")
    assert "**Affected side: patient's right (image right)**" in view.headline
    assert "patient's right appears on the image right" in view.message


def test_lime_on_request_reuses_the_assessment(astronaut_png, monkeypatch):
    import models.pipeline

    calls = []
    real = models.pipeline.assess
    monkeypatch.setattr("app.session.assess", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = handlers.assess_photo(astronaut_png, False, "auto", "Grad-CAM")
    result = first.result
    halves = dict(result.assessment.inputs.halves)
    second = handlers.explain_more(result, "LIME", 32)
    assert calls == [1]  # the photo was assessed once
    assert second.result is result and list(result.explained) == ["gradcam", "lime"]
    lime_pain = [i.explanation for i in result.explained["lime"] if i.explanation.stage == "pain"][0]
    assert lime_pain.params["n_samples"] == 32 and lime_pain.half is result.assessment.unaffected_side
    assert all(result.assessment.inputs.halves[s] is t for s, t in halves.items())
    again = handlers.explain_more(result, "LIME", 32)
    per_method = 2 if result.assessment.clear_side else 3  # no clear side: both halves explained
    assert len(again.heatmaps) == 2 * per_method  # asking again adds nothing


def test_faithfulness_scores_every_map_once(astronaut_png):
    view = handlers.assess_photo(astronaut_png, False, "auto", "Grad-CAM")
    scored = handlers.faithfulness(view.result)
    for item in scored.data["explanations"]:
        f = item["faithfulness"]
        assert f["random_orderings"] >= 10 and f["fill"]
        assert 0 <= len(f["deletion"]) == len(f["fractions"])
    assert all("deletion AUC" in caption for _, caption in scored.heatmaps)
    assert all("an average relaxed face" in caption for _, caption in scored.heatmaps)  # the fill, named


def test_without_weights_the_page_says_so(astronaut_png, monkeypatch):
    from models.pipeline import MissingWeightsError

    def missing():
        raise MissingWeightsError("No model weights folder at /nowhere.")

    monkeypatch.setattr("app.session.load_default_models", missing)
    view = handlers.assess_photo(astronaut_png)
    assert not view.ok and "No models are available" in view.message and "/nowhere" in view.message


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


def test_counterfactual_requests_get_their_own_messages(astronaut_view):
    assert handlers.counterfactual(None).message == handlers.NO_RESULT_MESSAGE
    result = astronaut_view.result
    assert "action-unit group 'AU99' is not one of" in handlers.counterfactual(result, "AU99").message
    assert "side to edit 'middle' is not one of" in handlers.counterfactual(result, "AU4", "middle").message
    assert "must be a number" in handlers.counterfactual(result, "AU4", "both", "lots").message
    assert "must lie from 0 to 1" in handlers.counterfactual(result, "AU4", "both", -0.1).message
    assert result.counterfactual is None  # nothing was made


def test_counterfactual_at_strength_zero_leaves_the_photo_and_its_scores(astronaut_view, astronaut_png):
    result = astronaut_view.result
    view = handlers.counterfactual(result, "AU43 eye closure", "Patient's left", 0.0)
    assert view.message == "" and view.data["edit"]["action_units"] == {"AU43": 0.0}
    np.testing.assert_array_equal(view.images[0][0], view.images[1][0])  # no edit: the same face
    assert view.data["change"] == {"patient_left": 0.0, "patient_right": 0.0}
    assert "the patient's left (image right)" in view.text and "(edited, the reported score)" in view.text
    assert result.counterfactual is not None
    assert result.photo is astronaut_png  # the upload held as its encoded bytes, decoded again on demand


def test_warnings_come_right_under_the_score_and_in_both_reports(astronaut_png, monkeypatch):
    """A photo far from the training faces and a landmark estimate that disagrees with the network (both
    forced here: a domain check that says far, a disagreement threshold of -1) are said plainly."""
    import base64
    import re

    import models.pipeline
    from models.domain import WARNING, DomainCheck, RoleDistance
    from models.landmark_check import disagreement_warning

    far = DomainCheck({"pain": RoleDistance("pain", distance=30.0, percentile=100.0, threshold=10.0)})
    monkeypatch.setattr(models.pipeline, "check_domain", lambda bundle, inputs: far)
    monkeypatch.setattr(models.pipeline, "disagreement_warning",
                        lambda *args: disagreement_warning(*args, threshold=-1.0))
    view = handlers.assess_photo(astronaut_png, False, "Patient's right", "none")
    assert view.ok, view.message
    head, rest = view.headline.split("**Affected side", 1)
    assert f"- ⚠️ {WARNING}" in head and "- ⚠️ The landmark estimate (" in head
    assert head.index("⚠️") < head.index("Demo weights")  # cautions before the standing note
    assert "Domain check: this photo lies **far from** the faces the models learned from (score 3.00" in rest
    assert view.data["domain"]["far"] and WARNING in view.data["warnings"]
    links = {kind: base64.b64decode(text).decode() for kind, text in
             re.findall(r"data:(text/html|application/json)[^,]*,([A-Za-z0-9+/=]+)", view.report)}
    page = links["text/html"].split("<h2>Warnings</h2>", 1)[1].split("<h2>", 1)[0]
    assert "This photo lies far from the faces" in page and "The landmark estimate (" in page
    assert WARNING in links["application/json"]


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_one_sided_counterfactual_raises_the_patient_side_edited(mirrored):
    from app.examples import examples

    example = [e for e in examples() if e.palsy_side is not None][2]
    photo = np.asarray(Image.open(example.path).convert("RGB"))
    view = handlers.assess_photo(photo[:, ::-1].copy() if mirrored else photo, mirrored, "auto", "none")
    assert view.ok, view.message
    made = handlers.counterfactual(view.result, "AU6/7 lid narrowing", "Patient's left", 1.0)
    change = made.data["change"]
    assert change["patient_left"] > change["patient_right"] + 1.0, made.text
    assert made.data["edit"]["sides"] == ["left"]
    assert "- PSPI of the patient's left (image " + ("left" if mirrored else "right") in made.text


@pytest.mark.parametrize("name", ["not an image", "truncated", "too small", "no face"])
def test_a_bad_reference_photo_gets_the_readers_message_naming_the_reference(name, bad_inputs, astronaut_png):
    payload, error_type = bad_inputs[name]
    with pytest.raises(error_type) as raised:
        faces.analyse(payload)
    view = handlers.assess_photo(astronaut_png, reference=payload)
    assert not view.ok
    assert view.message.startswith("**Cannot use the reference photo.** The neutral reference photo cannot")
    assert str(raised.value) in view.message
