"""Population heatmaps (global explanations): every face's map in one canonical face frame, averaged
per group over a dataset.

For each face of a dataset (any layout :func:`data.layouts.load_any` reads; half-face pairs are put back
side by side into one face), the pipeline assesses it, :func:`explain.base.explain` explains the chosen
stage (side: the decided affected side; pain: the scored, unaffected half), and the face map is warped
into the canonical frame (:class:`explain.warp.CanonicalFrame`, piecewise affine through the landmarks).
Maps are averaged per group, pixel by pixel over the faces that cover the pixel:

- side stage: per decided affected side, and per labelled palsy side when the dataset has labels;
- pain stage: per PSPI band (the label when the dataset has one, else the unaffected half's score) and
  per palsy side (label, else the decided side).

Each group gets a PNG (the group's mean map over the mean warped face, colours as
:mod:`explain.overlay` draws single maps) and an entry in ``population.json``: the number of faces and,
per sided region, the mean share of absolute attribution and the mean signed share
(:func:`explain.regions.summarise`, averaged over the group's faces).

Run: ``python -m explain population --data DIR --stage side|pain --method gradcam|lime --out DIR``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from explain.base import METHODS, explain, get_explainer, target_label, to_face_map
from explain.regions import summarise
from explain.types import Explanation, MapSource
from explain.warp import CanonicalFrame
from faces.sides import Side
from models.pipeline import Assessment, LoadedModel, ModelBundle, assess, load_default_models
from models.registry import SIDE_CLASSES

PSPI_BANDS = ((0.0, 0.5, "PSPI 0"), (0.5, 3.0, "PSPI 0.5-3"), (3.0, 6.0, "PSPI 3-6"), (6.0, 99.0, "PSPI 6+"))


def pspi_band(value: float) -> str:
    for low, high, name in PSPI_BANDS:
        if low <= value < high:
            return name
    return PSPI_BANDS[0][2]


@dataclass(frozen=True)
class Face:
    """One face of a dataset: its pixels, landmarks when the layout has them, and its labels."""

    name: str
    image: np.ndarray
    landmarks: np.ndarray | None = None
    pspi: float | None = None
    palsy_side: Side | None = None


def _stitched(halves: dict[Side, Any]) -> np.ndarray:
    """The two halves of one frame (each as it appears in the photo) side by side: patient right on the
    image left, as in a non-mirrored photo."""
    from data.layouts import read_image_array

    right, left = (read_image_array(halves[s].image_path) for s in (Side.RIGHT, Side.LEFT))
    if right.shape[0] != left.shape[0]:
        left = cv2.resize(left, (int(round(left.shape[1] * right.shape[0] / left.shape[0])), right.shape[0]))
    return np.ascontiguousarray(np.hstack([right, left]))


def iter_faces(data: str | Path, layout: str | None = None) -> Iterator[Face]:
    """Faces of the dataset at ``data`` in any layout the loaders read."""
    from data.layouts import load_any, read_image_array

    records = load_any(data, layout)
    pairs: dict[str, dict[Side, Any]] = defaultdict(dict)
    for record in records:
        kind = type(record).__name__
        if kind == "HalfRecord":
            pairs[record.frame_id][record.side] = record
            continue
        name = getattr(record, "frame_id", "") or Path(record.image_path).stem
        palsy = getattr(record, "palsy_side", None) or getattr(record, "affected_side", None)
        yield Face(name, read_image_array(record.image_path), getattr(record, "landmarks", None),
                   getattr(record, "pspi", None), palsy)
    for frame, halves in pairs.items():
        if len(halves) == 2:
            pspi = [h.pspi for h in halves.values() if h.pspi is not None]
            yield Face(frame, _stitched(halves), None, max(pspi) if pspi else None, None)


def groups_of(face: Face, assessment: Assessment, stage: str) -> list[str]:
    """The groups a face's map is averaged into (see the module docstring)."""
    decided = f"decided affected: patient's {assessment.affected_side.value}"
    labelled = None if face.palsy_side is None else f"palsy: patient's {face.palsy_side.value}"
    if stage == "side":
        return [decided] + ([labelled] if labelled else [])
    score = face.pspi if face.pspi is not None else assessment.pspi.unaffected_half
    return [pspi_band(float(score)), labelled or decided]


