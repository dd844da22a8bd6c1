"""Grad-CAM (captum ``LayerGradCam``, ``relu_attributions=False``) for the side and the pain models, with
HiResCAM and layer integrated gradients against a relaxed face beside it.

The map is signed and upsampled **bilinearly** to the model input (captum's own ``interpolate`` defaults
to nearest, which draws blocks). For PSPI the sign says what raises the score (> 0) and what lowers it.

Layers (:data:`DEFAULT_LAYERS`): the last stage of a network is too coarse for facial regions on our
small inputs (ResNet18's ``layer4`` is 4 x 2 cells on the 128 x 64 half), so the pain map is taken one
stage earlier (``layer3``, 8 x 4 cells) and the side map at the side CNN's ``features.block3`` (8 x 8 on
the 128 x 128 face). The choice was measured with ``python -m explain layers`` on synthetic faces whose
changed regions are known. On the demo weights, 32 faces of seed 99 (used to choose) and 32 of seed 2031
(fresh): ``layer3`` orders the half most faithfully, its deletion AUC below the mean of 10 random
orderings on 97% / 94% of faces (``layer4`` 44% / 59%, ``layer2`` 47% / 41%); the side CNN's ``block3``
is the best side layer on every figure (deletion below random on 84% / 84%; ``block1`` and ``block2``
16-31%). No layer localises the changed regions well: the top-ranked PSPI region is one the AU changed
on 22-44% of faces whatever the layer (mass inside them about twice their area share), and the side
map's mass in the palsy's regions equals their area share (32% vs 32%).

Why the eye groups are missed (40 development faces, seed 7, weights before the retraining; the top
PSPI-raising region by signed sum being one the AU changes, per group AU4 / AU6+7 / AU9+10 / AU43):
``layer3`` centred 50 / 0 / 80 / 0%, uncentred 0 / 0 / 90 / 0%, ``layer2`` 50 / 50 / 40 / 50%, ``layer4``
90 / 0 / 0 / 0%. Ranking regions by mean attribution per pixel instead of by sum did not lift the eye
groups (0 / 0% at ``layer3``), so neither the centring nor the regions' sizes are the cause; the finer
``layer2`` finds the eye on half of those faces but orders the half less faithfully (see above). The
main cause is the model's reading of those AUs (:mod:`explain.groundtruth`: a closed eye reads as the
absence of an open one).

Centring (PSPI maps before the last stage, :func:`default_centre`). Only at the last stage, where a
linear head follows global pooling, do the Grad-CAM cells add up to the output (there Grad-CAM is CAM).
One stage earlier the map carries a large offset: on the demo weights every ``layer3`` PSPI map was
negative everywhere (positive share 0 on 16 of 16 seed-99 faces, PSPI 0.6-7), so its raw sign said
"lowers PSPI" on every face. Its mean is therefore removed: orange marks the parts that push PSPI up more
than the average part of the half, purple less (the legend and the region sentence say so; the
parameters record ``centred``). ``centre=False`` keeps the raw map; ``layer="layer4"`` gives the exact,
uncentred decomposition at 4 x 2 cells.

Side model. The pipeline deploys the mirror-averaged probability (``MirrorConsistentSide``)
``p_c(x) = 0.5 * (softmax(f(x))_c + softmax(f(flip x))_swap(c))``, so the map is the matching mirror average

    map(x, c) = 0.5 * (cam(x, c) + flip(cam(flip x, swap c))),

which makes ``map(flip x, swap c) == flip(map(x, c))`` exactly: mirroring the face mirrors the map and
swaps the patient sides. Each pass's score is its log-odds ``z_c - z_other`` (the probability's monotone
transform; the probability itself saturates at 1 and its gradient underflows to 0 on confident faces).

HiResCAM (``method="hirescam"``, :class:`HiResCamExplainer`; Draelos and Carin 2020) is offered beside
it, everything equal (layer, centring, mirror average, bilinear upsampling) except the weights: each
cell's activations are weighted by that cell's own gradients (captum ``LayerGradientXActivation``,
summed over channels) instead of by the channel's mean gradient. Where a pooled linear head follows the
layer the two are identical; one stage earlier Grad-CAM's channel means cancel gradients of opposite sign
at different places. On development faces (seed 7, the demo weights before their retraining, 40 faces;
deletion and randomisation on the first 12) the side map put 12% of its mass inside the palsy's regions
with Grad-CAM, less than their 18% of the face, and 32% with HiResCAM, with deletion below random on 9/12
against 12/12 (Spearman with randomised weights at most 0.49 and 0.36). For PSPI both found an AU's region
on about a third of faces (33%, 35%). Neither showed the eye for orbit tightening or eye closure, although
the model reads those there (:mod:`explain.groundtruth`, ``model_top``: the eye's pixels from the AU-free
rendering lower the PSPI most on every such face): a first-order map of a closed eye does not show what
opening it would do. On the retrained demo weights (8 development faces, seed 7, ``python -m explain
faithfulness --faces 8 --seed 7 --methods gradcam hirescam``) Grad-CAM's deletion AUC was below the
random orderings' mean on 5/8 faces for PSPI and 3/8 for the side, HiResCAM's on 8/8 and 7/8: the
channel-mean weighting no longer orders these models' inputs faithfully at these layers. Grad-CAM stays
the default, as the design names it; HiResCAM is scored beside it in ``explain/reports`` and is the
candidate to replace it.

Integrated gradients against a relaxed face (``method="integrated_gradients"``,
:class:`IntegratedGradientsExplainer`; captum ``LayerIntegratedGradients``, Sundararajan et al. 2017, at a
layer). Grad-CAM and HiResCAM are first-order maps read against "nothing": they show features that are
present, and the demo pain model reads eye closure, orbit tightening and brow lowering partly as the
absence of an open eye or a relaxed brow (:mod:`explain.groundtruth`), which no such map can show. This
map is read against the neutral face (:mod:`explain.neutral`: the average relaxed face, aligned like the
input and matched to its colour; the same reference LIME's removed regions take): the layer's
activation change from that face to the input, each cell weighted by its gradients averaged over 8 points
of the straight path between the two inputs (midpoint rule), summed over channels, upsampled bilinearly.
Its cells add up to about ``f(input) - f(relaxed face)`` (on the astronaut's scored half 3.83 against
3.70), so it needs no centring and its sign reads "raises / lowers the score compared with a relaxed
face". The side map is mirror-averaged like Grad-CAM's (the template is symmetric, so mirroring the face
mirrors the map exactly). Layers: ResNet18's first convolution (``conv1``, 64 x 32 cells on the half),
the side CNN's ``features.block1`` (32 x 32 on the face) and, for the shipped ``side_halves``, the face
itself (module ``face``).

How it was chosen (the shipped demo weights, development faces of seed 7 only): the top PSPI-raising
region was one the active AU changed on 37 of 40 faces (per group AU4 / AU6+7 / AU9+10 / AU43: 10, 10,
7, 10 of 10) against 21 of 40 for Grad-CAM (5, 4, 7, 5); the same map at ``layer1`` 32/40, ``layer2``
22/40, ``layer3`` 25/40, the three averaged 24/40; weighting each channel by its spatial mean gradient
instead (Grad-CAM's weighting along the path) 18, 14 and 8 of 40 at ``layer3``, ``layer2``, ``layer1``.
The side map put 30% of its mass inside the palsy's regions (18% of the face; Grad-CAM 10%).
On 12 faces the deletion AUC (neutral fill) was below the random orderings' mean on 12/12 for both
stages (the blur fill: 3/12 pain, 9/12 side), and against fully re-initialised weights the largest
Spearman correlation was 0.02 (pain) and 0.14 (side) over 6 faces. ``python -m explain layers --method
integrated_gradients --faces 40 --seed 7`` repeats the layer comparison on its own development faces:
the top PSPI-raising region was a changed one on 92.5% at ``conv1``, 65% at ``layer1``, 57.5% at
``layer2`` and 42.5% at ``layer3``, with deletion below random on every face at every layer; the side
map's mass in the palsy's regions (31% of the face there) was 40%, 34% and 28% at ``block1``,
``block2`` and ``block3``. It costs 8 forward and backward passes: 94 ms for the
astronaut's half and 42 ms for the side against Grad-CAM's 22 and 4.5 ms (2 threads). Grad-CAM stays
the default, as the design names it; the reports score integrated gradients beside it.

Networks that score by summing local evidence (``models.registry``: ``resnet18_evidence``,
``patch_evidence``, ``patch_evidence_33``). On them the default layer is the evidence map itself (the
registry's ``cam_layer``), where Grad-CAM is exact and needs no centring: each cell's evidence divided by the
number of cells, all non-negative, adding up to the score; such maps carry ``params["evidence_map"]`` and are
drawn as evidence (a
sequential palette), not as raises / lowers. Whether the places are right depends on what a cell sees. On
ResNet18's ``layer3`` every cell sees nearly the whole half, and the top region was a changed one on 12 of 40
development faces (seed 7); on the patch network, whose cells see 49-pixel patches, on 30 of 40, with deletion
below random on 12 of 12 (figures in their docstrings). The patch network is the shipped half-face pain model
(the demo recipe, :mod:`models.demo`), so the pain figures above that name ResNet18 describe the earlier
weights; its integrated-gradients layer is the stem (64 x 32 cells on the half), where the top PSPI-raising
region was a changed one on 37 of 40 of the same development faces. With 49-pixel patches its Grad-CAM put
brow lowering on the eye (2 of 10 faces on the brow; 0 of 10 once the evidence carried a gain), although
swapping the brow region to the AU-free rendering lowers its PSPI most on 10 of 10: the cells over the eye
see the brow too, and the network places that evidence there. The shipped variant's cells see 33-pixel
patches: brow lowering on the brow on 4 of 10, the top region a changed one on 32 of 40 (``python -m explain
groundtruth --faces 40 --seed 7``; 25 with 49-pixel patches and the gain).

The same holds for the side model built that way (``side_halves``, :class:`models.registry.HalfEvidenceSide`,
the shipped side model): each half of the face is scored for palsy by one evidence network, and the
map at its evidence is the named side's half evidence minus the other half's, adding up to the log-odds;
the model is mirror-symmetric, so the mirror average changes nothing. Its integrated-gradients layer is
the face itself (module ``face``), since its blocks run on the two halves as separate images. On 12
development faces (seed 7) its Grad-CAM was below the random orderings' mean by deletion on 12 with a
blurred fill but on 5 with the neutral one: its probabilities saturate, and the average relaxed face
pasted into the palsied half does not take the palsy's evidence away (``python -m explain halves``).
The side CNN it replaced kept a channel-weighted first-order map: on the same faces Grad-CAM at
``features.block3`` was below the random orderings' mean by deletion on 7 with the neutral fill and 6
with a blurred one, and at ``features.block2`` (2 and 1), before the pooling of block 3 (4 and 2) or at the
4 x 4 pooling (6 and 6) no better; HiResCAM at ``features.block3`` 6 and 12.

Jitter averaging (:class:`models.pipeline.JitterAveraged`): ``jitter=True`` computes the map on every
shifted copy the deployed model averages over and shifts each back before averaging. It is off by default:
on the demo weights its maps correlate with the unjittered ones at a median of 0.997 (PSPI) and 0.996
(side; lowest 0.86) on 32 faces of seed 2031 (``python -m explain layers``), at five times the cost.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from captum.attr import LayerGradCam, LayerGradientXActivation, LayerIntegratedGradients
from torch import nn
from torch.nn import functional

from explain.base import build_explanation, input_pixels
from explain.types import Explanation, MapSource
from models.pipeline import JITTER_PX, LoadedModel
from models.preprocess import InputSpec, flip_tensor, normalise
from models.registry import SummedEvidence, get_architecture

#: Grad-CAM layer per architecture where it differs from the registry's last stage (``cam_layer``).
DEFAULT_LAYERS: dict[str, str] = {"resnet18": "layer3", "side_cnn": "features.block3"}


def default_layer(architecture: str) -> str:
    """The module path Grad-CAM hooks by default for ``architecture``."""
    return DEFAULT_LAYERS.get(architecture, get_architecture(architecture).cam_layer)


def is_evidence_map(network: nn.Module, layer: str, architecture: str) -> bool:
    """True when ``layer`` is the evidence map of a network that scores by averaging it
    (:class:`models.registry.SummedEvidence`): its Grad-CAM cells are non-negative and add up to the
    score, so the map is shown as evidence, not as raises / lowers."""
    return isinstance(network, SummedEvidence) and layer == get_architecture(architecture).cam_layer


def default_centre(role: str, architecture: str, layer: str) -> bool:
    """Whether the map is centred by default: for PSPI maps hooked before the last stage (see the module
    docstring); never for the side map."""
    return role != "side" and layer != get_architecture(architecture).cam_layer


class _SideLogOdds(nn.Module):
    """Two-logit side network -> ``(z0 - z1, z1 - z0)``: the log-odds of each class."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.network(x)
        margin = logits[:, 0] - logits[:, 1]
        return torch.stack([margin, -margin], dim=1)


