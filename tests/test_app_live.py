"""The dashboard served on 127.0.0.1 and called through gradio_client, as a script would."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

import app  # noqa: F401  (sets the offline environment before Gradio is imported)
from app.examples import EXAMPLES_DIR, examples
from app.headline import CONFIRM_SIDE
from app.launch import LaunchOptions, launch, share_available


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cache_files() -> set[Path]:
    return {p for p in Path(os.environ["GRADIO_TEMP_DIR"]).rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    demo = launch(LaunchOptions(port=port), block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def _assess(client, path: Path, side: str = "Decide from the photo", method: str = "Grad-CAM"):
    from gradio_client import handle_file

    names = ["status", "headline", "annotated", "heatmaps", "side_plot", "pain_plot", "summary", "asymmetry",
             "landmarks", "report", "data"]
    outputs = client.predict(handle_file(str(path)), False, side, method, 64, api_name="/assess")
    return dict(zip(names, outputs, strict=True))


def test_synthetic_face_through_the_api_names_the_true_side_and_scores_the_other_half(client):
    synthetic = [e for e in examples() if e.palsy_side is not None][2]
    out = _assess(client, synthetic.path)
    data = out["data"]
    assert data["affected_side"]["side"] == synthetic.palsy_side.value, out["status"]
    assert data["scored_half"]["side"] == synthetic.palsy_side.opposite.value
    assert data["side_source"] == "model" and CONFIRM_SIDE in out["headline"]  # how often it errs
    assert 0.0 <= data["pspi"]["unaffected_half"] <= 16.0
    assert abs(data["pspi"]["unaffected_half"] - synthetic.pspi_unaffected) < 4.0
    assert [m["stage"] for m in data["explanations"]] == ["side", "pain"]
    assert all(m["method"] == "gradcam" for m in data["explanations"])
    pain = data["explanations"][1]
    assert pain["half"] == synthetic.palsy_side.opposite.value
    labels = [r["label"] for r in pain["regions"]["regions"] if r["absolute"] > 0]
    assert labels and all(label.endswith(f"patient's {pain['half']}") for label in labels)
    assert len(out["heatmaps"]) == 2 and all(Path(item["image"]).is_file() for item in out["heatmaps"])
    assert Image.open(out["annotated"]).size[0] > 100


def test_real_photo_then_lime_and_faithfulness_in_the_same_session(client, tmp_path):
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(photo)
    out = _assess(client, photo, side="Patient's left")
    assert out["data"]["side_source"] == "override" and out["data"]["scored_half"]["side"] == "right"
    assert "Affected side: patient's left (image right)" in out["headline"]
    assert CONFIRM_SIDE not in out["headline"]  # a side set by hand is not second-guessed
    uploads = [p for p in _cache_files() if p.read_bytes() == photo.read_bytes()]
    assert uploads == []  # the upload was deleted as soon as it had been read
    more = client.predict("LIME", 64, api_name="/explain")
    methods = [m["method"] for m in more[-1]["explanations"]]
    assert methods == ["gradcam", "gradcam", "lime", "lime"]
    scored = client.predict(api_name="/faithfulness")[-1]
    assert all(m["faithfulness"]["random_orderings"] >= 10 for m in scored["explanations"])


def test_counterfactual_edits_the_photo_last_assessed_and_rescores_both_halves(client):
    synthetic = [e for e in examples() if e.palsy_side is not None][1]
    original = _assess(client, synthetic.path)["data"]
    affected = original["affected_side"]["side"]
    text, images, data = client.predict("AU6/7 lid narrowing", "Both sides", 1.0, api_name="/counterfactual")
    assert data["side_decision"]["side"] == affected  # the same side decision, set by hand
    assert data["edit"] == {"group": "AU6/7 lid narrowing", "action_units": {"AU6": 5.0, "AU7": 5.0},
                            "sides": ["left", "right"], "strength": 1.0}
    before, after = data["half_scores_before"], data["half_scores_after"]
    scored = f"patient_{original['scored_half']['side']}"
    assert before[scored] == pytest.approx(original["pspi"]["unaffected_half"], abs=1e-3)
    assert max(after[k] - before[k] for k in before) > 0.5  # narrowed lids raise the score
    assert all(0.0 <= v <= 16.0 for v in after.values())
    landmarks = {k: pytest.approx(v["pspi"], abs=1e-3) for k, v in original["landmark_estimate"].items()}
    assert data["landmark_pspi_before"] == landmarks
    assert all(0.0 <= v <= 16.0 for v in data["landmark_pspi_after"].values())
    assert "- Landmark estimate (cross-check from the face points): patient's left" in text
    assert f"PSPI of the {original['scored_half']['description']} half (edited, the reported score): " in text
    assert len(images) == 2
    assert images[1]["caption"].startswith("Edited: AU6/7 lid narrowing at strength 1.00")
    shown = [np.asarray(Image.open(item["image"])) for item in images]
    assert shown[0].shape == shown[1].shape and np.abs(shown[0].astype(int) - shown[1]).mean() > 0.5
    text, images, data = client.predict("AU4", "left", 0.5, api_name="/counterfactual")
    assert data["edit"]["sides"] == ["left"] and data["edit"]["action_units"] == {"AU4": 2.5}
    assert "half (not edited" in text and "patient's right" in text
    refused, images, data = client.predict("AU4", "left", 1.5, api_name="/counterfactual")
    assert "strength must lie from 0 to 1" in refused and not images and data is None


def test_the_same_photo_as_its_own_reference_reads_zero_relative_to_rest(client):
    from gradio_client import handle_file

    synthetic = [e for e in examples() if e.palsy_side is not None][1]
    before = _cache_files()
    names = ["status", "headline", "annotated", "heatmaps", "side_plot", "pain_plot", "summary", "asymmetry",
             "landmarks", "report", "data"]
    out = dict(zip(names, client.predict(handle_file(str(synthetic.path)), False, "auto", "Grad-CAM", 64,
                                         handle_file(str(synthetic.path)), api_name="/assess"), strict=True))
    data = out["data"]
    assert data["pspi_reading"] == "relative_to_reference", out["status"]
    from models.pipeline import load_default_models

    # a face at its own rest expression reads as the model's typical rest score (in the card)
    neutral = load_default_models().pain.card.neutral_score.get("value", 0.0)
    assert data["pspi"]["unaffected_half"] == pytest.approx(neutral, abs=0.05)
    rest = data["reference"]["network_pspi"]["rest"][f"patient_{data['scored_half']['side']}"]
    assert rest > 0.5  # the absolute score that the relative reading removes
    assert "**relative to the rest photo**" in out["headline"]
    assert f"Rest photo: PSPI {rest:.1f}" in out["headline"]
    assert out["landmarks"]["headers"][1] == f"{data['scored_half']['description']} half (scored)"
    rows = {row[0]: row[1:] for row in out["landmarks"]["data"]}
    assert rows["PSPI from the network (0–16), relative to the rest photo"] == [f"{neutral:.1f}"] * 2
    uploads = [p for p in _cache_files() - before if p.read_bytes() == synthetic.path.read_bytes()]
    assert uploads == []  # both uploads were deleted as soon as they had been read
    edit = client.predict("AU4", "both", 1.0, api_name="/counterfactual")[-1]
    assert all(v == pytest.approx(neutral, abs=0.05) for v in edit["half_scores_before"].values())
    assert all(v >= 0.0 for v in edit["half_scores_after"].values())  # read against the same rest photo


def test_a_reference_photo_without_a_face_is_named_in_the_message(client, tmp_path):
    from gradio_client import handle_file

    blank = tmp_path / "blank.png"
    blank.write_bytes(_png(np.full((300, 300, 3), 120, np.uint8)))
    status, *_, data = client.predict(handle_file(str(EXAMPLES_DIR / "synthetic_1.jpg")), False, "auto",
                                      "Grad-CAM", 64, handle_file(str(blank)), api_name="/assess")
    assert status.startswith("**Cannot use the reference photo.** The neutral reference photo")
    assert data is None


def _undecided(bundle):
    """``bundle`` with a side model that cannot tell the sides apart: p = 0.5 for each."""
    import copy
    import dataclasses

    from torch import nn

    from models.pipeline import LoadedModel, deployed

    network = copy.deepcopy(bundle.side.network)
    # the last layer with weights: zeroed, every class (or every place of either half) scores the same
    last = [m for m in network.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return dataclasses.replace(bundle, side=LoadedModel("side", deployed(network, "side"), bundle.side.card))


def test_no_clear_side_shows_both_halves_and_asks_for_the_side(monkeypatch):
    from gradio_client import Client, handle_file

    from models.pipeline import load_default_models

    undecided = _undecided(load_default_models())
    monkeypatch.setattr("app.session.load_default_models", lambda: undecided)
    port = _free_port()
    demo = launch(LaunchOptions(port=port), block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        photo = handle_file(str(EXAMPLES_DIR / "synthetic_3.jpg"))
        status, headline, _, heatmaps, *_, report, data = client.predict(photo, False, "auto", "Grad-CAM", 64,
                                                                          api_name="/assess")
        assert data["side_outcome"] == "no_clear_side", status
        assert data["side_probabilities"] == {"patient_left": 0.5, "patient_right": 0.5}
        left, right = data["half_scores"]["patient_left"], data["half_scores"]["patient_right"]
        assert headline.startswith("## No clear affected side") and "unaffected half" not in headline.split(
            "Set the affected side by hand")[0]
        assert f"| **PSPI** | **{left:.1f}** | **{right:.1f}** |" in headline
        assert data["reported_pspi"]["source"] == "mean_of_halves"
        assert data["reported_pspi"]["value"] == pytest.approx((left + right) / 2, abs=1e-3)
        assert f"**PSPI {data['reported_pspi']['value']:.1f} of 16**, the mean of both halves" in headline
        assert "patient's left (image right) | patient's right (image left)" in headline
        assert "⚠️ The photo shows no clear affected side" in headline
        assert any("no clear affected side" in w for w in data["warnings"])
        captions = [item["caption"] for item in heatmaps]  # both halves explained alike
        assert captions[0].startswith("Side · Grad-CAM")
        assert captions[0].endswith("(tentative: no side is clearly affected)")
        assert sorted(c.split(" · ")[2] for c in captions[1:]) == ["patient's left (image right) half",
                                                                   "patient's right (image left) half"]
        assert sorted(m["half"] for m in data["explanations"] if m["stage"] == "pain") == ["left", "right"]
        html = _report_page(report)
        assert "No clear affected side." in html
        assert f"{left:.1f} on the patient&#x27;s left" in html and "the mean of both halves" in html
        chosen = client.predict(photo, False, "Patient's left", "none", 64, api_name="/assess")
        assert chosen[-1]["side_outcome"] == "set_by_hand" and chosen[1].startswith("## PSPI ")
        assert chosen[-1]["pspi"]["unaffected_half"] == pytest.approx(right, abs=1e-3)
    finally:
        demo.close()


def test_no_clear_side_read_against_a_rest_photo_shows_both_readings(monkeypatch):
    from app import handlers
    from models.pipeline import load_default_models

    undecided = _undecided(load_default_models())
    monkeypatch.setattr("app.session.load_default_models", lambda: undecided)
    photo = (EXAMPLES_DIR / "synthetic_3.jpg").read_bytes()
    view = handlers.assess_photo(photo, False, "auto", "none", 64, reference=photo)
    assert view.ok, view.message
    rest = view.data["reference"]["network_pspi"]["rest"]
    neutral = undecided.pain.card.neutral_score.get("value", 0.0)  # the model's own rest reading
    assert f"| **PSPI relative to rest** | **{neutral:.1f}** | **{neutral:.1f}** |" in view.headline
    assert (f"| rest photo (absolute) | {rest['patient_left']:.1f} | {rest['patient_right']:.1f} "
            f"| {rest['full_face']:.1f} |") in view.headline
    assert "Scores are read relative to the rest photo" in _report_page(view.report)


def _report_page(links: str) -> str:
    import base64
    import re

    encoded = re.search(r"data:text/html;charset=utf-8;base64,([A-Za-z0-9+/=]+)", links).group(1)
    return base64.b64decode(encoded).decode("utf-8")


def test_bad_inputs_get_readable_errors_and_the_next_request_succeeds(client, tmp_path):
    cases = {
        "document.png": (b"%PDF-1.4 not a photo", "not a photo"),
        "notes.jpg": (b"just some text renamed to .jpg", "could not be read as an image"),
        "broken.jpg": (None, "damaged or incomplete"),
        "tiny.png": (None, "too small"),
        "huge.png": (None, "too large"),
        "texture.png": (None, "No face"),
    }
    good = (EXAMPLES_DIR / "synthetic_1.jpg").read_bytes()
    cases["broken.jpg"] = (good[: len(good) // 2], cases["broken.jpg"][1])
    cases["tiny.png"] = (_png(np.full((20, 20, 3), 128, np.uint8)), cases["tiny.png"][1])
    cases["huge.png"] = (_png(np.zeros((7000, 6000), np.uint8)), cases["huge.png"][1])
    texture = (np.random.default_rng(0).random((300, 300, 3)) * 40 + 100).astype(np.uint8)
    cases["texture.png"] = (_png(texture), cases["texture.png"][1])
    for name, (payload, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        out = _assess(client, path)
        assert out["status"].startswith("**Cannot assess this photo.**") and words in out["status"], name
        assert out["data"] is None and out["annotated"] is None
    assert _assess(client, EXAMPLES_DIR / "synthetic_2.jpg")["data"]["pspi"]["range"] == [0.0, 16.0]


def _png(image: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def test_login_refuses_unauthenticated_calls():
    from gradio_client import Client

    port = _free_port()
    demo = launch(LaunchOptions(port=port, auth=("clinician", "s3cret")), block=False)
    try:
        with pytest.raises(Exception):  # noqa: B017 - the client refuses to connect without a login
            Client(f"http://127.0.0.1:{port}/", verbose=False)
        signed_in = Client(f"http://127.0.0.1:{port}/", auth=("clinician", "s3cret"), verbose=False)
        assert "/assess" in signed_in.view_api(print_info=False, return_format="dict")["named_endpoints"]
    finally:
        demo.close()


def test_share_without_the_tunnel_program_says_so_and_serves_locally(capsys):
    available, _ = share_available()
    if available:
        pytest.skip("a tunnel program is installed here")
    from gradio_client import Client

    port = _free_port()
    demo = launch(LaunchOptions(port=port, share=True), block=False)
    try:
        assert "served locally only" in capsys.readouterr().out
        assert "/assess" in Client(f"http://127.0.0.1:{port}/", verbose=False).view_api(
            print_info=False, return_format="dict")["named_endpoints"]
    finally:
        demo.close()


def test_readme_client_example_runs_as_written(server, monkeypatch, capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Scripting the dashboard", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    assert 'Client("http://127.0.0.1:7860/")' in code
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    exec(compile(code.replace("http://127.0.0.1:7860/", server), "README.md", "exec"), {})  # noqa: S102
    printed = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("Loaded as API")]
    assert printed[0].startswith("patient's ") and 0.0 <= float(printed[0].split()[-1]) <= 16.0
    assert any(line.startswith("lime side ") for line in printed)
    assert printed[-1].startswith("[") and len(printed[-1].split(",")) == 4


def test_clients_receiving_the_same_pictures_at_once_get_them_whole(server, tmp_path):
    """Everyone clicking the same example on a demo link: each response's images are its own files."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    example = str(EXAMPLES_DIR / "synthetic_1.jpg")

    def one(index: int) -> list[tuple[int, int]]:
        client = Client(server, verbose=False, download_files=str(tmp_path / f"client{index}"))
        sizes = []
        for _ in range(2):
            out = client.predict(handle_file(example), False, "auto", "Grad-CAM", 64, api_name="/assess")
            for item in out[3]:
                with Image.open(item["image"]) as picture:
                    picture.load()  # a cut-short file fails here
                    sizes.append(picture.size)
        return sizes

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(4)))
    assert len({len(sizes) for sizes in results}) == 1 and len(results[0]) >= 4  # 2+ maps, twice each
    assert len({size for sizes in results for size in sizes}) <= 2  # the same heatmaps, whole
