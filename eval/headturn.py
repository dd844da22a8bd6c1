"""How well the head-turn estimate (:mod:`faces.pose`) reads turned faces, what a turn does to the side
decision, and how many real photos get the turn warning.

``python -m eval headturn [--faces 10] [--seed 6161] [--yaws 0,10,15,20,25,30,-20,-30] [--json FILE]``

**Synthetic faces**: ``faces`` fresh people (seed ``seed``; every second one with a palsy on a random
patient side, severity 0.5-1, central or peripheral), each rendered at every yaw of ``yaws`` with no roll
(positive yaw turns the face toward the image right, i.e. toward the patient's left in these
non-mirrored pictures) and assessed by the whole pipeline with dlib's landmarks and the shipped models.
Per yaw: the estimated turn (signed: positive toward the patient's left), its error, the share warned,
the side model on the same faces (the share of palsy faces whose true side is named clearly, and on
faces without a palsy the median top probability and the share named clearly, a false palsy), and how
far the reported PSPI moved from the same face's frontal reading (median, and the share within 0.5).

**Real photos**: every offline photo (:mod:`data.photos`, both parts): the estimated turn, and the share
at or above :data:`faces.pose.TURN_WARNING_DEGREES`. The warning changes no score, so reading it on the
held-out photos chooses nothing.

**With** ``--realcheck FILE`` (the JSON of ``python -m eval realcheck --out FILE``): that run's photos
split into those the warning flags and the rest, each summarised and printed as ``python -m eval
realcheck`` does, to see whether the warning marks the photos the models read less well.

The development faces that set the slope and the threshold used seed 6060; the default seed here is
fresh.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.realcheck import summarise
from eval.realcheck import table as realcheck_table
from faces.errors import FaceInputError
from faces.pose import TURN_WARNING_DEGREES
from faces.sides import Side

DEFAULT_YAWS = (0.0, 10.0, 15.0, 20.0, 25.0, 30.0, -20.0, -30.0)
DEFAULT_SEED = 6161


def signed_degrees(turn: Any) -> float:
    """The turn's degrees, positive toward the patient's left (the renderer's positive yaw)."""
    return turn.degrees if turn.toward is Side.LEFT else -turn.degrees if turn.toward is Side.RIGHT else 0.0


def synthetic_rows(faces: int, seed: int, yaws: tuple[float, ...], bundle: Any,
                   progress: bool = False) -> list[dict[str, Any]]:
    """One record per face and yaw (see the module docstring)."""
    from data.synth import Palsy, render_face, sample_identity
    from data.synth.aus import PALSY_TYPES
    from data.synth.generate import sample_frame_spec
    from models.pipeline import assess
    from models.registry import SIDE_CLASSES

    indices: Any = range(faces)
    if progress:
        from tqdm import tqdm

        indices = tqdm(indices, desc="headturn", unit="face")
    rows = []
    for index in indices:
        rng = np.random.default_rng([seed, index])
        palsy = (Palsy(side=SIDE_CLASSES[int(rng.integers(2))], severity=float(rng.uniform(0.5, 1.0)),
                       kind=PALSY_TYPES[int(rng.integers(len(PALSY_TYPES)))]) if index % 2 else None)
        spec = sample_frame_spec(rng, sample_identity(int(rng.integers(2**31))), palsy=palsy, size=256)
        for yaw in yaws:
            image = render_face(replace(spec, yaw=float(yaw), roll=0.0)).image
            truth = None if palsy is None else palsy.side.value
            row: dict[str, Any] = {"face": index, "yaw": yaw, "palsy": truth}
            try:
                assessment = assess(image, models=bundle)
            except FaceInputError:
                rows.append(row | {"found": False})
                continue
            turn = assessment.geometry.head_turn
            probabilities = assessment.side_probabilities or {}
            choice = max(probabilities, key=probabilities.get) if probabilities else None
            rows.append(row | {
                "found": True, "estimated": round(signed_degrees(turn), 2), "warned": turn.warn,
                "side_choice": None if choice is None else choice.value,
                "side_top": None if choice is None else round(float(probabilities[choice]), 4),
                "side_clear": assessment.side_outcome == "affected_side_found",
                "reported_pspi": round(float(assessment.reported_pspi), 3)})
    return rows


def summarise_synthetic(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    frontal = {r["face"]: r["reported_pspi"] for r in rows if r["yaw"] == 0 and r.get("found")}
    for yaw in sorted({r["yaw"] for r in rows}):
        found = [r for r in rows if r["yaw"] == yaw and r.get("found")]
        moved = [abs(r["reported_pspi"] - frontal[r["face"]]) for r in found if r["face"] in frontal]
        palsy = [r for r in found if r["palsy"]]
        clean = [r for r in found if not r["palsy"] and r["side_top"] is not None]
        estimated = np.array([r["estimated"] for r in found])
        out.append({
            "yaw": yaw, "faces": sum(r["yaw"] == yaw for r in rows), "found": len(found),
            "estimated_median": round(float(np.median(estimated)), 1) if len(found) else None,
            "abs_error_median": round(float(np.median(np.abs(estimated - yaw))), 1) if len(found) else None,
            "warned": round(float(np.mean([r["warned"] for r in found])), 3) if found else None,
            "palsy_named_clearly_and_right": (
                round(float(np.mean([r["side_clear"] and r["side_choice"] == r["palsy"] for r in palsy])), 3)
                if palsy else None),
            "no_palsy_top_median": (round(float(np.median([r["side_top"] for r in clean])), 3)
                                    if clean else None),
            "no_palsy_named_clearly": (round(float(np.mean([r["side_clear"] for r in clean])), 3)
                                       if clean else None),
            "pspi_moved_median": round(float(np.median(moved)), 2) if moved else None,
            "pspi_moved_within_0.5": round(float(np.mean(np.asarray(moved) <= 0.5)), 2) if moved else None,
        })
    return out


def real_rows(progress: bool = False) -> list[dict[str, Any]]:
    """Estimated turn of every offline photo (no models needed)."""
    from data.photos import offline_photos
    from faces import analyse

    photos: Any = offline_photos("all")
    if progress:
        from tqdm import tqdm

        photos = tqdm(photos, desc="photos", unit="photo")
    rows = []
    for photo in photos:
        try:
            turn = analyse(photo.image).head_turn
        except FaceInputError:
            rows.append({"name": photo.name, "part": photo.part, "found": False})
            continue
        rows.append({"name": photo.name, "part": photo.part, "found": True,
                     "estimated": round(signed_degrees(turn), 2), "warned": turn.warn})
    return rows


def summarise_real(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for part in ("development", "held_out"):
        found = [r for r in rows if r["part"] == part and r["found"]]
        if not found:
            continue
        degrees = np.abs([r["estimated"] for r in found])
        out[part] = {"photos": len(found), "median_degrees": round(float(np.median(degrees)), 1),
                     "max_degrees": round(float(degrees.max()), 1),
                     "warned": sum(r["warned"] for r in found)}
    return out


def split_realcheck(records: list[dict[str, Any]], real: list[dict[str, Any]]) -> dict[str, Any]:
    """A realcheck run's photos with a face, warned about a head turn or not, each group summarised by
    :func:`eval.realcheck.summarise` (the benchmark's own figures and rules)."""
    warned = {r["name"]: r["warned"] for r in real if r.get("found")}
    out = {}
    for label, flag in (("warned", True), ("not warned", False)):
        photos = [p for p in records if p.get("face_found") and warned.get(p["name"]) is flag]
        if photos:
            out[label] = summarise(photos)
    return out


def table(synthetic: list[dict[str, Any]], real: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return "-" if value is None else str(value)

    lines = [f"{'yaw':>5} {'found':>7} {'estimate':>9} {'|error|':>8} {'warned':>7} "
             f"{'palsy named clearly, right':>27} {'no palsy: top p / clear':>24} "
             f"{'PSPI moved / <= 0.5':>20}"]
    for s in synthetic:
        lines.append(f"{s['yaw']:>5.0f} {s['found']:>3}/{s['faces']:<3} {text(s['estimated_median']):>9} "
                     f"{text(s['abs_error_median']):>8} {text(s['warned']):>7} "
                     f"{text(s['palsy_named_clearly_and_right']):>27} "
                     f"{text(s['no_palsy_top_median']) + ' / ' + text(s['no_palsy_named_clearly']):>24} "
                     f"{text(s['pspi_moved_median']) + ' / ' + text(s['pspi_moved_within_0.5']):>20}")
    lines.append(f"warning from {TURN_WARNING_DEGREES:g} degrees; real photos (estimated turn, either way):")
    for part, r in real.items():
        lines.append(f"  {part}: {r['photos']} photos, median {r['median_degrees']} degrees, max "
                     f"{r['max_degrees']}, warned {r['warned']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval headturn", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=10)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--yaws", default=",".join(f"{y:g}" for y in DEFAULT_YAWS),
                        help="comma-separated yaws in degrees (positive: toward the patient's left)")
    parser.add_argument("--no-real", action="store_true", help="skip the real photos")
    parser.add_argument("--weights", type=Path, default=None, help="model weights folder (default: shipped)")
    parser.add_argument("--realcheck", type=Path, default=None,
                        help="a realcheck run's JSON: split its photos by the warning (needs the real "
                             "photos)")
    parser.add_argument("--json", type=Path, default=None, help="also write the records and summary here")
    parser.add_argument("--no-balance", action="store_true",
                        help="read the side model's face without half balancing (faces.pose.HalfBalance)")
    args = parser.parse_args(argv)
    from models.pipeline import load_default_models

    yaws = tuple(float(v) for v in args.yaws.split(",") if v.strip())
    bundle = load_default_models(args.weights)
    if args.no_balance:
        bundle = bundle.with_half_balance(False)
    rows = synthetic_rows(args.faces, args.seed, yaws, bundle, progress=True)
    synthetic = summarise_synthetic(rows)
    reals = [] if args.no_real else real_rows(progress=True)
    real = summarise_real(reals)
    print(table(synthetic, real))
    split = None
    if args.realcheck and reals:
        records = json.loads(args.realcheck.read_text(encoding="utf-8"))["photos"]
        split = split_realcheck(records, reals)
        print(realcheck_table(split))
    if args.json:
        report = {"seed": args.seed, "faces": args.faces, "yaws": list(yaws),
                  "warning_from_degrees": TURN_WARNING_DEGREES, "synthetic": synthetic, "real": real,
                  "realcheck_split": split, "synthetic_rows": rows, "real_rows": reals}
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


__all__ = ["DEFAULT_SEED", "DEFAULT_YAWS", "main", "real_rows", "signed_degrees", "split_realcheck",
           "summarise_real", "summarise_synthetic", "synthetic_rows", "table"]
