"""The shipped demo weights (``models/weights/``): they load once, verify, and assess a photo."""

from __future__ import annotations

import cv2
import pytest
from skimage import data as skdata

from models.pipeline import WEIGHTS_DIR, assess, load_default_models

pytestmark = pytest.mark.skipif(
    not any(WEIGHTS_DIR.glob("*.json")),
    reason=f"no shipped demo weights in {WEIGHTS_DIR} yet (train them with `python -m models train ...`)",
)


def test_default_models_load_once_and_verify() -> None:
    first = load_default_models()
    assert load_default_models() is first
    assert first.pain.card.task == "pain" and first.pain.spec.kind == "half_face"
    for loaded in first.loaded().values():
        assert loaded.card.weights["sha256"] and loaded.card.metrics


def test_demo_weights_assess_a_photo() -> None:
    photo = cv2.resize(skdata.astronaut(), (1000, 1000), interpolation=cv2.INTER_CUBIC)
    result = assess(photo)
    assert 0.0 <= result.pspi.unaffected_half <= 16.0
    assert result.unaffected_half is result.geometry.halves[result.unaffected_side]
    assert result.to_dict()["warnings"]
