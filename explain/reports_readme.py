"""``explain/reports/README.md`` written from the report JSON files (no number typed by hand).

:func:`write_readme` reads ``groundtruth.json``, ``faithfulness.json``, ``sanity.json``,
``population/*/population.json`` and, when present, ``bench.json`` from a report folder and writes the
folder's ``README.md``: the weights measured, the acceptance table (each figure beside its target and
whether it is met), the per-group ground truth, the faithfulness and randomisation details, the
population runs and the bench figures. A section whose JSON is missing says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

HIT_TARGET = 0.8
DELETION_TARGET = 0.9
SPEARMAN_BAR = 0.5
METHODS = (("gradcam", "Grad-CAM"), ("lime", "LIME"), ("hirescam", "HiResCAM"),
           ("integrated_gradients", "Integrated gradients"),
           ("lime_neutral", "LIME, AU-free fill (idealised)"))
#: The methods the acceptance targets are set for; others are reported beside them.
REQUIRED = ("gradcam", "lime")
BENCH_COMMAND = ("python -m explain bench --real 3 --synthetic 3 --repeats 5 --population 48 "
                 "--json explain/reports/bench.json")
COMMANDS = (
    "python -m explain reports                          # every report above, then this README",
    "python -m explain reports --only groundtruth readme  # one report, then this README",
    "python -m explain groundtruth --faces 100 --seed 2026 --out explain/reports/groundtruth.json",
    "python -m explain faithfulness --faces 20 --seed 2026 --out explain/reports/faithfulness.json",
    "python -m explain sanity --faces 6 --seed 2026 --out explain/reports/sanity.json",
)


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _rate(entry: dict[str, Any]) -> str:
    low, high = entry["ci95"]
    return f"{_pct(entry['value'])} [{100 * low:.0f}, {100 * high:.0f}]"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _weights(reports: list[dict[str, Any]]) -> list[str]:
    weights = next((r["weights"] for r in reports if r and "weights" in r), None)
    if not weights:
        return ["The weights these reports were measured on are not recorded.", ""]
    lines = ["| role | architecture | checkpoint sha256 | created | training data |",
             "| --- | --- | --- | --- | --- |"]
    for role, w in weights.items():
        lines.append(f"| `{role}` | {w['architecture']} | `{w['sha256']}` | {w.get('created') or ''} | "
                     f"{w.get('training_data') or ''} |")
    return lines + [""]


def _present(ground: dict[str, Any] | None, faith: dict[str, Any] | None,
             sanity: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The methods any report holds, in :data:`METHODS` order."""
    found: set[str] = set((ground or {}).get("summary", {}))
    for report in (faith, sanity):
        found |= {key.split("/")[0] for key in (report or {}).get("results", {})}
    return [(m, name) for m, name in METHODS if m in found]


def acceptance(ground: dict[str, Any] | None, faith: dict[str, Any] | None,
               sanity: dict[str, Any] | None) -> list[str]:
    """The acceptance table: per figure and method, the value; met when every method of
    :data:`REQUIRED` meets the target (other methods are shown beside, without a target)."""
    methods = _present(ground, faith, sanity)
    names = [name + ("" if m in REQUIRED else " (extra)") for m, name in methods]
    lines = ["| check (target) | " + " | ".join(names) + " | met |", "|" + " --- |" * (len(methods) + 2)]

    def row(text: str, cells: dict[str, str], passed: dict[str, bool] | None) -> None:
        verdict = "-" if passed is None else _met(all(v for m, v in passed.items() if m in REQUIRED))
        lines.append(f"| {text} | " + " | ".join(cells.get(m, "") for m, _ in methods) + f" | {verdict} |")

    if ground:
        summary, n = ground["summary"], ground["faces"]
        row(f"top PSPI-raising region is one the active AU changed ({n} faces; >= {_pct(HIT_TARGET)})",
            {m: _rate(summary[m]["hit"]) for m in summary},
            {m: summary[m]["hit"]["value"] >= HIT_TARGET for m in summary})
        shares = {m: v for m, v in summary.items() if "side_mass_share" in v}
        if shares:
            area = next(iter(shares.values()))["side_area_share"]["value"]
            row(f"side map: attribution mass inside the palsy's regions (they take {_pct(area)} of the "
                "face; reported, no target)", {m: _rate(v["side_mass_share"]) for m, v in shares.items()},
                None)
    if faith:
        results, n = faith["results"], faith["faces"]
        pairs = {m: [results[k]["deletion_below_random"] for k in (f"{m}/side", f"{m}/pain") if k in results]
                 for m, _ in methods}
        row(f"deletion AUC below the random orderings' mean, side / pain ({n} faces, {faith['fill']} fill; "
            f">= "
            f"{_pct(DELETION_TARGET)})", {m: " / ".join(_pct(v) for v in p) for m, p in pairs.items()},
            {m: all(v >= DELETION_TARGET for v in p) for m, p in pairs.items()})
    if sanity:
        results, n = sanity["results"], sanity["faces"]
        pairs = {m: [results[k]["max"] for k in (f"{m}/side", f"{m}/pain") if k in results]
                 for m, _ in methods}
        row(f"randomised weights: largest Spearman with the trained map, side / pain ({n} faces; < "
            f"{SPEARMAN_BAR})", {m: " / ".join(f"{v:.2f}" for v in p) for m, p in pairs.items()},
            {m: all(v < SPEARMAN_BAR for v in p) for m, p in pairs.items()})
    return lines + [""]


