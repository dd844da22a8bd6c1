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


def test_bench_command_reports_speed_and_dlib_figures(capsys) -> None:
    import re

    from data.__main__ import main

    assert main(["bench-synth", "--n", "10", "--dlib"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"[\d.]+ faces/s at 256x256 on one core", out)
    found = re.search(r"dlib found and fitted (\d+)/10 renders .* median ([\d.]+)%", out)
    assert found and int(found.group(1)) >= 9 and float(found.group(2)) < 5.0
