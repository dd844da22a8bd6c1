"""Procedural synthetic faces with ground truth: the project's benchmark for pain, palsy side and
explanations.

Faces are drawn on the iBUG 68-point layout with per-patient-side action units (AU4, AU6, AU7, AU9,
AU10, AU43), optional unilateral palsy, identities, pose, lighting and camera artefacts. Everything is
deterministic from a seed.
"""

from data.synth.aus import AU_NAMES, AU_REGIONS, Palsy, pspi
from data.synth.identity import Identity, sample_identity
from data.synth.render import FrameSpec, RenderedFace, au_change_masks, render_face

__all__ = [
    "AU_NAMES",
    "AU_REGIONS",
    "FrameSpec",
    "Identity",
    "Palsy",
    "RenderedFace",
    "au_change_masks",
    "pspi",
    "render_face",
    "sample_identity",
]
