"""The committed demo-weights report regenerates deterministically (small version) and was made on a
fresh test set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.demo_report import FRESH_SEED, build_demo_report
from models.demo import DemoRecipe

COMMITTED = Path(__file__).resolve().parent.parent / "eval" / "reports" / "demo_report.json"


def test_a_small_version_regenerates_identically(tmp_path) -> None:
    kwargs = {"seed": 31, "subjects": 2, "frames": 2, "n_boot": 50, "progress": False}
    first = build_demo_report(tmp_path / "work1", tmp_path / "out1", **kwargs)
    second = build_demo_report(tmp_path / "work2", tmp_path / "out2", **kwargs)
    assert first == second
    text = (tmp_path / "out1" / "demo_report.json").read_text()
    assert text == (tmp_path / "out2" / "demo_report.json").read_text()
    assert str(tmp_path) not in text  # no absolute paths in the report
    assert first["data"]["scored"] == 4 and first["data"]["seed"] == 31
    assert first["data"]["leakage"]["leak_free"] and first["data"]["leakage"]["training_seeds"]["pain"] == 1
    assert first["command"] == "python -m eval demo-report --seed 31"
    assert (tmp_path / "out1" / "demo_report.html").is_file()


def test_the_fresh_seed_was_never_used_for_training_or_development() -> None:
    used = {d.seed for d in DemoRecipe().datasets.values()}
    assert FRESH_SEED not in used | {99}


@pytest.mark.skipif(not COMMITTED.is_file(), reason="the committed report is not there")
def test_the_committed_report_is_the_documented_command_on_the_fresh_set() -> None:
    report = json.loads(COMMITTED.read_text())
    assert report["command"] == "python -m eval demo-report"
    assert report["data"]["seed"] == FRESH_SEED and report["data"]["scored"] == len(report["photos"])
    assert report["data"]["leakage"]["leak_free"]
    for section in ("side", "pspi", "pain_binary"):
        for row in report[section]["rows"].values():
            assert row["intervals"], section
            assert all(i["n_units"] == report[section]["subjects"] if "subjects" in report[section] else True
                       for i in row["intervals"].values())
    assert {"comparison", "pain_binary", "leaky_vs_honest"} <= set(report["studies"]["studies"])


def test_explanation_scores_come_from_the_explain_reports_without_their_rows(tmp_path) -> None:
    from eval.demo_report import explanation_scores

    assert explanation_scores(tmp_path)["status"].startswith("not available")
    (tmp_path / "groundtruth.json").write_text(json.dumps({"summary": {"gradcam": {"hit_rate": 0.7}},
                                                           "rows": [{"case": i} for i in range(100)]}))
    found = explanation_scores(tmp_path)
    assert found["reports"]["groundtruth"] == {"summary": {"gradcam": {"hit_rate": 0.7}}}
