"""The models one process uses: loaded checkpoints with their cards (:class:`LoadedModel`), grouped by
role (:class:`ModelBundle`), read from ``models/weights/`` once per process (:func:`load_default_models`).

Roles: ``side`` (optional), ``pain`` (half-face PSPI, required) and ``full_face_pain`` (optional). Every
network is held as :func:`models.networks.deployed` wraps it. The device is CUDA when available, else the
CPU.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.checkpoint import CheckpointError, ModelCard, load_checkpoint, read_card
from models.networks import JITTER_PX, deployed, raw_network
from models.preprocess import InputSpec, to_tensor

#: Folder of the shipped model checkpoints (``<role>.json`` + ``<role>.safetensors``).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class MissingWeightsError(FileNotFoundError):
    """No usable checkpoint for a required model role."""


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference with the card that describes it.

    ``model`` is in eval mode on ``device``; for the side role it is wrapped in
    :class:`MirrorConsistentSide` (``model.base`` is the raw network). ``spec`` is the card's input spec.
    """

    role: str
    model: nn.Module
    card: ModelCard
    path: Path | None = None

    @property
    def spec(self) -> InputSpec:
        return self.card.input_spec

    @property
    def network(self) -> nn.Module:
        """The raw network (unwrapped), e.g. for Grad-CAM on its last conv stage."""
        return raw_network(self.model)

    @property
    def device(self) -> torch.device:
        first = next(self.model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    @property
    def trained_on_synthetic(self) -> bool:
        text = " ".join([str(self.card.training_data.get("description", "")), *self.card.notes]).lower()
        return "synthetic" in text

    @torch.no_grad()
    def predict(self, images: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Batched predictions on uint8 ``(H, W, 3)`` images of this model's input kind (canonical
        orientation, any size; fitted and normalised here), e.g. for LIME's perturbed samples.

        Returns ``(N, 2)`` side probabilities (patient-left, patient-right affected) for the side role,
        else ``(N,)`` raw PSPI (unclamped) for pain roles. This is the deployed model, so with jitter
        averaging each image costs five forward passes (ten for the mirror-consistent side model).
        """
        outputs = []
        for start in range(0, len(images), batch_size):
            x = to_tensor(list(images[start:start + batch_size]), self.spec).to(self.device)
            outputs.append(self.model(x).float().cpu())
        result = torch.cat(outputs).numpy() if outputs else np.zeros((0, 2 if self.role == "side" else 1))
        return result if self.role == "side" else result[:, 0]

    def describe(self) -> str:
        where = f" ({self.path.name})" if self.path else ""
        return f"{self.card.architecture} {self.card.task}{where}, input {self.spec.height}x{self.spec.width}"


ROLES = ("side", "pain", "full_face_pain")


def role_of(card: ModelCard) -> str | None:
    """``side``, ``pain`` (half-face PSPI), ``full_face_pain`` (whole-face PSPI) or None (other tasks)."""
    if card.task == "side":
        return "side"
    if card.task == "pain":
        return "pain" if card.input.get("kind") == "half_face" else "full_face_pain"
    return None


@dataclass(frozen=True)
class ModelBundle:
    """The models one process uses: side (optional), half-face pain (required), full-face pain (optional)."""

    pain: LoadedModel
    side: LoadedModel | None = None
    full_face_pain: LoadedModel | None = None

    def __post_init__(self) -> None:
        for role in ROLES:
            loaded = getattr(self, role)
            if loaded is not None and role_of(loaded.card) != role:
                raise ValueError(f"The {role} slot got a {loaded.card.task} model ({loaded.spec.kind})")

    @property
    def device(self) -> torch.device:
        return self.pain.device

    def loaded(self) -> dict[str, LoadedModel]:
        return {role: m for role in ROLES if (m := getattr(self, role)) is not None}

    def with_half_balance(self, on: bool) -> ModelBundle:
        """The same models with every aligned-face model reading turned heads with (``on``) or without
        half balancing (``InputSpec.balance_halves``, :class:`faces.pose.HalfBalance`), e.g. to measure
        what the balancing does; the networks are shared, the cards copied."""
        def switched(loaded: LoadedModel | None) -> LoadedModel | None:
            if loaded is None or loaded.spec.kind != "aligned_face" or loaded.spec.balance_halves == on:
                return loaded
            card = dataclasses.replace(loaded.card, input={**loaded.card.input, "balance_halves": on})
            return dataclasses.replace(loaded, card=card)

        return dataclasses.replace(self, **{role: switched(getattr(self, role)) for role in ROLES})

    @classmethod
    def from_modules(cls, *, pain: nn.Module, pain_card: ModelCard, side: nn.Module | None = None,
                     side_card: ModelCard | None = None, full_face_pain: nn.Module | None = None,
                     full_face_card: ModelCard | None = None, jitter_px: float = JITTER_PX) -> ModelBundle:
        """Wrap in-memory networks (e.g. freshly trained, or small test models) with their cards, as
        :func:`deployed` does (``jitter_px=0`` leaves the jitter averaging out)."""
        return cls(
            pain=LoadedModel("pain", deployed(pain, "pain", jitter_px), pain_card),
            side=None if side is None else LoadedModel("side", deployed(side, "side", jitter_px),
                                                        _need(side_card, "side")),
            full_face_pain=None if full_face_pain is None else LoadedModel(
                "full_face_pain", deployed(full_face_pain, "full_face_pain", jitter_px),
                _need(full_face_card, "full_face_pain")),
        )


def _need(card: ModelCard | None, role: str) -> ModelCard:
    if card is None:
        raise ValueError(f"A {role} model needs its model card")
    return card


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_bundle(weights_dir: Path | str = WEIGHTS_DIR, *,
                device: str | torch.device | None = None) -> ModelBundle:
    """Load every checkpoint in ``weights_dir`` by role (not cached; see :func:`load_default_models`).

    Each ``*.json`` there must be a model card. Per role, a file named after the role
    (``side.json``, ``pain.json``, ``full_face_pain.json``) wins over others; several unnamed candidates
    for one role are an error. A half-face pain model is required; the side and full-face models are not.
    """
    weights_dir = Path(weights_dir)
    target = torch.device(device) if device is not None else default_device()
    if not weights_dir.is_dir():
        raise MissingWeightsError(
            f"No model weights folder at {weights_dir}. Train models with `python -m models train ...` and "
            "install them with `python -m models install RUN/model.json`, or pass models=."
        )
    candidates: dict[str, list[Path]] = {}
    for card_file in sorted(weights_dir.glob("*.json")):
        role = role_of(read_card(card_file))
        if role is not None:
            candidates.setdefault(role, []).append(card_file)
    chosen: dict[str, LoadedModel] = {}
    for role, files in candidates.items():
        named = [f for f in files if f.stem == role]
        if len(named) != 1 and len(files) > 1:
            raise CheckpointError(
                f"Several {role} checkpoints in {weights_dir} ({', '.join(f.name for f in files)}); name the "
                f"one to use {role}.json"
            )
        path = named[0] if named else files[0]
        network, card = load_checkpoint(path, device=target)
        chosen[role] = LoadedModel(role, deployed(network, role), card, path)
    if "pain" not in chosen:
        raise MissingWeightsError(f"No half-face pain model (task pain, input half_face) in {weights_dir}")
    return ModelBundle(**chosen)


def install(checkpoint: Path | str, weights_dir: Path | str = WEIGHTS_DIR, *, role: str | None = None,
            half_precision: bool = False) -> Path:
    """Copy a verified checkpoint (e.g. ``<run>/model.json``) into ``weights_dir`` as ``<role>.json`` +
    ``<role>.safetensors``, optionally re-stored as float16; the card keeps its training record and gets
    the new file's name and sha256. Returns the installed card's path."""
    from models.checkpoint import save_checkpoint

    network, card = load_checkpoint(checkpoint)
    role = role or role_of(card)
    if role not in ROLES or role_of(card) != role:
        raise ValueError(f"{checkpoint} ({card.task} on {card.input.get('kind')}) cannot serve as {role!r}; "
                         f"roles: {', '.join(ROLES)}")
    return save_checkpoint(network, card, Path(weights_dir) / role, half_precision=half_precision)


@functools.lru_cache(maxsize=4)
def _cached_bundle(weights_dir: str, device: str) -> ModelBundle:
    return load_bundle(weights_dir, device=device)


def load_default_models(weights_dir: Path | str | None = None, *, device: str | None = None) -> ModelBundle:
    """The process-wide model bundle: loaded on the first call, the same object afterwards."""
    folder = str(Path(weights_dir or WEIGHTS_DIR).resolve())
    return _cached_bundle(folder, str(device or default_device()))


__all__ = ["ROLES", "WEIGHTS_DIR", "LoadedModel", "MissingWeightsError", "ModelBundle", "default_device",
           "install", "load_bundle", "load_default_models", "role_of"]
