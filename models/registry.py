"""Architectures by name: one builder per network, with the tasks it serves and its Grad-CAM layer.

Tasks (see :data:`TASKS`):

- ``"side"``: which patient side the stroke affected. Two logits in the order of
  :data:`SIDE_CLASSES` (patient-left affected, patient-right affected).
- ``"pain"``: PSPI regression, one output (a score meant for [0, 16]; callers clamp).
- ``"pain_binary"``: the pain / no-pain task of the cerebral-palsy paper, two logits
  (no pain, pain) or one logit (pain), on any backbone.

Every network ends in adaptive pooling, so it accepts any input size of at least 32 x 32 pixels; the
size a checkpoint was trained at is recorded in its model card and read by :mod:`models.preprocess`.

Nothing is downloaded: torchvision builders (MobileNetV2, EfficientNet-B0) are called with
``weights=None`` and imported only when such a network is built; ResNet18 is defined here, identical to
torchvision's (see :class:`ResNet18`). ImageNet initialisation
comes only from a local file passed as ``pretrained`` (a torchvision state dict as ``.safetensors`` or a
``.pt``/``.pth`` state dict read with ``weights_only=True``); without it the network starts from scratch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from faces.sides import Side

TASKS = ("side", "pain", "pain_binary")

#: Class order of side logits / probabilities: index 0 = patient-left affected, 1 = patient-right.
SIDE_CLASSES: tuple[Side, Side] = (Side.LEFT, Side.RIGHT)

#: Class names written in model cards, per task and number of outputs.
CLASS_NAMES: dict[tuple[str, int], tuple[str, ...]] = {
    ("side", 2): ("patient_left_affected", "patient_right_affected"),
    ("pain", 1): ("pspi",),
    ("pain_binary", 2): ("no_pain", "pain"),
    ("pain_binary", 1): ("pain_logit",),
}


class PretrainedWeightsError(ValueError):
    """A local ImageNet weights file is missing, unreadable or does not fit the architecture."""


class SmallCNN(nn.Module):
    """Three convolution blocks, global average pooling and a small dense head.

    This is the report's custom CNN (three conv layers with max-pooling, a dense layer and dropout)
    with three deliberate changes: each block has BatchNorm; the feature map is reduced by adaptive
    average pooling to a small ``grid`` instead of being flattened whole into a very large dense layer,
    which makes the network input-size agnostic, a few hundred thousand parameters instead of millions,
    and far less prone to overfit; and the first convolution has stride 2, so the full-resolution maps
    are never stored for backpropagation (training is several times faster on a CPU).

    ``grid=(1, 1)`` is global average pooling (the pain CNN: which features are present). The side CNN
    keeps a 4 x 4 grid, because its answer depends on *where* a feature is (left or right of the
    midline): with global pooling it barely learned the side on the synthetic benchmark.

    Input ``(N, 3, H, W)`` float (normalised), H and W >= 16; output ``(N, outputs)``.
    """

    def __init__(self, outputs: int, widths: tuple[int, int, int] = (32, 64, 128), dropout: float = 0.3,
                 grid: tuple[int, int] = (1, 1)):
        super().__init__()
        blocks: dict[str, nn.Module] = {}
        in_ch = 3
        for i, width in enumerate(widths, start=1):
            blocks[f"block{i}"] = nn.Sequential(
                nn.Conv2d(in_ch, width, 3, stride=2 if i == 1 else 1, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )
            in_ch = width
        self.features = nn.Sequential()
        for name, block in blocks.items():
            self.features.add_module(name, block)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_ch * grid[0] * grid[1], in_ch),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(in_ch, outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))


def init_like_torchvision(network: nn.Module) -> None:
    """Initialise convolutions (Kaiming normal, fan-out) and BatchNorm layers (1, 0) as torchvision's
    ResNet does, in module order."""
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convolutions and a shortcut), as in ``torchvision.models.resnet``."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18(nn.Module):
    """ResNet18 with the module names, tensor shapes, initialisation and forward pass of
    ``torchvision.models.resnet18`` (so torchvision's ImageNet state dict loads into it unchanged; a
    test checks the two give identical outputs), defined here so that inference does not import
    torchvision, whose import pulls in ``torch._dynamo`` and adds seconds to every cold start.

    Input ``(N, 3, H, W)`` normalised, H and W >= 32; output ``(N, outputs)``.
    """

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths, in_ch = (64, 128, 256, 512), 64
        for index, width in enumerate(widths, start=1):
            stride = 1 if index == 1 else 2
            self.add_module(f"layer{index}", nn.Sequential(BasicBlock(in_ch, width, stride),
                                                           BasicBlock(width, width)))
            in_ch = width
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, outputs)
        init_like_torchvision(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Gain(nn.Module):
    """Multiplies its input by a fixed factor (no parameters, nothing in the state dict)."""

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = float(gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain

    def extra_repr(self) -> str:
        return f"gain={self.gain:g}"


def evidence_head(channels: int, outputs: int, hidden: int, gain: float = 1.0) -> nn.Sequential:
    """Per cell, features -> a non-negative amount of evidence: two 1 x 1 convolutions and a softplus,
    started near "no evidence" (softplus(-3) = 0.05 per cell), times a fixed ``gain`` (module 4, when not
    1: the output is the mean over many cells, so a score that a few cells carry needs large evidence in
    them, which the gain brings within reach of the optimiser's step sizes)."""
    layers = [nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, outputs, 1),
              nn.Softplus()]
    if gain != 1.0:
        layers.append(Gain(gain))
    head = nn.Sequential(*layers)
    nn.init.constant_(head[2].bias, -3.0)
    return head


