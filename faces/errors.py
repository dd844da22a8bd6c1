"""Exceptions raised for inputs the face stage cannot use.

Each kind of bad input has its own type so callers (the dashboard, the command line) can react to it,
and each message says what the person can do about it. All derive from :class:`FaceInputError`, a
``ValueError``.
"""

from __future__ import annotations


class FaceInputError(ValueError):
    """Base class: the input cannot be assessed. ``str(err)`` is a message meant for the user."""


class NotAnImageError(FaceInputError):
    """The data is not an image in any format we read."""


class CorruptImageError(FaceInputError):
    """The file looks like an image but is truncated or damaged."""


class ImageTooLargeError(FaceInputError):
    """The image has more pixels than the safety ceiling (decompression-bomb guard)."""


class ImageTooSmallError(FaceInputError):
    """The image is too small to contain a face we could analyse."""


class NoFaceFoundError(FaceInputError):
    """No face was detected in the photo."""
