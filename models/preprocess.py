"""Model inputs, made in one place for training and inference alike, driven by the model card.

Two kinds of input (``InputSpec.kind``):

- ``"aligned_face"``: the levelled face crop ``FaceGeometry.aligned`` in the *non-mirrored canonical
  view*: the patient's right is on the image left. A crop from a mirrored photo is flipped first. Used by
  the side model and by full-face pain models. With ``InputSpec.balance_halves`` the crop is first
  stretched so that a turned head's halves have even widths (:class:`faces.pose.HalfBalance`; the identity
  on a face turned 10 degrees or less), see :func:`face_source`.
- ``"half_face"``: one half face in canonical orientation (``HalfFace.image``: it always looks like a
  patient-right half of a non-mirrored photo, midline on its right edge). A patient-left half read from a
  photo or a half-face dataset is flipped to get there (:func:`canonical_half`).

Resizing always keeps the aspect ratio (:func:`fit`): the image is scaled to fit inside ``height x
width`` and the rest is padded with the normalisation mean (0 after normalising). A half face (about 2:1
tall) into 128 x 64 therefore fills the frame; it is never stretched to a square. Halves are anchored at
the midline (right edge); faces are centred.

Arrays are RGB ``uint8`` ``(H, W, 3)``; grayscale ``(H, W)`` inputs are replicated to three channels.
Tensors are ``float32`` ``(N, 3, H, W)``, normalised as ``(x / 255 - mean) / std`` per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import torch

from faces.sides import Side
from faces.types import FaceGeometry, HalfFace

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

INPUT_KINDS = ("aligned_face", "half_face")
DEFAULT_SIZES = {"aligned_face": (128, 128), "half_face": (128, 64)}


@dataclass(frozen=True)
class InputSpec:
    """What a model expects: the kind of crop, its size ``height x width``, colour and normalisation."""

    kind: str
    height: int
    width: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    grayscale: bool = False  # convert to luminance (replicated to 3 channels) before normalising
    #: aligned faces only: read a turned head with its halves evened out (``FaceGeometry.half_balance``)
    balance_halves: bool = False

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"Input kind must be one of {INPUT_KINDS}, got {self.kind!r}")
        if self.height < 8 or self.width < 8:
            raise ValueError(f"Input size must be at least 8 x 8, got {self.height} x {self.width}")
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError("mean and std need three values each, std > 0")
        if self.balance_halves and self.kind != "aligned_face":
            raise ValueError("balance_halves applies to aligned faces only")

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)``."""
        return (self.height, self.width)

    @property
    def pad_value(self) -> tuple[int, int, int]:
        """The uint8 colour of padding: the normalisation mean, so padding is 0 after normalising."""
        return tuple(int(round(m * 255)) for m in self.mean)  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mean"], data["std"] = list(self.mean), list(self.std)
        if not self.balance_halves:
            del data["balance_halves"]  # cards written before the option read the same
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSpec:
        return cls(kind=data["kind"], height=int(data["height"]), width=int(data["width"]),
                   mean=tuple(data.get("mean", IMAGENET_MEAN)), std=tuple(data.get("std", IMAGENET_STD)),
                   grayscale=bool(data.get("grayscale", False)),
                   balance_halves=bool(data.get("balance_halves", False)))

    @classmethod
    def default(cls, kind: str, size: tuple[int, int] | None = None) -> InputSpec:
        """ImageNet normalisation at ``size`` (default 128 x 128 for faces, 128 x 64 for halves)."""
        height, width = size or DEFAULT_SIZES[kind]
        return cls(kind=kind, height=height, width=width)


def parse_size(text: str) -> tuple[int, int]:
    """``"128x64"`` -> ``(128, 64)`` (height, width); a single number means a square."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"Input size must look like 128x64 (height x width), got {text!r}") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 8:
        raise ValueError(f"Input size must look like 128x64 (height x width, each >= 8), got {text!r}")
    return values[0], values[1]


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` uint8 -> ``(H, W, 3)`` uint8 (RGBA loses alpha)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"Images must be uint8, got {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return array[:, :, :3]
    raise ValueError(f"Expected an (H, W) or (H, W, 3) image, got shape {array.shape}")


def flip(image: np.ndarray) -> np.ndarray:
    """Horizontal mirror of an ``(H, W, ...)`` array (contiguous copy)."""
    return np.ascontiguousarray(image[:, ::-1])


def canonical_face(geometry: FaceGeometry, balance_halves: bool = False) -> np.ndarray:
    """The aligned face crop ``(S, S, 3)`` uint8 with the patient's right on the image left; with
    ``balance_halves``, a turned head's halves evened out first (``FaceGeometry.half_balance``)."""
    face = geometry.half_balance.apply(geometry.aligned) if balance_halves else geometry.aligned
    return flip(face) if geometry.mirrored else np.ascontiguousarray(face)


def face_source(geometry: FaceGeometry, spec: InputSpec) -> np.ndarray:
    """The crop that :func:`fit` turns into an aligned-face model's input: :func:`canonical_face`, halves
    balanced when ``spec.balance_halves``."""
    return canonical_face(geometry, spec.balance_halves)


def canonical_half(image: np.ndarray, side: Side) -> np.ndarray:
    """A half face as it appears in a non-mirrored photo -> canonical orientation (patient-right look).

    The patient-left half of a non-mirrored photo has the midline on its left edge; it is flipped.
    """
    return flip(image) if Side.parse(side) is Side.LEFT else np.ascontiguousarray(image)


