"""Mirror acceptance: the side map of the mirrored photo is the mirror image of the
original's, and the region summary swaps patient sides (tolerances as stated in explain.mirror)."""

from __future__ import annotations

import pytest
from skimage import data

from explain.mirror import mirror_agreement


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def _palsy_face():
    import cv2
    import numpy as np

    from data.synth import Palsy, render_face, sample_identity
    from data.synth.generate import sample_frame_spec
    from faces.sides import Side

    spec = sample_frame_spec(np.random.default_rng(5), sample_identity(50_005), distribution="balanced",
                             palsy=Palsy(Side.LEFT, 0.9, "peripheral"), size=256, pspi_target=4)
    return cv2.resize(render_face(spec).image, (512, 512), interpolation=cv2.INTER_CUBIC)


def test_side_map_of_the_mirror_image_is_the_mirrored_map(astronaut) -> None:
    # with the landmarks mirrored, the side map of the mirror image is the mirrored map exactly
    exact = mirror_agreement(_palsy_face(), shared_landmarks=True)
    assert exact.correlation > 0.999 and exact.relative_max_diff < 0.05
    assert exact.top_swaps and exact.summary_correlation > 0.999 and exact.probability_gap < 0.01
    # on the astronaut, where the side model sees no clear side (p 0.45 / 0.55), the map is small; the
    # mirror agreement measured 1.000 with the shipped side model (0.988 with the one before it)
    undecided = mirror_agreement(astronaut, shared_landmarks=True)
    assert undecided.correlation > 0.95 and undecided.top_swaps and undecided.probability_gap < 0.01


def test_with_landmarks_found_again_on_the_mirror_image(astronaut) -> None:
    # the detector places landmarks a little differently on the mirror image; the map follows the face
    detected = mirror_agreement(astronaut)
    assert detected.correlation > 0.75 and detected.summary_correlation > 0.6
