"""dlib's HOG detector and 68-point predictor work on default synthetic renders (slower test)."""

from __future__ import annotations

import numpy as np

from data.synth.generate import make_subject, sample_frame_spec
from data.synth.render import render_face
from faces import detect_faces, fit_landmarks


def test_dlib_finds_and_fits_synthetic_faces() -> None:
    found, errors = 0, []
    for k in range(10):
        subject = make_subject(k, seed=11)
        spec = sample_frame_spec(np.random.default_rng([11, k]), subject.identity, "balanced", subject.palsy)
        face = render_face(spec)
        boxes = detect_faces(face.image)
        if not boxes:
            continue
        found += 1
        points = fit_landmarks(face.image, boxes[0])
        errors.append(np.median(np.linalg.norm(points - face.landmarks, axis=1)) / face.face_width)
    assert found >= 9
    assert float(np.median(errors)) < 0.05
