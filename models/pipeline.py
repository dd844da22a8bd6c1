"""The two-stage assessment of one photo: face geometry -> affected side -> PSPI of the unaffected half.

:func:`assess` is the one pipeline the dashboard, the command line and the Python API share. It runs
:func:`faces.analyse`, decides the affected side (side model, or the clinician's override, recorded as
such), shows the training-free geometric asymmetry beside it as a cross-check, scores PSPI on the
*unaffected* half (the one that still expresses pain), and also on the affected half and on the full face,
clearly marked. The :class:`Assessment` carries the face geometry and the exact model inputs, so
explanations need not recompute anything.

Side model, mirror-consistent by construction: with ``f`` the network's softmax over (patient-left
affected, patient-right affected) and ``flip`` the horizontal mirror of the canonical face crop (which
swaps the patient sides),

    p(x) = 0.5 * (f(x) + swap(f(flip(x)))),

so ``p(flip(x)) == swap(p(x))`` exactly: mirroring a face swaps its two probabilities.

Jitter averaging: every network's output is averaged over its input and four copies shifted by
:data:`JITTER_PX` input pixels left, right, up and down (:class:`JitterAveraged`). Landmarks found on a real
photo move the face crop by about a pixel between a photo and its mirror image or a rolled copy, and the
demo networks, trained on synthetic faces, react to such shifts on real faces more than they should;
the average damps that. The shift set is its own mirror image, so the side model stays exactly
mirror-consistent. The raw networks (``LoadedModel.network``) are what Grad-CAM hooks.

Models load once per process (:func:`load_default_models`, cached) from ``models/weights/*.json`` and
their ``.safetensors``; the device is CUDA when available, else the CPU.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from data.records import PSPI_MAX, PSPI_MIN
from faces.sides import Side, describe
from faces.types import FaceGeometry, HalfFace
from models.checkpoint import CheckpointError, ModelCard, load_checkpoint, read_card
from models.preprocess import InputSpec, face_tensor, flip_tensor, half_tensor, to_tensor
from models.registry import SIDE_CLASSES

#: Folder of the shipped model checkpoints (``<role>.json`` + ``<role>.safetensors``).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Below this top probability the side decision is reported as uncertain.
UNCERTAIN_BELOW = 0.65

RESEARCH_NOTE = "Research use only, not a medical device."
DEMO_NOTE = ("Demo weights trained on synthetic, computer-drawn faces, not on patients: research use only, "
             "not a medical device.")


class AssessmentError(ValueError):
    """The assessment cannot be made as asked (e.g. no side model and no override); says what to do."""


class MissingWeightsError(FileNotFoundError):
    """No usable checkpoint for a required model role."""


#: Test-time shift (input pixels) of :class:`JitterAveraged`; 0 turns the averaging off.
JITTER_PX = 1.5


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
    :class:`MirrorConsistentSide`. Already wrapped modules are returned as they are."""
    if isinstance(network, (JitterAveraged, MirrorConsistentSide)):
        return network
    model = JitterAveraged(network.eval(), jitter_px).eval() if jitter_px > 0 else network.eval()
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        direct = torch.softmax(self.base(x.contiguous()), dim=1)
        mirrored = torch.softmax(self.base(flip_tensor(x).contiguous()), dim=1)
        return 0.5 * (direct + mirrored.flip(dims=(1,)))


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


# ----------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class PainScores:
    """PSPI in [0, 16] (clamped) for the unaffected half, the affected half and the full face.

    ``full_face_source`` is ``"model"`` when a full-face pain model scored the whole face, otherwise
    ``"mean_of_halves"`` (the mean of the two half scores). ``raw`` holds the unclamped model outputs.
    """

    unaffected_half: float
    affected_half: float
    full_face: float
    full_face_source: str
    raw: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelInputs:
    """The exact normalised tensors the models saw (CPU, float32).

    ``side``: ``(1, 3, H, W)`` canonical face crop (patient's right on the image left) or None without a
    side model. ``halves``: per patient side, ``(1, 3, H, W)`` canonical half (looks like a patient-right
    half). ``full_face``: ``(1, 3, H, W)`` or None without a full-face pain model.
    """

    side: torch.Tensor | None
    halves: Mapping[Side, torch.Tensor]
    full_face: torch.Tensor | None


