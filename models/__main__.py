"""``python -m models``: train models, assess a photo, benchmark the pipeline (see ``--help``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

TASK_NAMES = {"side": "side", "pain": "pain", "pain-binary": "pain_binary"}


def _add_train(sub: argparse._SubParsersAction) -> None:
    from models.registry import ARCHITECTURES
    from models.train import SCHEDULERS, SPLITS

    p = sub.add_parser("train", help="train a side, pain or pain/no-pain model and write its model card")
    p.add_argument("task", choices=sorted(TASK_NAMES), help="what to train")
    p.add_argument("--data", type=Path, required=True, help="dataset folder (any layout the loaders read)")
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), help="default: side_cnn (side), resnet18 (pain)")
    p.add_argument("--split", choices=SPLITS, default="subject",
                   help="random 80/20 by frame, k-fold by subject, subject-wise, or the dataset's testing/")
    p.add_argument("--out", type=Path, required=True, help="run directory (re-running resumes)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--patience", type=int, default=5, help="epochs without improvement before stopping")
    p.add_argument("--scheduler", choices=SCHEDULERS, default="cosine")
    p.add_argument("--input-size", help="HxW, e.g. 128x64 for halves (default) or 128x128 for faces")
    p.add_argument("--input-kind", choices=("half", "face"),
                   help="pain models: half faces (default) or the whole aligned face")
    p.add_argument("--grayscale", action="store_true", help="train on luminance (grayscale datasets)")
    p.add_argument("--pretrained", type=Path, help="local ImageNet state dict (never downloaded)")
    p.add_argument("--allow-leak", action="store_true",
                   help="accept a split that puts a subject or frame on both sides (recorded in the card)")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--fold", default="0", help="which k-fold split to train (0-based), or 'all'")
    p.add_argument("--layout", help="dataset layout when it cannot be detected")
    p.add_argument("--side-convention", choices=("patient", "image"), default="patient",
                   help="what the dataset's sides mean: patient sides (default) or image sides of "
                        "ordinary photos (half faces: _a is the image right; side labels: 'left' is the "
                        "image left)")
    p.add_argument("--binary-threshold", type=float, default=0.0, help="pain = PSPI > t")
    p.add_argument("--outputs", type=int, help="pain-binary: 2 logits (default) or 1")
    p.add_argument("--on-no-face", choices=("error", "template"), default="error",
                   help="full-face images without a detected face: skip them (error) or use the template")
    p.add_argument("--half-precision", action="store_true", help="store weights as float16")
    p.add_argument("--max-records", type=int, help="use only the first N labelled records")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast in the training forward pass (faster on CPUs with bf16)")
    p.add_argument("--description", default="", help="training data description for the model card")
    p.add_argument("--note", action="append", default=[], help="a caveat for the model card (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from models.preprocess import parse_size
    from models.train import TrainConfig, TrainingError, command_line, run_kfold, run_training

    kind = {"half": "half_face", "face": "aligned_face", None: None}[args.input_kind]
    all_folds = args.fold == "all"
    try:
        config = TrainConfig(
            task=TASK_NAMES[args.task], data=args.data, out=args.out, arch=args.arch, split=args.split,
            epochs=args.epochs, seed=args.seed, batch_size=args.batch_size, lr=args.lr,
            weight_decay=args.weight_decay, patience=args.patience, scheduler=args.scheduler,
            input_size=parse_size(args.input_size) if args.input_size else None, input_kind=kind,
            grayscale=args.grayscale, pretrained=args.pretrained, allow_leak=args.allow_leak,
            val_fraction=args.val_fraction, folds=args.folds, fold=0 if all_folds else int(args.fold),
            layout=args.layout,
            side_convention=args.side_convention, binary_threshold=args.binary_threshold,
            on_no_face=args.on_no_face, outputs=args.outputs, half_precision=args.half_precision,
            max_records=args.max_records, threads=args.threads, augment=not args.no_augment, bf16=args.bf16,
            description=args.description, notes=list(args.note), command=command_line(argv),
            progress=not args.quiet,
        )
        if all_folds:
            report = run_kfold(config)
        else:
            result = run_training(config)
    except (TrainingError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if all_folds:
        print(f"wrote {args.out / 'kfold_summary.json'} ({report['k']} folds)")
        print("mean over folds: " + ", ".join(f"{k} {v['mean']:.4g} ± {v['std']:.2g}"
                                              for k, v in report["summary"].items()))
        return 0
    metrics = {k: v for k, v in result.metrics.items() if not isinstance(v, dict)}
    print(f"wrote {result.card_path} ({result.card_path.with_suffix('.safetensors').name})")
    print("validation: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in metrics.items()))
    return 0


def _add_assess(sub: argparse._SubParsersAction) -> None:
    from faces.background import BACKGROUNDS

    p = sub.add_parser("assess", help="assess one photo: affected side, PSPI of the unaffected half")
    p.add_argument("photo", type=Path, help="full-face photo (JPEG, PNG, ...)")
    p.add_argument("--side", choices=("left", "right"),
                   help="the affected side if known (the patient's side); overrides the side model")
    p.add_argument("--mirrored", action="store_true", help="the photo is a mirror image (webcam preview)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--weights", type=Path, help="folder of model checkpoints (default: models/weights)")
    p.add_argument("--on-no-face", choices=("error", "template"), default="error",
                   help="no face detected: stop (error) or use template landmarks (pre-cropped faces)")
    p.add_argument("--reference", type=Path,
                   help="a neutral photo of the same person at rest: scores are read relative to it")
    p.add_argument("--background", choices=BACKGROUNDS, default="keep",
                   help="set everything outside the head to white first (off by default: on the development "
                        "photos it made every stress figure worse with the demo weights)")


def _assess(args: argparse.Namespace) -> int:
    from faces.errors import FaceInputError
    from models.checkpoint import CheckpointError
    from models.pipeline import AssessmentError, MissingWeightsError, assess, load_default_models

    try:
        bundle = load_default_models(args.weights)
        result = assess(args.photo, side=args.side or "auto", mirrored=args.mirrored, models=bundle,
                        on_no_face=args.on_no_face, reference=args.reference,
                        background=args.background)
    except (FaceInputError, AssessmentError, MissingWeightsError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(format_assessment(result.to_dict()))
    return 0


def _half_name(key: str) -> str:
    return "patient's " + key.split("_", 1)[1]


def format_assessment(data: dict) -> str:
    """Readable lines for an assessment's :meth:`~models.pipeline.Assessment.to_dict`."""
    from models.pipeline import CONFIRM_SIDE

    source = {"model": "side model", "override": "set by hand", "geometry": "geometric asymmetry"}
    affected = data["affected_side"]["description"]
    named_by_model = data["side_source"] == "model" and data.get("side_outcome") != "no_clear_side"
    if data.get("side_outcome") == "no_clear_side":
        affected = f"NO CLEAR AFFECTED SIDE (tentatively the {affected}; set it by hand)"
    probabilities = data["side_probabilities"]
    detail = ""
    if probabilities:
        detail = (f" [p(patient's left) = {probabilities['patient_left']:.2f}, "
                  f"p(patient's right) = {probabilities['patient_right']:.2f}]")
    asym = data["asymmetry"]
    points = asym["points_to"]["description"] if asym["points_to"] else "no clear side"
    pspi = data["pspi"]
    reference = data.get("reference")
    full = "full-face model" if pspi["full_face_source"] == "model" else "mean of the two halves"
    lines = [
        f"Reported PSPI (0-16): {data['reported_pspi']['value']:.2f} ("
        + ("the unaffected half" if data["reported_pspi"]["source"] == "unaffected_half"
           else "mean of both halves: no clear affected side") + ")",
        f"Affected side: {affected} ({source[data['side_source']]}){detail}",
        *([f"  {CONFIRM_SIDE}"] if named_by_model else []),
        f"Geometric asymmetry points to: {points} (index {asym['index']:.3f})",
    ]
    relative = ", read relative to the reference (rest) photo" if reference else ""
    if data.get("side_outcome") == "no_clear_side":  # neither half is the unaffected one: both, alike
        lines += ["Scored halves: both (no clear affected side)",
                  f"PSPI (0-16): full face {pspi['full_face']:.2f} ({full}){relative}"]
    else:
        lines += [f"Scored half (unaffected): {data['scored_half']['description']}",
                  f"PSPI (0-16): unaffected half {pspi['unaffected_half']:.2f} | affected half "
                  f"{pspi['affected_half']:.2f} | full face {pspi['full_face']:.2f} ({full}){relative}"]
    if data.get("half_scores"):
        lines.append("PSPI per half: " + " | ".join(f"{_half_name(k)} {v:.2f}"
                                                     for k, v in data["half_scores"].items()))
    if reference:
        network = reference["network_pspi"]
        lines.append("Without the reference: " + " | ".join(
            f"{k.replace('_', ' ')} {network['absolute'][k]:.2f} (at rest {network['rest'][k]:.2f})"
            for k in ("patient_left", "patient_right", "full_face")))
    for key, estimate in (data.get("landmark_estimate") or {}).items():
        aus = ", ".join(f"{k} {v:.1f}" for k, v in estimate["aus"].items())
        lines.append(f"Landmark estimate, {_half_name(key)}: PSPI {estimate['pspi']:.2f} ({aus})")
    lines.append("Timings (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in data["timings_ms"].items()
                                              if "." not in k))
    lines += [f"Note: {w}" for w in data["warnings"]]
    return "\n".join(lines)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="cold start and latency on a 1-megapixel photo, beside the earlier app")
    p.add_argument("--weights", type=Path,
                   help="checkpoint folder (default: models/weights if it has models, else random weights)")
    p.add_argument("--data", type=Path, help="labelled full-face dataset to compare accuracy and MAE on")
    p.add_argument("--limit", type=int, default=50, help="images of --data to use")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layout", choices=("channels_last", "contiguous"), default="channels_last",
                   help="weights' memory layout for the latency (channels_last is what the pipeline ships)")
    p.add_argument("--json", action="store_true")


