"""The wrappers that turn a trained network into the one the pipeline runs: jitter-averaged, and for the
side model mirror-consistent by construction.

Side model: with ``f`` the network's softmax over (patient-left affected, patient-right affected) and
``flip`` the horizontal mirror of the canonical face crop (which swaps the patient sides),

    p(x) = 0.5 * (f(x) + swap(f(flip(x)))),

so ``p(flip(x)) == swap(p(x))`` exactly: mirroring a face swaps its two probabilities.

Jitter averaging: every network's output is averaged over its input and four copies shifted by
:data:`JITTER_PX` input pixels left, right, up and down (:class:`JitterAveraged`). Landmarks found on a real
photo move the face crop by about a pixel between a photo and its mirror image or a rolled copy, and the
demo networks, trained on synthetic faces, react to such shifts on real faces more than they should;
the average damps that. The shift set is its own mirror image, so the side model stays exactly
mirror-consistent. The raw networks (:func:`raw_network`) are what Grad-CAM hooks. Richer averages of nine
copies were tried on the development photos (``python -m eval realcheck --part development``, the shipped
demo weights): adding 3-pixel shifts, or 3-degree turns and 4% zooms both ways, kept a mirrored or rolled
80-pixel face within 0.5 PSPI on 0.78 of photos against 0.74 (largest moves 2.40 and 2.20 against 2.25)
and found a full-severity palsy on 0.990 and 0.985 of edits against 0.995: too little for nearly twice
the cost.

A side network that is mirror-symmetric by construction (its class sets ``mirror_symmetric = True``, as
:class:`models.registry.HalfEvidenceSide` does) already gives ``f(flip(x)) == swap(f(x))``, so the mirror
pass would repeat the direct one: :class:`MirrorConsistentSide` skips it (the two differ by float rounding,
under 1e-6 on the shipped model), which halves the side model's cost.
"""

from __future__ import annotations

import torch
from torch import nn

from models.preprocess import flip_tensor

#: Test-time shift (input pixels) of :class:`JitterAveraged`; 0 turns the averaging off.
JITTER_PX = 1.5

#: Memory layout of deployed networks' weights (see :func:`deployed`).
INFERENCE_LAYOUT = torch.channels_last


class JitterAveraged(nn.Module):
    """``base``'s output averaged over the input and copies shifted by ``shift_px`` pixels in the four
    directions (bilinear, border pixels repeated). Input ``(N, C, H, W)``; output shaped like ``base``'s."""

    def __init__(self, base: nn.Module, shift_px: float = JITTER_PX) -> None:
        super().__init__()
        self.base = base
        self.shift_px = float(shift_px)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        s = self.shift_px
        shifts = ((0.0, 0.0), (s, 0.0), (-s, 0.0), (0.0, s), (0.0, -s))
        theta = torch.tensor([[[1.0, 0.0, 2.0 * dx / width], [0.0, 1.0, 2.0 * dy / height]]
                              for dx, dy in shifts], dtype=x.dtype, device=x.device)
        batch = x.repeat_interleave(len(shifts), dim=0)
        grid = nn.functional.affine_grid(theta.repeat(n, 1, 1), list(batch.shape), align_corners=False)
        moved = nn.functional.grid_sample(batch, grid, padding_mode="border", align_corners=False)
        out = self.base(moved.contiguous())
        return out.reshape(n, len(shifts), *out.shape[1:]).mean(dim=1)


def deployed(network: nn.Module, role: str, jitter_px: float = JITTER_PX) -> nn.Module:
    """``network`` (eval mode) as the pipeline runs it: jitter-averaged, and for the side role wrapped in
    :class:`MirrorConsistentSide`. Already wrapped modules are returned as they are.

    The network's weights are put in the channels-last memory layout (in place, as ``eval()`` is), the
    layout it was trained in: the CPU convolutions then run in it whatever the input's layout. On a slow
    day of the 2-core CPU (``python -m models bench --layout contiguous`` against ``python -m models bench``,
    twice each, alternating) this took the side model's share of ``assess`` from 18.3-18.7 to 13.6-13.7 ms,
    the half-face pain model's from 96 to 76-78 ms and the full-face model's from 122 to 113 ms, with
    outputs equal within 1e-5 (:data:`INFERENCE_LAYOUT`)."""
    if isinstance(network, (JitterAveraged, MirrorConsistentSide)):
        return network
    network = network.to(memory_format=INFERENCE_LAYOUT).eval()
    model = JitterAveraged(network, jitter_px).eval() if jitter_px > 0 else network
    return MirrorConsistentSide(model).eval() if role == "side" else model


def raw_network(model: nn.Module) -> nn.Module:
    """The network inside :func:`deployed`'s wrappers."""
    while isinstance(model, (JitterAveraged, MirrorConsistentSide)):
        model = model.base
    return model


class MirrorConsistentSide(nn.Module):
    """Side probabilities averaged over the face and its mirror image (see the module docstring).

    Input: normalised canonical face crops ``(N, 3, H, W)``. Output: probabilities ``(N, 2)`` in the
    order of :data:`~models.registry.SIDE_CLASSES` (patient-left affected, patient-right affected), rows
    summing to 1. ``base`` is the wrapped network (two logits).
    """

    def __init__(self, base: nn.Module) -> None:
        super().__init__()
        self.base = base

    @property
    def symmetric_base(self) -> bool:
        """Whether the raw network is mirror-symmetric by construction (the mirror pass is skipped)."""
        return bool(getattr(raw_network(self.base), "mirror_symmetric", False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        direct = torch.softmax(self.base(x.contiguous()), dim=1)
        if self.symmetric_base:
            return direct
        mirrored = torch.softmax(self.base(flip_tensor(x).contiguous()), dim=1)
        return 0.5 * (direct + mirrored.flip(dims=(1,)))


__all__ = ["INFERENCE_LAYOUT", "JITTER_PX", "JitterAveraged", "MirrorConsistentSide", "deployed",
           "raw_network"]
