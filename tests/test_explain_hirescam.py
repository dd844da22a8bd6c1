"""HiResCAM: Grad-CAM's machinery with cell-wise gradient weights. Equal to Grad-CAM where a pooled linear
head follows the layer, different (and right) where the head weighs places differently, mirror-consistent
for the side model, and reachable through ``explain``'s method table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import faces
from explain.base import get_explainer
from explain.gradcam import GradCamExplainer, HiResCamExplainer, layer_cam
from explain.types import MapSource
from faces.sides import Side
from tests.tiny_models import side_and_pain_bundle, side_map_and_mirror, synthetic_geometry


class Probe(nn.Module):
    """Red and green channels (1x1 conv, ReLU) as ``features``; the head either pools them evenly
    (``place=False``: ``mean(red) - mean(green)``) or weighs red by place (``place=True``: red in the top
    half raises the output, red in the bottom half lowers it, by the same amount)."""

    def __init__(self, place: bool) -> None:
        super().__init__()
        conv = nn.Conv2d(3, 2, 1, bias=False)
        conv.weight.data = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).view(2, 3, 1, 1)
        self.features = nn.Sequential(conv, nn.ReLU())
        self.place = place

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        if self.place:
            half = f.shape[2] // 2
            score = f[:, 0, :half].mean(dim=(1, 2)) - f[:, 0, half:].mean(dim=(1, 2))
        else:
            score = f[:, 0].mean(dim=(1, 2)) - f[:, 1].mean(dim=(1, 2))
        return score[:, None]


def _red_top_and_bottom() -> torch.Tensor:
    x = torch.zeros(1, 3, 16, 8)
    x[0, 0, 2:6, 2:6] = 1.0  # red high up
    x[0, 0, 10:14, 2:6] = 1.0  # and the same red low down
    x[0, 1, 10:14, 6:] = 0.5  # some green
    return x


def test_equal_to_gradcam_where_a_pooled_linear_head_follows() -> None:
    probe = Probe(place=False).eval()
    x = _red_top_and_bottom() + 0.2 * torch.rand(1, 3, 16, 8, generator=torch.Generator().manual_seed(0))
    grad_cam, _ = layer_cam(probe, probe.features, x, [0], size=(16, 8))
    hires, _ = layer_cam(probe, probe.features, x, [0], size=(16, 8), elementwise=True)
    torch.testing.assert_close(hires, grad_cam, rtol=1e-5, atol=1e-7)


def test_cell_wise_weights_see_what_the_channel_mean_cancels() -> None:
    probe = Probe(place=True).eval()
    x = _red_top_and_bottom()
    grad_cam, _ = layer_cam(probe, probe.features, x, [0], size=(16, 8))
    hires, _ = layer_cam(probe, probe.features, x, [0], size=(16, 8), elementwise=True)
    assert float(grad_cam.abs().max()) < 1e-7  # the red channel's mean gradient is 0: Grad-CAM sees nothing
    top, bottom = hires[0, 2:6, 2:6], hires[0, 10:14, 2:6]
    assert float(top.min()) > 0 and float(bottom.max()) < 0  # the red up raises, the red down lowers
    assert float(hires[0, :, 6:].abs().max()) == 0.0  # and the green, which the head ignores, is blank


@pytest.fixture(scope="module")
def geometry() -> faces.FaceGeometry:
    return synthetic_geometry()


def test_side_map_is_mirror_consistent_and_labelled(geometry) -> None:
    bundle = side_and_pain_bundle()
    explainer = get_explainer("hirescam")
    assert isinstance(explainer, HiResCamExplainer)
    x, source, direct, mirrored = side_map_and_mirror(explainer, bundle, geometry)
    scale = float(np.abs(direct.input_map).max())
    assert scale > 0
    np.testing.assert_allclose(mirrored.input_map, direct.input_map[:, ::-1], atol=1e-4 * scale)
    assert direct.method == "hirescam" and "HiResCAM" in direct.params["weighting"]
    plain = GradCamExplainer().attribute(bundle.side, x, 0, source=source)
    assert plain.method == "gradcam" and "Grad-CAM" in plain.params["weighting"]
    assert not np.allclose(plain.input_map, direct.input_map)
    half = explainer.attribute(bundle.pain, torch.randn(1, 3, 32, 16), 0,
                               source=MapSource(geometry, "pain", Side.LEFT))
    assert half.input_map.shape == (32, 16)
