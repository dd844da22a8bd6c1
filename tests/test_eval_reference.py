"""``python -m eval reference``: the rows it collects and the figures it draws from them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from eval.reference import MEASURES, collect, fit_neutral, format_table, main, summarise
from faces.au_proxy import FEATURES
from faces.sides import Side
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle, assess
from models.preprocess import InputSpec


class Constant(nn.Module):
    """Pain stand-in: the same PSPI for every half."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.tensor([value]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value.expand(x.shape[0])[:, None] + 0.0 * x.mean()


def _row(subject: str, affected: Side, truth: float, absolute: float, relative: float) -> dict:
    halves = {s.value: 0.0 for s in Side}
    unaffected = affected.opposite.value
    return {"subject": subject, "affected": affected.value,
            "truth": halves | {unaffected: truth},
            "network_absolute": halves | {unaffected: absolute},
            "network_relative": halves | {unaffected: relative},
            "landmark_absolute": dict(halves), "landmark_relative": dict(halves)}


def test_summary_takes_errors_on_the_unaffected_half_per_subject() -> None:
    rows = [_row("s1", Side.LEFT, 4.0, 6.0, 4.5), _row("s1", Side.LEFT, 2.0, 2.0, 1.0),
            _row("s2", Side.RIGHT, 8.0, 5.0, 7.0), _row("s3", Side.RIGHT, 0.0, 1.0, 0.0)]
    summary = summarise({"pain": rows, "rest": rows[:1]}, n_boot=50)
    network = summary["network_unaffected_mae"]
    assert network["without_reference"]["estimate"] == pytest.approx((2 + 0 + 3 + 1) / 4)
    assert network["with_reference"]["estimate"] == pytest.approx((0.5 + 1 + 1 + 0) / 4)
    assert network["difference"]["estimate"] == pytest.approx(-3.5 / 4)
    assert network["without_reference"]["n_units"] == 3  # subjects, not frames, are resampled
    assert summary["network_affected_mae"]["without_reference"]["estimate"] == 0.0
    assert set(summary) == set(MEASURES)
    assert "network PSPI MAE, unaffected half" in format_table(summary)


def test_collect_reads_every_frame_against_the_subjects_rest_frame() -> None:
    card = ModelCard(architecture="simple_cnn", task="pain", outputs=1,
                     input=InputSpec.default("half_face", (64, 32)).to_dict())
    bundle = ModelBundle.from_modules(pain=Constant(3.0), pain_card=card)

    def run(image: np.ndarray, **kwargs) -> object:
        return assess(image, models=bundle, **kwargs)

    collected = collect(2, 1, seed=5, assess=run, size=192)
    rows = collected["pain"] + collected["rest"]
    assert len(collected["rest"]) + collected["skipped"]["reference_without_face"] == 2
    assert rows, collected["skipped"]
    for row in rows:
        for side in ("left", "right"):
            # the same constant on the photo and at rest: 3 absolute, 0 relative
            assert row["network_absolute"][side] == pytest.approx(3.0)
            assert row["network_relative"][side] == pytest.approx(0.0)
    assert all(row["truth"][row["affected"]] <= row["truth"][Side(row["affected"]).opposite.value] + 1e-9
               for row in collected["pain"])  # the palsy weakens the affected half's expression


def test_neutral_scores_are_medians_written_into_the_cards(tmp_path) -> None:
    import shutil

    from eval.reference import fit_neutral_scores, write_neutral_scores
    from models.bundle import WEIGHTS_DIR
    from models.checkpoint import read_card
    from models.pipeline import load_default_models

    bundle = load_default_models()
    scores = fit_neutral_scores(bundle, subjects=2, seed=9, size=192)
    assert set(scores) == {"pain", "full_face_pain"}
    assert scores["pain"]["scores"] == 4 and scores["full_face_pain"]["scores"] == 2
    assert all(0.0 <= s["value"] <= 16.0 for s in scores.values())
    for role in scores:
        shutil.copy(WEIGHTS_DIR / f"{role}.json", tmp_path / f"{role}.json")
    write_neutral_scores(tmp_path, scores, "python -m eval reference --fit-neutral-scores")
    card = read_card(tmp_path / "pain.json")
    assert card.neutral_score["value"] == scores["pain"]["value"] and "command" in card.neutral_score
    assert card.weights == read_card(WEIGHTS_DIR / "pain.json").weights  # the weights are untouched


def test_the_neutral_point_is_a_median_of_neutral_faces(tmp_path) -> None:
    neutral = fit_neutral(subjects=3, seed=9, size=192)
    assert set(neutral["features"]) == set(FEATURES)
    assert 0.2 < neutral["features"]["brow_eye"] < 0.5 and 0.05 < neutral["features"]["eye_aperture"] < 0.2
    out = tmp_path / "neutral.json"
    assert main(["--fit-neutral", "--neutral-subjects", "2", "--neutral-out", str(out)]) == 0
    assert json.loads(out.read_text())["fitted_on"]["subjects"] == 2