def ground_details(ground: dict[str, Any]) -> list[str]:
    summary = ground["summary"]
    methods = [(m, name) for m, name in METHODS if m in summary]
    head = "| | " + " | ".join(name for _, name in methods) + " |"
    lines = [head, "|" + " --- |" * (len(methods) + 1)]
    groups = list(summary[methods[0][0]]["hit_by_group"])
    for group in groups:
        lines.append(f"| hit, {group} | " + " | ".join(_rate(summary[m]["hit_by_group"][group])
                                                      for m, _ in methods) + " |")
    for key, text in (("hit_absolute", "hit by absolute mass (the summary's ranking)"),
                      ("hit_measured", "hit against the regions holding >= 20% of the measured change"),
                      ("hit_model", "top raising region = the model's own (the region whose swap to the "
                                    "AU-free rendering lowers PSPI most)")):
        if all(key in summary[m] for m, _ in methods):
            lines.append(f"| {text} | " + " | ".join(_rate(summary[m][key]) for m, _ in methods) + " |")
    model = ground.get("model_counterfactual")
    if model:
        groups = "; ".join(f"{g} {_rate(v)}" for g, v in model["top_declared_by_group"].items())
        lines += ["", "The model's own answer: the region of the scored half whose pixels, taken from the "
                  "same face rendered without the AU group, lower the model's PSPI most is one the AU "
                  f"changes on {_rate(model['top_declared'])} of faces ({groups}). Where this is high and "
                  "a method's hit rate is low, the model reads the pain where it is drawn and the map does "
                  "not show it."]
        blurred = model.get("blurring_it_raises_pspi_by_group")
        if blurred:
            lines += ["", "Blurring that same region (the faithfulness curves' `blur` fill) *raised* the "
                      "model's PSPI on: " + "; ".join(f"{g} {_rate(v)}" for g, v in blurred.items())
                      + " of faces. Where removing a region reads as more pain, maps referenced to removed "
                      "content rank it as lowering PSPI (see `explain/groundtruth.py`)."]
        neutral = model.get("neutral_face_lowers_pspi_by_group")
        if neutral:
            lines += ["", "Taking that region from the average relaxed face instead (the `neutral` fill of "
                      "LIME and of the faithfulness curves) *lowered* it on: "
                      + "; ".join(f"{g} {_rate(v)}" for g, v in neutral.items()) + " of faces."]
    return lines + [""]


FAITH_HEADER = ["| method / stage | fill | deletion below random | insertion above random | "
                "deletion AUC (random) | insertion AUC (random) |", "| --- | --- | --- | --- | --- | --- |"]