def fit_box(height: int, width: int, spec: InputSpec) -> tuple[int, int, int, int]:
    """Where :func:`fit` puts a ``height x width`` image inside the input: ``(top, left, new_h, new_w)``."""
    if height <= 0 or width <= 0:
        raise ValueError(f"Cannot resize an empty image of shape ({height}, {width})")
    scale = min(spec.height / height, spec.width / width)
    new_h = min(spec.height, max(1, int(round(height * scale))))
    new_w = min(spec.width, max(1, int(round(width * scale))))
    top = (spec.height - new_h) // 2
    left = spec.width - new_w if spec.kind == "half_face" else (spec.width - new_w) // 2
    return top, left, new_h, new_w


def to_source(input_map: np.ndarray, source_shape: tuple[int, ...], spec: InputSpec) -> np.ndarray:
    """Undo :func:`fit` for a map over the model input: ``(spec.height, spec.width)`` float map ->
    ``source_shape[:2]`` map over the image that was fitted (padding dropped, bilinear resize)."""
    array = np.asarray(input_map, dtype=np.float32)
    if array.shape != spec.size:
        raise ValueError(f"Expected a map of shape {spec.size}, got {array.shape}")
    top, left, new_h, new_w = fit_box(source_shape[0], source_shape[1], spec)
    crop = np.ascontiguousarray(array[top:top + new_h, left:left + new_w])
    return cv2.resize(crop, (source_shape[1], source_shape[0]), interpolation=cv2.INTER_LINEAR)


def fit(image: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Resize keeping the aspect ratio and pad to ``spec.size``; ``(H, W, 3)`` uint8 out.

    Halves are anchored at their right edge (the midline) and centred vertically; faces are centred.
    Padding uses :attr:`InputSpec.pad_value`.
    """
    rgb = as_rgb(image)
    if spec.grayscale:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        rgb = np.repeat(gray[:, :, None], 3, axis=2)
    h, w = rgb.shape[:2]
    top, left, new_h, new_w = fit_box(h, w, spec)
    if (new_h, new_w) != (h, w):
        interpolation = cv2.INTER_AREA if new_h < h else cv2.INTER_LINEAR
        rgb = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    if (new_h, new_w) == spec.size:
        return np.ascontiguousarray(rgb)
    out = np.empty((spec.height, spec.width, 3), np.uint8)
    out[:] = np.asarray(spec.pad_value, np.uint8)
    out[top:top + new_h, left:left + new_w] = rgb
    return out


def normalise(batch: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """Pixels in [0, 255] (uint8, or float after augmentation), ``(N, 3, H, W)`` or ``(3, H, W)`` ->
    normalised float32 of the same shape. The input is not modified."""
    mean = torch.tensor(spec.mean, dtype=torch.float32, device=batch.device).view(3, 1, 1)
    std = torch.tensor(spec.std, dtype=torch.float32, device=batch.device).view(3, 1, 1)
    return (batch.float() / 255.0 - mean) / std


def to_tensor(images: np.ndarray | Sequence[np.ndarray], spec: InputSpec) -> torch.Tensor:
    """uint8 images ``(H, W, 3)`` of any size (one or a list), fitted, -> normalised contiguous
    ``(N, 3, H, W)`` float32."""
    if isinstance(images, np.ndarray) and images.ndim == 3:
        images = [images]
    stacked = np.stack([fit(img, spec) for img in images])
    # contiguous NCHW: a channels-last view here makes a CPU forward pass about 3x slower
    return normalise(torch.from_numpy(stacked).permute(0, 3, 1, 2).contiguous(), spec)


def input_image(spec: InputSpec, source: FaceGeometry | HalfFace) -> np.ndarray:
    """The fitted uint8 ``(H, W, 3)`` input of ``spec.kind`` from a face geometry or a half face."""
    if spec.kind == "half_face":
        if not isinstance(source, HalfFace):
            raise TypeError("A half-face model needs a HalfFace (geometry.halves[side])")
        return fit(source.image, spec)
    if not isinstance(source, FaceGeometry):
        raise TypeError("A face model needs a FaceGeometry")
    return fit(face_source(source, spec), spec)


def face_tensor(geometry: FaceGeometry, spec: InputSpec) -> torch.Tensor:
    """Side / full-face model input ``(1, 3, H, W)`` float32 from the canonical aligned crop."""
    if spec.kind != "aligned_face":
        raise ValueError(f"This model takes {spec.kind} inputs, not the aligned face")
    return to_tensor(face_source(geometry, spec), spec)


def half_tensor(halves: Sequence[HalfFace], spec: InputSpec) -> torch.Tensor:
    """Pain model input ``(N, 3, H, W)`` float32, one row per half (canonical orientation, not stretched)."""
    if spec.kind != "half_face":
        raise ValueError(f"This model takes {spec.kind} inputs, not half faces")
    return to_tensor([half.image for half in halves], spec)


def flip_tensor(batch: torch.Tensor) -> torch.Tensor:
    """Horizontal mirror of ``(..., H, W)`` tensors."""
    return torch.flip(batch, dims=(-1,))


__all__ = [
    "DEFAULT_SIZES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "INPUT_KINDS",
    "InputSpec",
    "as_rgb",
    "canonical_face",
    "canonical_half",
    "face_source",
    "face_tensor",
    "fit",
    "fit_box",
    "flip",
    "flip_tensor",
    "half_tensor",
    "input_image",
    "normalise",
    "parse_size",
    "to_source",
    "to_tensor",
]
