"""Layout of the dashboard: ``build_demo()`` returns the Blocks; handlers live in :mod:`app.handlers`.

Named API endpoints (see the README for a ``gradio_client`` example): ``/assess`` (photo, mirrored, side,
method, LIME samples, and optionally a neutral reference photo), ``/explain`` (more methods for the photo
last assessed in the same session), ``/faithfulness`` (deletion/insertion scores of its maps) and
``/counterfactual`` (action-unit group, patient side, strength: the photo last assessed, edited in memory
and scored again).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from app import handlers, info, session
from app.counterfactual import AU_GROUPS, DEFAULT_STRENGTH, EDIT_SIDES
from app.examples import examples
from app.privacy import CACHE_MAX_AGE_SECONDS, CACHE_SWEEP_SECONDS, read_upload

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

#: How long a session's assessment stays in server memory after its last use (seconds).
SESSION_SECONDS = 15 * 60

REFERENCE_LABEL = "Neutral reference photo of the same person (optional)"
REFERENCE_HELP = (
    "A photo of the same person at rest (no pain, relaxed face), taken the same way. The scores are then "
    "read relative to it (0 = as at rest), which removes the person's own resting face and the palsy's "
    "resting droop from them. The side is still decided on the main photo."
)
COUNTERFACTUAL_LABEL = "What if: the score with more of one expression (counterfactual)"
COUNTERFACTUAL_HELP = (
    "Edits the photo last assessed, in memory, as if the face showed more of one pain-related action "
    "unit on the patient side(s) chosen (a warp that moves the face points), then scores the edited photo "
    "with the same side decision. It shows how strongly the models respond to that part of the face."
)
LANDMARK_HEADERS = ["Landmark estimate", "patient's left half", "patient's right half"]


def _raw_upload(payload: Any) -> bytes | str | None:
    """The upload's bytes, read once; the cached copy is deleted at once (bundled examples are kept)."""
    if payload is None:
        return None
    url = getattr(payload, "url", None) or ""
    if url.startswith("data:"):
        return url
    path = Path(payload.path)
    try:
        return read_upload(path)
    except OSError:
        return str(path)  # the face stage's reader reports the problem in its own words


def photo_input(**kwargs: Any) -> gr.Image:
    """An image input that hands the handler the raw upload, undecoded, and deletes the cached copy.

    Gradio's own image input opens uploads with PIL before the handler runs, so a damaged file or a
    decompression bomb would fail with Gradio's generic error. This input passes the bytes through and
    the face stage's reader applies its checks and messages. (The instance's ``preprocess`` is replaced
    rather than subclassing ``gr.Image``, because Gradio writes a type-stub file next to the source of
    every component subclass.)
    """
    component = gr.Image(type="filepath", image_mode=None, **kwargs)
    component.preprocess = _raw_upload  # type: ignore[method-assign]
    return component


def choice_input(choices: list[str], **kwargs: Any) -> gr.Radio:
    """Radio buttons whose value reaches the handler unchecked, so that a script sending another value
    ("left", "auto", a typo) gets the handler's own answer rather than Gradio's generic refusal."""
    component = gr.Radio(choices, **kwargs)
    component.preprocess = lambda value: value  # type: ignore[method-assign]
    return component


def _unique_png(image: np.ndarray | None, response: str) -> Image.Image | None:
    """``image`` as a PIL image carrying this response's id in a PNG text chunk (pixels unchanged).

    Gradio names a returned image's cache file after a hash of its PNG bytes and rewrites that file on
    every return: two clients receiving the same picture at once (everyone clicking the same example on
    a demo link) made one response rewrite the file while the other was being sent, which cut it short.
    The id makes every response's files its own."""
    if image is None:
        return None
    picture = Image.fromarray(image)
    picture.info["response"] = response
    return picture


