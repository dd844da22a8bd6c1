"""Architectures by name: every registered network builds and runs at its card's input size."""

from __future__ import annotations

import pytest
import torch

from models.epochs import output_count
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
    outputs = default_outputs(ARCHITECTURES[name].tasks[0])
    model = build_model(name, outputs=outputs).eval()
    with torch.no_grad():
        for size in ((64, 32), (96, 96)):
            assert model(torch.randn(1, 3, *size)).shape == (1, outputs)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_cam_layer_is_a_conv_stage(name: str) -> None:
    model = build_model(name, outputs=2)
    layer = cam_layer(model, name)
    assert any(isinstance(m, torch.nn.Conv2d) for m in layer.modules())


#: evidence networks: (task, outputs, input size, grid, feature stage)
EVIDENCE_NETWORKS = {"resnet18_evidence": ("pain", 1, (128, 64), (8, 4), "layer3"),
                     "patch_evidence": ("pain", 1, (128, 64), (16, 8), "stage3"),
                     "patch_evidence_33": ("pain", 1, (128, 64), (16, 8), "stage2"),
                     "side_halves": ("side", 2, (128, 128), (8, 8), "features.block3")}


def test_binary_pain_head_on_any_backbone() -> None:
    # the evidence networks sum non-negative evidence: PSPI regressors or side scorers only
    for name in set(ARCHITECTURES) - set(EVIDENCE_NETWORKS):
        check_task(name, "pain_binary", 2)
        check_task(name, "pain_binary", 1)
    for name in EVIDENCE_NETWORKS:
        with pytest.raises(ValueError, match="not registered"):
            check_task(name, "pain_binary", 2)


@pytest.mark.parametrize("name", sorted(EVIDENCE_NETWORKS))
def test_evidence_networks_score_the_mean_of_non_negative_evidence_per_cell(name: str) -> None:
    task, outputs, size, grid, features = EVIDENCE_NETWORKS[name]
    torch.manual_seed(0)
    model = build_model(name, outputs=outputs, task=task).eval()
    x = torch.randn(3, 3, *size)
    with torch.no_grad():
        evidence = model.evidence_map(x)
        out = model(x)
    assert evidence.shape == (3, outputs, *grid) and bool((evidence >= 0).all())
    torch.testing.assert_close(out, evidence.mean(dim=(2, 3)))
    assert output_count(model) == outputs
    assert ARCHITECTURES[name].features == features and ARCHITECTURES[name].cam_layer == "evidence"
    assert ARCHITECTURES["resnet18"].features == "layer4"


def test_half_evidence_side_model_reads_each_half_and_swaps_under_a_mirror() -> None:
    """Each side's logit comes from its own half only (the patient's left is the image's right), and
    mirroring the face swaps the two logits exactly."""
    torch.manual_seed(3)
    model = build_model("side_halves", outputs=2, task="side").eval()
    x = torch.randn(2, 3, 64, 64)
    y = x.clone()
    y[..., 32:] += 1.5  # the image's right: the patient's left half
    with torch.no_grad():
        before, after = model(x), model(y)
        evidence = model.evidence_map(y)
        torch.testing.assert_close(model(torch.flip(x, dims=(-1,))), before.flip(-1))
    assert not torch.allclose(after[:, 0], before[:, 0]) and torch.equal(after[:, 1], before[:, 1])
    # channel 0 (patient-left affected) lives on the image's right, channel 1 on its left
    assert float(evidence[:, 0, :, :2].abs().max()) == 0.0 and float(evidence[:, 1, :, 2:].abs().max()) == 0.0
    with pytest.raises(ValueError, match="two sides"):
        build_model("side_halves", outputs=1)


def test_the_deployed_side_model_skips_the_mirror_pass_only_for_a_symmetric_network() -> None:
    """For a network that is mirror-symmetric by construction the mirror pass would repeat the direct one,
    so it is skipped with the same probabilities; any other side network still gets both passes."""
    from unittest import mock

    from models.networks import MirrorConsistentSide, deployed
    from models.preprocess import flip_tensor

    torch.manual_seed(4)
    x = torch.randn(3, 3, 64, 64)
    for name, symmetric in (("side_halves", True), ("side_cnn", False)):
        model = deployed(build_model(name, outputs=2, task="side").eval(), "side")
        assert isinstance(model, MirrorConsistentSide) and model.symmetric_base is symmetric
        with torch.no_grad():
            mirrored = torch.softmax(model.base(flip_tensor(x)), 1).flip(1)
            both = 0.5 * (torch.softmax(model.base(x), 1) + mirrored)
            with mock.patch.object(model.base, "forward", wraps=model.base.forward) as passes:
                out = model(x)
        assert passes.call_count == (1 if symmetric else 2)
        torch.testing.assert_close(out, both, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name, first_far", [("patch_evidence", 5), ("patch_evidence_33", 4)])
def test_patch_evidence_cells_see_only_their_patch(name: str, first_far: int) -> None:
    """A change in the top-left corner moves the evidence of the cells near it and of no cell whose patch
    (49 or 33 pixels) misses it."""
    torch.manual_seed(1)
    model = build_model(name, outputs=1).eval()
    with torch.no_grad():
        model.evidence[2].bias.fill_(2.0)  # away from softplus's flat end, so every cell can move
        x = torch.randn(1, 3, 128, 64)
        y = x.clone()
        y[:, :, :16, :16] += 2.0
        moved = (model.evidence_map(y) - model.evidence_map(x)).abs()[0, 0]
    assert float(moved[0, 0]) > 0 and float(moved[1, 1]) > 0
    # cell i sees pixels 8 i + 3.5 -+ 24 (49-pixel patch; from cell 5 on, none of rows 0-15) or
    # 8 i + 3.5 -+ 16 (33-pixel patch; from cell 4 on)
    assert float(moved[first_far - 1, 0]) > 0 and float(moved[0, first_far - 1]) > 0
    assert float(moved[first_far:].max()) == 0.0 and float(moved[:, first_far:].max()) == 0.0


def test_evidence_gain_scales_the_score_and_stores_nothing() -> None:
    """The head's fixed gain multiplies every cell's evidence (so the score) and adds no state: weights of one
    gain load into a network of another and give the score times the ratio."""
    from models.registry import PatchEvidenceNet

    torch.manual_seed(2)
    plain, strong = PatchEvidenceNet(1, gain=1.0).eval(), PatchEvidenceNet(1, gain=8.0).eval()
    assert set(plain.state_dict()) == set(strong.state_dict())
    strong.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 128, 64)
    with torch.no_grad():
        torch.testing.assert_close(strong.evidence_map(x), 8.0 * plain.evidence_map(x))
        torch.testing.assert_close(strong(x), 8.0 * plain(x))


def test_evidence_resnet_loads_a_torchvision_style_state_dict(tmp_path) -> None:
    source = build_model("resnet18", outputs=1000)
    path = tmp_path / "imagenet.pth"
    torch.save(source.state_dict(), path)
    loaded = build_model("resnet18_evidence", outputs=1, pretrained=path)
    assert torch.equal(loaded.layer3[1].conv2.weight, source.layer3[1].conv2.weight)


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
