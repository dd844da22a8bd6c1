"""Architectures by name: every registered network builds and runs at its card's input size."""

from __future__ import annotations

import pytest
import torch

from models.preprocess import InputSpec
from models.registry import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    PretrainedWeightsError,
    build_model,
    cam_layer,
    check_task,
    default_outputs,
)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_builds_and_runs_for_each_task(name: str) -> None:
    torch.manual_seed(0)
    for task in ARCHITECTURES[name].tasks:
        outputs = default_outputs(task)
        model = build_model(name, outputs=outputs, task=task).eval()
        spec = InputSpec.default("half_face" if task == "pain" else "aligned_face")
        with torch.no_grad():
            out = model(torch.randn(2, 3, spec.height, spec.width))
        assert out.shape == (2, outputs)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_models_are_input_size_agnostic(name: str) -> None:
    model = build_model(name, outputs=1).eval()
    with torch.no_grad():
        for size in ((64, 32), (96, 96)):
            assert model(torch.randn(1, 3, *size)).shape == (1, 1)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_cam_layer_is_a_conv_stage(name: str) -> None:
    model = build_model(name, outputs=2)
    layer = cam_layer(model, name)
    assert any(isinstance(m, torch.nn.Conv2d) for m in layer.modules())


def test_binary_pain_head_on_any_backbone() -> None:
    for name in ARCHITECTURES:
        check_task(name, "pain_binary", 2)
        check_task(name, "pain_binary", 1)


def test_defaults_and_wrong_requests() -> None:
    assert DEFAULT_ARCHITECTURE["pain"] == "resnet18"
    assert DEFAULT_ARCHITECTURE["side"] == "side_cnn"
    with pytest.raises(KeyError, match="known"):
        build_model("vgg99", outputs=1)
    with pytest.raises(ValueError, match="not registered"):
        build_model("simple_cnn", outputs=2, task="side")
    with pytest.raises(ValueError, match="outputs"):
        build_model("resnet18", outputs=3, task="pain")


def test_side_cnn_is_small_and_uses_batchnorm() -> None:
    model = build_model("side_cnn", outputs=2)
    assert sum(p.numel() for p in model.parameters()) < 500_000
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_pretrained_weights_come_only_from_a_local_file(tmp_path) -> None:
    with pytest.raises(PretrainedWeightsError, match="not found"):
        build_model("resnet18", outputs=1, pretrained=tmp_path / "missing.pth")
    source = build_model("resnet18", outputs=1000)
    path = tmp_path / "imagenet.pth"
    torch.save(source.state_dict(), path)
    model = build_model("resnet18", outputs=1, pretrained=path)
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert model.fc.weight.shape == (1, 512)
    with pytest.raises(PretrainedWeightsError, match="does not fit"):
        build_model("mobilenet_v2", outputs=1, pretrained=path)


def test_resnet18_is_torchvision_resnet18() -> None:
    """Same tensor names and shapes, and identical outputs with the same weights."""
    from torchvision.models import resnet18

    reference = resnet18(weights=None, num_classes=1).eval()
    ours = build_model("resnet18", outputs=1).eval()
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))


def test_inference_path_does_not_import_torchvision() -> None:
    import subprocess
    import sys

    code = ("import sys; from models.registry import build_model; build_model('resnet18', outputs=1); "
            "build_model('side_cnn', outputs=2); print('torchvision' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