def _shift(batch: torch.Tensor, shifts: list[tuple[float, float]]) -> torch.Tensor:
    """Copy ``i`` of ``batch`` ``(N, C, H, W)`` moved by ``shifts[i]`` pixels as JitterAveraged moves it
    (bilinear, border repeated)."""
    _, _, height, width = batch.shape
    theta = torch.tensor([[[1.0, 0.0, 2.0 * dx / width], [0.0, 1.0, 2.0 * dy / height]] for dx, dy in shifts],
                         dtype=batch.dtype, device=batch.device)
    grid = functional.affine_grid(theta, list(batch.shape), align_corners=False)
    return functional.grid_sample(batch, grid, padding_mode="border", align_corners=False)


class _PrivateCopies:
    """Copies of a network that one attribution at a time borrows.

    captum hooks the layer it explains for the length of the call, and a hook on the shared network
    would also catch every other thread's forward pass through it (the dashboard serves requests
    concurrently: another photo's assessment, LIME samples), mixing their activations into this map.
    Each Grad-CAM therefore runs on a copy no other thread is using; copies are made on first need and
    reused, so there are at most as many as Grad-CAMs ever ran at once.
    """

    def __init__(self) -> None:
        self._free: weakref.WeakKeyDictionary[nn.Module, list[nn.Module]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(self, network: nn.Module) -> Iterator[nn.Module]:
        with self._lock:
            free = self._free.setdefault(network, [])
            private = free.pop() if free else None
        if private is None:
            private = copy.deepcopy(network).eval()
        try:
            yield private
        finally:
            with self._lock:
                self._free.setdefault(network, []).append(private)


_PRIVATE_COPIES = _PrivateCopies()


def layer_cam(network: nn.Module, layer: nn.Module, inputs: torch.Tensor, targets: list[int],
              size: tuple[int, int], *, log_odds: bool = False,
              elementwise: bool = False) -> tuple[torch.Tensor, tuple[int, int]]:
    """Signed Grad-CAM of ``network`` outputs ``targets`` (one per row of ``inputs``) at ``layer``,
    upsampled bilinearly to ``size``: ``(N, H, W)`` float32, and the layer's grid ``(rows, cols)``.

    ``log_odds``: ``network`` gives two side logits and each class's log-odds is differentiated.
    ``elementwise``: HiResCAM instead (captum ``LayerGradientXActivation``, summed over channels).
    """
    name = next(n for n, m in network.named_modules() if m is layer)
    with _PRIVATE_COPIES.borrow(network) as private, torch.enable_grad():
        scored = _SideLogOdds(private) if log_odds else private
        module = dict(private.named_modules())[name]
        if elementwise:
            maps = LayerGradientXActivation(scored, module).attribute(inputs, target=targets)
            maps = maps.sum(dim=1, keepdim=True)
        else:
            maps = LayerGradCam(scored, module).attribute(inputs, target=targets, relu_attributions=False)
    grid = (int(maps.shape[-2]), int(maps.shape[-1]))
    maps = functional.interpolate(maps.detach().float(), size=size, mode="bilinear", align_corners=False)
    return maps[:, 0], grid


def neutral_baselines(batch: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """The neutral fill (:func:`explain.neutral.neutral_fill`: the average relaxed face, aligned like the
    input and matched to its colour) of every row of the normalised ``batch`` ``(N, 3, h, w)``, normalised."""
    from explain.neutral import neutral_fill

    pictures = [neutral_fill(input_pixels(row[None], spec), spec) for row in batch]
    stacked = torch.from_numpy(np.stack(pictures)).permute(0, 3, 1, 2).contiguous()
    return normalise(stacked, spec).to(batch.device)


def integrated_layer_map(network: nn.Module, layer: nn.Module, inputs: torch.Tensor, baselines: torch.Tensor,
                         targets: list[int], size: tuple[int, int], *, log_odds: bool = False,
                         steps: int = 8) -> tuple[torch.Tensor, tuple[int, int]]:
    """Integrated gradients at ``layer`` (captum ``LayerIntegratedGradients``, midpoint rule over
    ``steps`` points of the straight path from ``baselines`` to ``inputs``, row by row), summed over
    channels and upsampled bilinearly to ``size``: ``(N, H, W)`` float32 and the layer's grid. The cells
    add up to about ``f(inputs) - f(baselines)`` of the scored output."""
    name = next(n for n, m in network.named_modules() if m is layer)
    with _PRIVATE_COPIES.borrow(network) as private, torch.enable_grad():
        scored = _SideLogOdds(private) if log_odds else private
        module = dict(private.named_modules())[name]
        maps = LayerIntegratedGradients(scored, module).attribute(
            inputs, baselines=baselines, target=targets, n_steps=steps, method="riemann_middle")
    maps = maps.detach().float().sum(dim=1, keepdim=True)
    grid = (int(maps.shape[-2]), int(maps.shape[-1]))
    maps = functional.interpolate(maps, size=size, mode="bilinear", align_corners=False)
    return maps[:, 0], grid


class GradCamExplainer:
    """Grad-CAM explainer (see the module docstring). ``layer`` overrides :func:`default_layer`."""

    method = "gradcam"
    accepts_prediction = True
    elementwise = False
    layer_defaults: dict[str, str] = {}

    def __init__(self, layer: str | None = None, jitter: bool = False, centre: bool | None = None) -> None:
        self.layer = layer
        self.jitter = jitter
        self.centre = centre

    def input_map(self, model: LoadedModel, inputs: torch.Tensor, target: int, *, layer: str | None = None,
                  jitter: bool | None = None,
                  centre: bool | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """The ``(h, w)`` signed map over ``inputs`` ``(1, 3, h, w)`` and the parameters used."""
        maps, params = self.input_maps(model, inputs[:1], [int(target)], layer=layer, jitter=jitter,
                                       centre=centre)
        return maps[0], params

    def input_maps(self, model: LoadedModel, inputs: torch.Tensor, targets: list[int], *,
                   layer: str | None = None, jitter: bool | None = None,
                   centre: bool | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Maps ``(N, h, w)`` for a batch ``(N, 3, h, w)`` with one target each, in one backward pass
        (e.g. population heatmaps); the same maps :meth:`input_map` makes one by one."""
        network = model.network.eval()
        architecture = model.card.architecture
        layer_name = (layer or self.layer or self.layer_defaults.get(architecture)
                      or default_layer(architecture))
        use_centre = centre if centre is not None else self.centre
        if use_centre is None:
            use_centre = default_centre(model.role, model.card.architecture, layer_name)
        module = network.get_submodule(layer_name)
        use_jitter = self.jitter if jitter is None else jitter
        size = tuple(inputs.shape[-2:])
        x = inputs.to(model.device).float()
        count = len(x)
        side = model.role == "side"
        rows = [int(t) for t in targets]
        batch = x
        if side:
            batch, rows = torch.cat([x, flip_tensor(x)]), rows + [1 - t for t in rows]
        shifts = [(0.0, 0.0)]
        if use_jitter:
            s = JITTER_PX
            shifts = [(0.0, 0.0), (s, 0.0), (-s, 0.0), (0.0, s), (0.0, -s)]
            batch = _shift(batch.repeat_interleave(len(shifts), 0), shifts * len(batch))
            rows = [t for t in rows for _ in shifts]
        maps, grid = self._layer_maps(model, network, module, batch.contiguous(), rows, size, side)
        if use_jitter:
            maps = _shift(maps[:, None], [(-dx, -dy) for dx, dy in shifts] * (len(maps) // len(shifts)))[:, 0]
            maps = maps.reshape(-1, len(shifts), *size).mean(dim=1)
        result = 0.5 * (maps[:count] + flip_tensor(maps[count:])) if side else maps
        if use_centre:
            result = result - result.mean(dim=(1, 2), keepdim=True)
        params = {"layer": layer_name, "layer_grid": list(grid), "upsampling": "bilinear",
                  **self._weighting(), "centred": bool(use_centre), "relu_attributions": False,
                  "mirror_averaged": side, "jitter_px": JITTER_PX if use_jitter else 0.0,
                  "score": "log-odds per pass" if side else "raw output",
                  "evidence_map": is_evidence_map(network, layer_name, architecture) and not use_centre}
        return result.cpu().numpy().astype(np.float32), params

    def _layer_maps(self, model: LoadedModel, network: nn.Module, module: nn.Module, batch: torch.Tensor,
                    rows: list[int], size: tuple[int, int],
                    side: bool) -> tuple[torch.Tensor, tuple[int, int]]:
        return layer_cam(network, module, batch, rows, size, log_odds=side, elementwise=self.elementwise)

    def _weighting(self) -> dict[str, Any]:
        return {"weighting": "element-wise gradient x activation (HiResCAM)" if self.elementwise
                else "channel-mean gradient (Grad-CAM)"}

    def attribute(self, model: LoadedModel, inputs: torch.Tensor, target: int | None = None, *,
                  source: MapSource, **params: Any) -> Explanation:
        """Grad-CAM explanation of ``model``'s output ``target`` on ``inputs`` (see :class:`Explainer`).

        ``params``: ``layer`` (module path), ``jitter`` and ``centre`` (bool) override the explainer's
        settings; ``prediction`` is the deployed model's output on ``inputs`` for ``target`` when the
        caller has it already (an assessment does), which saves a forward pass of the deployed model.
        """
        started = time.perf_counter()
        prediction = params.pop("prediction", None)
        unknown = set(params) - {"layer", "jitter", "centre"}
        if unknown:
            raise TypeError(f"Grad-CAM takes layer=, jitter= and centre=, not {', '.join(sorted(unknown))}")
        if target is None:
            with torch.no_grad():
                target = 0 if model.role != "side" else int(model.model(inputs.to(model.device)).argmax())
        input_map, used = self.input_map(model, inputs, int(target), **params)
        return build_explanation(self.method, model, inputs, int(target), source, input_map, params=used,
                                 started=started, prediction=prediction)


class HiResCamExplainer(GradCamExplainer):
    """HiResCAM (Draelos and Carin 2020): Grad-CAM's layer, centring, mirror average and upsampling, with
    each cell's activations weighted by that cell's own gradients instead of the channel's mean gradient
    (captum ``LayerGradientXActivation`` summed over channels). See the module docstring."""

    method = "hirescam"
    elementwise = True


class IntegratedGradientsExplainer(GradCamExplainer):
    """Integrated gradients at the first convolution against the average relaxed face (see the module
    docstring): Grad-CAM's mirror average and bilinear upsampling, a finer layer, no centring, and the
    map read as "what this part adds to the score, compared with a relaxed face"."""

    method = "integrated_gradients"
    steps = 8
    layer_defaults = {"resnet18": "conv1", "resnet18_evidence": "conv1", "patch_evidence": "stem",
                      "patch_evidence_33": "stem",
                      "side_cnn": "features.block1", "side_halves": "face"}

    def __init__(self, layer: str | None = None, jitter: bool = False, centre: bool | None = False,
                 steps: int | None = None) -> None:
        super().__init__(layer, jitter, centre)
        if steps is not None:
            self.steps = int(steps)

    def _layer_maps(self, model: LoadedModel, network: nn.Module, module: nn.Module, batch: torch.Tensor,
                    rows: list[int], size: tuple[int, int],
                    side: bool) -> tuple[torch.Tensor, tuple[int, int]]:
        return integrated_layer_map(network, module, batch, neutral_baselines(batch, model.spec), rows, size,
                                    log_odds=side, steps=self.steps)

    def _weighting(self) -> dict[str, Any]:
        return {"weighting": f"integrated gradients ({self.steps} path points, midpoint rule) x activation "
                             "change",
                "reference": "neutral: the average relaxed face, aligned like the input and colour-matched",
                "steps": self.steps}


__all__ = ["DEFAULT_LAYERS", "GradCamExplainer", "HiResCamExplainer", "IntegratedGradientsExplainer",
           "default_centre", "default_layer", "integrated_layer_map", "layer_cam", "neutral_baselines"]
