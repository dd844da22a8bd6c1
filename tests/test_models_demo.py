"""The demo-weights recipe end to end on a tiny scale: render, train, test on unseen subjects, install."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from data.layouts import load_any
from models.checkpoint import read_card
from models.demo import REPORT_NAME, DatasetRecipe, DemoRecipe, ModelRecipe, acceptance, build_demo_weights
from models.pipeline import assess, load_bundle


def _tiny_recipe() -> DemoRecipe:
    datasets = {
        "pain": DatasetRecipe(subjects=5, frames=6, seed=1, layout="all", palsy_fraction=0.5),
        "side": DatasetRecipe(subjects=6, frames=4, seed=2, layout="side", palsy_fraction=1.0),
        "test": DatasetRecipe(subjects=3, frames=3, seed=99, layout="unbc", palsy_fraction=1.0),
    }
    models = [
        ModelRecipe("side", "side", "side_cnn", "aligned_face", epochs=1, batch_size=8, lr=1e-3, patience=1,
                    half_precision=False, role="side", balance_halves=True),
        ModelRecipe("pain", "pain/halfface", "simple_cnn", "half_face", epochs=1, batch_size=8, lr=1e-3,
                    patience=1, half_precision=True, role="pain"),
        ModelRecipe("pain", "pain/unbc", "simple_cnn", "aligned_face", epochs=1, batch_size=8, lr=1e-3,
                    patience=1, half_precision=True, role="full_face_pain"),
    ]
    return DemoRecipe(datasets, models, seed=0, bf16=False, real=None, real_side=None, neutral_subjects=3)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    report = build_demo_weights(root / "work", root / "weights", recipe=_tiny_recipe(), threads=1,
                                progress=False, command="python -m models demo-weights", log=lambda _: None)
    return root, report


def test_recipe_installs_three_verified_models_with_test_figures(built) -> None:
    root, report = built
    weights = root / "weights"
    bundle = load_bundle(weights, device="cpu")
    assert bundle.side is not None and bundle.full_face_pain is not None
    assert bundle.pain.card.weights["dtype"] == "float16" and bundle.side.card.weights["dtype"] == "float32"
    # the side model is installed to read turned heads with their halves evened out; the others are not
    assert bundle.side.spec.balance_halves and not bundle.full_face_pain.spec.balance_halves
    assert "balance_halves" not in read_card(weights / "pain.json").input
    for role in ("side", "pain", "full_face_pain"):
        card = read_card(weights / f"{role}.json")
        test = card.metrics["test"]
        assert set(test["acceptance"]) == set(report["evaluation"]["acceptance"])
        assert card.split["protocol"] == "subject" and not card.split["allow_leak"]
        assert card.command == "python -m models demo-weights"
        assert card.domain and card.domain["dimension"] > 0  # the domain indicator was fitted on its inputs
        # each PSPI model's typical score of a face at rest, which a neutral reference photo is read against
        if role == "side":
            assert card.neutral_score == {}
        else:
            assert card.neutral_score["subjects"] == 3 and 0.0 <= card.neutral_score["value"] <= 16.0
            assert card.neutral_score["scores"] == (6 if role == "pain" else 3)  # both halves of each face
    saved = json.loads((weights / REPORT_NAME).read_text())
    card_text = (weights / "README.md").read_text()
    assert "synthetic" in card_text and "not a medical device" in card_text
    assert f"{report['evaluation']['side']['accuracy']:.3f}" in card_text
    assert saved["evaluation"]["photos"] == 9 and saved["sizes_bytes"]["pain.safetensors"] > 0


def test_evaluation_scores_every_test_photo_against_its_truth(built) -> None:
    root, report = built
    e = report["evaluation"]
    assert e["photos"] == 9 and e["face_not_found"] == 0 and e["subjects"] == 3 and e["side"]["n"] == 9
    # the same photos assessed here, one by one, against the truth written beside each
    bundle = load_bundle(root / "weights", device="cpu")
    correct, errors, baseline_errors = [], [], []
    for record in load_any(root / "work" / "data" / "test"):
        truth = json.loads(record.image_path.with_suffix(".truth.json").read_text())
        result = assess(record.image_path, models=bundle)
        assert result.domain is not None and set(result.domain.to_dict()["roles"]) >= {"side", "pain"}
        correct.append(result.affected_side.value == truth["palsy"]["side"])
        errors.append(abs(result.pspi.unaffected_half - truth["pspi_true"]))
        baseline_errors.append(abs(e["pspi"]["mean_baseline"]["predicts"] - truth["pspi_true"]))
    assert e["side"]["accuracy"] == pytest.approx(np.mean(correct))
    assert e["pspi"]["unaffected_half"]["mae"] == pytest.approx(np.mean(errors), abs=1e-6)
    assert e["pspi"]["mean_baseline"]["mae"] == pytest.approx(np.mean(baseline_errors), abs=1e-3)
    assert e["pspi"]["full_face_source"] == "model"


def test_re_running_reuses_the_rendered_data(built) -> None:
    root, _ = built
    stamp = {p: p.stat().st_mtime_ns for p in (root / "work" / "data").rglob("*.png")}
    from models.demo import _generate

    _generate(root / "work", _tiny_recipe(), progress=False)
    assert stamp == {p: p.stat().st_mtime_ns for p in (root / "work" / "data").rglob("*.png")}


def test_only_retrains_the_roles_asked_and_keeps_the_others_byte_for_byte(built, tmp_path) -> None:
    root, _ = built
    weights = tmp_path / "weights"
    shutil.copytree(root / "weights", weights)
    before = {p.name: p.read_bytes() for p in weights.glob("*.safetensors")}
    report = build_demo_weights(tmp_path / "work", weights, recipe=_tiny_recipe(), threads=1, progress=False,
                                command="python -m models demo-weights --only side", only=["side"],
                                log=lambda _: None)
    assert report["retrained"] == ["side"] and set(report["kept"]) == {"pain", "full_face_pain"}
    for name in ("pain.safetensors", "full_face_pain.safetensors"):
        assert (weights / name).read_bytes() == before[name]
    assert report["kept"]["pain"]["sha256"] == read_card(weights / "pain.json").weights["sha256"]
    kept_neutral = read_card(weights / "pain.json").neutral_score
    assert kept_neutral and kept_neutral == read_card(root / "weights" / "pain.json").neutral_score
    assert read_card(weights / "side.json").command == "python -m models demo-weights --only side"
    # only the side model's data was rendered; the kept models were tested with the new side model
    assert sorted(p.name for p in (tmp_path / "work" / "data").iterdir()) == ["side", "test"]
    assert read_card(weights / "pain.json").metrics["test"]["side"] == report["evaluation"]["side"]
    assert "`pain`, `full_face_pain` were kept as installed" in (weights / "README.md").read_text()


def test_only_takes_the_runs_a_role_starts_from_and_the_data_they_need() -> None:
    recipe = DemoRecipe().only(["side"])
    assert [m.role for m in recipe.models] == ["side_base", "side"]
    assert set(recipe.datasets) == {"side_base", "side", "test"} and set(recipe.real_sets()) == {"real_side"}
    pain = DemoRecipe().only(["pain"])
    assert [m.role for m in pain.models] == ["pain"] and set(pain.real_sets()) == {"real"}
    with pytest.raises(ValueError, match="roles to retrain"):
        DemoRecipe().only(["side_base"])


def test_an_architecture_can_replace_a_role_and_the_base_run_it_starts_from() -> None:
    recipe = DemoRecipe().with_architecture("side", "side_halves").only(["side"])
    assert [(m.role, m.arch) for m in recipe.models] == [("side_base", "side_halves"),
                                                         ("side", "side_halves")]
    pain = DemoRecipe().with_architecture("pain", "resnet18")
    assert {m.role: m.arch for m in pain.models} == {**{m.role: m.arch for m in DemoRecipe().models},
                                                     "pain": "resnet18"}
    with pytest.raises(ValueError, match="no installed role"):
        DemoRecipe().with_architecture("side_base", "side_halves")
    with pytest.raises(KeyError, match="Unknown architecture"):
        DemoRecipe().with_architecture("side", "no_such_net")


def test_acceptance_checks_each_bar() -> None:
    good = {"side": {"accuracy": 0.97},
            "pspi": {"mae_ratio_to_baseline": 0.3, "unaffected_half": {"pearson_r": 0.9, "mae": 1.0},
                     "affected_half": {"mae": 2.0}}}
    assert all(acceptance(good).values())
    bad = json.loads(json.dumps(good))
    bad["pspi"]["affected_half"]["mae"] = 0.5
    bad["side"]["accuracy"] = 0.9
    result = acceptance(bad)
    assert not result["side accuracy >= 0.95"] and not result["unaffected-half MAE < affected-half MAE"]
    assert result["PSPI Pearson r >= 0.85"]


def test_a_fold_of_the_development_photos_can_be_left_out_of_the_photo_edits(tmp_path, monkeypatch) -> None:
    import data.realtrain
    from data.photos import offline_photos
    from data.realtrain import photo_fold
    from models.demo import RealRecipe, _real_edits

    recipe = DemoRecipe().leaving_out(1, 2)
    assert recipe.only(["side"]).leave_out == (1, 2)
    wide = recipe.with_yaw_sd({"side": 12, "side_base": 12})
    assert wide.datasets["side"].yaw_sd == wide.datasets["side_base"].yaw_sd == 12.0
    assert wide.datasets["pain"] == recipe.datasets["pain"] and wide.leave_out == (1, 2)
    assert wide.only(["side"]).datasets["side"].yaw_sd == 12.0
    with pytest.raises(ValueError, match="no dataset"):
        recipe.with_yaw_sd({"sides": 12})
    with pytest.raises(ValueError, match="positive"):
        recipe.with_yaw_sd({"side": 0})
    assert recipe.with_architecture("side", "side_cnn").scaled(0.1, 1).leave_out == (1, 2)
    with pytest.raises(ValueError, match="fold"):
        DemoRecipe().leaving_out(2, 2)
    written: list[list[str]] = []

    def fake_write(folder, photos, config, progress):
        written.append([p.name for p in photos])
        folder.mkdir(parents=True)
        (folder / data.realtrain.MANIFEST).write_text(json.dumps(
            {"config": {**config.__dict__}, "photos": [p.name for p in photos]}))

    monkeypatch.setattr(data.realtrain, "write_real_edits", fake_write)
    development = offline_photos("development")
    left = {p.name for p in photo_fold(development, 1, 2)}
    reused: list[str] = []
    _real_edits(tmp_path / "real", RealRecipe(), False, reused, (1, 2))
    assert written[-1] == [p.name for p in development if p.name not in left] and reused == []
    _real_edits(tmp_path / "real", RealRecipe(), False, reused, (1, 2))
    assert len(written) == 1 and reused == ["real"]  # written alike: reused
    _real_edits(tmp_path / "real", RealRecipe(), False, reused, None)
    assert written[-1] == [p.name for p in development]  # another photo set: written again
