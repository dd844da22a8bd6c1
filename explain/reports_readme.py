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
METHODS = (("gradcam", "Grad-CAM"), ("lime", "LIME"))
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


def acceptance(ground: dict[str, Any] | None, faith: dict[str, Any] | None,
               sanity: dict[str, Any] | None) -> list[str]:
    """The acceptance table: figure, target, per method, met or not."""
    lines = ["| check (target) | Grad-CAM | LIME | met |", "| --- | --- | --- | --- |"]
    if ground:
        summary, n = ground["summary"], ground["faces"]
        values = [summary[m]["hit"] for m, _ in METHODS if m in summary]
        lines.append(f"| top PSPI-raising region is one the active AU changed ({n} faces; >= "
                     f"{_pct(HIT_TARGET)}) | " + " | ".join(_rate(v) for v in values)
                     + f" | {_met(all(v['value'] >= HIT_TARGET for v in values))} |")
        shares = [summary[m] for m, _ in METHODS if "side_mass_share" in summary.get(m, {})]
        if shares:
            area = shares[0]["side_area_share"]["value"]
            lines.append(f"| side map: attribution mass inside the palsy's regions (they take {_pct(area)} "
                         "of the face; reported, no target) | "
                         + " | ".join(_rate(s["side_mass_share"]) for s in shares) + " | - |")
    if faith:
        results, n = faith["results"], faith["faces"]
        cells, ok = [], True
        for method, _ in METHODS:
            side, pain = results.get(f"{method}/side"), results.get(f"{method}/pain")
            pair = [r["deletion_below_random"] for r in (side, pain) if r]
            ok = ok and all(v >= DELETION_TARGET for v in pair)
            cells.append(" / ".join(_pct(v) for v in pair))
        lines.append(f"| deletion AUC below the random orderings' mean, side / pain ({n} faces; >= "
                     f"{_pct(DELETION_TARGET)}) | " + " | ".join(cells) + f" | {_met(ok)} |")
    if sanity:
        results, n = sanity["results"], sanity["faces"]
        cells, ok = [], True
        for method, _ in METHODS:
            pair = [results[k]["max"] for k in (f"{method}/side", f"{method}/pain") if k in results]
            ok = ok and all(v < SPEARMAN_BAR for v in pair)
            cells.append(" / ".join(f"{v:.2f}" for v in pair))
        lines.append(f"| randomised weights: largest Spearman with the trained map, side / pain ({n} faces; "
                     f"< {SPEARMAN_BAR}) | " + " | ".join(cells) + f" | {_met(ok)} |")
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
                      ("hit_density", "hit by mean signed attribution per pixel of the region")):
        if all(key in summary[m] for m, _ in methods):
            lines.append(f"| {text} | " + " | ".join(_rate(summary[m][key]) for m, _ in methods) + " |")
    return lines + [""]


def faith_details(faith: dict[str, Any]) -> list[str]:
    lines = ["| method / stage | deletion below random | insertion above random | deletion AUC (random) | "
             "insertion AUC (random) |", "| --- | --- | --- | --- | --- |"]
    for key, r in sorted(faith["results"].items()):
        lines.append(f"| {key} | {_pct(r['deletion_below_random'])} | {_pct(r['insertion_above_random'])} | "
                     f"{r['deletion_auc_median']:.2f} ({r['random_deletion_auc_median']:.2f}) | "
                     f"{r['insertion_auc_median']:.2f} ({r['random_insertion_auc_median']:.2f}) |")
    return lines + ["", f"Medians over faces; fill: {faith['fill']}, {faith['block']}-pixel blocks, "
                    f"{faith['random_orderings']} random orderings, scored with the "
                    f"{faith['scored_with']}.", ""]


def sanity_details(sanity: dict[str, Any]) -> list[str]:
    lines = ["| method / stage | median Spearman | largest | share below the bar |",
             "| --- | --- | --- | --- |"]
    for key, r in sorted(sanity["results"].items()):
        lines.append(f"| {key} | {r['median']:.2f} | {r['max']:.2f} | {_pct(r['share_below'])} |")
    return lines + [""]


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
    lines = ["| stage | Grad-CAM / forward | our LIME s (deletion) | lime package defaults s (deletion) | "
             "random deletion |", "| --- | --- | --- | --- | --- |"]
    for stage, rows in stages.items():
        med = {k: float(np.median(v)) for k, v in rows.items()}
        lines.append(f"| {stage} | {med['gradcam_over_forward']:.2f}x | {med['lime_s']:.2f} "
                     f"({med['lime_deletion']:.2f}) | {med['lime_reference_s']:.2f} "
                     f"({med['lime_reference_deletion']:.2f}) | {med['lime_random_deletion']:.2f} |")
    population = bench.get("population") or {}
    rates = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in population.items())
    lines += ["", f"Medians over {len(bench.get('photos', {}))} photos. Population throughput "
              f"(Grad-CAM, warp, average): {rates}.", ""]
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
