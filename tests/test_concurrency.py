"""Requests served in parallel threads (as the dashboard serves them) give exactly the sequential results:
dlib's detector and predictor are never called from two threads at once, and Grad-CAM hooks a private
copy of the network so other threads' forward passes cannot leak into a map."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import app  # noqa: F401  (offline environment before Gradio is imported)
from app import session
from app.examples import examples


def _run(photo: bytes) -> tuple[np.ndarray, list[np.ndarray], float]:
    result = session.run_assessment(photo, methods=("gradcam",))
    maps = [item.explanation.input_map for item in result.maps()]
    return result.assessment.geometry.landmarks, maps, result.assessment.pspi.unaffected_half


def test_parallel_assessments_equal_sequential_ones():
    photos = [e.path.read_bytes() for e in examples()][:3]
    sequential = [_run(photo) for photo in photos]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(pool.map(_run, photos * 3))
    for index, (landmarks, maps, pspi) in enumerate(parallel):
        expected_landmarks, expected_maps, expected_pspi = sequential[index % len(photos)]
        np.testing.assert_array_equal(landmarks, expected_landmarks)
        assert pspi == expected_pspi
        for got, expected in zip(maps, expected_maps, strict=True):
            np.testing.assert_array_equal(got, expected)