class SummedEvidence(nn.Module):
    """A network whose output is the mean of its non-negative evidence map over cells (no bias), so that
    the map (module ``evidence``) is an exact decomposition of the output into places."""

    def evidence_map(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, outputs, h, w)`` non-negative evidence per cell; the output is its mean over cells."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.evidence_map(x).mean(dim=(2, 3))


class EvidenceResNet18(SummedEvidence):
    """ResNet18's first three stages and a head that reads the score as a sum of local evidence.

    The head turns each cell of ``layer3`` (8 x 4 cells on the 128 x 64 half) into a non-negative amount
    of evidence (two 1 x 1 convolutions, softplus) and the output is the mean over cells: no bias, no
    term that is not in some cell. A face without the features the model learned to score gets about
    0, and every point of the score comes from the cells where those features are, so the evidence map
    (module ``evidence``, the Grad-CAM layer) is an exact decomposition of the output into places: the
    model cannot read pain as the *absence* of an open eye or a relaxed brow elsewhere in the half. It
    drops ResNet18's ``layer4``, which at this input size is 4 x 2 cells (too coarse for facial regions),
    and is about half its cost. Module names of the stages match :class:`ResNet18` (and torchvision's),
    so a local ImageNet state dict loads into them.

    Not the demo's pain model, because the places its cells give are not where the evidence lies: every
    ``layer3`` cell sees nearly the whole half. Trained with the demo recipe in place of ResNet18 (same data,
    18 epochs), on 40 development faces (seed 7) the cell holding the most evidence was a region the active AU
    changed on 12 (brow lowering 10 of 10, orbit tightening 0, levator contraction 0, eye closure 2), against
    21 for the centred ``layer3`` Grad-CAM of the ResNet18 then shipped; LIME and integrated gradients also
    found the changed region less often on it (29 and 29 of 40, against 34 and 37). On the seed-99 test photos
    its unaffected-half PSPI had MAE 1.82 and r 0.83 (ResNet18 1.80 and 0.89).

    Input ``(N, 3, H, W)`` normalised, H and W >= 32; output ``(N, outputs)``, each >= 0.
    """

    def __init__(self, outputs: int, hidden: int = 128) -> None:
        super().__init__()
        trunk = ResNet18(outputs)
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"):
            self.add_module(name, getattr(trunk, name))
        self.evidence = evidence_head(256, outputs, hidden)

    def evidence_map(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, outputs, h, w)`` non-negative evidence per cell; the output is its mean over cells."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.evidence(self.layer3(self.layer2(self.layer1(x))))


