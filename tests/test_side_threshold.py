"""The choice of the "no clear side" threshold: the sweep counts each outcome and picks the best balance."""

from __future__ import annotations

from eval.side_threshold import CANDIDATES, sweep


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
