"""``python -m models assess`` and the benchmark's comparison with the earlier app's pipeline shape."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from data.layouts import write_png
from data.synth import Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from faces.sides import ImageSide, Side
from models.__main__ import main
from models.bench import legacy_assess, random_weights
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle, load_bundle
from models.preprocess import InputSpec


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    spec = sample_frame_spec(np.random.default_rng(1), sample_identity(11), palsy=Palsy(Side.RIGHT, 0.9))
    path = tmp_path_factory.mktemp("photo") / "face.png"
    write_png(path, render_face(spec).image)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return random_weights(tmp_path_factory.mktemp("weights"))


def test_assess_prints_json_with_plain_field_names(photo, weights, capsys) -> None:
    assert main(["assess", str(photo), "--weights", str(weights), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["side_probabilities"]) == {"patient_left", "patient_right"}
    assert data["side_source"] == "model"
    assert data["scored_half"] == data["unaffected_side"]
    assert data["affected_side"]["description"].startswith("patient's ")
    assert {"unaffected_half", "affected_half", "full_face"} <= set(data["pspi"])
    assert any("Random initialisation" in m or "side_cnn" in m for m in data["models"].values())


def test_assess_override_and_mirrored_text_output(photo, weights, capsys) -> None:
    assert main(["assess", str(photo), "--weights", str(weights), "--side", "left", "--mirrored"]) == 0
    out = capsys.readouterr().out
    assert "Affected side: patient's left (image left) (set by hand)" in out
    assert "Scored half (unaffected): patient's right (image right)" in out


def test_assess_reports_bad_input_clearly(tmp_path, weights, capsys) -> None:
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    assert main(["assess", str(not_image), "--weights", str(weights)]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["assess", str(not_image), "--weights", str(tmp_path / "none")]) == 2
    assert "No model weights" in capsys.readouterr().err


class SaysPatientLeft(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([[5.0, -5.0]]).expand(len(x), 2)


def test_legacy_shape_sends_the_affected_half_of_an_ordinary_photo(weights) -> None:
    card = ModelCard(architecture="side_cnn", task="side", outputs=2,
                     input=InputSpec.default("aligned_face", (32, 32)).to_dict())
    pain = load_bundle(weights, device="cpu").pain
    bundle = ModelBundle.from_modules(pain=pain.model, pain_card=pain.card, side=SaysPatientLeft(),
                                      side_card=card)
    image = np.zeros((100, 80, 3), np.uint8)
    result = legacy_assess(image, bundle)
    assert result.side_label == "left"
    assert result.half_image_side is ImageSide.RIGHT  # "left" taken as the image left; the other half used
    assert result.half_patient_side is Side.LEFT  # ... which shows the patient's left: the affected half
    assert 0.0 <= result.pspi <= 16.0


def test_install_copies_a_run_into_the_weights_folder_as_its_role(weights, tmp_path, capsys) -> None:
    assert main(["install", str(weights / "pain.json"), "--weights", str(tmp_path), "--half-precision"]) == 0
    installed = json.loads((tmp_path / "pain.json").read_text())
    assert installed["weights"]["file"] == "pain.safetensors" and installed["weights"]["dtype"] == "float16"
    assert main(["install", str(weights / "side.json"), "--weights", str(tmp_path), "--role", "pain"]) == 2
    assert "cannot serve" in capsys.readouterr().err
    assert load_bundle(tmp_path, device="cpu").pain.card.weights["dtype"] == "float16"


def test_assess_can_whiten_the_background(photo, weights, capsys) -> None:
    assert main(["assess", str(photo), "--weights", str(weights), "--json", "--background", "white"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "face.background" in data["timings_ms"]  # the step ran
    assert main(["assess", str(photo), "--weights", str(weights), "--json"]) == 0
    assert "face.background" not in json.loads(capsys.readouterr().out)["timings_ms"]


def test_assess_reads_a_reference_photo_and_names_it_when_unusable(photo, weights, tmp_path, capsys) -> None:
    assert main(["assess", str(photo), "--weights", str(weights), "--reference", str(photo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pspi_reading"] == "relative_to_reference"
    assert data["half_scores"] == {"patient_left": 0.0, "patient_right": 0.0}
    assert main(["assess", str(photo), "--weights", str(weights), "--reference", str(photo)]) == 0
    out = capsys.readouterr().out
    assert "read relative to the reference (rest) photo" in out and "Without the reference:" in out
    assert "Landmark estimate, patient's left: PSPI" in out
    blank = tmp_path / "wall.png"
    write_png(blank, np.full((160, 160, 3), 120, np.uint8))
    assert main(["assess", str(photo), "--weights", str(weights), "--reference", str(blank)]) == 2
    assert "reference photo" in capsys.readouterr().err


def test_text_output_without_a_clear_side_reports_the_mean_of_both_halves(photo, weights) -> None:
    from models.__main__ import format_assessment
    from models.pipeline import assess, load_bundle

    result = assess(str(photo), models=load_bundle(weights), clear_above=1.01)  # no side is ever clear
    text = format_assessment(result.to_dict())
    mean = (result.half_scores[Side.LEFT] + result.half_scores[Side.RIGHT]) / 2
    assert f"Reported PSPI (0-16): {mean:.2f} (mean of both halves: no clear affected side)" in text
    assert "Scored halves: both (no clear affected side)" in text and "Scored half (unaffected)" not in text
    assert "below 1.01)" in text  # the threshold as set, not rounded


def test_text_output_asks_to_confirm_a_side_the_model_named_only(photo, weights) -> None:
    from models.__main__ import format_assessment
    from models.pipeline import CONFIRM_SIDE, assess, load_bundle

    bundle = load_bundle(weights)
    named = format_assessment(assess(str(photo), models=bundle, clear_above=0.0).to_dict())
    assert "(side model)" in named and CONFIRM_SIDE in named
    unclear = format_assessment(assess(str(photo), models=bundle, clear_above=1.01).to_dict())
    by_hand = format_assessment(assess(str(photo), models=bundle, side="left").to_dict())
    assert CONFIRM_SIDE not in unclear and CONFIRM_SIDE not in by_hand