class PatchEvidenceNet(SummedEvidence):
    """A score summed from small patches: non-negative evidence per cell, each cell seeing only a patch.

    Six 3 x 3 convolutions (a strided stem, two residual blocks, one more convolution) and two 2 x 2
    poolings take the input to cells 8 pixels apart, each of which sees a patch of 49 x 49 pixels around
    it (its receptive field; 16 x 8 cells on the 128 x 64 half, whose eye is about 20 pixels wide); 1 x 1
    convolutions then turn each cell's features into a non-negative amount of evidence (softplus) and the
    output is the mean over cells, with no bias (the design of BagNet, Brendel and Bethge 2019, with a
    regression head). Every point of the score therefore comes from identifiable patches of the face: the
    evidence map (module ``evidence``, the Grad-CAM layer) is an exact decomposition of the output into
    places that the network cannot take from elsewhere, and a face without the features it learned to
    score gets about 0.

    With 49-pixel patches it was the demo recipe's half-face pain model (:mod:`models.demo`, 30 epochs;
    ``python -m models demo-weights --only pain``) until the 33-pixel variant below, chosen over the
    recipe's earlier ResNet18 on development figures only:

    - on 40 development faces (seed 7) the region with the most Grad-CAM evidence was one the active AU
      changed on 30 (brow lowering 2 of 10: its evidence sits on the eye, whose patches see the brow; orbit
      tightening 10, levator contraction 9, eye closure 9), against 21 for the centred ``layer3`` map of the
      ResNet18 it replaced; LIME 36 and integrated gradients 37 (ResNet18: 34 and 37); the deletion AUC of the
      Grad-CAM PSPI map was below the random orderings' mean on 12 of 12 faces with either fill;
    - on the seed-99 test photos, unaffected-half MAE 1.52 (0.44 x the mean predictor) and r 0.880,
      against ResNet18's 1.80 (0.52 x) and 0.888; 0.9 MB of float16 weights instead of 22.4 MB;
    - on the development photos of the real-photo benchmark (``python -m eval realcheck --part
      development``), unedited PSPI median 2.23 and max 6.68 (ResNet18 1.24 and 8.23), and steadier
      one-sided edits (other half moved at most 0.83, 0.94 within 0.5; ResNet18 0.99, 0.96) but less
      stable under mirroring and roll (within 0.5 at 80 px on 0.82 of photos, at 120 px on 0.70;
      ResNet18 0.88 and 0.82). Anti-aliased pooling (a max over 2 x 2 at stride 1, then a binomial blur
      at stride 2) did not steady it: 0.80 and 0.76, unedited median 2.87 (that run left the mean
      predictor 6 epochs later than this one and reached MAE 1.73 on the seed-99 photos).
    - Without the last 3 x 3 convolution (33-pixel patches, the same recipe and 30 epochs) brow lowering
      moved onto the brow (Grad-CAM's top region a changed one on 33 of the 40 development faces, brow
      lowering 6 of 10, levator contraction 7; LIME 38 of 40), but the seed-99 MAE rose to 2.07 (0.60 x the
      mean predictor, r 0.842): the smaller patches see too little of the face to read it, so the variant
      was not kept.

    The figures above are of the network without a gain. The evidence now carries a fixed gain of 8
    (:class:`Gain`; ``gain``): the score is the mean over 128 cells, so a PSPI of 10 that the dozen cells
    over the eye and brow carry needs evidence of about 100 in each of them, far from where training
    starts (0.05 per cell) for steps of Adam's size; the side network's halves have the same problem
    (``_HalvesToFace.gain``). Trained by the same recipe with the same seed, without the gain the model sat
    at the mean predictor until epoch 12, with gains 8 and 16 until epoch 10; the best validation loss fell
    from 7.37 to 6.30 (gain 8) and 6.02 (gain 16), the validation MAE from 1.93 to 1.82 and 1.80. Gain 8 was
    chosen over 16 on the development photos of the real-photo benchmark (which it learned from): unedited
    PSPI median / max 1.69 / 4.21 (gain 16: 1.76 / 4.77; no gain: 2.25 / 6.18), share with a steady rise
    0.96 (0.96; 0.98), other half moved by a one-sided edit at most 0.92 (0.63; 0.83), within 0.5 under
    mirroring and roll at 80 px 0.80 (0.76; 0.74). On the seed-99 test photos, read after the choice, its
    unaffected-half MAE is 1.74 (0.51 x the mean predictor; mean error -1.41: it reads synthetic pain low)
    and r 0.891, against 1.52 (0.44 x) and 0.880 without the gain. The gain costs Grad-CAM localisation,
    which the choice did not weigh: measured afterwards on the 40 development faces (seed 7), the region with
    the most evidence was one the active AU changed on 25 (gain 16: 21; no gain: 30), brow lowering on 0 of
    10 and eye closure on 7 (no gain: 2 and 9); LIME 34 (37; 36).

    ``patch=33`` leaves out the last 3 x 3 convolution, so each cell sees a 33-pixel patch (registered as
    ``patch_evidence_33``): the demo's half-face pain model. The patches above 33 pixels let the eye's cells
    see the brow, so with the gain Grad-CAM put brow lowering's evidence on the eye. Two 33-pixel candidates
    with gains 8 and 4 were trained by the recipe (41 min each on one thread) and chosen between by a rule
    set before they finished: Grad-CAM's top region a changed one on at least 32 of the 40 development faces
    (``python -m explain groundtruth --faces 40 --seed 7``), on the development photos an unedited median
    of at most 2.0 and a steady rise on at least 0.92, then the lower validation loss. Both reached 32 (brow
    lowering 4 of 10, against 0 with 49-pixel patches; LIME 34 and 35); unedited median / max 1.73 / 4.91
    (gain 4: 1.73 / 6.94), steady rise 0.96 (0.98), other half moved by a one-sided edit at most 0.72
    (1.03), within 0.5 under mirroring and roll at 80 px 0.74 (0.64); best validation loss / MAE 6.41 /
    1.81 (7.48 / 1.81). Gain 8 was kept. Read after the choice, on the seed-99 test photos its
    unaffected-half MAE is 1.64 (0.47 x the mean predictor) and r 0.891 (gain 4: 1.33, 0.38 x, r 0.911).

    Input ``(N, 3, H, W)`` normalised, H and W >= 32; output ``(N, outputs)``, each >= 0.
    """

    def __init__(self, outputs: int, widths: tuple[int, int, int] = (32, 64, 128), hidden: int = 128,
                 gain: float = 8.0, patch: int = 49) -> None:
        super().__init__()
        if patch not in (33, 49):
            raise ValueError(f"patch must be 33 or 49 pixels, got {patch}")
        a, b, c = widths
        self.stem = nn.Sequential(nn.Conv2d(3, a, 3, 2, 1, bias=False), nn.BatchNorm2d(a),
                                  nn.ReLU(inplace=True))
        self.stage1 = nn.Sequential(BasicBlock(a, b), nn.MaxPool2d(2))  # stride 4, field 13
        self.stage2 = nn.Sequential(BasicBlock(b, c), nn.MaxPool2d(2))  # stride 8, field 33
        # field 49; ``patch=33`` leaves it out (an identity, so module paths stay the same)
        self.stage3 = (nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c),
                                     nn.ReLU(inplace=True)) if patch == 49 else nn.Identity())
        self.evidence = evidence_head(c, outputs, hidden, gain)
        init_like_torchvision(self)
        nn.init.normal_(self.evidence[2].weight, std=0.01)

    def evidence_map(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, outputs, h, w)`` non-negative evidence per cell; the output is its mean over cells."""
        return self.evidence(self.stage3(self.stage2(self.stage1(self.stem(x)))))


class _HalvesToFace(nn.Module):
    """Per-half palsy evidence -> the face's two-class evidence map (module ``evidence`` of
    :class:`HalfEvidenceSide`).

    Input ``(2N, C, h, w)``: the features of the N patient-right halves (image left, as they are), then
    of the N patient-left halves (image right, mirrored into the same orientation). Output ``(N, 2, h, 2w)``
    in the face's own orientation: channel 0 ("patient-left affected") holds the patient-left half's
    evidence where that half lies (the image's right), channel 1 the patient-right half's (the image's
    left), zero elsewhere."""

    #: evidence per cell = gain x softplus(...), so that a part of the face can reach a decisive log-odds:
    #: with the plain mean over the face's 64 cells, a log-odds of 3 needs every cell of one half to hold 6
    #: more than every cell of the other
    gain = 16.0

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.head = evidence_head(channels, 1, hidden)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        n = features.shape[0] // 2
        # in float32 even under bf16 autocast: both logits carry a common part of several units and the
        # decision lies in their difference, which bf16's 8-bit mantissa would round coarsely
        with torch.autocast(features.device.type, enabled=False):
            evidence = self.gain * self.head(features.float())[:, 0]
        right, left = evidence[:n], evidence[n:].flip(-1)  # patient-right (image left), patient-left
        zeros = torch.zeros_like(right)
        return torch.stack([torch.cat([zeros, left], dim=-1), torch.cat([right, zeros], dim=-1)], dim=1)


class HalfEvidenceSide(SummedEvidence):
    """Side model that scores each half of the face for palsy with one network and compares the two.

    The levelled face is cut at its centre into the patient's right half (the image's left) and left half
    (mirrored, so both halves have the midline on the same edge: the canonical half). One network, the
    side CNN's three blocks (8 x 4 cells on a 64-pixel-wide half, each seeing a 41-pixel patch) and a
    local-evidence head, turns every cell of a half into a non-negative amount of palsy evidence; the
    logit of "patient-left affected" is the mean over the face's cells of the left half's evidence and
    that of "patient-right affected" the right half's. The log-odds of a side is therefore (its half's
    evidence - the other half's) / cells: Grad-CAM at module ``evidence`` is an exact split of it into
    places, positive on the half named affected and negative on the other. As both halves go through the
    same network, mirroring the face swaps the two logits exactly.

    The shipped side model (the demo recipe, :mod:`models.demo`; 0.4 MB, base model and side model alike).
    It replaced the side CNN after a comparison on development data only:

    - seed-99 synthetic test photos: side accuracy 1.000 (side CNN 0.995); on its own validation split,
      where a quarter of the faces have no palsy, 0.926 (0.816);
    - 12 development faces (seed 7, ``explain.faithfulness``): Grad-CAM's deletion AUC below the random
      orderings' mean on 12 of 12 with a blurred fill (side CNN 6) but on 5 of 12 with the neutral-face fill
      (7): the neutral fill does not take this model's palsy evidence away (``python -m explain halves``:
      with the whole affected half replaced by it, the probability of that side stayed at a median of
      0.90, from 0.998; blurred, 0.66), so deleting the half it points to first barely moves it; on 20
      faces 28% of the map's mass lay inside the palsy's regions, which take 19% of the face (side CNN 10%,
      which leans on the other half: with the affected half replaced by the neutral fill its probability
      stayed at 0.98, with the other half replaced it fell to 0.39);
    - development photos (``python -m eval realcheck --part development``): a full-severity palsy found on
      0.99 of edits (0.95), a central one at half severity on 0.97 (0.89); with the reported PSPI the mean
      of both halves when no side is clear and its own threshold (0.925, ``python -m eval side-threshold``)
      the pain edits rose steadily on 0.98 of photos (0.94) and mirroring or rolling a face of 80 pixels
      kept the reported PSPI within 0.5 on 0.74 (0.76). Scored always on the half it calls unaffected,
      they had risen steadily on only 0.84, the scored half switching between edit strengths on faces
      without a palsy.

    Training notes. The gain (:attr:`_HalvesToFace.gain`) and the start at softplus(0) were set while a
    fault in the training loop, since fixed (:func:`models.epochs.output_count` read the number of outputs
    from the last layer, 1 here), kept every try at chance; whether either is needed was not tested. In a
    bare training loop on the base model's data, gains of 4 and 16 both learned. Two whole-face designs
    (a 1 x 1 evidence head over the 8 x 8 cells, given each cell's coordinates or each cell beside its
    mirror cell) were tried without a gain and sat at chance or overfit, which says little about them.

    Input ``(N, 3, H, W)`` normalised, H >= 16, W >= 32 (an odd last column is left out); output
    ``(N, 2)``, each >= 0.
    """

    #: mirroring the face swaps the two logits exactly (see :class:`models.networks.MirrorConsistentSide`)
    mirror_symmetric = True

    def __init__(self, outputs: int, widths: tuple[int, int, int] = (32, 64, 128), hidden: int = 128) -> None:
        super().__init__()
        if outputs != 2:
            raise ValueError(f"HalfEvidenceSide scores two sides, not {outputs} outputs")
        self.outputs = outputs  # its last layer has one output, applied to each half
        self.face = nn.Identity()  # the whole face, before it is cut: a layer for input-level attributions
        self.features = SmallCNN(outputs, widths).features
        self.evidence = _HalvesToFace(widths[-1], hidden)
        nn.init.zeros_(self.evidence.head[2].bias)  # start at softplus(0) per cell, not near 0

    def evidence_map(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 2, h, w)`` non-negative evidence per cell; each output is its mean over cells."""
        x = self.face(x)
        half = x.shape[-1] // 2
        halves = torch.cat([x[..., :half], x[..., half:2 * half].flip(-1)])
        return self.evidence(self.features(halves))


