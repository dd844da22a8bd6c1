"""Carrying explanation maps between frames: model input -> aligned face -> photo, patient sides kept.

Synthetic maps (1 on one facial region of the model input) must land on that region of the aligned face
and of the photo, for both halves, for the side model's face, on a plain and on a mirrored photo.
"""

from __future__ import annotations

import numpy as np
import pytest

import faces
from data.synth import render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.base import face_to_input, face_to_photo, resolve_target, source_shape, target_label, to_face_map
from explain.types import MapSource
from faces.align import eye_centres
from faces.landmarks import mirror_landmarks
from faces.sides import Side
from models.preprocess import InputSpec, fit

HALF_SPEC = InputSpec.default("half_face", (128, 64))
FACE_SPEC = InputSpec.default("aligned_face", (96, 96))


@pytest.fixture(scope="module")
def photos() -> dict[bool, faces.FaceGeometry]:
    """The same synthetic face as a plain photo and as its mirror image (webcam preview)."""
    spec = sample_frame_spec(np.random.default_rng(5), sample_identity(11), size=256)
    rendered = render_face(spec)
    image = np.pad(rendered.image, ((20, 40), (60, 10), (0, 0)), mode="edge")  # off-centre, not square
    landmarks = rendered.landmarks + [60, 20]
    plain = faces.analyse(image, landmarks=landmarks)
    flipped = np.ascontiguousarray(image[:, ::-1])
    mirrored = faces.analyse(flipped, mirrored=True, landmarks=mirror_landmarks(landmarks, image.shape[1]))
    return {False: plain, True: mirrored}


