"""How far a photo lies from what the models learned: a Mahalanobis distance on pooled network features.

**Features.** One rule for every registered architecture: the output of the network's last
convolutional stage (:attr:`models.registry.Architecture.features`: the Grad-CAM layer, or for the
evidence networks the stage their evidence head reads), averaged over its spatial positions, caught by a
forward hook. For ResNet18, MobileNetV2 and EfficientNet-B0 that is
exactly the input of the final linear layer (512 or 1280 global-pooled features); for our small CNNs it
is the 128 global-pooled channels of the third block, before the dense head (the side CNN's 4 x 4 grid
pooled to one cell). The dense head's hidden units were tried first: for the side CNN they told synthetic
from real development photos at chance level (AUROC 0.54, fitted on 320 synthetic photos), the pooled
channels at 0.91 (fitted on 640). An unknown
architecture name, or a stage whose output is not a 4-d map, raises.

**Statistics** (:func:`fit_domain`), compact enough for the model card: the features' mean, their top
``k`` principal axes (default 16) with their variances, and one residual variance for everything outside
those axes (the mean of the remaining eigenvalues: probabilistic PCA). Shrinkage: every variance gets
``shrinkage x (total variance / dimension)`` added (default 0.01), so a near-empty direction cannot blow
up the distance. The squared distance of a feature vector ``x`` is

    D^2 = sum_i  ((x - mean) . u_i)^2 / var_i  +  |residual|^2 / var_residual,

``D = sqrt(D^2 / dimension)`` is reported (about 1 for a typical training input in any dimension). Mean
and axes are stored as base64 float16 (little-endian, row-major; axes re-orthonormalised on reading);
variances and percentiles as rounded floats.

**Calibration.** One input in five is held out of the fit (with ``groups``, e.g. subjects, one group in
five, so the threshold holds for new people and not only for new frames of known ones); the distances of
those held-out training inputs give the percentile table, and the threshold is their 99th percentile.
Each model's score is its distance divided by its threshold (over 1: beyond the 99th percentile of its
held-out training inputs). :attr:`DomainCheck.score` is the mean of these ratios over the models, and a
photo is *far* when it exceeds 1. (The mean was chosen over the largest ratio on the development photos
of :mod:`data.photos`: it separated synthetic from real faces and real photos from non-face pictures
better, and flagged fewer synthetic test faces; see ``python -m eval domain report``.)
"""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from models.preprocess import InputSpec, normalise
from models.registry import get_architecture

#: Version tag of the statistics stored under a card's ``domain`` key.
DOMAIN_FORMAT = "strokepain-domain/1"
DEFAULT_AXES = 16
DEFAULT_SHRINKAGE = 0.01
#: Percentile levels of the held-out training distances stored in the card.
LEVELS = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100)
FAR_PERCENTILE = 99

WARNING = ("This photo lies far from the faces the models learned from (synthetic renders: the demo models "
           "were trained on computer-drawn faces, not photographs); treat the scores with extra caution.")


class DomainError(ValueError):
    """Features cannot be taken from this network or the statistics are unusable."""


# ----------------------------------------------------------------------------- features


def feature_layer(network: nn.Module, architecture: str) -> nn.Module:
    """The last convolutional stage of ``network`` (built as ``architecture``), whose pooled output is the
    feature."""
    name = get_architecture(architecture).features
    try:
        return network.get_submodule(name)
    except AttributeError as err:
        raise DomainError(f"{architecture}: no module {name!r} in this network") from err