def _bench(args: argparse.Namespace) -> int:
    from models.bench import format_report, run_bench
    from models.pipeline import WEIGHTS_DIR

    weights = args.weights or (WEIGHTS_DIR if any(WEIGHTS_DIR.glob("*.json")) else None)
    report = run_bench(weights, repeats=args.repeats, threads=args.threads, data_dir=args.data,
                       limit=args.limit, layout=args.layout)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _add_install(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("install", help="copy a trained checkpoint into the weights folder under its role")
    p.add_argument("checkpoint", type=Path, help="a run's model.json (or its .safetensors)")
    p.add_argument("--role", choices=("side", "pain", "full_face_pain"), help="default: from the card")
    p.add_argument("--weights", type=Path, help="destination folder (default: models/weights)")
    p.add_argument("--half-precision", action="store_true", help="store conv/linear weights as float16")


def _install(args: argparse.Namespace) -> int:
    from models.checkpoint import CheckpointError
    from models.pipeline import WEIGHTS_DIR, install

    try:
        path = install(args.checkpoint, args.weights or WEIGHTS_DIR, role=args.role,
                       half_precision=args.half_precision)
    except (CheckpointError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"installed {path} and {path.with_suffix('.safetensors').name}")
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    from models.bundle import ROLES

    p = sub.add_parser("demo-weights",
                       help="render the synthetic data, train, test and install the demo weights")
    p.add_argument("--work", type=Path, default=Path("build/demo-weights"),
                   help="folder for the rendered data and training runs (reused when re-run)")
    p.add_argument("--weights", type=Path, help="destination folder (default: models/weights)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="fraction of the recipe's subjects (quick trials)")
    p.add_argument("--max-epochs", type=int, help="cap every model's epochs (quick trials)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--only", nargs="+", choices=ROLES, metavar="ROLE",
                   help="retrain only these roles (side, pain, full_face_pain); the other installed models "
                   "are kept as they are and tested with the new ones")
    p.add_argument("--arch", action="append", default=[], metavar="ROLE=ARCH",
                   help="train ROLE's network (and the base run it starts from) as architecture ARCH instead "
                   "of the recipe's, e.g. side=side_halves (repeatable)")
    p.add_argument("--yaw-sd", action="append", default=[], metavar="DATASET=DEGREES",
                   help="draw a synthetic dataset of the recipe (side, side_base, pain, test) with this "
                   "head-turn spread instead of 4 degrees, e.g. side=12 (repeatable; a trial, not the "
                   "shipped recipe)")
    p.add_argument("--leave-out-photos", metavar="K/N",
                   help="leave fold K of N of the development photos (split by person) out of the photo "
                   "edits, to judge the models on photos they did not learn from (e.g. 0/2); not for shipped "
                   "weights")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _demo(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from models.demo import DemoRecipe, build_demo_weights, format_report
    from models.pipeline import WEIGHTS_DIR
    from models.train import command_line

    recipe = DemoRecipe()
    for choice in args.arch:
        role, _, architecture = choice.partition("=")
        recipe = recipe.with_architecture(role.strip(), architecture.strip())
    if args.yaw_sd:
        spreads = {}
        for choice in args.yaw_sd:
            name, _, degrees = choice.partition("=")
            spreads[name.strip()] = float(degrees)
        recipe = recipe.with_yaw_sd(spreads)
    if args.scale != 1.0 or args.max_epochs:
        recipe = recipe.scaled(args.scale, args.max_epochs)
    if args.leave_out_photos:
        fold, _, folds = args.leave_out_photos.partition("/")
        recipe = recipe.leaving_out(int(fold), int(folds))
    report = build_demo_weights(args.work, args.weights or WEIGHTS_DIR, recipe=recipe, threads=args.threads,
                                progress=not args.quiet, command=command_line(argv), only=args.only)
    print(format_report(report))
    return 0 if all(report["evaluation"]["acceptance"].values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_assess(sub)
    _add_bench(sub)
    _add_install(sub)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "train":
        return _train(args, argv)
    if args.command == "assess":
        return _assess(args)
    if args.command == "bench":
        return _bench(args)
    if args.command == "install":
        return _install(args)
    if args.command == "demo-weights":
        return _demo(args, argv)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