def _mobilenet_v2(outputs: int) -> nn.Module:
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None)
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, outputs)
    return model


def _efficientnet_b0(outputs: int) -> nn.Module:
    from torchvision.models import efficientnet_b0

    model = efficientnet_b0(weights=None)
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, outputs)
    return model


@dataclass(frozen=True)
class Architecture:
    """One registered network.

    Attributes:
        name: registry key.
        tasks: the tasks it is meant for (subset of :data:`TASKS`).
        build: ``build(outputs) -> nn.Module``, randomly initialised.
        cam_layer: dotted module path of the Grad-CAM target: the last convolutional stage, or the
            evidence map of a network that scores by summing it.
        head: dotted path of the final layer (replaced when loading ImageNet weights).
        description: one line for model cards and ``--help``.
        feature_layer: the last stage of features, whose pooled activations describe an input (the
            domain indicator); ``cam_layer`` when empty.
    """

    name: str
    tasks: tuple[str, ...]
    build: Callable[[int], nn.Module]
    cam_layer: str
    head: str
    description: str
    feature_layer: str = ""

    @property
    def features(self) -> str:
        """Dotted module path of the last stage of features (see ``feature_layer``)."""
        return self.feature_layer or self.cam_layer


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture(
            "side_cnn", ("side", "pain_binary"),
            lambda n: SmallCNN(n, (32, 64, 128), dropout=0.3, grid=(4, 4)),
            "features.block3", "head.4",
            "The report's custom side CNN: three conv blocks (BatchNorm, max-pool), 4x4 adaptive pooling.",
        ),
        Architecture(
            "side_halves", ("side",), HalfEvidenceSide, "evidence", "evidence.head.2",
            "Side model scoring each canonical half for palsy with one local-evidence network and comparing "
            "the two (8 x 8 cells on the face).", feature_layer="features.block3",
        ),
        Architecture(
            "simple_cnn", ("pain", "pain_binary"), lambda n: SmallCNN(n, (32, 64, 128), dropout=0.3),
            "features.block3", "head.4",
            "The report's simple pain CNN baseline: three conv blocks, global average pooling.",
        ),
        Architecture(
            "mobilenet_v2", ("side", "pain", "pain_binary"), _mobilenet_v2, "features.18", "classifier.1",
            "torchvision MobileNetV2 with a new final layer.",
        ),
        Architecture(
            "resnet18", ("pain", "pain_binary", "side"), ResNet18, "layer4", "fc",
            "ResNet18 (torchvision-identical, defined here) with a new final layer: the report's pain model.",
        ),
        Architecture(
            "resnet18_evidence", ("pain",), EvidenceResNet18, "evidence", "evidence.2",
            "ResNet18's first three stages with a local-evidence head: the PSPI is the mean of non-negative "
            "evidence per cell (8 x 4 cells on the half).", feature_layer="layer3",
        ),
        Architecture(
            "patch_evidence", ("pain",), PatchEvidenceNet, "evidence", "evidence.2",
            "Local-patch evidence network: the PSPI is the mean of non-negative evidence per cell, each cell "
            "seeing a 49-pixel patch (16 x 8 cells on the half).", feature_layer="stage3",
        ),
        Architecture(
            "patch_evidence_33", ("pain",), lambda n: PatchEvidenceNet(n, patch=33), "evidence", "evidence.2",
            "Local-patch evidence network with smaller patches: each cell sees a 33-pixel patch (16 x 8 "
            "cells on the half).", feature_layer="stage2",
        ),
        Architecture(
            "efficientnet_b0", ("pain", "pain_binary"), _efficientnet_b0, "features.8", "classifier.1",
            "torchvision EfficientNet-B0 with a new final layer.",
        ),
    )
}

