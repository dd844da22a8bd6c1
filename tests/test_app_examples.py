"""The dashboard's example photos and its in-memory report."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image

from app.examples import EXAMPLES_DIR, examples, render_examples
from app.report import download_links, image_data_uri, report_html, report_json
from faces.sides import Side


def test_committed_synthetic_examples_regenerate_from_their_seed():
    rendered = render_examples()
    index = json.loads((EXAMPLES_DIR / "examples.json").read_text())["examples"]
    assert [name for name, _, _ in rendered] == sorted(index)
    for (name, image, truth), (_, other, _) in zip(rendered[:2], rendered[1:3], strict=True):
        assert truth == index[name]
        stored = np.asarray(Image.open(EXAMPLES_DIR / name).convert("RGB")).astype(int)
        assert stored.shape == image.shape
        # the JPEG of this very render (sensor noise costs a few grey levels), not of another face
        assert np.abs(stored - image.astype(int)).mean() < 6.0
        assert np.abs(stored - other.astype(int)).mean() > 20.0


def test_examples_span_palsy_sides_and_pain_levels_and_include_a_real_photo():
    found = examples()
    synthetic = [e for e in found if e.palsy_side is not None]
    assert {e.palsy_side for e in synthetic} == {Side.LEFT, Side.RIGHT}
    levels = sorted(e.pspi_unaffected for e in synthetic)
    assert levels[0] == 0 and levels[-1] >= 12
    assert all("patient's" in e.caption for e in synthetic)
    assert all(e.path.is_file() for e in found)
    assert any(e.palsy_side is None and "Real photo" in e.caption for e in found)


def test_report_is_self_contained_and_escapes_text():
    image = np.zeros((8, 6, 3), np.uint8)
    image[..., 0] = 200
    page = report_html("Assessment <1>", [("Result", "PSPI 3.0 <b>\n\nsecond")], [("face", image)],
                       [("Measures", ["name", "value"], [["brow", "0.1"]])])
    assert "<b>" not in page and "&lt;b&gt;" in page and "Assessment &lt;1&gt;" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened
    assert image_data_uri(image) in page
    lossless = image_data_uri(image, "PNG")
    decoded = Image.open(io.BytesIO(base64.b64decode(lossless.split(",", 1)[1])))
    np.testing.assert_array_equal(np.asarray(decoded), image)
    assert "not a medical device" in page


def test_report_json_and_download_links_round_trip():
    text = report_json({"pspi": {"unaffected_half": np.float32(2.5)}, "sides": np.array([1, 2])})
    data = json.loads(text)
    assert data["pspi"]["unaffected_half"] == 2.5 and data["sides"] == [1, 2] and "synthetic" in data["note"]
    links = download_links(text, "<html></html>")
    payload = links.split("application/json;base64,", 1)[1].split("'", 1)[0]
    assert json.loads(base64.b64decode(payload)) == data
    assert "download='pain-assessment.html'" in links
