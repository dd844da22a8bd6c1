"""Face geometry: read a photo, find the face and its 68 landmarks, level it, cut the halves at the
facial midline, build named region masks and measure geometric asymmetry. No deep-learning framework.

Every side is the patient's anatomical side (see :mod:`faces.sides`).
"""

from faces.analyse import analyse
from faces.detect import detect_faces, fit_landmarks
from faces.errors import (
    CorruptImageError,
    FaceInputError,
    ImageTooLargeError,
    ImageTooSmallError,
    NoFaceFoundError,
    NotAnImageError,
)
from faces.image_input import read_image
from faces.regions import REGION_NAMES
from faces.sides import ImageSide, Side, describe
from faces.template import TEMPLATE_LANDMARKS
from faces.types import Asymmetry, AsymmetryMeasure, FaceGeometry, HalfFace

__all__ = [
    "REGION_NAMES",
    "TEMPLATE_LANDMARKS",
    "Asymmetry",
    "AsymmetryMeasure",
    "CorruptImageError",
    "FaceGeometry",
    "FaceInputError",
    "HalfFace",
    "ImageSide",
    "ImageTooLargeError",
    "ImageTooSmallError",
    "NoFaceFoundError",
    "NotAnImageError",
    "Side",
    "analyse",
    "describe",
    "detect_faces",
    "fit_landmarks",
    "read_image",
]