def _outputs(view: handlers.PageView, keep: session.SessionResult | None) -> tuple[Any, ...]:
    state = view.result if view.ok else keep
    response = uuid.uuid4().hex
    heatmaps = None if view.heatmaps is None else [(_unique_png(image, response), caption)
                                                   for image, caption in view.heatmaps]
    return (state, view.message, view.headline, _unique_png(view.annotated, response), heatmaps,
            view.side_plot, view.pain_plot, view.summary, view.asymmetry or [], _landmarks(view),
            view.report, view.data)


def _landmarks(view: handlers.PageView) -> dict[str, Any]:
    """The landmark table's value: its rows and the headers naming the halves (the scored one marked)."""
    if view.result is None:
        return {"headers": LANDMARK_HEADERS, "data": []}
    return {"headers": handlers.views.landmark_headers(view.result), "data": view.landmarks}


def on_assess(photo: Any, mirrored: bool, side: str, method: str, samples: float,
              reference: Any = None) -> tuple[Any, ...]:
    return _outputs(handlers.assess_photo(photo, mirrored, side, method, samples, reference), None)


def on_counterfactual(state: session.SessionResult | None, group: str, sides: str,
                      strength: float) -> tuple[Any, ...]:
    view = handlers.counterfactual(state, group, sides, strength)
    response = uuid.uuid4().hex
    images = None if view.images is None else [(_unique_png(image, response), caption)
                                               for image, caption in view.images]
    return state, view.message or view.text, images, view.data


def on_explain(state: session.SessionResult | None, method: str, samples: float) -> tuple[Any, ...]:
    return _outputs(handlers.explain_more(state, method, samples), state)


def on_faithfulness(state: session.SessionResult | None) -> tuple[Any, ...]:
    return _outputs(handlers.faithfulness(state), state)


def _counterfactual_view(state: gr.State) -> list[Any]:
    """The counterfactual accordion; returns its outputs, which a new assessment clears."""
    with gr.Accordion(COUNTERFACTUAL_LABEL, open=False):
        gr.Markdown(COUNTERFACTUAL_HELP)
        with gr.Row():
            group = choice_input(list(AU_GROUPS), value=next(iter(AU_GROUPS)), label="Action-unit group")
            sides = choice_input(list(EDIT_SIDES), value=next(iter(EDIT_SIDES)), label="Patient side to edit")
            strength = gr.Slider(0.0, 1.0, value=DEFAULT_STRENGTH, step=0.05,
                                 label="Strength (0 = unchanged, 1 = the strongest edit)")
            strength.preprocess = lambda value: value  # type: ignore[method-assign]  # handler checks it
        run = gr.Button("Edit the photo and score it again")
        text = gr.Markdown()
        images = gr.Gallery(label="The levelled face as photographed and as edited", columns=2, height="auto",
                            object_fit="contain", interactive=False, format="png")
        with gr.Accordion("The counterfactual's figures as JSON", open=False):
            data = gr.JSON()
    run.click(on_counterfactual, [state, group, sides, strength], [state, text, images, data],
              api_name="counterfactual")
    return [text, images, data]


