"""Small shared test inputs: a synthetic face's geometry and a bundle of untrained tiny models."""

from __future__ import annotations

import numpy as np
import torch

import faces
from data.synth import render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.types import Explanation, MapSource
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle
from models.preprocess import InputSpec, flip_tensor
from models.registry import build_model


def synthetic_geometry() -> faces.FaceGeometry:
    """The geometry of one rendered face (true landmarks, 128 pixels)."""
    spec = sample_frame_spec(np.random.default_rng(2), sample_identity(9), size=128)
    face = render_face(spec)
    return faces.analyse(face.image, landmarks=face.landmarks, size=128)


def side_and_pain_bundle() -> ModelBundle:
    """An untrained side CNN on 64 x 64 faces and a simple pain CNN on 32 x 16 halves (seeded)."""
    torch.manual_seed(0)
    card = ModelCard(architecture="side_cnn", task="side", outputs=2,
                     input=InputSpec.default("aligned_face", (64, 64)).to_dict())
    pain_card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                          input=InputSpec.default("half_face", (32, 16)).to_dict())
    return ModelBundle.from_modules(pain=build_model("simple_cnn", outputs=1), pain_card=pain_card,
                                    side=build_model("side_cnn", outputs=2), side_card=card)


def side_map_and_mirror(explainer, bundle: ModelBundle, geometry: faces.FaceGeometry
                        ) -> tuple[torch.Tensor, MapSource, Explanation, Explanation]:
    """A seeded random 64 x 64 side input, its source, its map for the patient's left (index 0) and its
    mirror image's map for the patient's right (index 1)."""
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    source = MapSource(geometry, "side")
    direct = explainer.attribute(bundle.side, x, 0, source=source)
    mirrored = explainer.attribute(bundle.side, flip_tensor(x), 1, source=source)
    return x, source, direct, mirrored
