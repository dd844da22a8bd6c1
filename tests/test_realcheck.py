"""The real-photo stress benchmark runs end to end on two photos and summarises honestly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from data.photos import offline_photos
from eval import realcheck


def test_photo_split_is_fixed_and_disjoint() -> None:
    development = offline_photos("development")
    held_out = offline_photos("held_out")
    names_dev, names_held = {p.name for p in development}, {p.name for p in held_out}
    assert not names_dev & names_held
    assert "astronaut" in names_dev and "lfw-000" in names_dev and "lfw-001" in names_held
    assert all(p.image.dtype == np.uint8 and p.image.ndim == 3 for p in development[:5])
    assert [p.name for p in offline_photos("held_out")] == [p.name for p in held_out]


def _palsy_rows(correct: list[bool | None]) -> list[dict]:
    return [{"kind": "central", "side": "left", "severity": 1.0, "face_found": c is not None,
             "model_correct": bool(c), "geometry_correct": False} for c in correct]


def _record(name: str, pspi: float, rho: float, other: float | None, moved: float | None) -> dict:
    return {
        "name": name, "part": "held_out", "face_found": True,
        "unedited": {"pspi": pspi, "pspi_full_face": pspi, "landmark_pspi": 1.0},
        "palsy": _palsy_rows([True, None]),
        "graded": {"spearman": rho, "landmark_spearman": math.nan},
        "one_sided": {"left": {"other_half_moved": other, "edited_half_rise": 3.0,
                               "landmark_other_half_moved": 0.1, "landmark_edited_half_rise": 1.0},
                      "right": {"face_found": False}},
        "stability": {str(w): {"max_moved": moved, "landmark_max_moved": 0.2} for w in (80, 120)},
    }


def test_summary_counts_misses_as_failures() -> None:
    records = [_record("a", 1.0, 0.95, 0.2, 0.1), _record("b", 5.0, math.nan, 0.9, None),
               {"name": "c", "part": "held_out", "face_found": False}]
    summary = realcheck.summarise(records)
    assert summary["photos"] == 3 and summary["faces_found"] == 2 and summary["no_face"] == ["c"]
    assert summary["side_accuracy"]["full_severity"]["model"] == 0.5  # a palsy photo without a face is a miss
    assert summary["side_accuracy"]["full_severity"]["geometry"] == 0.0
    assert summary["unedited"]["pspi"]["median"] == 3.0 and summary["unedited"]["pspi"]["max"] == 5.0
    assert summary["unedited"]["pspi"]["share_within_target"] == 0.5
    assert summary["graded_spearman"]["network"]["share_within_target"] == 0.5
    assert summary["graded_spearman"]["landmark"]["median"] is None
    assert summary["one_sided"]["other_half_moved"]["share_within_target"] == 0.25
    assert summary["stability"]["80"]["network"]["share_within_target"] == 0.5
    text = realcheck.table({"held_out": summary})
    assert "held_out" in text and ">= 0.95" in text and "2/3" in text
    # reports written before the side naming and the scored halves were recorded summarise without them
    assert summary["unedited"]["side_named"] is None
    assert summary["graded_spearman"]["misses_with_half_switch"] is None
    assert summary["graded_spearman"]["both_halves_fixed"] is None


def test_summary_says_which_side_unedited_photos_got_and_why_a_graded_edit_missed() -> None:
    records = [_record(name, 1.0, rho, 0.2, 0.1) for name, rho in (("a", 1.0), ("b", 0.5), ("c", 0.6))]
    for record, (choice, confidence) in zip(records, (("left", 0.99), ("right", 0.97), ("left", 0.6)),
                                            strict=True):
        record["unedited"].update(side_model_choice=choice, side_confidence=confidence)
    records[0]["graded"]["scored_sides"] = ["right", "right"]
    records[1]["graded"]["scored_sides"] = ["right", "left"]  # a miss joining two halves
    records[2]["graded"]["scored_sides"] = ["left", None]  # a miss on one half (the edit lost its face)
    for record, halves in zip(records, ({"left": 1.0, "right": 0.95}, {"left": 1.0, "right": 0.5},
                                        {"left": math.nan, "right": 1.0}), strict=True):
        record["graded"]["half_spearman"] = halves
    summary = realcheck.summarise(records)
    named = summary["unedited"]["side_named"]
    assert named["n"] == 3  # 0.6 is below CLEAR_ABOVE: the third photo's side is not clear
    assert [named[k] for k in ("patient_left", "patient_right", "no_clear_side")] == [0.3333] * 3
    assert summary["graded_spearman"]["misses_with_half_switch"] == {"misses": 2, "with_half_switch": 1}
    # each half on its own: only the first photo rises on both (a missing value is a miss)
    both = summary["graded_spearman"]["both_halves_fixed"]
    assert both == {"share_within_target": 0.3333, "median_lower": 0.5, "n": 3}
    text = realcheck.table({"held_out": summary})
    assert "1 of 2" in text and "0.33/0.33/0.33" in text


def test_benchmark_runs_on_two_photos(tmp_path, capsys) -> None:
    out = tmp_path / "realcheck.json"
    code = realcheck.main(["--part", "development", "--names", "lfw-000,lfw-002", "--out", str(out),
                           "--quick", "--quiet"])
    assert code == 0
    report = json.loads(out.read_text())
    assert [r["name"] for r in report["photos"]] == ["lfw-000", "lfw-002"]
    photo = report["photos"][0]
    assert photo["face_found"] and len(photo["palsy"]) == 2
    assert {row["side"] for row in photo["palsy"]} == {"left", "right"}
    assert len(photo["graded"]["pspi"]) == 2 and all(0 <= v <= 16 for v in photo["graded"]["pspi"])
    assert set(photo["one_sided"]) == {"left", "right"}
    assert photo["stability"]["80"]["face_width_px"] == pytest.approx(80, abs=1)
    summary = report["summary"]["development"]
    assert summary["faces_found"] == 2 and summary["side_accuracy"]["full_severity"]["n"] == 4
    assert "side accuracy" in capsys.readouterr().out


def _stand_in(clear: bool):
    """A stand-in pipeline: the side model names the patient's left (clearly or not); PSPI per half = the
    landmark estimate; the reported PSPI is the right half's, or the mean of both without a clear side."""
    from types import SimpleNamespace

    from faces import analyse
    from faces.au_proxy import estimate_pain
    from faces.sides import Side

    def assess(image: np.ndarray, mirrored: bool = False) -> SimpleNamespace:
        geometry = analyse(image, mirrored=mirrored)
        scores = {s: e.pspi for s, e in estimate_pain(geometry.aligned_landmarks, mirrored).items()}
        pspi = SimpleNamespace(unaffected_half=scores[Side.RIGHT], affected_half=scores[Side.LEFT],
                               full_face=max(scores.values()))
        return SimpleNamespace(geometry=geometry, affected_side=Side.LEFT, unaffected_side=Side.RIGHT,
                               side_model_choice=Side.LEFT, pspi=pspi, clear_side=clear,
                               reported_pspi=scores[Side.RIGHT] if clear else sum(scores.values()) / 2,
                               reported_pspi_source="unaffected_half" if clear else "mean_of_halves",
                               side_probabilities={Side.LEFT: 0.9 if clear else 0.6,
                                                   Side.RIGHT: 0.1 if clear else 0.4})

    return assess


