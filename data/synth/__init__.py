"""Procedural synthetic faces with ground truth: the project's benchmark for pain, palsy side and
explanations.

Faces are drawn on the iBUG 68-point layout with per-patient-side action units (AU4, AU6, AU7, AU9,
AU10, AU43), optional unilateral palsy, identities, pose, lighting and camera artefacts. Everything is
deterministic from a seed.

Typical use::

    from data.synth import FrameSpec, render_face, sample_identity
    face = render_face(FrameSpec(identity=sample_identity(7), aus={Side.LEFT: {"AU4": 3}}))
    face.image      # (256, 256, 3) uint8 RGB
    face.landmarks  # (68, 2) true landmarks, pixels

    from data.synth import SynthConfig, write_dataset
    write_dataset("out/", SynthConfig(subjects=20, frames=50, layout="all"))
"""

from data.synth.aus import AU_NAMES, AU_REGIONS, Palsy, pspi
from data.synth.generate import (
    Subject,
    at_rest,
    au_region_report,
    frame_truth,
    make_subject,
    neutral_specs,
    sample_frame_spec,
)
from data.synth.identity import Identity, sample_identity
from data.synth.regions import region_masks
from data.synth.render import FrameSpec, RenderedFace, au_change_masks, render_face
from data.synth.write import SynthConfig, cut_halves, write_dataset

__all__ = [
    "AU_NAMES",
    "AU_REGIONS",
    "FrameSpec",
    "Identity",
    "Palsy",
    "RenderedFace",
    "Subject",
    "SynthConfig",
    "at_rest",
    "au_change_masks",
    "au_region_report",
    "cut_halves",
    "frame_truth",
    "make_subject",
    "neutral_specs",
    "pspi",
    "region_masks",
    "render_face",
    "sample_frame_spec",
    "sample_identity",
    "write_dataset",
]