def _assess_tab(state: gr.State, by_caption: dict[str, str]) -> None:
    gr.Markdown(SIDE_CONVENTION)
    with gr.Row():
        with gr.Column(scale=1):
            photo = photo_input(label="Full-face photo", sources=["upload", "webcam", "clipboard"],
                                webcam_options=gr.WebcamOptions(mirror=False))
            mirrored = gr.Checkbox(label="Photo is mirrored (selfie camera / webcam preview)", value=False)
            side = choice_input(list(handlers.SIDE_CHOICES), value=next(iter(handlers.SIDE_CHOICES)),
                                label="Affected side (set it if you know it; the choice is recorded)")
            method = choice_input(list(session.METHOD_CHOICES), value="Grad-CAM",
                                  label="Explanations (LIME takes about a second per stage; on the demo "
                                        "weights LIME and integrated gradients are more faithful than "
                                        "Grad-CAM)")
            samples = gr.Slider(*session.LIME_SAMPLE_RANGE, value=session.DEFAULT_LIME_SAMPLES, step=8,
                                label="LIME samples per stage")
            with gr.Accordion(REFERENCE_LABEL, open=False):
                gr.Markdown(REFERENCE_HELP)
                reference = photo_input(label="Neutral (rest) photo",
                                        sources=["upload", "webcam", "clipboard"],
                                        webcam_options=gr.WebcamOptions(mirror=False))
            run = gr.Button("Assess", variant="primary")
            more = gr.Button("Add LIME to this photo")
            example = gr.Dropdown(list(by_caption), value=None, label="Or try an example",
                                  info="Synthetic faces with known truth, and a real portrait")
        with gr.Column(scale=2):
            status = gr.Markdown(handlers.NO_PHOTO_MESSAGE)
            headline = gr.Markdown()
            report = gr.HTML()
            annotated = gr.Image(label="Landmarks, facial midline, halves and regions", type="numpy",
                                 interactive=False, format="png")
    heatmaps = gr.Gallery(label="Heatmaps on the levelled face (captions: faithfulness scores)", columns=4,
                          height="auto", interactive=False, format="png")
    summary = gr.Markdown()
    with gr.Row():
        side_plot = gr.Plot(label="Side decision by region")
        pain_plot = gr.Plot(label="PSPI by region")
    asymmetry = gr.Dataframe(headers=handlers.views.ASYMMETRY_HEADERS, interactive=False, wrap=True,
                             label="Geometric asymmetry (training-free cross-check; positive values point "
                             "to the patient's left)")
    landmarks = gr.Dataframe(headers=LANDMARK_HEADERS, interactive=False, wrap=True,
                             label="Landmark estimate per half, beside the network")
    gr.Markdown(handlers.views.LANDMARK_CAPTION)
    stale = _counterfactual_view(state)
    with gr.Accordion("All figures as JSON (what the API returns)", open=False):
        data = gr.JSON()
    outputs = [state, status, headline, annotated, heatmaps, side_plot, pain_plot, summary, asymmetry,
               landmarks, report, data]
    inputs = [photo, mirrored, side, method, samples]
    private = {"api_visibility": "private"}
    run.click(on_assess, [*inputs, reference], outputs, api_name="assess").then(
        on_faithfulness, [state], outputs, api_name="faithfulness")
    for trigger in (run.click, example.input):  # a new photo: the last counterfactual no longer applies
        trigger(lambda: ("", None, None), None, stale, **private)
    more.click(lambda s, n: on_explain(s, "LIME", n), [state, samples], outputs, **private).then(
        on_faithfulness, [state], outputs, **private)
    gr.Button("Explain", visible=False).click(on_explain, [state, method, samples], outputs,
                                              api_name="explain")
    example.input(lambda caption: by_caption.get(caption), [example], [photo], **private).then(
        on_assess, inputs, outputs, **private).then(on_faithfulness, [state], outputs, **private)


def build_demo() -> gr.Blocks:
    """Build the dashboard (not launched)."""
    bundled = examples()
    # served as they are, never copied into the swept cache
    gr.set_static_paths([*(e.path for e in bundled), info.POPULATION_DIR])
    by_caption = {e.caption: str(e.path) for e in bundled}
    with gr.Blocks(title=TITLE, analytics_enabled=False,
                   delete_cache=(CACHE_SWEEP_SECONDS, CACHE_MAX_AGE_SECONDS)) as demo:
        gr.Markdown(f"# {TITLE}\n{DISCLAIMER}")
        state = gr.State(None, time_to_live=SESSION_SECONDS)
        with gr.Tab("Assess"):
            _assess_tab(state, by_caption)
        with gr.Tab("Model performance"):
            info.performance_tab()
        with gr.Tab("Population explanations"):
            info.population_tab()
        with gr.Tab("About"):
            gr.Markdown(info.about_markdown(DISCLAIMER, SIDE_CONVENTION))
            info.neutral_face_image()
    return demo
