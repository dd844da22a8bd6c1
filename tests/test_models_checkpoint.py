"""Checkpoints: round trip, float16 storage, and refusal of tampered or mismatched files."""

from __future__ import annotations

import json

import pytest
import torch

from models.checkpoint import (
    ArchitectureMismatchError,
    CardError,
    ChecksumMismatchError,
    ModelCard,
    load_checkpoint,
    read_card,
    save_checkpoint,
    sha256_file,
    update_card,
)
from models.preprocess import InputSpec
from models.registry import build_model


def _card(arch: str = "side_cnn", task: str = "side", outputs: int = 2) -> ModelCard:
    kind = "half_face" if task == "pain" else "aligned_face"
    return ModelCard(architecture=arch, task=task, outputs=outputs,
                     input=InputSpec.default(kind, (32, 32)).to_dict(), seed=3,
                     command="python -m models train")


def _saved(tmp_path, half_precision: bool = False):
    torch.manual_seed(0)
    model = build_model("side_cnn", outputs=2).eval()
    path = save_checkpoint(model, _card(), tmp_path / "side", half_precision=half_precision)
    return model, path


def test_round_trip_gives_identical_outputs(tmp_path) -> None:
    model, path = _saved(tmp_path)
    assert path.name == "side.json" and (tmp_path / "side.safetensors").is_file()
    loaded, card = load_checkpoint(tmp_path / "side.safetensors")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert not loaded.training
    data = json.loads(path.read_text())
    assert data["weights"]["sha256"] == sha256_file(tmp_path / "side.safetensors")
    assert data["class_names"] == ["patient_left_affected", "patient_right_affected"]
    for key in ("architecture", "task", "outputs", "input", "conventions", "training_data", "split",
                "metrics", "curves", "command", "seed", "versions", "weights"):
        assert key in data
    assert card.input_spec == InputSpec.default("aligned_face", (32, 32))


def test_float16_storage_loads_as_float32(tmp_path) -> None:
    model, _ = _saved(tmp_path, half_precision=True)
    loaded, card = load_checkpoint(tmp_path / "side")
    assert card.weights["dtype"] == "float16"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x), atol=1e-2)


def test_flipped_byte_is_refused(tmp_path) -> None:
    _saved(tmp_path)
    weights = tmp_path / "side.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError, match="corrupt"):
        load_checkpoint(tmp_path / "side.json")


def test_wrong_shapes_are_refused_even_with_a_matching_hash(tmp_path) -> None:
    _saved(tmp_path)
    other = build_model("side_cnn", outputs=1)
    from safetensors.torch import save_file

    save_file(other.state_dict(), str(tmp_path / "side.safetensors"))
    card = json.loads((tmp_path / "side.json").read_text())
    card["weights"]["sha256"] = sha256_file(tmp_path / "side.safetensors")
    (tmp_path / "side.json").write_text(json.dumps(card))
    with pytest.raises(ArchitectureMismatchError, match="shape mismatch"):
        load_checkpoint(tmp_path / "side.json")


def test_card_naming_another_architecture_is_refused(tmp_path) -> None:
    _saved(tmp_path)
    card = json.loads((tmp_path / "side.json").read_text())
    card["architecture"] = "mobilenet_v2"
    (tmp_path / "side.json").write_text(json.dumps(card))
    with pytest.raises(ArchitectureMismatchError, match="missing tensor"):
        load_checkpoint(tmp_path / "side.json")


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.pop("task"), "missing required"),
    (lambda c: c.update(architecture="vgg99"), "unknown architecture"),
    (lambda c: c.update(outputs=5), "outputs"),
    (lambda c: c["weights"].pop("sha256"), "sha256"),
])
def test_bad_cards_are_refused(tmp_path, edit, message) -> None:
    _saved(tmp_path)
    card = json.loads((tmp_path / "side.json").read_text())
    edit(card)
    (tmp_path / "side.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match=message):
        load_checkpoint(tmp_path / "side.json")


def test_missing_or_garbled_card(tmp_path) -> None:
    with pytest.raises(CardError, match="No model card"):
        read_card(tmp_path / "nothing.safetensors")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(CardError, match="not valid JSON"):
        read_card(tmp_path / "x.json")


def test_update_card_sets_known_fields_and_leaves_the_weights_alone(tmp_path) -> None:
    _, path = _saved(tmp_path)
    before = read_card(path).weights
    update_card(tmp_path, "side", neutral_score={"value": 0.3})
    card = read_card(path)
    assert card.neutral_score == {"value": 0.3} and card.weights == before
    with pytest.raises(CardError, match="no field"):
        update_card(tmp_path, "side", colour="blue")