@dataclass(frozen=True)
class Assessment:
    """Everything one assessment found, with the geometry and inputs explanations need.

    Sides are patient sides. ``side_probabilities`` (patient-left / patient-right affected) come from the
    side model and are kept when a clinician overrides the side; ``side_source`` is ``"model"``,
    ``"override"`` or ``"geometry"`` (no side model: the asymmetry measures decided). ``asymmetry_side``
    is where the geometric measures point (None when inconclusive). ``timings_ms`` has one entry per step.
    """

    geometry: FaceGeometry
    affected_side: Side
    side_source: str
    side_probabilities: Mapping[Side, float] | None
    side_model_choice: Side | None
    asymmetry_side: Side | None
    pspi: PainScores
    inputs: ModelInputs
    timings_ms: Mapping[str, float]
    warnings: tuple[str, ...]
    models: Mapping[str, str]

    @property
    def mirrored(self) -> bool:
        return self.geometry.mirrored

    @property
    def unaffected_side(self) -> Side:
        """The patient side that was scored (the opposite of the affected side)."""
        return self.affected_side.opposite

    @property
    def scored_side(self) -> Side:
        return self.unaffected_side

    @property
    def unaffected_half(self) -> HalfFace:
        """The half the PSPI was taken from: ``geometry.halves[unaffected_side]``."""
        return self.geometry.halves[self.unaffected_side]

    @property
    def affected_half(self) -> HalfFace:
        return self.geometry.halves[self.affected_side]

    @property
    def geometry_agrees(self) -> bool | None:
        """Whether the asymmetry measures point to the side model's choice (None if either is missing)."""
        if self.side_model_choice is None or self.asymmetry_side is None:
            return None
        return self.asymmetry_side is self.side_model_choice

    def describe(self, side: Side) -> str:
        """E.g. "patient's left (image right)" for this photo's mirroring."""
        return describe(side, self.mirrored)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with plainly named fields (no pixels)."""
        def side_entry(side: Side | None) -> dict[str, str] | None:
            return None if side is None else {"side": side.value, "description": self.describe(side)}

        probabilities = None if self.side_probabilities is None else {
            "patient_left": float(self.side_probabilities[Side.LEFT]),
            "patient_right": float(self.side_probabilities[Side.RIGHT]),
        }
        asymmetry = self.geometry.asymmetry
        return {
            "affected_side": side_entry(self.affected_side),
            "unaffected_side": side_entry(self.unaffected_side),
            "scored_half": side_entry(self.scored_side),
            "side_source": self.side_source,
            "side_probabilities": probabilities,
            "side_probabilities_meaning": "probability that this patient side is the affected one",
            "side_model_choice": side_entry(self.side_model_choice),
            "pspi": {
                "unaffected_half": round(self.pspi.unaffected_half, 4),
                "affected_half": round(self.pspi.affected_half, 4),
                "full_face": round(self.pspi.full_face, 4),
                "full_face_source": self.pspi.full_face_source,
                "range": [PSPI_MIN, PSPI_MAX],
            },
            "asymmetry": {
                "points_to": side_entry(asymmetry.points_to),
                "agrees_with_side_model": self.geometry_agrees,
                "index": round(float(asymmetry.index), 4),
                "measures": [
                    {"name": m.name, "value": round(float(m.value), 4), "points_to": side_entry(m.points_to),
                     "description": m.description}
                    for m in asymmetry.measures
                ],
                "units": "fraction of the inter-ocular distance; > 0 points to the patient's left",
            },
            "mirrored": self.mirrored,
            "face": {"faces_found": self.geometry.n_faces, "landmark_source": self.geometry.landmark_source,
                     "roll_degrees": round(float(self.geometry.roll_degrees), 2)},
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
            "warnings": list(self.warnings),
            "models": dict(self.models),
        }


# ----------------------------------------------------------------------------- the pipeline


def clamp_pspi(value: float) -> float:
    """A PSPI prediction clamped to the scale's range [0, 16]."""
    return float(min(max(value, PSPI_MIN), PSPI_MAX))


