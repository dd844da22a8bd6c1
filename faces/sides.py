"""Patient-anatomical sides and how they map onto image sides.

Every side in this project is the *patient's* anatomical side. In an ordinary (non-mirrored) frontal
photo the patient's right half is on the image's left; a mirrored photo (many webcam previews) swaps
that. Code never passes bare "left"/"right" strings around: it uses :class:`Side` and asks this module
for the image side or for a label a person can read.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """A patient-anatomical side."""

    RIGHT = "right"
    LEFT = "left"

    @property
    def opposite(self) -> Side:
        return Side.LEFT if self is Side.RIGHT else Side.RIGHT

    @classmethod
    def parse(cls, value: str | Side) -> Side:
        """Read a side from user text ("left", "patient-left", "L", ...); raises ValueError otherwise."""
        if isinstance(value, Side):
            return value
        text = str(value).strip().lower().replace("patient", "").strip(" -_'s")
        if text in ("r", "right"):
            return cls.RIGHT
        if text in ("l", "left"):
            return cls.LEFT
        raise ValueError(f"Not a side: {value!r} (expected 'left' or 'right', the patient's anatomical side)")


class ImageSide(StrEnum):
    """A side of the picture as displayed (viewer's left/right)."""

    LEFT = "left"
    RIGHT = "right"


def image_side(side: Side, mirrored: bool = False) -> ImageSide:
    """The image side on which the patient's ``side`` appears.

    Non-mirrored photo: patient-right is on the image left. Mirrored photo: patient-right is on the
    image right.
    """
    on_left = (side is Side.RIGHT) != mirrored
    return ImageSide.LEFT if on_left else ImageSide.RIGHT


def patient_side(img_side: ImageSide, mirrored: bool = False) -> Side:
    """The patient side shown on image side ``img_side`` (inverse of :func:`image_side`)."""
    for side in Side:
        if image_side(side, mirrored) is img_side:
            return side
    raise AssertionError("unreachable")


def describe(side: Side, mirrored: bool = False) -> str:
    """Human label, e.g. "patient's left (image right)"."""
    return f"patient's {side.value} (image {image_side(side, mirrored).value})"
