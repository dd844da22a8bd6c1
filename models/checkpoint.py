"""Checkpoints: safetensors weights plus a JSON model card beside them, verified on loading.

A checkpoint is two files with one stem: ``<stem>.safetensors`` (the state dict) and ``<stem>.json``
(the :class:`ModelCard`). The card says what the network is (architecture, task, outputs), what it
expects (:class:`~models.preprocess.InputSpec`: crop kind, size, normalisation), the side and half
conventions in words, what it was trained on (data description and a hash of the data listing), how
(split protocol and its leakage report, the exact command, seed, library versions), how well (metrics and
per-epoch curves), and the sha256 of the weights file.

Loading (:func:`load_checkpoint`) never unpickles: weights come from safetensors (or from a ``.pt``
state dict read with ``torch.load(weights_only=True)``). It checks the sha256 and that every tensor name
and shape matches the card's architecture, and raises a :class:`CheckpointError` subclass with a message
saying what is wrong otherwise. Weights may be stored as float16 to save space; they load as float32.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.preprocess import InputSpec
from models.registry import ARCHITECTURES, CLASS_NAMES, build_model, check_task, read_state_dict

CARD_FORMAT = "strokepain-model-card/1"

SIDE_CONVENTION = (
    "Sides are the patient's anatomical sides. Side logits/probabilities are ordered (patient-left "
    "affected, patient-right affected). The side model sees the levelled face crop in the non-mirrored "
    "view: the patient's right is on the image left (a crop from a mirrored photo is flipped first)."
)
HALF_CONVENTION = (
    "Half faces are cut at the facial midline and given in canonical orientation: every half looks like "
    "a patient-right half of a non-mirrored photo (midline on the image's right edge); patient-left halves "
    "are mirrored to get there. Halves keep their aspect ratio and are padded, never stretched."
)
FACE_CONVENTION = (
    "Full-face inputs are the levelled face crop in the non-mirrored view "
    "(patient's right on the image left)."
)


class CheckpointError(ValueError):
    """A checkpoint cannot be used. ``str(err)`` says which file and what is wrong."""


class CardError(CheckpointError):
    """The model card is missing, not JSON, or lacks / contradicts required fields."""


class ChecksumMismatchError(CheckpointError):
    """The weights file's sha256 differs from the card's: the file is corrupt or not the one described."""


class ArchitectureMismatchError(CheckpointError):
    """Tensor names or shapes in the weights file do not match the architecture the card names."""


@dataclass
class ModelCard:
    """Everything known about one trained model (serialised as the checkpoint's JSON file).

    Attributes:
        architecture: registry name (:data:`models.registry.ARCHITECTURES`).
        task: ``"side"``, ``"pain"`` or ``"pain_binary"``.
        outputs: size of the final layer.
        input: the :class:`InputSpec` as a dict (kind, height, width, mean, std, grayscale).
        class_names: names of the outputs in order.
        conventions: side / half conventions in words.
        init: ``"scratch"`` or a description of the local ImageNet file (name and sha256).
        training_data: description, root, layout, number of records, ``listing_sha256``.
        split: protocol, seed, fold, sizes, leakage report, whether a leak was allowed.
        metrics: validation metrics of the best epoch (and baselines).
        curves: one dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``val_metric``, ``lr``...).
        command: the exact command line that produced the checkpoint.
        seed: the training seed.
        versions: library versions (torch, torchvision, python).
        weights: ``{"file": name, "sha256": hex, "dtype": "float32"|"float16", "bytes": n}``.
        notes: plain-language caveats (e.g. trained on synthetic faces; research use only).
        created: UTC timestamp (ISO 8601).
        domain: statistics of the training inputs' penultimate features (:mod:`models.domain`), empty
            when none were fitted.
        neutral_score: for PSPI models, the model's typical output on faces at rest (``value``: median
            over synthetic faces with every action unit at 0, and how it was measured), which a neutral
            reference photo's reading is measured from (:mod:`models.reference`); empty when not fitted.
    """

    architecture: str
    task: str
    outputs: int
    input: dict[str, Any]
    class_names: list[str] = field(default_factory=list)
    conventions: dict[str, str] = field(default_factory=dict)
    init: str = "scratch"
    training_data: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: list[dict[str, Any]] = field(default_factory=list)
    command: str = ""
    seed: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    weights: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created: str = ""
    domain: dict[str, Any] = field(default_factory=dict)
    neutral_score: dict[str, Any] = field(default_factory=dict)
    format: str = CARD_FORMAT

    def __post_init__(self) -> None:
        if not self.class_names and (self.task, self.outputs) in CLASS_NAMES:
            self.class_names = list(CLASS_NAMES[(self.task, self.outputs)])
        if not self.conventions:
            kind = self.input.get("kind") if isinstance(self.input, dict) else None
            self.conventions = {"side": SIDE_CONVENTION,
                                "input": HALF_CONVENTION if kind == "half_face" else FACE_CONVENTION}
        if not self.versions:
            self.versions = library_versions()

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec.from_dict(self.input)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=json_default)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "model card") -> ModelCard:
        """Validate and build a card; raises :class:`CardError` naming the problem."""
        if not isinstance(data, dict):
            raise CardError(f"{where}: expected a JSON object")
        if data.get("format", CARD_FORMAT) != CARD_FORMAT:
            raise CardError(
                f"{where}: unsupported card format {data.get('format')!r} (expected {CARD_FORMAT})"
            )
        missing = [k for k in ("architecture", "task", "outputs", "input") if k not in data]
        if missing:
            raise CardError(f"{where}: missing required field(s) {', '.join(missing)}")
        known = {f.name for f in fields(cls)}
        card = cls(**{k: v for k, v in data.items() if k in known})
        if card.architecture not in ARCHITECTURES:
            raise CardError(f"{where}: unknown architecture {card.architecture!r}")
        try:
            check_task(card.architecture, card.task, int(card.outputs))
            InputSpec.from_dict(card.input)
        except (ValueError, KeyError, TypeError) as err:
            raise CardError(f"{where}: {err}") from err
        return card


def library_versions() -> dict[str, str]:
    """Versions of torch, torchvision (read from package metadata, not imported) and Python."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        torchvision_version = version("torchvision")
    except PackageNotFoundError:
        torchvision_version = "not installed"
    return {"torch": torch.__version__, "torchvision": torchvision_version,
            "python": platform.python_version()}


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: paths, numpy/torch scalars and arrays, sets, tuples and enums."""
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"Not JSON-serialisable: {type(value).__name__}")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def card_path(path: Path | str) -> Path:
    """``<stem>.json`` for any of ``<stem>``, ``<stem>.json``, ``<stem>.safetensors``, ``<stem>.pt``."""
    path = Path(path)
    return path.with_suffix(".json") if path.suffix in (".json", ".safetensors", ".pt", ".pth") else \
        path.with_name(path.name + ".json")


def save_checkpoint(
    model: nn.Module, card: ModelCard, path: Path | str, *, half_precision: bool = False
) -> Path:
    """Write ``<stem>.safetensors`` and ``<stem>.json``; returns the card's path.

    ``half_precision`` stores floating tensors of two or more dimensions (conv and linear weights) as
    float16; one-dimensional tensors (biases, BatchNorm statistics) stay float32. The card's ``weights``
    entry (file name, sha256, dtype, size) and ``created`` are filled in here.
    """
    from safetensors.torch import save_file

    json_path = card_path(path)
    weights_path = json_path.with_suffix(".safetensors")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    state = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu").contiguous()
        if half_precision and tensor.is_floating_point() and tensor.ndim >= 2:
            tensor = tensor.half()
        state[name] = tensor.clone()
    tmp = weights_path.with_name(weights_path.name + ".tmp")
    save_file(state, str(tmp), metadata={"architecture": card.architecture, "task": card.task})
    tmp.replace(weights_path)
    card.weights = {"file": weights_path.name, "sha256": sha256_file(weights_path),
                    "dtype": "float16" if half_precision else "float32", "bytes": weights_path.stat().st_size}
    card.created = card.created or datetime.now(UTC).isoformat(timespec="seconds")
    json_path.write_text(card.to_json() + "\n", encoding="utf-8")
    return json_path


def read_card(path: Path | str) -> ModelCard:
    """The validated card of a checkpoint (``path`` may name the card, the weights or the stem)."""
    json_path = card_path(path)
    if not json_path.is_file():
        raise CardError(f"No model card at {json_path}: a checkpoint needs its JSON card beside the weights")
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CardError(f"{json_path}: the model card is not valid JSON ({err})") from err
    return ModelCard.from_dict(data, where=str(json_path))


def update_card(weights_dir: Path | str, role: str, **values: Any) -> Path:
    """Set fields of the installed card ``<weights_dir>/<role>.json`` (measurements added after
    training, e.g. ``domain``, ``neutral_score``); the weights file, and so its sha256, is untouched."""
    path = Path(weights_dir) / f"{role}.json"
    card = read_card(path)
    known = {f.name for f in fields(ModelCard)}
    for name, value in values.items():
        if name not in known:
            raise CardError(f"{path}: a model card has no field {name!r}")
        setattr(card, name, value)
    path.write_text(card.to_json() + "\n", encoding="utf-8")
    return path


def check_state_dict(state: dict[str, torch.Tensor], reference: dict[str, torch.Tensor], where: str) -> None:
    """Raise :class:`ArchitectureMismatchError` unless names and shapes agree exactly."""
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(set(state) - set(reference))
    shared = set(state) & set(reference)
    wrong = sorted(k for k in shared if tuple(state[k].shape) != tuple(reference[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensor(s) (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensor(s) (e.g. {', '.join(unexpected[:3])})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} shape mismatch(es) (e.g. {k}: file {tuple(state[k].shape)}, "
                         f"architecture {tuple(reference[k].shape)})")
        message = f"{where} does not match its card's architecture: " + "; ".join(parts)
        raise ArchitectureMismatchError(message)


def load_checkpoint(path: Path | str, *, device: str | torch.device = "cpu") -> tuple[nn.Module, ModelCard]:
    """Load a verified checkpoint; returns ``(model in eval mode, float32, on device; card)``.

    Raises:
        CardError: no card, invalid JSON, or fields missing / inconsistent.
        ChecksumMismatchError: the weights file's sha256 differs from the card's.
        ArchitectureMismatchError: tensor names or shapes differ from the card's architecture.
        CheckpointError: the weights file is missing or unreadable.
    """
    json_path = card_path(path)
    card = read_card(json_path)
    file_name = card.weights.get("file")
    expected = card.weights.get("sha256")
    if not file_name or not expected:
        raise CardError(f"{json_path}: the card does not name its weights file and sha256")
    weights_path = json_path.parent / file_name
    if Path(file_name).name != file_name:
        raise CardError(f"{json_path}: weights file must sit beside the card, got {file_name!r}")
    if not weights_path.is_file():
        raise CheckpointError(f"Weights file {weights_path} (named in {json_path.name}) is missing")
    actual = sha256_file(weights_path)
    if actual != expected:
        raise ChecksumMismatchError(
            f"{weights_path} is corrupt or not the file its card describes: sha256 {actual[:12]}... "
            f"differs from the card's {str(expected)[:12]}... Restore the file or retrain."
        )
    try:
        state = read_state_dict(weights_path)
    except Exception as err:
        raise CheckpointError(f"Cannot read weights {weights_path}: {err}") from err
    model = build_model(card.architecture, outputs=int(card.outputs))
    check_state_dict(state, model.state_dict(), str(weights_path))
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model.to(device).eval(), card


__all__ = [
    "CARD_FORMAT",
    "FACE_CONVENTION",
    "HALF_CONVENTION",
    "SIDE_CONVENTION",
    "ArchitectureMismatchError",
    "CardError",
    "CheckpointError",
    "ChecksumMismatchError",
    "ModelCard",
    "card_path",
    "check_state_dict",
    "json_default",
    "library_versions",
    "load_checkpoint",
    "read_card",
    "update_card",
    "save_checkpoint",
    "sha256_file",
]