def _parse_side_request(side: str | Side | None) -> Side | None:
    if side is None or (not isinstance(side, Side) and str(side).strip().lower() == "auto"):
        return None
    return Side.parse(side)


@torch.no_grad()
def side_probabilities(loaded: LoadedModel, geometry: FaceGeometry) -> tuple[dict[Side, float], torch.Tensor]:
    """Mirror-consistent side probabilities for one face and the input tensor ``(1, 3, H, W)`` used."""
    x = face_tensor(geometry, loaded.spec)
    probs = loaded.model(x.to(loaded.device)).float().cpu()[0]
    return {side: float(probs[i]) for i, side in enumerate(SIDE_CLASSES)}, x


@torch.no_grad()
def score_halves(loaded: LoadedModel,
                 geometry: FaceGeometry) -> tuple[dict[Side, float], dict[Side, torch.Tensor]]:
    """Unclamped PSPI per patient half (both in one batch) and the ``(1, 3, H, W)`` inputs used."""
    order = (Side.RIGHT, Side.LEFT)
    x = half_tensor([geometry.halves[s] for s in order], loaded.spec)
    out = loaded.model(x.to(loaded.device)).float().cpu()[:, 0]
    return {s: float(out[i]) for i, s in enumerate(order)}, {s: x[i:i + 1] for i, s in enumerate(order)}