#: Default architecture per task.
DEFAULT_ARCHITECTURE = {"side": "side_cnn", "pain": "resnet18", "pain_binary": "resnet18"}


def get_architecture(name: str) -> Architecture:
    """The registry entry for ``name``; a clear ``KeyError`` listing the known names otherwise."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise KeyError(f"Unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}") from None


def default_outputs(task: str) -> int:
    """Number of outputs a task's head has by default: side 2, pain 1, pain_binary 2."""
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return {"side": 2, "pain": 1, "pain_binary": 2}[task]


def check_task(name: str, task: str, outputs: int) -> None:
    """Raise ``ValueError`` when ``name`` does not serve ``task`` or ``outputs`` is wrong for it."""
    arch = get_architecture(name)
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if task not in arch.tasks:
        raise ValueError(f"Architecture {name!r} is not registered for task {task!r} (serves {arch.tasks})")
    if (task, outputs) not in CLASS_NAMES:
        allowed = sorted(n for t, n in CLASS_NAMES if t == task)
        raise ValueError(f"Task {task!r} needs {' or '.join(map(str, allowed))} outputs, got {outputs}")


def build_model(name: str, *, outputs: int, pretrained: Path | str | None = None,
                task: str | None = None) -> nn.Module:
    """Build architecture ``name`` with a final layer of ``outputs`` units.

    Args:
        name: a key of :data:`ARCHITECTURES`.
        outputs: size of the last layer (side 2, pain 1, pain_binary 2 or 1).
        pretrained: optional local ImageNet state dict for the backbone; the final layer stays random.
        task: when given, checked against the architecture's tasks and ``outputs``.

    Returns:
        The network in training mode; input ``(N, 3, H, W)`` normalised float, output ``(N, outputs)``.
    """
    arch = get_architecture(name)
    if task is not None:
        check_task(name, task, outputs)
    if outputs < 1:
        raise ValueError(f"outputs must be >= 1, got {outputs}")
    model = arch.build(outputs)
    if pretrained is not None:
        load_backbone_weights(model, arch, Path(pretrained))
    return model


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a ``.safetensors`` file or a ``.pt``/``.pth`` state dict, never unpickling objects.

    A ``.pt`` file holding ``{"model": state_dict, ...}`` (a training state) yields its ``"model"`` entry.
    """
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    return state


def load_backbone_weights(model: nn.Module, arch: Architecture, path: Path) -> dict[str, int]:
    """Copy matching tensors from a local ImageNet state dict into ``model``, except the final layer.

    Returns counts ``{"loaded": n, "skipped": m}``. Raises :class:`PretrainedWeightsError` when the file
    is missing or unreadable, or when fewer than 90 % of the backbone's tensors match by name and shape
    (the file is for another architecture).
    """
    if not path.is_file():
        raise PretrainedWeightsError(f"Pretrained weights file not found: {path} (nothing is downloaded)")
    try:
        source = read_state_dict(path)
    except Exception as err:
        raise PretrainedWeightsError(f"Cannot read pretrained weights {path}: {err}") from err
    target = model.state_dict()
    backbone = [k for k in target if not k.startswith(arch.head + ".")]
    matched = {k: source[k] for k in backbone if k in source and source[k].shape == target[k].shape}
    if len(matched) < 0.9 * len(backbone):
        raise PretrainedWeightsError(
            f"{path} does not fit {arch.name}: only {len(matched)} of {len(backbone)} backbone tensors match "
            "by name and shape"
        )
    model.load_state_dict(matched, strict=False)
    return {"loaded": len(matched), "skipped": len(target) - len(matched)}


def cam_layer(model: nn.Module, name: str) -> nn.Module:
    """The module Grad-CAM should hook for a network built as architecture ``name``."""
    return model.get_submodule(get_architecture(name).cam_layer)


__all__ = [
    "ARCHITECTURES",
    "CLASS_NAMES",
    "DEFAULT_ARCHITECTURE",
    "SIDE_CLASSES",
    "TASKS",
    "Architecture",
    "PretrainedWeightsError",
    "BasicBlock",
    "EvidenceResNet18",
    "PatchEvidenceNet",
    "HalfEvidenceSide",
    "ResNet18",
    "SmallCNN",
    "SummedEvidence",
    "build_model",
    "evidence_head",
    "cam_layer",
    "check_task",
    "default_outputs",
    "get_architecture",
    "load_backbone_weights",
    "read_state_dict",
]
