"""Command line for explanations.

    python -m explain PHOTO --method gradcam|lime --stage side|pain|both --out DIR [options]
    python -m explain population ...   (population heatmaps over a dataset; see its --help)
    python -m explain bench ...        (timing and faithfulness against the references; see its --help)
    python -m explain layers ...       (which Grad-CAM layer resolves the facial regions)
    python -m explain mirror ...       (side maps of real photos against their mirror images)
    python -m explain timing ...       (Grad-CAM time per stage against one forward pass)
    python -m explain groundtruth ...  (explanations scored against the renderer's known causes)
    python -m explain faithfulness ... (deletion / insertion curves against random orderings)
    python -m explain sanity ...       (maps of trained against weight-randomised models)
    python -m explain reports ...      (regenerate every committed report in explain/reports)
    python -m explain neutral ...      (rebuild the neutral-face templates of the neutral fill)
    python -m explain halves ...       (which half of the face a side decision rests on)

The photo command assesses the photo, explains the asked stages and writes into DIR, for each
explanation ``<stage>[_<half>]_<method>``: ``..._face.png`` (the map over the levelled face, with region
outlines, midline and legend) and ``..._photo.png`` (over the whole photo); then ``regions.html`` (the
region bar charts, plotly included, readable offline) and ``explanation.json`` (the assessment, each
explanation's parameters and its ranked region summary, with patient sides). Nothing else is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from explain.base import GRADIENT_METHODS, METHODS
from explain.segments import SEGMENTATIONS

SUBCOMMANDS = {"population": "explain.population", "bench": "explain.bench", "layers": "explain.layer_choice",
               "mirror": "explain.mirror", "timing": "explain.timing", "groundtruth": "explain.groundtruth",
               "faithfulness": "explain.faithfulness", "sanity": "explain.sanity",
               "reports": "explain.regenerate", "neutral": "explain.neutral", "halves": "explain.halves"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m explain", description="Explain one photo's assessment (heatmaps and region summary).",
        epilog="Other commands: python -m explain " + "|".join(SUBCOMMANDS) + " --help",
    )
    parser.add_argument("photo", help="a face photo (JPEG, PNG, ...)")
    parser.add_argument("--method", default="gradcam", choices=tuple(METHODS))
    parser.add_argument("--stage", default="both", choices=("side", "pain", "full_face_pain", "both"))
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNGs and explanation.json")
    parser.add_argument("--side", default="auto",
                        help="affected side: auto (side model) or left/right, the patient's side")
    parser.add_argument("--mirrored", action="store_true", help="the photo is a mirror image (webcam)")
    parser.add_argument("--halves", default="unaffected", choices=("unaffected", "both"),
                        help="pain maps for the scored (unaffected) half only, or both halves")
    parser.add_argument("--samples", type=int, default=None, help="LIME samples (default: the method's)")
    parser.add_argument("--seed", type=int, default=None, help="LIME seed (default: the method's)")
    parser.add_argument("--segmentation", default=None, choices=SEGMENTATIONS,
                        help="LIME segments (default: regions, the named facial regions)")
    parser.add_argument("--layer", default=None, help="Grad-CAM layer (default: per architecture)")
    parser.add_argument("--no-outlines", action="store_true", help="leave out region outlines and midline")
    parser.add_argument("--weights", type=Path, default=None, help="model weights folder (default: shipped)")
    return parser


def _params(args: argparse.Namespace) -> dict[str, object]:
    if args.method in GRADIENT_METHODS:
        return {"layer": args.layer} if args.layer else {}
    params: dict[str, object] = {}
    if args.samples is not None:
        params["n_samples"] = args.samples
    if args.seed is not None:
        params["seed"] = args.seed
    if args.segmentation is not None:
        params["segmentation"] = args.segmentation
    return params


def explain_photo(args: argparse.Namespace) -> dict[str, object]:
    """Run the photo command; returns what ``explanation.json`` holds."""
    import numpy as np
    from PIL import Image

    from explain.base import explain
    from explain.overlay import face_overlay, photo_overlay
    from explain.regions import region_chart, summarise
    from faces import read_image
    from models.pipeline import assess, load_bundle, load_default_models

    photo = read_image(args.photo)
    models = load_bundle(args.weights) if args.weights else load_default_models()
    assessment = assess(photo, side=args.side, mirrored=args.mirrored, models=models)
    explanations = explain(assessment, args.stage, args.method, models=models, halves=args.halves,
                           **_params(args))
    args.out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = []
    charts: list[str] = []
    draw = not args.no_outlines
    for explanation in explanations:
        half = f"_{explanation.half.value}" if explanation.half else ""
        name = f"{explanation.stage}{half}_{args.method}"
        summary = summarise(explanation, assessment.geometry)
        files = {"face": f"{name}_face.png", "photo": f"{name}_photo.png", "chart": "regions.html"}
        face = face_overlay(explanation, assessment.geometry, outlines=draw, midline=draw)
        Image.fromarray(np.ascontiguousarray(face)).save(args.out / files["face"])
        whole = photo_overlay(explanation, assessment.geometry, photo, outlines=draw, midline=draw)
        Image.fromarray(np.ascontiguousarray(whole)).save(args.out / files["photo"])
        charts.append(region_chart(summary).to_html(full_html=False, include_plotlyjs=not charts))
        entries.append({**explanation.to_dict(), "regions": summary.to_dict(), "files": files})
        print(f"{name}: {summary.sentence}")
    result = {"assessment": assessment.to_dict(), "explanations": entries,
              "note": "Sides are the patient's anatomical sides. Research use only, not a medical device."}
    (args.out / "explanation.json").write_text(json.dumps(result, indent=2))
    page = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Region summaries</title></head><body>"
    (args.out / "regions.html").write_text(page + "".join(charts) + "</body></html>")
    print(f"Wrote {len(entries)} explanation(s) to {args.out}")
    return result


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        return int(importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:]) or 0)
    args = _parser().parse_args(argv)
    from explain.base import ExplainError
    from faces.errors import FaceInputError
    from models.pipeline import AssessmentError, MissingWeightsError

    try:
        explain_photo(args)
    except (FaceInputError, AssessmentError, ExplainError, MissingWeightsError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