def _fitted_mask(mask: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A bool mask over the fitted image, resized into the model input exactly as pixels are."""
    as_image = np.repeat(mask.astype(np.uint8)[:, :, None] * 255, 3, axis=2)
    padded = fit(as_image, InputSpec(spec.kind, spec.height, spec.width, mean=(0, 0, 0), std=(1, 1, 1)))
    return (padded[:, :, 0] > 127).astype(np.float32)


def _overlap(face_map: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(share of the map's mass inside mask, share of mask covered by map > 0.5)."""
    inside = float(face_map[mask].sum()) / max(float(face_map.sum()), 1e-9)
    return inside, float((face_map[mask] > 0.5).mean())


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("region", ["eye", "cheek", "mouth"])
def test_half_map_lands_on_its_region_of_that_patient_side(photos, mirrored, side, region) -> None:
    geometry = photos[mirrored]
    source = MapSource(geometry, "pain", side)
    half = geometry.halves[side]
    input_map = _fitted_mask(half.regions[region], HALF_SPEC)
    assert input_map.sum() > 20
    face_map = to_face_map(input_map, source, HALF_SPEC)
    assert face_map.shape == geometry.aligned.shape[:2] and face_map.dtype == np.float32
    inside, covered = _overlap(face_map, geometry.regions[f"{region}_{side.value}"])
    assert inside > 0.85 and covered > 0.8
    # nothing lands on the other patient side
    other = np.zeros_like(face_map, dtype=bool)
    for key, mask in geometry.regions.items():
        if key.endswith(side.opposite.value):
            other |= mask
    assert float(face_map[other].sum()) < 0.02 * float(face_map.sum())


@pytest.mark.parametrize("mirrored", [False, True])
def test_side_model_map_flip_is_undone_on_a_mirrored_photo(photos, mirrored) -> None:
    geometry = photos[mirrored]
    source = MapSource(geometry, "side")
    # a map on the image-left half of the side model's input: the canonical view shows the patient's
    # right there, whatever the photo's mirroring
    input_map = np.zeros(FACE_SPEC.size, np.float32)
    input_map[:, : FACE_SPEC.width // 2] = 1.0
    face_map = to_face_map(input_map, source, FACE_SPEC)
    right = sum(float(face_map[m].sum()) for k, m in geometry.regions.items() if k.endswith("_right"))
    left = sum(float(face_map[m].sum()) for k, m in geometry.regions.items() if k.endswith("_left"))
    assert right > 20 * max(left, 1.0)
    # and a region mask of the canonical face comes back exactly onto that region
    mask = geometry.regions["brow_left"]
    canonical_mask = mask[:, ::-1] if mirrored else mask
    back = to_face_map(_fitted_mask(canonical_mask, FACE_SPEC), source, FACE_SPEC)
    inside, covered = _overlap(back, mask)
    assert inside > 0.8 and covered > 0.8


@pytest.mark.parametrize("mirrored", [False, True])
def test_photo_map_lands_on_the_patient_eye_in_the_photo(photos, mirrored) -> None:
    geometry = photos[mirrored]
    for side in Side:
        face_map = to_face_map(_fitted_mask(geometry.halves[side].regions["eye"], HALF_SPEC),
                               MapSource(geometry, "pain", side), HALF_SPEC)
        photo = face_to_photo(face_map, geometry)
        assert photo.shape == geometry.image_size
        image_left_eye, image_right_eye = eye_centres(geometry.landmarks)
        # plain photo: patient right on the image left; mirrored photo: the other way round
        on_image_left = (side is Side.RIGHT) != mirrored
        own, other = (image_left_eye, image_right_eye) if on_image_left else (image_right_eye, image_left_eye)
        assert photo[int(round(own[1])), int(round(own[0]))] > 0.5
        assert photo[int(round(other[1])), int(round(other[0]))] == 0.0


@pytest.mark.parametrize("stage, side", [("pain", Side.LEFT), ("pain", Side.RIGHT), ("side", None)])
@pytest.mark.parametrize("mirrored", [False, True])
def test_face_to_input_inverts_to_face_map(photos, stage, side, mirrored) -> None:
    geometry = photos[mirrored]
    spec = HALF_SPEC if stage == "pain" else FACE_SPEC
    source = MapSource(geometry, stage, side)
    key = f"nose_{(side or Side.LEFT).value}"
    on_input = face_to_input(geometry.regions[key], source, spec)
    assert on_input.dtype == bool and on_input.shape == spec.size and on_input.sum() > 10
    back = to_face_map(on_input.astype(np.float32), source, spec)
    inside, covered = _overlap(back, geometry.regions[key])
    assert inside > 0.75 and covered > 0.75
    fitted = geometry.halves[side].image if side else geometry.aligned
    assert source_shape(source) == fitted.shape[:2]


def test_targets_and_sources_are_checked(photos) -> None:
    assert resolve_target("side", Side.LEFT) == 0 and resolve_target("side", "right") == 1
    assert resolve_target("pain", None) == 0
    assert target_label("side", 0) == "affected: patient's left" and target_label("pain", 0) == "pspi"
    with pytest.raises(ValueError):
        resolve_target("pain", 1)
    with pytest.raises(ValueError):
        MapSource(photos[False], "pain")
    with pytest.raises(ValueError):
        MapSource(photos[False], "side", Side.LEFT)


def test_explain_follows_the_models_the_assessment_used(photos) -> None:
    import torch

    from explain.base import ExplainError, explain
    from models.checkpoint import ModelCard
    from models.pipeline import ModelBundle, assess
    from models.registry import build_model

    torch.manual_seed(0)
    pain_card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                          input=InputSpec.default("half_face", (64, 32)).to_dict())
    full_card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                          input=InputSpec.default("aligned_face", (64, 64)).to_dict())
    bundle = ModelBundle.from_modules(pain=build_model("simple_cnn", outputs=1), pain_card=pain_card,
                                      full_face_pain=build_model("simple_cnn", outputs=1),
                                      full_face_card=full_card, jitter_px=0)
    geometry = photos[True]
    assessment = assess(geometry=geometry, side="left", models=bundle)
    (pain,) = explain(assessment, "both", models=bundle)  # no side model: the pain map alone
    assert pain.stage == "pain" and pain.half is Side.RIGHT
    (full,) = explain(assessment, "full_face_pain", models=bundle)
    assert full.face_map.shape == geometry.aligned.shape[:2] and full.half is None
    assert full.prediction == pytest.approx(assessment.pspi.raw["full_face"], abs=1e-5)
    with pytest.raises(ExplainError, match="side model"):
        explain(assessment, "side", models=bundle)
    with pytest.raises(ExplainError, match="Unknown explanation method"):
        explain(assessment, "pain", "shap", models=bundle)
