"""The dashboard's reading tabs: the committed evaluation report, population heatmaps, model cards, About."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

import app  # noqa: F401  (offline environment before Gradio is imported)
from app import info
from app.ui import DISCLAIMER, SIDE_CONVENTION, build_demo
from eval.html import report_figures


def _components(demo: gr.Blocks, kind: type) -> list:
    return [block for block in demo.blocks.values() if isinstance(block, kind)]


def test_performance_tab_shows_every_figure_of_the_committed_report_and_its_tables():
    report = json.loads((info.EVAL_REPORTS / "demo_report.json").read_text())
    with gr.Blocks() as demo:
        info.performance_tab()
    plots = _components(demo, gr.Plot)
    assert len(plots) == len(report_figures(report)) >= 5
    tables = " ".join(h.value for h in _components(demo, gr.HTML))
    assert "side model" in tables and "training mean" in tables and "geometric asymmetry rule" in tables
    intro = " ".join(m.value for m in _components(demo, gr.Markdown))
    assert "resamples subjects" in intro and report["data"]["description"] in intro


def test_performance_tab_says_how_to_make_a_missing_report(tmp_path):
    with gr.Blocks() as demo:
        info.performance_tab(tmp_path / "missing.json")
    assert not _components(demo, gr.Plot)
    assert any("python -m eval demo-report" in m.value for m in _components(demo, gr.Markdown))


def test_population_tab_shows_each_group_with_its_picture():
    with gr.Blocks() as demo:
        info.population_tab()
    galleries = _components(demo, gr.Gallery)
    assert len(galleries) == len(list(info.POPULATION_DIR.glob("*/population.json"))) >= 2
    captions = [item["caption"] for g in galleries for item in g.value]
    assert all(Path(item["image"]["path"]).is_file() for g in galleries for item in g.value)
    assert any("patient's left" in c for c in captions) and any(c.startswith("PSPI") for c in captions)
    text = " ".join(m.value for m in _components(demo, gr.Markdown))
    assert "python -m explain population" in text and "Side model · Grad-CAM" in text


def test_model_cards_and_about_say_what_the_models_are():
    cards = info.model_cards_markdown()
    for role in ("side", "pain", "full_face_pain"):
        assert f"#### {role}:" in cards
    assert "synthetic" in cards.lower()
    about = info.about_markdown(DISCLAIMER, SIDE_CONVENTION)
    assert "not a medical device" in about and "patient's right half appears on the *image's left*" in about
    assert "deleted as soon as it has been read" in about
    words = " ".join(about.split())
    assert "average relaxed face" in words and "Grad-CAM is the least faithful of the three" in words


def test_the_about_tab_shows_the_average_relaxed_face():
    demo = build_demo()
    images = [c for c in _components(demo, gr.Image)
              if (c.label or "").startswith("The average relaxed face")]
    assert len(images) == 1 and str(images[0].value["path"]).endswith("face.png")


def test_the_dashboard_has_its_four_tabs():
    demo = build_demo()
    labels = [tab.label for tab in _components(demo, gr.Tab)]
    assert labels == ["Assess", "Model performance", "Population explanations", "About"]
    assert {"/assess", "/explain", "/faithfulness"} <= {f"/{d.api_name}" for d in demo.fns.values()
                                                       if d.api_name}