def assess(
    image: Any = None,
    side: str | Side | None = "auto",
    mirrored: bool = False,
    *,
    models: ModelBundle | None = None,
    geometry: FaceGeometry | None = None,
    landmarks: np.ndarray | None = None,
    on_no_face: str = "error",
    uncertain_below: float = UNCERTAIN_BELOW,
) -> Assessment:
    """Assess one photo.

    Args:
        image: anything :func:`faces.read_image` takes (path, bytes, PIL image, ``(H, W, 3)`` uint8 array).
        side: ``"auto"`` (side model) or the affected patient side as known by a clinician (``"left"``,
            ``"right"``, :class:`Side`); an override is recorded as ``side_source == "override"``.
        mirrored: the photo is a mirror image (webcam preview); patient sides account for it.
        models: the bundle to use; default :func:`load_default_models`.
        geometry: an existing :class:`FaceGeometry` (skips :func:`faces.analyse`; ``image`` is ignored and
            ``mirrored`` is read from it).
        landmarks: ``(68, 2)`` photo landmarks given to :func:`faces.analyse` (skips detection).
        on_no_face: ``"error"`` or ``"template"`` (see :func:`faces.analyse`; a template is warned about).
        uncertain_below: top side probability under which a warning says the side model is uncertain.

    Returns:
        The :class:`Assessment`. PSPI values are clamped to [0, 16].

    Raises:
        faces.errors.FaceInputError: the photo cannot be used (message for the user).
        AssessmentError: no side model, no override and inconclusive geometry.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    override = _parse_side_request(side)
    bundle = models if models is not None else load_default_models()
    if geometry is None:
        import faces

        if image is None:
            raise AssessmentError("Give a photo (or an existing face geometry) to assess")
        geometry = faces.analyse(image, mirrored=bool(mirrored), landmarks=landmarks, on_no_face=on_no_face)
        timings["face"] = (time.perf_counter() - started) * 1000.0
        timings.update({f"face.{k}": v for k, v in geometry.timings_ms.items() if k != "total"})
    warnings: list[str] = []

    probabilities: dict[Side, float] | None = None
    model_choice: Side | None = None
    side_input: torch.Tensor | None = None
    if bundle.side is not None:
        t = time.perf_counter()
        probabilities, side_input = side_probabilities(bundle.side, geometry)
        timings["side_model"] = (time.perf_counter() - t) * 1000.0
        model_choice = max(SIDE_CLASSES, key=lambda s: probabilities[s])
    asymmetry_side = geometry.asymmetry.points_to

    if override is not None:
        affected, source = override, "override"
        if model_choice is not None and model_choice is not override:
            warnings.append(f"The side was set by hand to the {describe(override, geometry.mirrored)}; "
                            f"the side model suggested the {describe(model_choice, geometry.mirrored)} "
                            f"(p = {probabilities[model_choice]:.2f}).")
    elif model_choice is not None:
        affected, source = model_choice, "model"
        top = probabilities[model_choice]
        if top < uncertain_below:
            warnings.append(f"The side model is uncertain (p = {top:.2f} for the "
                            f"{describe(model_choice, geometry.mirrored)}); check the affected side and set "
                            "it by hand if you know it.")
    elif asymmetry_side is not None:
        affected, source = asymmetry_side, "geometry"
        warnings.append("No side model is loaded: the affected side comes from the geometric asymmetry "
                        "measures alone. Set the side by hand if you know it.")
    else:
        raise AssessmentError("No side model is loaded and the face shows no clear asymmetry: give the "
                              "affected side (left or right, the patient's side).")
    if source == "model" and asymmetry_side is not None and asymmetry_side is not model_choice:
        warnings.append(f"The geometric asymmetry measures point to the "
                        f"{describe(asymmetry_side, geometry.mirrored)}, the side model to the "
                        f"{describe(model_choice, geometry.mirrored)}.")

    t = time.perf_counter()
    raw_halves, half_inputs = score_halves(bundle.pain, geometry)
    timings["pain_model"] = (time.perf_counter() - t) * 1000.0
    unaffected, affected_score = clamp_pspi(raw_halves[affected.opposite]), clamp_pspi(raw_halves[affected])
    raw = {"unaffected_half": raw_halves[affected.opposite], "affected_half": raw_halves[affected]}
    full_input = None
    if bundle.full_face_pain is not None:
        t = time.perf_counter()
        full_input = face_tensor(geometry, bundle.full_face_pain.spec)
        with torch.no_grad():
            full_raw = float(bundle.full_face_pain.model(full_input.to(bundle.full_face_pain.device))[0, 0])
        timings["full_face_model"] = (time.perf_counter() - t) * 1000.0
        raw["full_face"] = full_raw
        full_face, full_source = clamp_pspi(full_raw), "model"
    else:
        full_face, full_source = 0.5 * (unaffected + affected_score), "mean_of_halves"

    if geometry.landmark_source == "template":
        warnings.append("No face was detected: the landmarks come from a template placed over the image, "
                        "so halves and regions are approximate.")
    elif geometry.cut_off:
        warnings.append("The face runs past the edge of the photo, so part of it is missing: the halves "
                        "and regions there are estimated and the scores are less reliable. Use a photo that "
                        "shows the whole face.")
    if geometry.n_faces > 1:
        warnings.append(f"{geometry.n_faces} faces were found; the largest was assessed.")
    if any(m.trained_on_synthetic for m in bundle.loaded().values()):
        warnings.append(DEMO_NOTE)
    else:
        warnings.append(RESEARCH_NOTE)
    timings["total"] = (time.perf_counter() - started) * 1000.0
    return Assessment(
        geometry=geometry,
        affected_side=affected,
        side_source=source,
        side_probabilities=probabilities,
        side_model_choice=model_choice,
        asymmetry_side=asymmetry_side,
        pspi=PainScores(unaffected, affected_score, full_face, full_source, raw),
        inputs=ModelInputs(side_input, half_inputs, full_input),
        timings_ms=timings,
        warnings=tuple(warnings),
        models={role: m.describe() for role, m in bundle.loaded().items()},
    )


__all__ = [
    "DEMO_NOTE",
    "JITTER_PX",
    "RESEARCH_NOTE",
    "ROLES",
    "UNCERTAIN_BELOW",
    "WEIGHTS_DIR",
    "Assessment",
    "AssessmentError",
    "JitterAveraged",
    "LoadedModel",
    "MirrorConsistentSide",
    "MissingWeightsError",
    "ModelBundle",
    "ModelInputs",
    "PainScores",
    "assess",
    "clamp_pspi",
    "default_device",
    "deployed",
    "install",
    "load_bundle",
    "load_default_models",
    "raw_network",
    "role_of",
    "score_halves",
    "side_probabilities",
]
