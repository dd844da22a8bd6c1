"""One definition of the facial regions serves the face stage, the synthetic ground truth and the
explanations: the same landmarks give the same regions in the photo frame and on the levelled crop,
mirrored photos keep patient sides, and the side split is the line the halves are cut at."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import data.synth
import faces
from data.synth import render_face, sample_identity
from data.synth.generate import sample_frame_spec
from faces.landmarks import mirror_landmarks
from faces.regions import REGION_NAMES, face_outline, image_left_of_midline, region_masks
from faces.sides import Side


@pytest.fixture(scope="module")
def rolled_face() -> tuple[np.ndarray, np.ndarray]:
    spec = sample_frame_spec(np.random.default_rng(21), sample_identity(3), size=256)
    from dataclasses import replace

    rendered = render_face(replace(spec, roll=7.0))
    return rendered.image, rendered.landmarks


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / max(float((a | b).sum()), 1.0)


def test_the_synthetic_truth_uses_the_face_stage_definition() -> None:
    assert data.synth.region_masks is faces.regions.region_masks


def test_photo_frame_regions_agree_with_the_levelled_crop(rolled_face) -> None:
    image, landmarks = rolled_face
    geometry = faces.analyse(image, landmarks=landmarks)
    in_photo = region_masks(landmarks, image.shape[:2])
    size = geometry.aligned.shape[0]
    photo_to_aligned = cv2.invertAffineTransform(geometry.aligned_to_image)
    for key, mask in geometry.regions.items():
        carried = cv2.warpAffine(in_photo[key].astype(np.uint8), photo_to_aligned, (size, size),
                                 flags=cv2.INTER_NEAREST).astype(bool)
        assert _iou(carried, mask) > 0.85, key


def test_mirrored_photo_keeps_patient_sides(rolled_face) -> None:
    image, landmarks = rolled_face
    plain = region_masks(landmarks, image.shape[:2])
    flipped = region_masks(mirror_landmarks(landmarks, image.shape[1]), image.shape[:2], mirrored=True)
    for key in plain:
        assert _iou(flipped[key], plain[key][:, ::-1]) > 0.9, key


def test_regions_are_disjoint_inside_the_outline_and_split_at_the_straight_midline(rolled_face) -> None:
    image, landmarks = rolled_face
    masks = region_masks(landmarks, image.shape[:2])
    assert set(masks) == {f"{n}_{s.value}" for n in REGION_NAMES for s in Side}
    stacked = np.stack(list(masks.values())).astype(int)
    assert stacked.sum(axis=0).max() == 1
    outline = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(outline, [np.round(face_outline(landmarks)).astype(np.int32)], 1)
    covered = stacked.sum(axis=0) > 0
    assert covered[outline == 0].mean() < 0.01 and covered[outline > 0].mean() > 0.97
    left_of_line = image_left_of_midline(landmarks, image.shape[:2])
    for key, mask in masks.items():  # non-mirrored photo: the patient's right is on the image left
        assert np.all(left_of_line[mask] == key.endswith("_right")), key


def test_halves_hold_exactly_their_own_side(rolled_face) -> None:
    image, landmarks = rolled_face
    geometry = faces.analyse(image, landmarks=landmarks)
    columns = np.arange(geometry.aligned.shape[1])[None, :]
    for key, mask in geometry.regions.items():
        image_left = np.broadcast_to(columns < geometry.midline_x, mask.shape)
        assert np.all(image_left[mask] == key.endswith("_right")), key
    for side, half in geometry.halves.items():
        for name, mask in half.regions.items():
            full = geometry.regions[f"{name}_{side.value}"]
            rows = int(full.any(axis=1).sum())
            # the half is cut at a sub-pixel midline: at most one pixel column may be lost
            assert 0 <= full.sum() - mask.sum() <= rows, (side, name)
