"""The domain indicator: features, statistics, the card round trip and the check on assessment inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from faces.sides import Side
from models.checkpoint import ModelCard, read_card, save_checkpoint
from models.domain import (
    WARNING,
    DomainCheck,
    DomainError,
    DomainStats,
    RoleDistance,
    check_domain,
    domain_stats,
    feature_layer,
    fit_domain,
    fit_stats,
    held_out_rows,
    pooled_features,
    write_domain_stats,
)
from models.preprocess import InputSpec, normalise
from models.registry import build_model

SPEC = InputSpec.default("half_face", (32, 16))


def _images(rng: np.random.Generator, n: int, spec: InputSpec = SPEC, shift: bool = False) -> torch.Tensor:
    """Smooth random pictures: a bright blob on a mid-grey ground; ``shift`` makes dark stripes instead."""
    h, w = spec.size
    yy, xx = np.mgrid[:h, :w]
    out = np.empty((n, 3, h, w), np.uint8)
    for i in range(n):
        if shift:
            picture = np.where((xx + yy + i) % 4 < 2, 10, 250)[None].repeat(3, 0)
        else:
            cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
            blob = 80 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (0.1 * h * w))
            picture = 110 + blob[None] + rng.normal(0, 8, (3, h, w))
        out[i] = np.clip(picture, 0, 255).astype(np.uint8)
    return torch.from_numpy(out)


@pytest.fixture(scope="module")
def network() -> nn.Module:
    torch.manual_seed(0)
    return build_model("simple_cnn", outputs=1).eval()


@pytest.fixture(scope="module")
def stats(network) -> dict:
    return fit_domain(network, _images(np.random.default_rng(1), 200), SPEC, architecture="simple_cnn")


def _card(arch: str = "simple_cnn", task: str = "pain", spec: InputSpec = SPEC,
          outputs: int = 1) -> ModelCard:
    return ModelCard(architecture=arch, task=task, outputs=outputs, input=spec.to_dict())


def test_features_are_the_global_pooled_last_conv_stage(network) -> None:
    x = normalise(_images(np.random.default_rng(2), 4), SPEC)
    features = pooled_features(network, "simple_cnn", x)
    assert features.shape == (4, 128)
    with torch.no_grad():
        assert np.allclose(features, network.features(x).mean(dim=(2, 3)).numpy(), atol=1e-5)


def test_resnet_features_are_the_input_of_its_final_layer() -> None:
    torch.manual_seed(0)
    resnet = build_model("resnet18", outputs=1).eval()
    x = torch.randn(2, 3, 32, 32)
    features = pooled_features(resnet, "resnet18", x)
    with torch.no_grad():
        head = resnet.fc(torch.from_numpy(features).float())
        assert np.allclose(head.numpy(), resnet(x).numpy(), atol=1e-4)


def test_a_network_that_scores_each_half_gives_both_halves_features_side_by_side() -> None:
    """The half-evidence side model runs its blocks on both halves of each face: a face's feature is the
    patient-right half's pooled features, then the (mirrored) patient-left half's, whatever the batch."""
    torch.manual_seed(1)
    side = build_model("side_halves", outputs=2).eval()
    x = torch.randn(5, 3, 32, 32)
    features = pooled_features(side, "side_halves", x, batch_size=2)
    with torch.no_grad():
        right = side.features(x[..., :16]).mean(dim=(2, 3))
        left = side.features(x[..., 16:].flip(-1)).mean(dim=(2, 3))
    assert features.shape == (5, 256)
    assert np.allclose(features, torch.cat([right, left], dim=1).numpy(), atol=1e-5)


def test_unknown_architecture_or_a_stage_without_a_map_raises(network) -> None:
    with pytest.raises(KeyError):
        feature_layer(network, "no_such_net")
    with pytest.raises(DomainError):
        feature_layer(nn.Sequential(nn.Flatten()), "simple_cnn")
    flat = nn.Sequential()
    flat.add_module("features", nn.Sequential())
    flat.features.add_module("block3", nn.Flatten())
    with pytest.raises(DomainError):
        pooled_features(flat, "simple_cnn", torch.zeros(1, 3, 8, 8))


def test_calibration_holds_out_whole_subjects() -> None:
    groups = [f"s{i // 4:02d}" for i in range(60)]
    held = held_out_rows(60, groups)
    assert {g for g, h in zip(groups, held, strict=True) if h}.isdisjoint(
        {g for g, h in zip(groups, held, strict=True) if not h})
    assert held.sum() == 12
    assert held_out_rows(20).sum() == 4


def test_fresh_training_like_inputs_are_near_and_shifted_ones_far(network, stats) -> None:
    decoded = DomainStats.from_dict(stats)
    rng = np.random.default_rng(3)
    near = decoded.distances(pooled_features(network, "simple_cnn", normalise(_images(rng, 60), SPEC)))
    far = decoded.distances(pooled_features(network, "simple_cnn",
                                                 normalise(_images(rng, 20, shift=True), SPEC)))
    assert np.mean(near <= decoded.threshold) >= 0.9
    assert np.all(far > decoded.threshold)
    assert decoded.percentile(float(np.median(near))) < 90
    assert decoded.percentile(float(far.min())) == 100


def test_stored_statistics_give_the_exact_mahalanobis_distance() -> None:
    rng = np.random.default_rng(4)
    scales = np.r_[np.linspace(5, 1, 6), np.full(10, 0.3)]
    features = rng.normal(size=(400, 16)) * scales
    stats = fit_stats(features, axes=16, shrinkage=0.0)
    decoded = DomainStats.from_dict(stats)
    held = features[::5]
    fitted = features[np.arange(400) % 5 != 0]
    inverse = np.linalg.inv(np.cov(fitted.T))
    centred = held - fitted.mean(0)
    exact = np.sqrt(np.einsum("ij,jk,ik->i", centred, inverse, centred) / 16)
    assert np.allclose(decoded.distances(held), exact, rtol=0.02)
    assert json.loads(json.dumps(stats)) == stats


def test_too_few_inputs_are_refused() -> None:
    with pytest.raises(DomainError):
        fit_stats(np.zeros((10, 4)))


def test_statistics_survive_a_card_write_and_read(tmp_path, network, stats) -> None:
    save_checkpoint(network, _card(), tmp_path / "pain")
    write_domain_stats(tmp_path, "pain", stats)
    card = read_card(tmp_path / "pain.json")
    assert card.domain == stats
    features = np.random.default_rng(5).normal(size=(3, 128))
    expected = DomainStats.from_dict(stats).distances(features)
    assert np.allclose(domain_stats(card).distances(features), expected)


def _bundle(pain_card: ModelCard):
    from models.pipeline import ModelBundle

    torch.manual_seed(0)
    side_spec = InputSpec.default("aligned_face", (32, 32))
    return ModelBundle.from_modules(pain=build_model("simple_cnn", outputs=1), pain_card=pain_card,
                                    side=build_model("side_cnn", outputs=2),
                                    side_card=_card("side_cnn", "side", side_spec, 2), jitter_px=0)


def _inputs(rng: np.random.Generator, shift: bool = False):
    from models.pipeline import ModelInputs

    halves = normalise(_images(rng, 2, shift=shift), SPEC)
    face = normalise(_images(rng, 1, InputSpec.default("aligned_face", (32, 32))), SPEC)
    return ModelInputs(face, {Side.RIGHT: halves[:1], Side.LEFT: halves[1:]}, None)


def test_check_domain_is_none_without_statistics() -> None:
    assert check_domain(_bundle(_card()), _inputs(np.random.default_rng(6))) is None


def test_check_domain_reads_the_models_with_statistics(network) -> None:
    bundle = _bundle(_card())
    pain = bundle.pain
    card = _card()
    card.domain = fit_domain(pain.network, _images(np.random.default_rng(7), 100), SPEC,
                             architecture="simple_cnn")
    bundle = type(bundle)(pain=type(pain)("pain", pain.model, card), side=bundle.side)
    near = check_domain(bundle, _inputs(np.random.default_rng(8)))
    far = check_domain(bundle, _inputs(np.random.default_rng(8), shift=True))
    assert set(near.roles) == {"pain"}
    assert set(near.roles["pain"].inputs) == {"patient_left_half", "patient_right_half"}
    assert far.far and far.warning == WARNING and far.score > 1
    assert near.roles["pain"].distance < far.roles["pain"].distance
    assert "synthetic" in WARNING


def test_domain_check_to_dict_is_json() -> None:
    check = DomainCheck({"pain": RoleDistance("pain", 2.0, 100.0, 1.0, {"patient_left_half": 2.0}),
                         "side": RoleDistance("side", 0.5, 40.0, 1.0, {"face": 0.5})})
    data = json.loads(json.dumps(check.to_dict()))
    assert data["far"] is True and data["score"] == 1.25 and data["warning"] == WARNING
    assert data["roles"]["side"]["far"] is False and data["roles"]["pain"]["percentile_in_training"] == 100.0
    near = DomainCheck({"side": RoleDistance("side", 0.5, 40.0, 1.0),
                        "pain": RoleDistance("pain", 1.2, 99.5, 1.0)})
    assert near.score == pytest.approx(0.85) and not near.far
    assert near.warning is None and near.to_dict()["warning"] is None
    assert near.to_dict()["roles"]["pain"]["far"]


@pytest.fixture(scope="module")
def face() -> tuple[np.ndarray, np.ndarray]:
    from data.synth import FrameSpec, render_face, sample_identity

    rendered = render_face(FrameSpec(identity=sample_identity(7), size=160))
    return rendered.image, rendered.landmarks


def test_assess_carries_the_domain_check_in_its_json(face) -> None:
    from models.pipeline import assess

    image, landmarks = face
    plain = _bundle(_card())
    result = assess(image, models=plain, landmarks=landmarks)
    assert result.domain is None and result.to_dict()["domain"] is None and WARNING not in result.warnings
    card = _card()
    card.domain = fit_domain(plain.pain.network, _images(np.random.default_rng(9), 60), SPEC,
                             architecture="simple_cnn")
    fitted = type(plain)(pain=type(plain.pain)("pain", plain.pain.model, card), side=plain.side)
    result = assess(image, models=fitted, landmarks=landmarks)
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data["domain"]["roles"]) == {"pain"}
    expected = check_domain(fitted, result.inputs)
    assert data["domain"]["score"] == round(expected.score, 4)
    assert expected.far and data["domain"]["far"] and WARNING in result.warnings
    assert "domain" in result.timings_ms
