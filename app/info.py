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

from app.session import METHOD_NAMES

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


#: Report sections and the metrics their tables show.
TABLES = (
    ("Affected side (patient sides)", "side", ("accuracy", "macro_f1", "roc_auc")),
    ("PSPI", "pspi", ("mae", "rmse", "pearson_r", "icc_3_1")),
    ("Pain / no pain", "pain_binary", ("accuracy", "precision", "recall", "f1", "roc_auc")),
)


def performance_tab(report_path: Path = EVAL_REPORTS / "demo_report.json") -> None:
    """The committed evaluation report: what it was made on, tables with subject intervals, then every
    plot (models beside baselines, confusion matrix, scatter, error by level, hemi-face, studies, training
    curves), then the model cards."""
    from eval.html import report_figures, rows_table  # the evaluation package owns its figures

    report = _read_json(report_path)
    if report is None:
        gr.Markdown(f"No evaluation report at `{report_path.name}`. Make it with "
                    "`python -m eval demo-report`.")
    else:
        data = report.get("data", {})
        gr.Markdown(f"Made with `{report.get('command', 'python -m eval demo-report')}` on a "
                    f"{data.get('description', 'held-out test set')}. Every interval is a 95% bootstrap "
                    "interval that resamples subjects, not photos. These figures describe synthetic faces "
                    "and say nothing about accuracy on people.")
        for heading, key, metrics in TABLES:
            if report.get(key, {}).get("rows"):
                gr.Markdown(f"#### {heading}")
                gr.HTML(rows_table(report[key], metrics))
        for heading, figure in report_figures(report):
            gr.Plot(figure, label=heading)
    with gr.Accordion("Model cards", open=False):
        gr.Markdown(model_cards_markdown())


def population_tab(folder: Path = POPULATION_DIR) -> None:
    """The committed population heatmaps, one gallery per stage and method, captioned by group, with the
    command that makes them on other data."""
    gr.Markdown(
        "Population heatmaps average each photo's map after warping it into one canonical face frame "
        "through its landmarks (patient's right on the image left), so they show where a model looks *on "
        "average* over a dataset, per group: the decided affected side, the true palsy side, the PSPI band. "
        "Side maps show the evidence for the affected side; pain maps the scored (unaffected) half: "
        "Grad-CAM as the evidence the half-face model added up to its score, LIME and integrated gradients "
        "signed (raises / lowers PSPI). Make them for your own data with\n\n"
        "`python -m explain population --data DIR --stage side|pain "
        "--method gradcam|lime|integrated_gradients --out OUT`")
    runs = sorted(folder.glob("*/population.json")) if folder.is_dir() else []
    if not runs:
        gr.Markdown("No population heatmaps are committed yet.")
        return
    for summary_path in runs:
        summary = _read_json(summary_path) or {}
        files = summary.get("files", {})
        stage = {"side": "Side model", "pain": "Pain model"}.get(summary.get("stage"), summary.get("stage"))
        method = METHOD_NAMES.get(summary.get("method"), summary.get("method"))
        gr.Markdown(f"#### {stage} · {method} · {summary.get('faces', '?')} synthetic faces")
        pictures = [(str(summary_path.parent / name), group) for group, name in sorted(files.items())
                    if (summary_path.parent / name).is_file()]
        gr.Gallery(pictures, columns=6, height="auto", interactive=False, label=f"{stage}, {method}")


def neutral_face_image() -> None:
    """The average relaxed face LIME and the faithfulness scores put in place of a removed region."""
    from explain.neutral import TEMPLATE_DIR, TEMPLATE_FILES

    path = TEMPLATE_DIR / TEMPLATE_FILES["aligned_face"]
    if path.is_file():
        gr.Image(str(path), label="The average relaxed face (synthetic, 200 faces at rest)", type="filepath",
                 interactive=False, height=200, width=200)


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
Use a photo taken from straight in front of the face: a head turned 20° or more shows one half
foreshortened, which can look like a palsy, and the assessment warns about it. The side model evens out
the halves of a head turned past 10° before it reads them, which lowers that risk without removing it.

### The side convention

{side_convention}

### Privacy

Photos are processed in memory. An upload's temporary copy is deleted as soon as it has been read; the
images the page shows are swept from a private temporary folder every {CACHE_SWEEP_SECONDS} s, and the folder
is removed when the server stops (also after a crash, at the next start). The report download is built in
your browser's memory. Nothing about the image content is logged; a session's result (with the decoded
photo, which the counterfactual view edits in memory, and the assessment of a neutral reference photo) is
kept in server memory only, for at most 15 minutes after its last use, and never written to disk.

### Neutral reference photo and counterfactual view

A rest photo of the same person (optional) makes the scores read relative to that person's own resting
face (a face exactly as at rest reads as the model reads an average relaxed face, about 0.6), which
removes their resting brow height, eye opening and the palsy's resting droop from them. The
counterfactual view warps the assessed photo as if the face showed more of one pain-related
action unit (brow lowering, lid narrowing, upper-lip raise, eye closure) on one or both patient sides and
scores it again with the same side decision: it shows how the models respond, not what the person feels.
The landmark estimate beside the network reads the same action units from distances between the 68 face
points alone; when the two disagree strongly the page says so.

### How the heatmaps are made

Grad-CAM follows the gradient of the score inside the network: fast, and the default. For the pain
score it is exact: the half-face model adds up non-negative evidence from small patches of the half,
and the map shows how much each patch gave. LIME switches whole facial regions between "as in the
photo" and "as on an average relaxed face" (the mean of 200 synthetic faces at rest, shown below, matched
to the photo's colour) and fits how the score follows. Integrated gradients walks from that same relaxed
face to the photo and adds up, place by place, how the score changed on the way, so its map sums to the
score above a relaxed face. On fresh synthetic faces the drawn pain action unit's region came first on
88% of faces with Grad-CAM, 86% with integrated gradients and 81% with LIME, which most often missed a
raised upper lip; where the methods disagree on a photo, read the regions they share. For the side
decision, with one place removed at a time, Grad-CAM is the least faithful of the three; prefer
integrated gradients or LIME there. The side model scores each half of the face for palsy and
compares the two, so its Grad-CAM map is positive on the half it calls affected and negative on the
other. It reads the palsy in the affected half's detail (on fresh synthetic faces,
blurring that half lowered its confidence from 0.99 to 0.74, blurring the other half did not), but the
smooth average relaxed face pasted into the affected half barely lowers it (0.96), so removal scores
with that fill say little about the side map. Removed together with its mirror image, so that both
halves lose the same place, what the side Grad-CAM map points to lowered the confidence faster than
random removal on every fresh face (LIME's: 90%). A LIME map partly shows where the face differs from a
relaxed one: with the network's weights replaced by random ones, LIME's side map still resembled the
trained one (rank correlation above 0.5) on 3 of 20 fresh faces (its pain map on 7 of 20 with the
previous pain model, on none with the current one), the integrated-gradients maps on none.
Each heatmap's caption gives its deletion and insertion
scores against random orderings (lower deletion is better), with removed parts taken from the same
average face.
"""
