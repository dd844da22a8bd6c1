"""Mirror acceptance on a real photo: the side map of the mirrored photo is the mirror image of the
original's, and the region summary swaps patient sides (tolerances as stated in explain.mirror)."""

from __future__ import annotations

import pytest
from skimage import data

from explain.mirror import mirror_agreement


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def test_side_map_of_the_mirror_image_is_the_mirrored_map(astronaut) -> None:
    # same landmarks (mirrored): only the explanation and the models are compared, nearly exactly
    exact = mirror_agreement(astronaut, shared_landmarks=True)
    assert exact.correlation > 0.999 and exact.relative_max_diff < 0.05
    assert exact.top_swaps and exact.summary_correlation > 0.999 and exact.probability_gap < 0.01


def test_with_landmarks_found_again_on_the_mirror_image(astronaut) -> None:
    # the detector places landmarks a little differently on the mirror image; the map follows the face
    detected = mirror_agreement(astronaut)
    assert detected.correlation > 0.75 and detected.summary_correlation > 0.6