def _faith_rows(tables: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One row per map kind and fill of ``(fill, results)`` tables, map kinds sorted."""
    return [f"| {key} | {fill} | {_pct(r['deletion_below_random'])} | {_pct(r['insertion_above_random'])} | "
            f"{r['deletion_auc_median']:.2f} ({r['random_deletion_auc_median']:.2f}) | "
            f"{r['insertion_auc_median']:.2f} ({r['random_insertion_auc_median']:.2f}) |"
            for key in sorted(tables[0][1]) for fill, results in tables for r in (results[key],)]


def faith_details(faith: dict[str, Any]) -> list[str]:
    tables = [(faith["fill"], faith["results"])] + list(faith.get("other_fills", {}).items())
    lines = FAITH_HEADER + _faith_rows(tables)
    fills = " and ".join(fill for fill, _ in tables)
    pairs = list(faith.get("side_pairs", {}).items())
    if pairs:
        lines += ["", "The side maps removed in **mirror pairs** (each block with its mirror image about the "
                  "face's midline, ranked by the map's mean over both; the random orderings draw the same "
                  "pairs: see `explain/faithfulness.py` for why a model that compares the halves is also "
                  "tested so):", "", *FAITH_HEADER, *_faith_rows(pairs)]
    return lines + ["", "Fills: `neutral` puts the same blocks of an average relaxed face (matched to the "
                    "input's colour) in place of the removed ones, `blur` a blurred copy of the input "
                    "(see `explain/faithfulness.py`); the acceptance row uses the first listed.",
                    "", f"Medians over faces; fills: {fills}, {faith['block']}-pixel blocks, "
                    f"{faith['random_orderings']} random orderings, scored with the "
                    f"{faith['scored_with']}.", ""]


def sanity_details(sanity: dict[str, Any]) -> list[str]:
    lines = ["| method / stage | median Spearman | largest | share below the bar | within each half of the "
             "face, median / largest (side) | mirror-symmetric part, median / largest (side) | an unrelated "
             "map on the same segments crosses the bar (faces expected above it by chance) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]

    def pair(r: dict[str, Any], name: str) -> str:
        return f"{r[name + '_median']:.2f} / {r[name + '_max']:.2f}" if name + "_median" in r else "-"

    for key, r in sorted(sanity["results"].items()):
        chance = (f"{_pct(r['unrelated_above_bar'])} ({r['faces_expected_above_by_chance']:.1f} of "
                  f"{sanity['faces']})" if "unrelated_above_bar" in r else "-")
        lines.append(f"| {key} | {r['median']:.2f} | {r['max']:.2f} | {_pct(r['share_below'])} | "
                     f"{pair(r, 'within_halves')} | {pair(r, 'symmetric_part')} | {chance} |")
    return lines + ["", "A LIME map is a few constant segments, so even its own segment values dealt at "
                    "random correlate with it above the bar that often (`explain.sanity.chance_above`); "
                    "a Grad-CAM map has no such floor. The side network scores each half of the face and "
                    "compares them, so every side map, trained or randomised, raises the named side on one "
                    "half and lowers it on the other; the within-half column shows what the weights decide "
                    "beyond that split (`explain.sanity.within_halves`), and the mirror-symmetric column "
                    "compares the part of the maps that is the same on both halves, which for the side "
                    "network's Grad-CAM carries the whole decision (the rest sums to zero; "
                    "`explain.sanity.mirror_symmetric_part`).", ""]


def population_details(folder: Path) -> list[str]:
    runs = [(p.parent.name, _load(p)) for p in sorted(folder.glob("population/*/population.json"))]
    runs = [(name, r) for name, r in runs if r]
    if not runs:
        return ["No population report yet.", ""]
    lines = [f"Set: `{runs[0][1]['data']}` (rendered into a temporary folder, then deleted).", "",
             "| run | faces (skipped) | groups: top region by share of the absolute attribution |",
             "| --- | --- | --- |"]
    for name, r in runs:
        tops = "; ".join(f"{group} (n={g['faces']}): {g['regions'][0]['label']} "
                         f"{_pct(g['regions'][0]['share'])}"
                         for group, g in r["groups"].items() if g["regions"])
        lines.append(f"| `{name}` | {r['faces']} ({r['skipped']}) | {tops} |")
    return lines + [""]


def bench_details(bench: dict[str, Any]) -> list[str]:
    stages: dict[str, dict[str, list[float]]] = {}
    for photo in bench.get("photos", {}).values():
        for stage, row in photo.items():
            for key, value in row.items():
                stages.setdefault(stage, {}).setdefault(key, []).append(float(value))
    has_blur = any("lime_deletion_blur" in r for r in stages.values())
    fills = [("", "neutral")] + ([("_blur", "blur")] if has_blur else [])
    has_ig = any("integrated_gradients_over_forward" in r for r in stages.values())
    lines = ["| stage | deletion fill | Grad-CAM / forward | our LIME s (deletion) | lime package defaults s "
             "(deletion) | Grad-CAM deletion | random deletion |"
             + (" integrated gradients / forward (deletion) |" if has_ig else ""),
             "| --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if has_ig else "")]
    for stage, rows in stages.items():
        med = {k: float(np.median(v)) for k, v in rows.items()}
        for suffix, fill in fills:
            lines.append(f"| {stage} | {fill} | {med['gradcam_over_forward']:.2f}x | {med['lime_s']:.2f} "
                         f"({med['lime_deletion' + suffix]:.2f}) | {med['lime_reference_s']:.2f} "
                         f"({med['lime_reference_deletion' + suffix]:.2f}) | "
                         f"{med['gradcam_deletion' + suffix]:.2f} | "
                         f"{med['lime_random_deletion' + suffix]:.2f} |"
                         + (f" {med['integrated_gradients_over_forward']:.2f}x "
                            f"({med['integrated_gradients_deletion' + suffix]:.2f}) |" if has_ig else ""))
    population = bench.get("population") or {}
    rates = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in population.items())
    lines += ["", f"Medians over {len(bench.get('photos', {}))} photos. Population throughput "
              f"(Grad-CAM, warp, average): {rates}.", ""]
    weights = bench.get("weights")
    if not weights:
        lines += ["`bench.json` does not record the weights it was measured on (it predates that).", ""]
    else:
        lines += ["Weights: " + ", ".join(f"{role} `{w['sha256']}`" for role, w in weights.items()) + ".", ""]
    return lines


def render(folder: Path) -> str:
    """The README text for the reports in ``folder``."""
    folder = Path(folder)
    ground, faith = _load(folder / "groundtruth.json"), _load(folder / "faithfulness.json")
    sanity, bench = _load(folder / "sanity.json"), _load(folder / "bench.json")
    sizes = next((r["sizes"] for r in (ground, faith, sanity) if r and "sizes" in r), None)
    lines = ["# Explanation reports of the installed demo weights", "",
             "Written by `python -m explain reports` from the JSON files beside it; not edited by hand. "
             "Made on fresh synthetic faces (seed 2026; population set seed 4040) that the weights never "
             "saw and that were never used to choose a method (development used seed 7). Research "
             "software on synthetic faces, not evidence about patients.", ""]
    if sizes:
        lines += [f"Sizes: {sizes['groundtruth']} faces for the ground truth, {sizes['faithfulness']} for "
                  f"faithfulness, {sizes['sanity']} for the randomisation check, population set "
                  f"{sizes['population_subjects']} subjects x {sizes['population_frames']} frames.", ""]
    lines += ["## Weights measured", ""] + _weights([ground, faith, sanity])
    lines += ["## Acceptance", ""] + acceptance(ground, faith, sanity)
    if ground:
        lines += ["## Ground truth (`groundtruth.json`)", "",
                  "A hit: the region of the scored (unaffected) half that raises PSPI most (largest "
                  "signed sum) is one the active AU group changes. 95% bootstrap intervals over faces "
                  "(each face a new synthetic person).", ""] + ground_details(ground)
    if faith:
        lines += ["## Faithfulness (`faithfulness.json`)", ""] + faith_details(faith)
    if sanity:
        lines += ["## Randomisation sanity check (`sanity.json`)", "",
                  "Spearman rank correlation between the maps of the trained weights and of fully "
                  "re-initialised weights (Adebayo et al.).", ""] + sanity_details(sanity)
    lines += ["## Population heatmaps (`population/`)", "",
              "Each PNG is one group's mean map over the group's mean face in the canonical face frame "
              "(patient's right on the image left); side maps show the decided affected side's evidence, "
              "pain maps the scored half, signed (raises / lowers PSPI). `population.json` lists each "
              "sided region's mean share per group.", ""] + population_details(folder)
    lines += ["## Bench (`bench.json`)", ""]
    if bench:
        lines += ["Its own command (it times this machine, so `python -m explain reports` does not rerun "
                  "it):", "", "```bash", BENCH_COMMAND, "```", ""] + bench_details(bench)
    else:
        lines += [f"Not measured yet: `{BENCH_COMMAND}`.", ""]
    lines += ["## Commands", "", "```bash", *COMMANDS, "```", ""]
    return "\n".join(lines)


def write_readme(folder: Path) -> Path:
    """Write ``folder/README.md`` (see :func:`render`); returns its path."""
    path = Path(folder) / "README.md"
    path.write_text(render(folder), encoding="utf-8")
    return path


__all__ = ["acceptance", "render", "write_readme"]