@dataclass
class _Group:
    total: np.ndarray
    count: np.ndarray
    face: np.ndarray
    faces: int = 0
    shares: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    signed: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class Population:
    """Running per-group sums of warped maps and region shares."""

    def __init__(self, frame: CanonicalFrame, signed: bool) -> None:
        self.frame, self.signed, self.stage = frame, signed, "pain" if signed else "side"  # until add()
        self.groups: dict[str, _Group] = {}

    def add(self, explanation: Explanation, assessment: Assessment, groups: list[str]) -> None:
        geometry = assessment.geometry
        self.signed, self.stage = explanation.signed, explanation.stage  # the palette follows the maps
        warped = self.frame.warp(explanation.face_map, geometry.aligned_landmarks, geometry.mirrored)
        pixels = self.frame.warp(geometry.aligned, geometry.aligned_landmarks, geometry.mirrored)
        summary = summarise(explanation, geometry)
        valid = ~np.isnan(warped)
        for name in groups:
            size = self.frame.size
            group = self.groups.setdefault(name, _Group(np.zeros((size, size)), np.zeros((size, size)),
                                                        np.zeros((size, size, 3))))
            group.total[valid] += warped[valid]
            group.count[valid] += 1
            group.face[valid] += pixels[valid]
            group.faces += 1
            total = summary.total_absolute or 1.0
            for score in summary.scores:
                group.shares[score.key].append(score.share)
                group.signed[score.key].append(score.signed / total)

    def mean_map(self, name: str) -> np.ndarray:
        group = self.groups[name]
        return np.where(group.count > 0, group.total / np.maximum(group.count, 1), 0.0).astype(np.float32)

    def picture(self, name: str) -> np.ndarray:
        """The group's mean map over its mean warped face, with a caption strip: uint8 RGB."""
        from explain.overlay import blend

        group = self.groups[name]
        face = (group.face / np.maximum(group.count, 1)[..., None]).clip(0, 255).astype(np.uint8)
        shown = blend(face, self.mean_map(name), signed=self.signed)
        scale = 2
        big = cv2.resize(shown, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        key = ("orange raises PSPI, purple lowers it" if self.signed
               else "yellow: evidence for the side decided" if self.stage == "side"
               else "yellow: evidence for pain (sums to PSPI)")
        lines = (f"{name} (n={group.faces})", key, "patient's right on the image left")
        strip = np.full((14 * len(lines) + 6, big.shape[1], 3), 255, np.uint8)
        for row, text in enumerate(lines):
            cv2.putText(strip, text, (4, 14 * row + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1,
                        cv2.LINE_AA)
        return np.vstack([big, strip])

    def summary(self) -> dict[str, Any]:
        out = {}
        for name, group in sorted(self.groups.items()):
            keys = sorted(group.shares, key=lambda k: -float(np.mean(group.shares[k])))
            out[name] = {"faces": group.faces, "regions": [
                {"key": k, "label": f"{k.rpartition('_')[0]}, patient's {k.rpartition('_')[2]}",
                 "share": round(float(np.mean(group.shares[k])), 4),
                 "signed_share": round(float(np.mean(group.signed[k])), 4)} for k in keys]}
        return out


def file_name(group: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", group.lower()).strip("_") + ".png"


def gradcam_batch(model: LoadedModel, inputs: torch.Tensor,
                  targets: list[int]) -> tuple[np.ndarray, dict[str, Any]]:
    """Grad-CAM input maps ``(N, h, w)`` of ``N`` inputs in one backward pass and their parameters: the
    maps :class:`explain.gradcam.GradCamExplainer` makes one by one (same layer, centring and mirror
    average), batched for population throughput."""
    from explain.gradcam import GradCamExplainer

    maps, params = GradCamExplainer().input_maps(model, inputs, [int(t) for t in targets])
    return np.asarray(maps, np.float32), params


def _stage_input(assessment: Assessment, bundle: ModelBundle, stage: str) -> tuple[LoadedModel, torch.Tensor,
                                                                                     MapSource, int, float]:
    geometry = assessment.geometry
    if stage == "side":
        if bundle.side is None or assessment.inputs.side is None:
            raise ValueError("Side population maps need a side model")
        index = SIDE_CLASSES.index(assessment.affected_side)
        probability = (assessment.side_probabilities or {}).get(assessment.affected_side, float("nan"))
        return bundle.side, assessment.inputs.side, MapSource(geometry, "side"), index, float(probability)
    half = assessment.unaffected_side
    return (bundle.pain, assessment.inputs.halves[half], MapSource(geometry, "pain", half), 0,
            float(assessment.pspi.raw["unaffected_half"]))


def batched_gradcam(items: list[tuple[Face, Assessment]], bundle: ModelBundle,
                    stage: str) -> list[Explanation]:
    """Grad-CAM explanations of a batch of assessed faces (see :func:`gradcam_batch`)."""
    started = time.perf_counter()
    parts = [_stage_input(assessment, bundle, stage) for _, assessment in items]
    model = parts[0][0]
    maps, params = gradcam_batch(model, torch.cat([p[1] for p in parts]), [p[3] for p in parts])
    each = (time.perf_counter() - started) / max(len(items), 1)
    return [Explanation(method="gradcam", stage=stage, half=source.half, target=target_label(stage, index),
                        target_index=index, prediction=prediction, input_map=input_map,
                        face_map=to_face_map(input_map, source, model.spec),
                        params={**params, "batched": True}, seconds=each)
            for (_, _, source, index, prediction), input_map in zip(parts, maps, strict=True)]


def run(data: str | Path, stage: str, method: str, out: str | Path, *, limit: int | None = None,
        layout: str | None = None, bundle: ModelBundle | None = None, frame_size: int = 128,
        detect: bool = False, progress: bool = True, batch: int = 32, data_label: str | None = None,
        **params: Any) -> dict[str, Any]:
    """Population heatmaps of ``stage`` by ``method`` over ``data``; writes PNGs and ``population.json``
    into ``out`` and returns the JSON content. Faces where no face is found are counted and skipped.
    Grad-CAM runs in batches of ``batch`` faces; other methods face by face. ``data_label`` is recorded
    as the data's description instead of its path (e.g. the command that rendered a temporary set)."""
    from PIL import Image

    from faces.errors import FaceInputError

    bundle = bundle or load_default_models()
    explainer = None if method == "gradcam" else get_explainer(method)
    population = Population(CanonicalFrame(frame_size), signed=stage != "side")
    faces: Any = iter_faces(data, layout)
    if limit:
        faces = itertools.islice(faces, limit)
    if progress:
        from tqdm import tqdm

        faces = tqdm(faces, total=limit, desc=f"population {stage} {method}", unit="face")
    skipped, seconds, pending = 0, 0.0, []

    def flush() -> None:
        nonlocal seconds
        started = time.perf_counter()
        if explainer is None:
            explanations = batched_gradcam(pending, bundle, stage)
        else:
            explanations = [explain(a, stage=stage, method=method, models=bundle, explainer=explainer,
                                    **params)[0] for _, a in pending]
        for (face, assessment), explanation in zip(pending, explanations, strict=True):
            population.add(explanation, assessment, groups_of(face, assessment, stage))
        seconds += time.perf_counter() - started
        pending.clear()

    explained = 0
    for face in faces:
        try:
            assessment = assess(face.image, models=bundle, landmarks=None if detect else face.landmarks)
        except FaceInputError:
            skipped += 1
            continue
        pending.append((face, assessment))
        explained += 1
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in population.groups:
        files[name] = file_name(name)
        Image.fromarray(population.picture(name)).save(target / files[name], optimize=True)
    report = {"stage": stage, "method": method, "data": data_label or str(data), "faces": explained,
              "skipped": skipped,
              "frame": frame_size, "seconds_per_face_explain_and_warp": round(seconds / max(explained, 1), 4),
              "groups": population.summary(), "files": files}
    (target / "population.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain population", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="dataset folder (any layout the loaders read)")
    parser.add_argument("--stage", choices=("side", "pain"), default="side")
    parser.add_argument("--method", choices=tuple(METHODS), default="gradcam")
    parser.add_argument("--out", required=True, help="folder for the PNGs and population.json")
    parser.add_argument("--limit", type=int, default=None, help="use the first N faces")
    parser.add_argument("--layout", default=None, help="layout name when the folder matches several")
    parser.add_argument("--frame", type=int, default=128, help="canonical frame size in pixels")
    parser.add_argument("--detect", action="store_true", help="find landmarks even where the layout has them")
    args = parser.parse_args(argv)
    report = run(args.data, args.stage, args.method, args.out, limit=args.limit, layout=args.layout,
                 frame_size=args.frame, detect=args.detect)
    print(f"{report['faces']} faces ({report['skipped']} skipped), "
          f"{report['seconds_per_face_explain_and_warp'] * 1000:.1f} ms per face to explain and warp; "
          f"{len(report['files'])} groups written to {args.out}")
    return 0


__all__ = ["PSPI_BANDS", "Face", "Population", "batched_gradcam", "gradcam_batch", "groups_of", "iter_faces",
           "main", "pspi_band", "run"]
