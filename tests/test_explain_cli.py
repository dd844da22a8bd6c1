"""python -m explain PHOTO: overlays, region charts and the JSON summary for one photo; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from data.synth import Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.__main__ import main
from faces.sides import Side


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory) -> str:
    spec = sample_frame_spec(np.random.default_rng(6), sample_identity(33),
                             palsy=Palsy(Side.RIGHT, 1.0, "peripheral"), size=320)
    path = tmp_path_factory.mktemp("photo") / "face.png"
    Image.fromarray(render_face(spec).image).save(path)
    return str(path)


def test_photo_command_writes_overlays_and_the_region_summary(photo_path, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main([photo_path, "--out", str(out), "--stage", "both", "--side", "right"]) == 0
    data = json.loads((out / "explanation.json").read_text())
    assert data["assessment"]["affected_side"]["side"] == "right"
    side, pain = data["explanations"]
    assert side["stage"] == "side" and side["target"] == "affected: patient's right"
    assert pain["stage"] == "pain" and pain["half"] == "left" and pain["target"] == "pspi"
    for entry in (side, pain):
        labels = [r["label"] for r in entry["regions"]["regions"]]
        assert len(labels) == 14 and all(", patient's " in label for label in labels)
        shares = [r["share"] for r in entry["regions"]["regions"]]
        assert shares == sorted(shares, reverse=True)
        for key in ("face", "photo"):
            image = np.asarray(Image.open(out / entry["files"][key]))
            assert image.ndim == 3 and image.shape[2] == 3
    assert {r["side"] for r in pain["regions"]["regions"] if r["absolute"] > 0} == {"left"}
    assert (out / "regions.html").read_text().count("plotly-graph-div") >= 2
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["explanation.json", "regions.html", "side_gradcam_face.png", "side_gradcam_photo.png",
         "pain_left_gradcam_face.png", "pain_left_gradcam_photo.png"])
    printed = capsys.readouterr().out
    assert pain["regions"]["sentence"] in printed


def test_lime_through_the_same_command(photo_path, tmp_path) -> None:
    out = tmp_path / "lime"
    assert main([photo_path, "--out", str(out), "--method", "lime", "--stage", "pain", "--samples", "60",
                 "--seed", "3", "--side", "right"]) == 0
    (entry,) = json.loads((out / "explanation.json").read_text())["explanations"]
    assert entry["method"] == "lime" and entry["seed"] == 3 and entry["params"]["n_samples"] == 60
    assert entry["params"]["segmentation"] == "regions"


def test_lime_segmentation_option(photo_path, tmp_path) -> None:
    out = tmp_path / "pieces"
    assert main([photo_path, "--out", str(out), "--method", "lime", "--stage", "pain", "--samples", "60",
                 "--segmentation", "subregions", "--side", "right"]) == 0
    (entry,) = json.loads((out / "explanation.json").read_text())["explanations"]
    names = entry["params"]["segment_names"]
    assert entry["params"]["segmentation"] == "subregions" and len(names) > len(set(names))  # cut regions
    assert {r["side"] for r in entry["regions"]["regions"] if r["absolute"] > 0} == {"left"}


def test_bad_input_gives_a_message_and_writes_nothing(tmp_path, capsys) -> None:
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    out = tmp_path / "out"
    assert main([str(not_an_image), "--out", str(out)]) == 2
    assert "error:" in capsys.readouterr().err and not out.exists()


def test_subcommands_dispatch(capsys) -> None:
    for name in ("layers", "mirror"):
        with pytest.raises(SystemExit) as stop:
            main([name, "--help"])
        assert stop.value.code == 0
    assert "python -m explain layers" in capsys.readouterr().out