def test_protocol_records_what_a_pipeline_said() -> None:
    from data.realrun import PhotoRun, RealProtocol

    photo = next(p for p in offline_photos("development") if p.name == "lfw-000")
    record = PhotoRun(photo, _stand_in(clear=True), RealProtocol.quick()).run()
    assert {row["side"]: row["model_correct"] for row in record["palsy"]} == {"left": True, "right": False}
    clearly = {row["side"]: row["model_named_clearly"] for row in record["palsy"]}
    assert clearly == {"left": True, "right": False}
    assert record["graded"]["landmark_spearman"] == 1.0  # two strengths, the estimate rises
    assert record["graded"]["pspi"] == record["graded"]["landmark_pspi"]
    assert record["graded"]["scored_sides"] == ["right", "right"]
    # both halves are kept whichever was scored: the stand-in's patient-right half is the landmark estimate
    assert record["graded"]["half_pspi"]["right"] == record["graded"]["landmark_pspi"]
    assert record["graded"]["half_spearman"]["right"] == 1.0
    assert record["one_sided"]["left"]["landmark_edited_half_rise"] > 0
    stability = record["stability"]["80"]
    assert set(stability["moved"]) == {"mirror", "roll+", "roll-"}
    assert stability["moved"] == stability["half_moved"]  # a clear side: the reported PSPI is that half's
    assert record["unedited"]["pspi_source"] == "unaffected_half"


