"""The cerebral-palsy paper's ten networks by name, for its pain / no-pain study.

torchvision builders where they exist (``weights=None``: nothing is downloaded, every network starts
from scratch): AlexNet, VGG16, VGG19, ResNet50, ResNet101 (torchvision has no ResNet101V2, the paper's
pre-activation variant; the original ResNet101 stands in and is named so), InceptionV3 (needs inputs of
at least 75 x 75). Xception is not in torchvision; :class:`Xception` follows Chollet (2017): entry,
middle (eight residual blocks) and exit flows of depthwise-separable convolutions.

The three small networks the paper took from its references are defined here from their published
descriptions, simplified where the descriptions leave details open (each has BatchNorm and ends in
adaptive pooling so that any input size works): SongNet (Song et al. 2014), WeiNet (Li et al. 2015,
64 x 64 input) and SilNet (Ramis et al. 2022, 150 x 150 input). They are not exact reproductions.

Every entry says whether it fits the committed CPU run (``cpu``); a GPU run takes them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn


def _conv(cin: int, cout: int, k: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _small_cnn(widths: list[int], kernels: list[int], dense: int, outputs: int, dropout: float) -> nn.Module:
    layers: list[nn.Module] = []
    cin = 3
    for width, k in zip(widths, kernels, strict=True):
        layers += [*_conv(cin, width, k), nn.MaxPool2d(2)]
        cin = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(cin * 4, dense),
                         nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(dense, outputs))


def songnet(outputs: int) -> nn.Module:
    """Two 5x5 convolution / max-pool stages and a dense layer (after Song et al. 2014)."""
    return _small_cnn([32, 64], [5, 5], 256, outputs, 0.5)


def weinet(outputs: int) -> nn.Module:
    """Three convolution / max-pool stages for 64 x 64 faces and a dense layer (after Li et al. 2015)."""
    return _small_cnn([32, 64, 128], [5, 3, 3], 256, outputs, 0.5)


def silnet(outputs: int) -> nn.Module:
    """Four convolution / max-pool stages for 150 x 150 faces and a dense layer (after Ramis et al. 2022)."""
    return _small_cnn([32, 64, 128, 128], [3, 3, 3, 3], 512, outputs, 0.5)


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1 convolution, with BatchNorm."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                         nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))


class XceptionBlock(nn.Module):
    """Residual block of separable convolutions; ``stride`` 2 ends with a max-pool and a strided shortcut."""

    def __init__(self, cin: int, cout: int, repeats: int, stride: int, relu_first: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = cin
        for i in range(repeats):
            if relu_first or i > 0:
                layers.append(nn.ReLU(inplace=False))
            layers.append(SeparableConv(width, cout))
            width = cout
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.body = nn.Sequential(*layers)
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):  # noqa: ANN001, ANN201 - nn.Module signature
        return self.body(x) + self.skip(x)


class Xception(nn.Module):
    """Xception (Chollet 2017): entry flow, eight middle-flow blocks at 728 channels, exit flow."""

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(True),
                                  nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True))
        self.entry = nn.Sequential(XceptionBlock(64, 128, 2, 2, relu_first=False),
                                   XceptionBlock(128, 256, 2, 2), XceptionBlock(256, 728, 2, 2))
        self.middle = nn.Sequential(*[XceptionBlock(728, 728, 3, 1) for _ in range(8)])
        self.exit = nn.Sequential(XceptionBlock(728, 1024, 2, 2), SeparableConv(1024, 1536), nn.ReLU(True),
                                  SeparableConv(1536, 2048), nn.ReLU(True), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())
        self.fc = nn.Linear(2048, outputs)

    def forward(self, x):  # noqa: ANN001, ANN201 - nn.Module signature
        return self.fc(self.exit(self.middle(self.entry(self.stem(x)))))


def _torchvision(name: str, head: str, **kwargs: object) -> Callable[[int], nn.Module]:
    def build(outputs: int) -> nn.Module:
        import torchvision.models as tvm

        model = getattr(tvm, name)(weights=None, **kwargs)
        parent_path, _, attr = head.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        old = getattr(parent, attr) if not attr.isdigit() else parent[int(attr)]
        new = nn.Linear(old.in_features, outputs)
        if attr.isdigit():
            parent[int(attr)] = new
        else:
            setattr(parent, attr, new)
        return model

    return build


@dataclass(frozen=True)
class PaperNetwork:
    """One of the paper's networks: builder, the input side the paper used, the source, CPU fit."""

    name: str
    build: Callable[[int], nn.Module]
    paper_input: int
    source: str
    cpu: bool
    min_input: int = 32


PAPER_NETWORKS: dict[str, PaperNetwork] = {n.name: n for n in (
    PaperNetwork("alexnet", _torchvision("alexnet", "classifier.6"), 224, "torchvision alexnet", False, 64),
    PaperNetwork("vgg16", _torchvision("vgg16", "classifier.6"), 224, "torchvision vgg16", False),
    PaperNetwork("vgg19", _torchvision("vgg19", "classifier.6"), 224, "torchvision vgg19", False),
    PaperNetwork("resnet50", _torchvision("resnet50", "fc"), 224, "torchvision resnet50", False),
    PaperNetwork("resnet101", _torchvision("resnet101", "fc"), 224,
                 "torchvision resnet101 (standing in for ResNet101V2)", False),
    PaperNetwork("xception", Xception, 224, "defined here after Chollet (2017)", False),
    PaperNetwork("inception_v3", _torchvision("inception_v3", "fc", aux_logits=False, init_weights=True), 224,
                 "torchvision inception_v3 (no auxiliary head)", False, 75),
    PaperNetwork("songnet", songnet, 224, "defined here after Song et al. (2014), simplified", True),
    PaperNetwork("weinet", weinet, 64, "defined here after Li et al. (2015), simplified", True),
    PaperNetwork("silnet", silnet, 150, "defined here after Ramis et al. (2022), simplified", True),
)}


def cpu_subset() -> list[str]:
    """The networks the committed CPU run trains (the small custom ones)."""
    return [name for name, net in PAPER_NETWORKS.items() if net.cpu]


__all__ = ["PAPER_NETWORKS", "PaperNetwork", "Xception", "cpu_subset", "silnet", "songnet", "weinet"]