@torch.no_grad()
def pooled_features(network: nn.Module, architecture: str, inputs: torch.Tensor,
                         batch_size: int = 128) -> np.ndarray:
    """Features ``(N, C)`` float64 of normalised model inputs ``(N, 3, H, W)`` (the network in eval mode)."""
    layer = feature_layer(network, architecture)
    caught: list[torch.Tensor] = []
    caught_rows: list[int] = []  # the input batch size of each forward pass
    owner = threading.get_ident()  # a served model is shared: other threads' forward passes also run the hook

    def hook(_module: nn.Module, _args: Any, output: torch.Tensor) -> None:
        if threading.get_ident() != owner:
            return
        if output.ndim != 4:
            raise DomainError(f"{architecture}: {type(layer).__name__} gives a {output.ndim}-d output, "
                              "not a (N, C, H, W) feature map")
        pooled = output.detach().mean(dim=(2, 3))
        rows = caught_rows[-1]
        if pooled.shape[0] != rows and pooled.shape[0] % rows == 0:
            # the layer ran on several parts of each input (the half-evidence side model's two halves,
            # part after part): each input's parts side by side
            parts = pooled.shape[0] // rows
            pooled = pooled.reshape(parts, rows, -1).permute(1, 0, 2).reshape(rows, -1)
        caught.append(pooled)

    handle = layer.register_forward_hook(hook)
    was_training = network.training
    network.eval()
    first = next(network.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    try:
        for start in range(0, inputs.shape[0], batch_size):
            chunk = inputs[start:start + batch_size]
            caught_rows.append(chunk.shape[0])
            network(chunk.to(device))
    finally:
        handle.remove()
        network.train(was_training)
    return torch.cat(caught).double().cpu().numpy()


# ----------------------------------------------------------------------------- statistics


def _encode(array: np.ndarray) -> str:
    return base64.b64encode(np.asarray(array, "<f2").tobytes()).decode("ascii")


def _decode(text: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f2").astype(np.float64).reshape(shape)


def _round(value: float) -> float:
    return float(f"{value:.5g}")


@dataclass(frozen=True)
class DomainStats:
    """Decoded statistics of one model (see the module docstring)."""

    mean: np.ndarray
    axes: np.ndarray  # (k, D), orthonormal rows
    variances: np.ndarray  # (k,)
    residual_variance: float
    levels: tuple[float, ...]
    quantiles: tuple[float, ...]

    @property
    def threshold(self) -> float:
        return float(np.interp(FAR_PERCENTILE, self.levels, self.quantiles))

    def distances(self, features: np.ndarray) -> np.ndarray:
        centred = np.atleast_2d(features) - self.mean
        projected = centred @ self.axes.T
        residual = centred - projected @ self.axes
        squared = (projected ** 2 / self.variances).sum(1) + (residual ** 2).sum(1) / self.residual_variance
        return np.sqrt(squared / self.mean.size)

    def percentile(self, distance: float) -> float:
        """Percentile of ``distance`` among the held-out training inputs' distances (0-100)."""
        return float(np.interp(distance, self.quantiles, self.levels))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainStats:
        if data.get("format") != DOMAIN_FORMAT:
            raise DomainError(f"Unknown domain statistics format {data.get('format')!r}")
        dim, k = int(data["dimension"]), int(data["axes_count"])
        axes = _decode(data["axes"], (k, dim))
        if k:
            q, _ = np.linalg.qr(axes.T)
            axes = (q * np.sign(np.sum(q * axes.T, axis=0))).T
        return cls(_decode(data["mean"], (dim,)), axes, np.asarray(data["variances"], float),
                   float(data["residual_variance"]), tuple(map(float, data["levels"])),
                   tuple(map(float, data["quantiles"])))


def held_out_rows(n: int, groups: Sequence[Any] | None = None) -> np.ndarray:
    """Boolean mask of the calibration rows: every fifth row, or every row of every fifth group (groups
    in sorted order) when there are at least 10 groups."""
    held = np.zeros(n, bool)
    names = sorted({str(g) for g in groups}) if groups is not None else []
    if len(names) >= 10:
        chosen = set(names[::5])
        held[:] = [str(g) in chosen for g in groups]
    else:
        held[::5] = True
    return held


def fit_stats(features: np.ndarray, *, groups: Sequence[Any] | None = None, axes: int = DEFAULT_AXES,
              shrinkage: float = DEFAULT_SHRINKAGE) -> dict[str, Any]:
    """Statistics (JSON-ready dict) of feature rows ``(N, D)``, N >= 20, calibrated on held-out rows
    (:func:`held_out_rows`; ``groups`` gives each row's subject)."""
    features = np.asarray(features, np.float64)
    n, dim = features.shape
    if n < 20:
        raise DomainError(f"Domain statistics need at least 20 training inputs, got {n}")
    if groups is not None and len(groups) != n:
        raise DomainError(f"{len(groups)} groups for {n} inputs")
    held = held_out_rows(n, groups)
    fit_rows = features[~held]
    mean = fit_rows.mean(0)
    centred = fit_rows - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    eigen = np.zeros(dim)
    eigen[:singular.size] = singular ** 2 / max(len(fit_rows) - 1, 1)
    k = int(min(axes, dim - 1, len(fit_rows) - 1))
    ridge = shrinkage * max(eigen.sum() / dim, 1e-12)
    data: dict[str, Any] = {
        "format": DOMAIN_FORMAT,
        "feature": "global average of the last convolutional stage's output (the Grad-CAM layer)",
        "dimension": dim, "axes_count": k, "shrinkage": shrinkage, "fitted_on": int(len(fit_rows)),
        "mean": _encode(mean), "axes": _encode(vt[:k]),
        "variances": [_round(v + ridge) for v in eigen[:k]],
        "residual_variance": _round(eigen[k:].sum() / max(dim - k, 1) + ridge),
        "levels": list(LEVELS), "quantiles": [],
    }
    decoded = DomainStats.from_dict(data)  # calibrate with exactly what is stored
    distances = decoded.distances(features[held])
    data["quantiles"] = [_round(q) for q in np.percentile(distances, LEVELS)]
    data["calibrated_on"] = int(held.sum())
    data["calibration"] = "held-out subjects" if groups is not None and len(set(map(str, groups))) >= 10 \
        else "held-out inputs"
    data["distance"] = ("sqrt(Mahalanobis^2 / dimension) over the top axes plus an isotropic residual; "
                        f"far beyond the {FAR_PERCENTILE}th percentile of held-out training inputs")
    return data


def fit_domain(network: nn.Module, images: torch.Tensor | np.ndarray, spec: InputSpec, *,
               architecture: str, groups: Sequence[Any] | None = None, axes: int = DEFAULT_AXES,
               shrinkage: float = DEFAULT_SHRINKAGE, max_inputs: int = 3000) -> dict[str, Any]:
    """Statistics of a network's pooled features on its training inputs.

    ``images``: uint8 ``(N, 3, H, W)`` fitted model inputs (as :class:`models.samples.PreparedData`
    holds them); normalised here with ``spec``. ``groups``: each input's subject (recommended: the
    threshold is then calibrated on held-out subjects). At most ``max_inputs`` are used (evenly spaced).
    """
    batch = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise DomainError(f"Expected uint8 images (N, 3, H, W), got shape {tuple(batch.shape)}")
    if groups is not None and len(groups) != batch.shape[0]:
        raise DomainError(f"{len(groups)} groups for {batch.shape[0]} inputs")
    if batch.shape[0] > max_inputs:
        keep = np.linspace(0, batch.shape[0] - 1, max_inputs).round().astype(int)
        batch, groups = batch[keep], None if groups is None else [groups[i] for i in keep]
    features = pooled_features(network, architecture, normalise(batch, spec))
    return fit_stats(features, groups=groups, axes=axes, shrinkage=shrinkage)


# ----------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class RoleDistance:
    """One model's distance (the largest over its inputs), its percentile in training and threshold."""

    role: str
    distance: float
    percentile: float
    threshold: float
    inputs: Mapping[str, float] = field(default_factory=dict)

    @property
    def far(self) -> bool:
        return self.distance > self.threshold

    @property
    def ratio(self) -> float:
        return self.distance / self.threshold if self.threshold > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {"distance": round(self.distance, 4), "percentile_in_training": round(self.percentile, 2),
                "threshold": round(self.threshold, 4), "far": self.far,
                "inputs": {k: round(v, 4) for k, v in self.inputs.items()}}


@dataclass(frozen=True)
class DomainCheck:
    """Distances of one assessment's model inputs from the models' training inputs."""

    roles: Mapping[str, RoleDistance]

    @property
    def score(self) -> float:
        """Mean over the models of distance / threshold (over 1 = far)."""
        return float(np.mean([r.ratio for r in self.roles.values()]))

    @property
    def far(self) -> bool:
        return self.score > 1.0

    @property
    def warning(self) -> str | None:
        return WARNING if self.far else None

    def to_dict(self) -> dict[str, Any]:
        return {"far": self.far, "score": round(self.score, 4), "warning": self.warning,
                "score_meaning": "mean over the models of distance / threshold (the threshold: 99th "
                                 "percentile of held-out training inputs); above 1 = far",
                "roles": {role: entry.to_dict() for role, entry in self.roles.items()}}


def domain_stats(card: Any) -> DomainStats | None:
    """The decoded statistics of a :class:`~models.checkpoint.ModelCard`, or None without them."""
    data = getattr(card, "domain", None)
    return DomainStats.from_dict(data) if data else None


def _role_inputs(role: str, inputs: Any) -> dict[str, torch.Tensor]:
    if role == "side":
        return {} if inputs.side is None else {"face": inputs.side}
    if role == "full_face_pain":
        return {} if inputs.full_face is None else {"face": inputs.full_face}
    return {f"patient_{side.value}_half": tensor for side, tensor in inputs.halves.items()}


def check_domain(bundle: Any, inputs: Any) -> DomainCheck | None:
    """Distances of an assessment's inputs (:class:`models.pipeline.ModelInputs`) for every model of
    ``bundle`` whose card carries statistics; None when no card does."""
    roles: dict[str, RoleDistance] = {}
    for role, loaded in bundle.loaded().items():
        stats = domain_stats(loaded.card)
        named = _role_inputs(role, inputs)
        if stats is None or not named:
            continue
        batch = torch.cat(list(named.values()))
        features = pooled_features(loaded.network, loaded.card.architecture, batch)
        values = dict(zip(named, map(float, stats.distances(features)), strict=True))
        worst = max(values.values())
        roles[role] = RoleDistance(role, worst, stats.percentile(worst), stats.threshold, values)
    return DomainCheck(roles) if roles else None


def write_domain_stats(weights_dir: Any, role: str, stats: Mapping[str, Any]) -> Any:
    """Put ``stats`` into the card ``<weights_dir>/<role>.json`` (the weights file is untouched)."""
    from models.checkpoint import update_card

    return update_card(weights_dir, role, domain=dict(stats))


__all__ = [
    "DOMAIN_FORMAT",
    "WARNING",
    "DomainCheck",
    "DomainError",
    "DomainStats",
    "RoleDistance",
    "check_domain",
    "domain_stats",
    "feature_layer",
    "fit_domain",
    "fit_stats",
    "held_out_rows",
    "pooled_features",
    "write_domain_stats",
]
