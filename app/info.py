"""The dashboard's reading tabs: model performance (the committed evaluation report and the model
cards), population explanations (the committed population heatmaps) and About.

They read files committed with the project (``eval/reports/``, ``explain/reports/population/``,
``models/weights/*.json``); a missing file is said plainly, with the command that makes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

ROOT = Path(__file__).resolve().parents[1]
EVAL_REPORTS = ROOT / "eval" / "reports"
POPULATION_DIR = ROOT / "explain" / "reports" / "population"
WEIGHTS_DIR = ROOT / "models" / "weights"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def model_cards_markdown(weights_dir: Path = WEIGHTS_DIR) -> str:
    """The shipped model cards in readable form: what each model is, its input and its test figures."""
    lines = []
    for path in sorted(weights_dir.glob("*.json")):
        card = _read_json(path)
        if card is None or "architecture" not in card:
            continue
        spec = card.get("input", {})
        data = card.get("training_data", {})
        lines += [f"#### {path.stem}: {card.get('architecture')} ({card.get('task')})",
                  f"- input: {spec.get('kind', '?')} {spec.get('height', '?')}×{spec.get('width', '?')}",
                  f"- trained on: {data.get('description', 'not recorded')}"]
        test = card.get("metrics", {}).get("test", {})
        if test.get("evaluated_on"):
            lines.append(f"- tested on: {test['evaluated_on']}")
        for note in card.get("notes", [])[:3]:
            lines.append(f"- {note}")
        lines.append("")
    return "\n".join(lines) or "No model cards found in models/weights."


def performance_tab() -> None:
    """The evaluation report's plots and tables, then the model cards."""
    report_path = EVAL_REPORTS / "demo_weights.json"
    report = _read_json(report_path)
    try:
        from eval.dashboard import report_figures  # the evaluation package owns its figures
    except ImportError:
        report = None
    if report is None:
        gr.Markdown(f"No evaluation report at `{report_path.relative_to(ROOT)}`. Make it with "
                    "`python -m eval --data DIR --models models/weights`.")
    else:
        intro, sections = report_figures(report)
        gr.Markdown(intro)
        for heading, figures, table in sections:
            gr.Markdown(f"### {heading}")
            for figure in figures:
                gr.Plot(figure, show_label=False)
            if table:
                gr.Markdown(table)
    with gr.Accordion("Model cards", open=False):
        gr.Markdown(model_cards_markdown())


def population_tab() -> None:
    """The committed population heatmaps per group, with the command that makes them on other data."""
    summary = _read_json(POPULATION_DIR / "summary.json")
    gr.Markdown(
        "Population heatmaps average each photo's map after warping it into one canonical face frame "
        "through its landmarks, so they show where a model looks *on average* over a dataset, per group. "
        "Make them for your own data with\n\n"
        "`python -m explain population --data DIR --stage side|pain --method gradcam|lime --out OUT`")
    images = sorted(POPULATION_DIR.glob("*.png")) if POPULATION_DIR.is_dir() else []
    if not images:
        gr.Markdown("No population heatmaps are committed yet.")
        return
    if summary and summary.get("description"):
        gr.Markdown(str(summary["description"]))
    gr.Gallery([(str(p), p.stem.replace("_", " ")) for p in images], columns=4, height="auto",
               interactive=False, label="Population heatmaps")


def about_markdown(disclaimer: str, side_convention: str) -> str:
    from app.privacy import CACHE_SWEEP_SECONDS

    return f"""
### What this is

A research tool that looks at a full-face photo of a person after a stroke, decides which side of the
face the stroke affected, and estimates pain (PSPI, 0–16) from the *unaffected* half, which still
expresses pain. Each step shows its evidence (Grad-CAM and LIME heatmaps, the regions that drove each
score, and how faithful each heatmap is to the model) so that a reviewer can check where the models looked.

### What it is not

{disclaimer} The models learned from a procedural face renderer with known action units and palsy; scores
on photographs of real people are not validated and say nothing about real patients. The affected half
and the full face are scored only for comparison. A clinician who knows the affected side should set it.

### The side convention

{side_convention}

### Privacy

Photos are processed in memory. An upload's temporary copy is deleted as soon as it has been read; the
images the page shows are swept from a private temporary folder every {CACHE_SWEEP_SECONDS} s, and the folder
is removed when the server stops (also after a crash, at the next start). The report download is built in
your browser's memory. Nothing about the image content is logged; a session's result is kept in server
memory for at most 15 minutes.
"""
