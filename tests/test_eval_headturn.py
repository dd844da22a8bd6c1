"""``python -m eval headturn``: turned synthetic faces are read at about their turn, and a realcheck run's
photos are split by the warning."""

from __future__ import annotations

import numpy as np

from eval.headturn import split_realcheck, summarise_synthetic, synthetic_rows
from models.bundle import ModelBundle
from models.checkpoint import ModelCard
from models.preprocess import InputSpec
from models.registry import build_model


def test_turned_faces_are_read_near_their_turn_and_warned_past_the_threshold() -> None:
    card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                     input=InputSpec.default("half_face", (64, 32)).to_dict())
    side_card = ModelCard(architecture="side_halves", task="side", outputs=2,
                          input=InputSpec.default("aligned_face", (64, 64)).to_dict())
    bundle = ModelBundle.from_modules(pain=build_model("simple_cnn", outputs=1).eval(), pain_card=card,
                                      side=build_model("side_halves", outputs=2).eval(), side_card=side_card)
    rows = synthetic_rows(2, 6161, (0.0, 30.0, -30.0), bundle)
    assert len(rows) == 6 and all(r["found"] for r in rows)
    summary = {s["yaw"]: s for s in summarise_synthetic(rows)}
    assert abs(summary[0.0]["estimated_median"]) < 5 and summary[0.0]["warned"] == 0
    assert 22 < summary[30.0]["estimated_median"] < 38 and summary[30.0]["warned"] == 1
    assert -38 < summary[-30.0]["estimated_median"] < -22 and summary[-30.0]["warned"] == 1
    assert summary[0.0]["palsy_named_clearly_and_right"] is not None  # face 1 has a palsy, face 0 none
    assert 0.5 <= summary[0.0]["no_palsy_top_median"] <= 1.0
    assert summary[0.0]["pspi_moved_median"] == 0 and summary[0.0]["pspi_moved_within_0.5"] == 1
    turned = [r for r in rows if r["yaw"] == 30.0]
    frontal = {r["face"]: r["reported_pspi"] for r in rows if r["yaw"] == 0.0}
    assert summary[30.0]["pspi_moved_median"] == round(float(np.median(
        [abs(r["reported_pspi"] - frontal[r["face"]]) for r in turned])), 2)


def _record(name: str, correct: bool, unedited: float, rho: float, moved: float) -> dict:
    return {"name": name, "part": "held_out", "face_found": True,
            "palsy": [{"kind": "central", "side": "left", "severity": severity, "face_found": True,
                       "model_correct": ok, "geometry_correct": False}
                      for severity, ok in ((1.0, correct), (0.5, False))],
            "unedited": {"pspi": unedited, "pspi_full_face": unedited, "landmark_pspi": 1.0},
            "graded": {"spearman": rho, "landmark_spearman": rho},
            "one_sided": {"left": {"face_found": True, "other_half_moved": moved, "edited_half_rise": 3.0,
                                   "landmark_other_half_moved": 0.1, "landmark_edited_half_rise": 1.0},
                          "right": {"face_found": False}},
            "stability": {"80": {"max_moved": moved, "half_max_moved": moved, "landmark_max_moved": 0.2}}}


def test_a_realcheck_run_is_split_by_the_warning() -> None:
    records = [_record("a", False, 5.0, 0.5, 1.0), _record("b", True, 1.0, 1.0, 0.1),
               _record("c", True, 2.0, 0.95, 0.3), {"name": "d", "part": "held_out", "face_found": False}]
    real = [{"name": "a", "found": True, "warned": True}, {"name": "b", "found": True, "warned": False},
            {"name": "c", "found": True, "warned": False}, {"name": "d", "found": False}]
    split = split_realcheck(records, real)
    assert set(split) == {"warned", "not warned"}  # the photo without a face is in neither group
    warned, rest = split["warned"], split["not warned"]
    assert warned["faces_found"] == 1 and rest["faces_found"] == 2
    assert warned["side_accuracy"]["full_severity"]["model"] == 0.0
    assert rest["side_accuracy"]["full_severity"]["model"] == 1.0
    assert warned["graded_spearman"]["network"]["share_within_target"] == 0.0
    assert rest["graded_spearman"]["network"]["share_within_target"] == 1.0
    assert warned["stability"]["80"]["network"]["share_within_target"] == 0.0
    assert rest["stability"]["80"]["network"]["share_within_target"] == 1.0
    assert rest["unedited"]["pspi"]["median"] == 1.5 and rest["unedited"]["pspi"]["max"] == 2.0