def test_without_a_clear_side_the_protocol_follows_the_mean_of_both_halves() -> None:
    from data.realrun import PhotoRun, RealProtocol

    photo = next(p for p in offline_photos("development") if p.name == "lfw-000")
    record = PhotoRun(photo, _stand_in(clear=False), RealProtocol.quick()).run()
    graded = record["graded"]
    assert graded["scored_sides"] == ["both", "both"]
    assert not any(row["model_named_clearly"] for row in record["palsy"])  # a top choice, never clear
    halves = graded["half_pspi"]
    means = [(a + b) / 2 for a, b in zip(halves["left"], halves["right"], strict=True)]
    assert graded["pspi"] == pytest.approx(means, abs=2e-3)
    assert record["unedited"]["pspi_source"] == "mean_of_halves"
    assert record["unedited"]["pspi"] == pytest.approx(sum(record["unedited"]["pspi_halves"].values()) / 2,
                                                       abs=2e-3)
    stability = record["stability"]["80"]
    assert stability["pspi"] != stability["half_pspi"] or halves["left"][0] == halves["right"][0]


def test_summaries_split_portraits_from_lfw_and_resummarise(tmp_path, capsys) -> None:
    records = [_record("lfw-001", 1.0, 0.95, 0.2, 0.1), _record("grace-hopper", 5.0, 0.5, 0.9, 0.2)]
    parts = realcheck.summaries(records)
    assert set(parts) == {"held_out", "held_out/portraits", "held_out/lfw"}
    assert parts["held_out/lfw"]["unedited"]["pspi"]["max"] == 1.0
    assert parts["held_out/portraits"]["unedited"]["pspi"]["max"] == 5.0
    stored = tmp_path / "run.json"
    stored.write_text(json.dumps({"photos": records}))
    assert realcheck.main(["--summarise", str(stored)]) == 0
    assert "held_out/portraits" in capsys.readouterr().out


def _fold_weights(folder, fold: int) -> None:
    """The shipped weights, with the side model's card saying it learned from every development photo
    but those of ``fold`` of 2 (as ``demo-weights --leave-out-photos`` would record)."""
    import shutil

    from data.photos import offline_photos
    from data.realtrain import photo_fold
    from models.pipeline import WEIGHTS_DIR

    shutil.copytree(WEIGHTS_DIR, folder, ignore=shutil.ignore_patterns("reports", "README.md"))
    development = offline_photos("development")
    left = {p.name for p in photo_fold(development, fold, 2)}
    card = json.loads((folder / "side.json").read_text())
    learned = [p.name for p in development if p.name not in left]
    card["training_data"]["extra_manifests"] = [{"photos": learned}]
    (folder / "side.json").write_text(json.dumps(card))


def test_crossfit_reads_each_development_photo_with_the_fold_that_left_it_out(tmp_path) -> None:
    for fold in (0, 1):
        _fold_weights(tmp_path / f"w{fold}", fold)
    out = tmp_path / "realcheck.json"
    code = realcheck.main(["--part", "development", "--names", "lfw-000,lfw-002", "--out", str(out),
                           "--quick", "--quiet", "--crossfit", str(tmp_path / "w0"), str(tmp_path / "w1")])
    assert code == 0
    report = json.loads(out.read_text())
    # lfw-002 is in fold 0 and lfw-000 in fold 1: each read by the models that did not learn from it
    assert [r["name"] for r in report["photos"]] == ["lfw-002", "lfw-000"]
    assert report["models"]["fold 0"]["out_of_fold"] == ["side"] == report["models"]["fold 1"]["out_of_fold"]
    assert report["summary"]["development"]["faces_found"] == 2
    with pytest.raises(SystemExit, match="left out fold 0"):  # the folders in the wrong order
        realcheck.main(["--part", "development", "--names", "lfw-000,lfw-002", "--out", str(out), "--quick",
                        "--quiet", "--crossfit", str(tmp_path / "w1"), str(tmp_path / "w0")])
