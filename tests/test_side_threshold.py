"""The choice of the "no clear side" threshold: the sweep counts each outcome and picks the best balance."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from eval.side_threshold import CANDIDATES, sweep
from faces.sides import Side


def _rows(source: str, tops_free: list[float], tops_palsy: list[float]) -> list[dict]:
    return ([{"source": source, "palsy": False, "top": t, "right_side": None} for t in tops_free]
            + [{"source": source, "palsy": True, "top": t, "right_side": True} for t in tops_palsy])


def test_sweep_picks_a_threshold_between_the_two_groups() -> None:
    rows = _rows("synthetic", [0.55, 0.6, 0.62], [0.9, 0.95, 0.97]) + _rows("photo", [0.58], [0.88])
    result = sweep(rows)
    chosen = result["chosen_figures"]
    assert 0.62 < result["chosen"] <= 0.88
    assert chosen["all"]["no_palsy_unclear"] == 1.0 and chosen["all"]["palsy_named"] == 1.0
    # the lowest threshold that separates them wins the tie
    assert result["chosen"] == min(t for t in CANDIDATES if t > 0.62)


def test_sweep_reports_the_trade_off_when_the_groups_overlap() -> None:
    rows = _rows("synthetic", [0.6, 0.8, 0.9], [0.7, 0.85, 0.99])
    table = {e["threshold"]: e["synthetic"] for e in sweep(rows)["table"]}
    assert table[0.75]["no_palsy_unclear"] == round(1 / 3, 4)
    assert table[0.75]["palsy_named"] == round(2 / 3, 4)
    assert table[0.95]["no_palsy_unclear"] == 1.0 and table[0.95]["palsy_named"] == round(1 / 3, 4)


def test_crossfit_reads_each_photo_with_the_model_that_left_it_out(monkeypatch) -> None:
    import data.photos
    import data.realedit
    import models.pipeline
    from data.photos import Photo
    from data.realtrain import photo_fold
    from eval.side_threshold import collect

    photos = [Photo(name, np.full((4, 4, 3), k, np.uint8), "development", "test")
              for k, name in enumerate(("astronaut", "astronaut-grey", "lfw-000", "lfw-002", "lfw-004"))]
    monkeypatch.setattr(data.photos, "offline_photos", lambda part="all": photos)
    monkeypatch.setattr(data.realedit, "edit_photo", lambda image, palsy: SimpleNamespace(image=image))
    readers: dict[int, str] = {}

    def fake_assess(image, models):
        readers[int(image[0, 0, 0])] = models
        return SimpleNamespace(side_probabilities={Side.LEFT: 0.7, Side.RIGHT: 0.3})

    monkeypatch.setattr(models.pipeline, "assess", fake_assess)
    rows = collect("shipped", seed=0, subjects=0, progress=False, fold_bundles=["fold0", "fold1"])
    assert len(rows) == 3 * len(photos)  # unedited, palsy on the left, palsy on the right
    for fold, reader in enumerate(("fold0", "fold1")):
        for photo in photo_fold(photos, fold, 2):
            assert readers[int(photo.image[0, 0, 0])] == reader
    collect("shipped", seed=0, subjects=0, progress=False)
    assert set(readers.values()) == {"shipped"}

