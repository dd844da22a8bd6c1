"""python -m explain reports: one command writes every report and a README whose figures come from them.

The run uses tiny untrained models (64x64 face, 64x32 half) and a handful of faces: it checks the files,
what they record (weights, the population set as a command, not a temporary path) and that the README
carries the JSON's figures and verdicts; the figures themselves mean nothing here.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from explain.__main__ import main as explain_main
from explain.regenerate import POPULATION_RUNS, Sizes, check_seeds, run, weights_record
from explain.reports_readme import render
from models.checkpoint import ModelCard
from models.pipeline import ModelBundle
from models.preprocess import InputSpec
from models.registry import build_model

TINY = Sizes(groundtruth=2, faithfulness=1, sanity=1, population_subjects=2, population_frames=1)


def _bundle(training_seed: int = 1) -> ModelBundle:
    torch.manual_seed(0)
    side_spec = InputSpec.default("aligned_face", (64, 64))
    pain_spec = InputSpec.default("half_face", (64, 32))
    data = {"description": "tiny test models", "synthetic": {"config": {"seed": training_seed}}}
    return ModelBundle.from_modules(
        side=build_model("side_cnn", outputs=2).eval(),
        side_card=ModelCard(architecture="side_cnn", task="side", outputs=2, input=side_spec.to_dict(),
                            training_data=data, weights={"sha256": "ab" * 32}),
        pain=build_model("simple_cnn", outputs=1).eval(),
        pain_card=ModelCard(architecture="simple_cnn", task="pain", outputs=1, input=pain_spec.to_dict(),
                            training_data=data),
        jitter_px=0.0)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    bundle = _bundle()
    seconds = run(out, TINY, bundle=bundle, progress=False)
    return out, bundle, seconds


def test_every_report_is_written_with_the_weights_it_measured(reports) -> None:
    out, bundle, seconds = reports
    assert list(seconds) == ["population", "groundtruth", "faithfulness", "sanity", "readme"]
    expected = weights_record(bundle)
    assert expected["side"]["sha256"] == "ab" * 8 and expected["pain"]["training_data"] == "tiny test models"
    ground = json.loads((out / "groundtruth.json").read_text())
    assert ground["faces"] == 2 and ground["seed"] == 2026 and len(ground["cases"]) == 2
    faith = json.loads((out / "faithfulness.json").read_text())
    methods = ("gradcam", "lime", "hirescam", "integrated_gradients")
    assert set(faith["results"]) == {f"{m}/{s}" for m in methods for s in ("side", "pain")}
    assert set(faith["side_pairs"]) == {"neutral", "blur"}  # side maps also removed in mirror pairs
    assert set(faith["side_pairs"]["blur"]) == {f"{m}/side" for m in methods}
    sanity = json.loads((out / "sanity.json").read_text())
    assert sanity["faces"] == 1 and set(sanity["results"]) == set(faith["results"])
    for report in (ground, faith, sanity):
        assert report["weights"] == expected and report["sizes"]["groundtruth"] == 2


def test_population_reports_name_the_set_by_its_command(reports) -> None:
    out, bundle, _ = reports
    for stage, method in POPULATION_RUNS:
        folder = out / "population" / f"{stage}_{method}"
        report = json.loads((folder / "population.json").read_text())
        assert report["stage"] == stage and report["method"] == method
        assert report["data"].startswith("python -m data synth") and "--seed 4040" in report["data"]
        assert "/tmp" not in json.dumps(report) and report["weights"] == weights_record(bundle)
        assert report["faces"] + report["skipped"] == 2
        assert all((folder / name).is_file() for name in report["files"].values())


def test_the_readme_carries_the_reports_figures(reports) -> None:
    out, _, _ = reports
    text = (out / "README.md").read_text()
    ground = json.loads((out / "groundtruth.json").read_text())
    hit = ground["summary"]["gradcam"]["hit"]
    assert f"{100 * hit['value']:.0f}% [{100 * hit['ci95'][0]:.0f}, {100 * hit['ci95'][1]:.0f}]" in text
    sanity = json.loads((out / "sanity.json").read_text())
    assert f"| gradcam/pain | {sanity['results']['gradcam/pain']['median']:.2f} |" in text
    assert "`" + "ab" * 8 + "`" in text and "tiny test models" in text
    assert "Not measured yet" in text  # no bench.json in this folder
    assert "removed in **mirror pairs**" in text
    assert ("| check (target) | Grad-CAM | LIME | HiResCAM (extra) | Integrated gradients (extra) | "
            "LIME, AU-free fill (idealised) (extra) | met |") in text


def _acceptance_rows(folder, hit: float, deletion: float, spearman: float) -> list[str]:
    rate = {"value": hit, "ci95": [hit, hit], "n": 4}
    groups = {"AU4": rate}
    summary = {m: {"hit": rate, "hit_by_group": groups} for m in ("gradcam", "lime")}
    keys = [f"{m}/{s}" for m in ("gradcam", "lime") for s in ("side", "pain")]
    medians = dict.fromkeys(("deletion_auc_median", "random_deletion_auc_median", "insertion_auc_median",
                             "random_insertion_auc_median"), 0.5)
    files = {
        "groundtruth.json": {"faces": 4, "summary": summary},
        "faithfulness.json": {"faces": 4, "fill": "blur", "block": 8, "random_orderings": 10,
                              "scored_with": "model", "results": {k: {"deletion_below_random": deletion,
                                                                      "insertion_above_random": 1.0,
                                                                      **medians} for k in keys}},
        "sanity.json": {"faces": 4, "results": {k: {"median": spearman, "max": spearman, "share_below": 1.0}
                                                for k in keys}},
    }
    for name, payload in files.items():
        (folder / name).write_text(json.dumps(payload))
    section = render(folder).split("## Acceptance")[1].split("\n## ")[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "(target)" not in line
            and not line.startswith("| ---")]


def test_acceptance_verdicts_follow_the_targets(tmp_path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    passing = _acceptance_rows(good, 0.85, 0.95, 0.2)
    assert len(passing) == 3 and all(row.endswith("| yes |") for row in passing)
    failing = _acceptance_rows(bad, 0.75, 0.85, 0.6)
    assert len(failing) == 3 and all(row.endswith("| **no** |") for row in failing)


def test_weights_trained_on_a_report_seed_are_refused() -> None:
    check_seeds(_bundle(training_seed=1))
    with pytest.raises(SystemExit, match="seed 2026"):
        check_seeds(_bundle(training_seed=2026))
    bundle = _bundle()
    card = replace(bundle.pain.card, training_data={"extra": [{"seeds": [3, 4040]}]})
    with pytest.raises(SystemExit, match="seed 4040"):
        check_seeds(replace(bundle, pain=replace(bundle.pain, card=card)))


@pytest.mark.parametrize("name", ["reports", "groundtruth", "faithfulness", "sanity"])
def test_reports_and_its_steps_are_subcommands(name, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        explain_main([name, "--help"])
    assert stop.value.code == 0
    assert f"python -m explain {name}" in capsys.readouterr().out


def test_sanity_reports_the_chance_floor_of_segment_maps(reports) -> None:
    out, _, _ = reports
    sanity = json.loads((out / "sanity.json").read_text())
    lime, gradcam = sanity["results"]["lime/pain"], sanity["results"]["gradcam/pain"]
    assert 0.0 <= lime["unrelated_above_bar"] <= 1.0 and "unrelated_above_bar" not in gradcam
    assert lime["faces_expected_above_by_chance"] == pytest.approx(lime["unrelated_above_bar"] * 1, abs=0.01)
