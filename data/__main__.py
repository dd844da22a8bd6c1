"""Command line for the data package.

``python -m data synth --out DIR ...``  write a synthetic dataset in one or all layouts;
``python -m data sheet --out PNG``      write a contact sheet of the synthetic faces;
``python -m data bench-synth [--dlib]`` measure synthetic rendering speed (faces per second, one core) and,
                                       with --dlib, how well dlib finds and fits the rendered faces;
``python -m data fit-au-proxy``         fit the landmark pain estimate (faces/au_proxy.json) on synthetic
                                       faces with dlib landmarks and test it on other subjects.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence


def _synth(args: argparse.Namespace) -> int:
    from data.synth.write import SynthConfig, write_dataset

    config = SynthConfig(subjects=args.subjects, frames=args.frames, seed=args.seed, layout=args.layout,
                         distribution=args.distribution, palsy_fraction=args.palsy_fraction, size=args.size,
                         au_masks=args.au_masks, yaw_sd=args.yaw_sd)
    if args.palsy_fraction == 0 and args.layout in ("side", "all"):
        print("note: --palsy-fraction 0 gives no palsy subjects, so every side label is 'skip'",
              file=sys.stderr)
    manifest = write_dataset(args.out, config, progress=not args.quiet)
    print(f"wrote {manifest['faces']} faces to {args.out} ({', '.join(manifest['layouts'])})")
    print("PSPI histogram (true pain):", manifest["pspi_true_histogram"])
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from data.synth.sheet import write_contact_sheet

    path = write_contact_sheet(args.out, cell=args.cell, seed=args.seed)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np

    from data.synth.generate import make_subject, sample_frame_spec
    from data.synth.render import render_face

    cv2.setNumThreads(1)
    subjects = [make_subject(i, args.seed, 0.5) for i in range(16)]
    specs = [sample_frame_spec(np.random.default_rng([args.seed, k]), subjects[k % 16].identity, "balanced",
                               subjects[k % 16].palsy, args.size) for k in range(args.n)]
    for spec in specs[:8]:
        render_face(spec)
    start, cpu_start = time.perf_counter(), time.process_time()
    faces = [render_face(spec) for spec in specs]
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"{args.n / cpu:.1f} faces/s at {args.size}x{args.size} on one core "
          f"({1000 * cpu / args.n:.2f} ms CPU per face; {args.n / elapsed:.1f} faces/s wall clock, "
          f"which includes waiting for a shared CPU)")
    if args.dlib:
        _dlib_on_renders(faces)
    return 0


def _dlib_on_renders(faces: Sequence) -> None:
    """How often dlib finds the rendered face, and how far its 68 landmarks lie from the true ones."""
    import numpy as np

    from faces import detect_faces, fit_landmarks

    errors = []
    for face in faces:
        boxes = detect_faces(face.image)
        if boxes:
            points = fit_landmarks(face.image, boxes[0])
            errors.append(float(np.median(np.linalg.norm(points - face.landmarks, axis=1))) / face.face_width)
    found = len(errors)
    line = f"dlib found and fitted {found}/{len(faces)} renders ({found / len(faces):.1%})"
    if errors:
        line += (f"; landmark error (per-face median distance / face width): median {np.median(errors):.2%}, "
                 f"90th percentile {np.percentile(errors, 90):.2%}")
    print(line)


def _fit_au_proxy(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from data.au_fit import collect, evaluate, fit_model

    os.environ.setdefault("OMP_NUM_THREADS", "1")

    train = collect(args.subjects, args.frames, args.seed, progress=not args.quiet)
    test = collect(args.test_subjects, args.frames, args.test_seed, progress=not args.quiet)
    model = fit_model(train)
    report = evaluate(model, test, float(train.pspi.mean()))
    model["fitted_on"] = {
        "data": "synthetic faces (data.synth), landmarks fitted by dlib, one sample per patient half",
        "subjects": args.subjects, "frames_per_subject": args.frames, "seed": args.seed,
        "halves": len(train), "distributions": ["unbc", "balanced"],
        "command": (f"python -m data fit-au-proxy --out {args.out} --subjects {args.subjects} --frames "
                    f"{args.frames} --seed {args.seed} --test-subjects {args.test_subjects} "
                    f"--test-seed {args.test_seed}"),
    }
    model["test"] = {"seed": args.test_seed, "note": "subject-wise: other subjects than the fit", **report}
    Path(args.out).write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {args.out}: fitted on {len(train)} halves of {args.subjects} subjects (seed {args.seed})")
    print(f"test on {report['halves']} halves of {report['subjects']} other subjects "
          f"(seed {args.test_seed}): "
          f"PSPI MAE {report['pspi_mae']:.2f} (95% CI {report['pspi_mae_95ci'][0]:.2f}-"
          f"{report['pspi_mae_95ci'][1]:.2f}), Pearson r {report['pspi_pearson_r']:.3f}; "
          f"mean predictor MAE {report['mean_baseline_mae']:.2f}")
    print("per-term MAE:", ", ".join(f"{k} {v:.2f}" for k, v in report["term_mae"].items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="write a synthetic dataset")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--subjects", type=int, default=10)
    synth.add_argument("--frames", type=int, default=20, help="frames per subject")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--layout", default="unbc", choices=("unbc", "halfface", "side", "binary", "all"))
    synth.add_argument("--distribution", default="unbc", choices=("unbc", "balanced", "mixed"),
                       help="PSPI distribution: UNBC-like (mostly 0, long tail), balanced over 0-12, or "
                       "mixed (40%% at 0, the rest uniform over 1-14)")
    synth.add_argument("--palsy-fraction", type=float, default=0.5, help="fraction of subjects with palsy")
    synth.add_argument("--size", type=int, default=256, help="image width = height in pixels")
    synth.add_argument("--yaw-sd", type=float, default=4.0,
                       help="spread of the head turn in degrees (normal, clipped at 2.5 of it)")
    synth.add_argument("--au-masks", action="store_true",
                       help="also write per-AU change maps (<stem>.aumask.npz); "
                       "renders each frame once more per active AU")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=_synth)
    sheet = sub.add_parser("sheet", help="write a contact sheet PNG")
    sheet.add_argument("--out", default="docs/contact_sheet.png")
    sheet.add_argument("--cell", type=int, default=144, help="cell size in pixels")
    sheet.add_argument("--seed", type=int, default=11)
    sheet.set_defaults(func=_sheet)
    bench = sub.add_parser("bench-synth", help="synthetic faces per second on one core")
    bench.add_argument("--n", type=int, default=300)
    bench.add_argument("--size", type=int, default=256)
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--dlib", action="store_true",
                       help="also run dlib detection and landmarks on the renders and compare with the truth")
    bench.set_defaults(func=_bench)
    fit = sub.add_parser("fit-au-proxy", help="fit the landmark pain estimate on synthetic faces")
    fit.add_argument("--out", default="faces/au_proxy.json")
    fit.add_argument("--subjects", type=int, default=150)
    fit.add_argument("--frames", type=int, default=8,
                     help="frames per subject (half UNBC-like, half balanced)")
    fit.add_argument("--seed", type=int, default=301)
    fit.add_argument("--test-subjects", type=int, default=40)
    fit.add_argument("--test-seed", type=int, default=5101, help="seed of the held-out test subjects")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=_fit_au_proxy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "bench-synth":
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
