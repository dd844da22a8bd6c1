"""LIME for both stages: the ``lime`` package (:class:`LimeExplainer`) and captum's ``Lime``
(:class:`CaptumLimeExplainer`) on the same segments, the same fill, the same kernel and the same queried
model, so that the two differ only in their implementation.

- **Segments**: facial regions from the landmarks by default (:mod:`explain.segments`: 14 regions + the
  rest on the whole face, 7 + the rest on a half), quickshift or SLIC as options
  (``segmentation="quickshift"|"slic"``).
- **Removed segments** take the same segments of an average neutral face (``fill="neutral"``, the
  default; :mod:`explain.neutral`: the mean input of 200 synthetic people at rest, aligned like the
  input and matched to its colour), so each segment is switched between "as it is" and "as on a relaxed
  face". The demo pain model reads eye closure, orbit tightening and brow lowering as the absence of an
  open eye or a relaxed brow, so removing those regions by a flat colour or a blur *raises* its PSPI (see
  :mod:`explain.groundtruth`) and such fills rank them as lowering PSPI. On 40 development faces (seed
  7, the retrained demo weights) the segment raising PSPI most was one the active AU changed on 88%
  with the neutral fill against 60% with the flat normalisation mean (``fill="mean"``, the earlier
  default, "nothing here"); on 16 of them the deletion curves with the same fill put the map below the
  random orderings on 16/16 faces for both stages. Other fills: ``fill="blur"`` (a blurred copy, the
  faithfulness curves' other fill), ``fill="segment_mean"`` (each segment's mean colour, the ``lime``
  package's own default) and ``fill="reference"`` with ``reference=`` (an input tensor of the same size:
  the same person's neutral face in the same crop; against the AU-free rendering of the same face, an
  idealised neutral photo, it found a changed region on every development face).
- **Queried model**: the deployed model without its jitter average (:func:`models.pipeline.deployed`
  with ``jitter_px=0``): the side model keeps its mirror average, so its LIME map explains the same
  mirror-consistent probability the pipeline reports. The jitter average (the input and four 1.5-pixel
  shifts) exists to damp pixel-level landmark wobble; LIME switches whole facial regions on and off, which
  the shifts barely change, and dropping it makes each sample 5x cheaper (6x for the side model:
  30.5 -> 3.5 ms per 128x128 face, 25.5 -> 4.2 ms per 128x64 half on the 2-core CPU), which is what
  lets 1 s per stage buy 128 samples. ``jitter=True`` queries the full deployed model.
- **PSPI** is a one-output regression: the classifier function returns ``(N, 1)`` and ``labels=(0,)``.
- **Reproducible**: the ``lime`` package's ``random_seed`` only seeds the segmentation, so the explainer's
  ``random_state`` (and its ridge's) is reset from ``seed`` before every call; captum's sampling runs in a
  forked torch RNG seeded with ``seed``. The same input and seed give the identical map.
- **Map**: the signed per-segment weights of the local linear model, painted as a density
  (:func:`explain.segments.paint_density`: weight x mean segment area / the segment's area), so that a
  region's summed attribution is proportional to its weight and a large region with a small effect does
  not outrank a small one with a large effect (flat painting multiplies each weight by the segment's
  size; on the 40 development faces above it ranked a changed region first on 80% against 88%).

Captum's ``Lime`` runs with the ``lime`` package's settings: ridge regression (alpha 1) on the binary
segment vectors, weighted by ``sqrt(exp(-d^2 / 0.25^2))`` with ``d`` the cosine distance of the vector to
all-ones.

Which is the default (``python -m explain bench --real 3 --synthetic 3``, 6 photos, medians, 128
samples each, the shipped demo weights and the neutral fill, on the otherwise idle 2-core CPU). Side:
lime 0.49 s, deletion AUC 0.05 with the neutral curve fill and 0.28 with the blur; captum 0.45 s, 0.05
and 0.22. Pain: lime 0.45 s, 0.00 and 0.53; captum 0.46 s, 0.00 and 0.59 (lower is better). Nearly equal
time and faithfulness, so the ``lime`` package, which the design names, is the default
(:data:`DEFAULT_METHOD`); ``captum_lime`` is offered beside it.
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import numpy as np
import torch

from explain.base import build_explanation, input_pixels
from explain.segments import Segments, paint_density, segments_for
from explain.types import Explanation, MapSource
from models.pipeline import LoadedModel, deployed, raw_network
from models.preprocess import InputSpec, normalise

#: Samples per LIME call by default: fits 1 s per stage on the 2-core CPU (see explain.bench).
DEFAULT_SAMPLES = 128
DEFAULT_SEED = 0
KERNEL_WIDTH = 0.25
FILLS = ("neutral", "blur", "mean", "segment_mean", "reference")
DEFAULT_FILL = "neutral"

#: ``python -m explain`` / the dashboard use ``"lime"`` (the ``lime`` package), as the design names it;
#: captum's ``Lime`` on the same segments gives the same maps and is offered as ``"captum_lime"``.
DEFAULT_METHOD = "lime"


def queried_model(model: LoadedModel, jitter: bool = False) -> torch.nn.Module:
    """The module LIME queries: the deployed model, by default without its jitter average."""
    return model.model if jitter else deployed(raw_network(model.model), model.role, jitter_px=0.0)


def fill_image(image: np.ndarray, fill: str, spec: InputSpec, segments: Segments,
               reference: np.ndarray | None = None) -> np.ndarray:
    """The uint8 ``(h, w, 3)`` picture removed segments are replaced with (see the module docstring);
    ``fill="reference"`` takes ``reference``, a uint8 picture of the same size."""
    from explain.faithfulness import CURVE_FILLS, removal_fill

    if fill == "reference":
        if reference is None or reference.shape != image.shape:
            raise ValueError("fill='reference' needs reference=, an input of the same size (e.g. the same "
                             "person's neutral face in the same crop)")
        return np.ascontiguousarray(reference, dtype=np.uint8)
    if fill in CURVE_FILLS:
        return removal_fill(image, fill, spec)
    if fill == "mean":
        return np.broadcast_to(np.asarray(spec.pad_value, np.uint8), image.shape).copy()
    if fill == "segment_mean":
        out = np.empty_like(image)
        for k in range(segments.count):
            inside = segments.labels == k
            if inside.any():
                out[inside] = image[inside].mean(axis=0).round().astype(np.uint8)
        return out
    raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")


class _BatchedScores:
    """``f(images (N, h, w, 3) uint8) -> (N, outputs)`` float64 numpy, batched, without gradients."""

    def __init__(self, module: torch.nn.Module, spec: InputSpec, device: torch.device, batch: int = 256):
        self.module, self.spec, self.device, self.batch = module, spec, device, batch

    @torch.no_grad()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        outputs = []
        for start in range(0, len(images), self.batch):
            chunk = torch.from_numpy(np.ascontiguousarray(images[start:start + self.batch]))
            x = normalise(chunk.permute(0, 3, 1, 2).contiguous(), self.spec).to(self.device)
            outputs.append(self.module(x).double().cpu())
        return torch.cat(outputs).numpy()


def _prepare(model: LoadedModel, inputs: torch.Tensor, source: MapSource, segmentation: str,
             fill: str, reference: torch.Tensor | None = None) -> tuple[np.ndarray, Segments, np.ndarray]:
    image = input_pixels(inputs, model.spec)
    segments = segments_for(source, model.spec, image, segmentation)
    pixels = None if reference is None else input_pixels(reference, model.spec)
    return image, segments, fill_image(image, fill, model.spec, segments, pixels)


def _params(model: LoadedModel, segments: Segments, n_samples: int, fill: str, jitter: bool,
            library: str) -> dict[str, Any]:
    return {"library": library, "n_samples": int(n_samples), "segmentation": segments.method,
            "segments": segments.count, "segment_names": list(segments.names), "fill": fill,
            "kernel_width": KERNEL_WIDTH, "painting": "density (weight x mean segment area / segment area)",
            "queried": "deployed" if jitter else "deployed without jitter",
            "role": model.role}


class LimeExplainer:
    """LIME with the ``lime`` package (``lime_image.LimeImageExplainer``); see the module docstring."""

    method = "lime"

    def __init__(self) -> None:
        from lime import lime_image

        self._lime = lime_image.LimeImageExplainer(kernel_width=KERNEL_WIDTH, random_state=DEFAULT_SEED)

    def _reset(self, seed: int) -> None:
        from sklearn.utils import check_random_state

        state = check_random_state(seed)
        self._lime.random_state = state
        self._lime.base.random_state = state

    def attribute(self, model: LoadedModel, inputs: torch.Tensor, target: int | None = None, *,
                  source: MapSource, n_samples: int = DEFAULT_SAMPLES, segmentation: str = "regions",
                  fill: str = DEFAULT_FILL, seed: int = DEFAULT_SEED, jitter: bool = False,
                  batch_size: int = 256, reference: torch.Tensor | None = None, **_: Any) -> Explanation:
        started = time.perf_counter()
        index = 0 if target is None else int(target)
        image, segments, hidden = _prepare(model, inputs, source, segmentation, fill, reference)
        scores = _BatchedScores(queried_model(model, jitter), model.spec, model.device, batch_size)
        self._reset(seed)
        with contextlib.redirect_stderr(io.StringIO()):  # this lime release always draws a tqdm bar
            result = self._lime.explain_instance(
                image, scores, labels=(index,), top_labels=None, hide_color=hidden,
                num_features=segments.count, num_samples=int(n_samples), batch_size=batch_size,
                segmentation_fn=lambda _image: segments.labels)
        weights = np.zeros(segments.count, np.float32)
        for segment, weight in result.local_exp[index]:
            weights[int(segment)] = weight
        params = {**_params(model, segments, n_samples, fill, jitter, "lime"),
                  "local_fit_r2": round(float(result.score), 4)}
        return build_explanation(self.method, model, inputs, index, source, paint_density(weights, segments),
                                 params=params, seed=seed, started=started)


class CaptumLimeExplainer:
    """captum's ``Lime`` with the same feature mask, fill, kernel and ridge as :class:`LimeExplainer`."""

    method = "captum_lime"

    def attribute(self, model: LoadedModel, inputs: torch.Tensor, target: int | None = None, *,
                  source: MapSource, n_samples: int = DEFAULT_SAMPLES, segmentation: str = "regions",
                  fill: str = DEFAULT_FILL, seed: int = DEFAULT_SEED, jitter: bool = False,
                  batch_size: int = 256, reference: torch.Tensor | None = None, **_: Any) -> Explanation:
        from captum._utils.models.linear_model import SkLearnRidge
        from captum.attr import Lime

        started = time.perf_counter()
        index = 0 if target is None else int(target)
        image, segments, hidden = _prepare(model, inputs, source, segmentation, fill, reference)
        module = queried_model(model, jitter)
        x = inputs.to(model.device).float()
        baseline = normalise(torch.from_numpy(hidden).permute(2, 0, 1)[None].contiguous(),
                             model.spec).to(model.device)
        mask = torch.from_numpy(segments.labels.astype(np.int64))[None, None].to(model.device)

        def similarity(_original: torch.Tensor, _perturbed: torch.Tensor, interpretable: torch.Tensor,
                       **_kw: Any) -> float:
            vector = interpretable.float().flatten()
            cosine = vector.sum() / (vector.norm() * vector.numel() ** 0.5 + 1e-12)
            return float(torch.sqrt(torch.exp(-((1.0 - cosine) ** 2) / KERNEL_WIDTH ** 2)))

        lime = Lime(module, interpretable_model=SkLearnRidge(alpha=1.0), similarity_func=similarity)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            with torch.no_grad():
                weights = lime.attribute(x, baselines=baseline, target=index, feature_mask=mask,
                                         n_samples=int(n_samples), perturbations_per_eval=batch_size,
                                         return_input_shape=False)
        values = weights.detach().float().cpu().numpy().reshape(-1)[:segments.count]
        return build_explanation(self.method, model, inputs, index, source, paint_density(values, segments),
                                 params=_params(model, segments, n_samples, fill, jitter, "captum"),
                                 seed=seed, started=started)


__all__ = ["DEFAULT_FILL", "DEFAULT_METHOD", "DEFAULT_SAMPLES", "FILLS", "CaptumLimeExplainer",
           "LimeExplainer", "fill_image", "queried_model"]
