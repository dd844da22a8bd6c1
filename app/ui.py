"""Layout of the dashboard: ``build_demo()`` returns the Blocks; handlers live in :mod:`app.handlers`."""

from __future__ import annotations

import base64
from typing import Any

import gradio as gr

from app import handlers
from app.privacy import CACHE_MAX_AGE_SECONDS, CACHE_SWEEP_SECONDS

TITLE = "Stroke facial pain assessment (research software)"

DISCLAIMER = (
    "**Research software, not a medical device.** Do not use it to make clinical decisions. "
    "The demo models were trained on synthetic, computer-drawn faces, not on patients."
)

SIDE_CONVENTION = (
    "**Sides are always the patient's own (anatomical) sides.** In an ordinary photo the patient's right "
    "half appears on the *image's left*. Selfie cameras and webcam previews are often mirrored; tick "
    "*Photo is mirrored* for those so that the sides stay correct."
)

ABOUT = f"""
### What this is

A research tool that looks at a full-face photo of a person after a stroke, decides which side of the
face the stroke affected, and estimates pain (PSPI, 0–16) from the *unaffected* half, which still
expresses pain. Each step shows its evidence so that a reviewer can check where the models looked.

### What it is not

{DISCLAIMER} Scores from synthetic training data say nothing about real patients.

### The side convention

{SIDE_CONVENTION}

### Privacy

Photos are processed in memory. Gradio's temporary copies of uploads are kept in a private folder that is
swept every {CACHE_SWEEP_SECONDS} s (files older than {CACHE_MAX_AGE_SECONDS // 60} minutes are deleted)
and removed when the server stops. Nothing is logged about the image content.
"""


def _raw_upload(payload: Any) -> str | bytes | None:
    """The uploaded file's cached path (or the bytes of an inline upload), not decoded."""
    if payload is None:
        return None
    url = getattr(payload, "url", None) or ""
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    return payload.path


def photo_input(**kwargs: Any) -> gr.Image:
    """An image input that hands the handler the raw upload, undecoded.

    Gradio's own image input opens uploads with PIL before the handler runs, so a damaged file or a
    decompression bomb would fail with Gradio's generic error. This input passes the upload through and
    the face stage's reader applies its checks and messages. (The instance's ``preprocess`` is replaced
    rather than subclassing ``gr.Image``, because Gradio writes a type-stub file next to the source of
    every component subclass.)
    """
    component = gr.Image(type="filepath", image_mode=None, **kwargs)
    component.preprocess = _raw_upload  # type: ignore[method-assign]
    return component


def on_analyse(photo: str | bytes | None, mirrored: bool, side: str) -> tuple[str, Any, Any, Any, str]:
    """Gradio wrapper around :func:`app.handlers.analyse_face` (outputs in the order of the layout)."""
    view = handlers.analyse_face(photo, mirrored, side)
    table = view.asymmetry_rows if view.asymmetry_rows is not None else []
    return view.message, view.annotated, view.halves, table, view.assessment or ""


def build_demo() -> gr.Blocks:
    """Build the dashboard (not launched)."""
    with gr.Blocks(
        title=TITLE,
        analytics_enabled=False,
        delete_cache=(CACHE_SWEEP_SECONDS, CACHE_MAX_AGE_SECONDS),
    ) as demo:
        gr.Markdown(f"# {TITLE}\n{DISCLAIMER}")
        with gr.Tab("Assess"):
            gr.Markdown(SIDE_CONVENTION)
            with gr.Row():
                with gr.Column(scale=1):
                    photo = photo_input(
                        label="Full-face photo",
                        sources=["upload", "webcam", "clipboard"],
                        webcam_options=gr.WebcamOptions(mirror=False),
                    )
                    mirrored = gr.Checkbox(
                        label="Photo is mirrored (selfie camera / webcam preview)", value=False
                    )
                    side = gr.Radio(
                        choices=list(handlers.SIDE_CHOICES), value=next(iter(handlers.SIDE_CHOICES)),
                        label="Affected side (set it if you know it; the choice is recorded)",
                    )
                    run = gr.Button("Analyse", variant="primary")
                with gr.Column(scale=2):
                    status = gr.Markdown(handlers.NO_PHOTO_MESSAGE)
                    result = gr.Markdown()
                    annotated = gr.Image(
                        label="Landmarks, facial midline, halves and regions", type="numpy",
                        interactive=False, format="png",
                    )
                    halves = gr.Gallery(
                        label="The two halves, cut at the facial midline (as in the photo)",
                        columns=2, height=320, interactive=False, format="png",
                    )
            asymmetry = gr.Dataframe(
                headers=handlers.ASYMMETRY_HEADERS,
                label="Geometric asymmetry (training-free cross-check; positive values point to the "
                "patient's left)",
                interactive=False,
                wrap=True,
            )
            inputs, outputs = [photo, mirrored, side], [status, annotated, halves, asymmetry, result]
            run.click(on_analyse, inputs=inputs, outputs=outputs, api_name="analyse_face")
            for control in (mirrored, side):
                control.change(on_analyse, inputs=inputs, outputs=outputs, api_visibility="private")
        with gr.Tab("About"):
            gr.Markdown(ABOUT)
    return demo

