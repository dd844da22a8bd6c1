"""``python -m eval``: evaluation reports, the seeds' studies, and the real-photo check.

- ``python -m eval --data DIR --models WEIGHTS --out FOLDER``: assess every photo of a labelled dataset
  with the models, write ``report.json`` and a self-contained ``report.html`` (see :mod:`eval.report`);
- ``python -m eval demo-report``: the committed report of the shipped demo weights, on a fresh synthetic
  test set (:mod:`eval.demo_report`), deterministic;
- ``python -m eval studies``: the seeds' studies (:mod:`eval.studies.run`); ``--full`` for a GPU;
- ``python -m eval realcheck ...``: models on edited real photos (:mod:`eval.realcheck`);
- ``python -m eval bench [--quick]``: one table of speed against floors and references (:mod:`eval.bench`);
- ``python -m eval domain fit|report``: the domain indicator's statistics and its AUROC (:mod:`eval.domain`).
- ``python -m eval reference``: does a neutral reference photo lower the errors (:mod:`eval.reference`).
- ``python -m eval side-threshold``: the side model's "no clear side" threshold, chosen on development
  faces (:mod:`eval.side_threshold`).
- ``python -m eval headturn``: the head-turn estimate and warning on turned synthetic faces and on the
  real photos (:mod:`eval.headturn`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

SUBCOMMANDS = ("demo-report", "studies", "realcheck", "report", "bench", "domain", "reference",
               "side-threshold", "headturn")


def _report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="labelled full-face dataset (any layout)")
    p.add_argument("--models", type=Path, default=None, help="weights folder (default: models/weights)")
    p.add_argument("--out", type=Path, default=Path("build/eval-report"), help="folder for report.json/.html")
    p.add_argument("--studies", type=Path, help="studies JSON to include (from python -m eval studies)")
    p.add_argument("--threshold", type=float, default=0.0, help="binary pain = PSPI > threshold")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (subjects resampled)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--limit", type=int, help="assess only the first N photos")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _report(argv: Sequence[str]) -> int:
    import torch

    from eval.demo_report import write_report

    args = _report_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    report = write_report(args.data, args.models, args.out, studies=args.studies, threshold=args.threshold,
                          n_boot=args.n_boot, seed=args.seed, limit=args.limit, progress=not args.quiet,
                          command="python -m eval " + " ".join(argv))
    print(f"wrote {args.out / 'report.json'} and report.html ({report['data'].get('scored')} photos)")
    return 0


def _demo(argv: Sequence[str]) -> int:
    from eval.demo_report import FRESH_SEED, build_demo_report

    p = argparse.ArgumentParser(prog="python -m eval demo-report",
                                description="The shipped demo weights on a fresh synthetic test set.")
    p.add_argument("--work", type=Path, default=Path("build/eval-demo"), help="folder for the rendered data")
    p.add_argument("--out", type=Path, default=Path("eval/reports"), help="where demo_report.json goes")
    p.add_argument("--studies", type=Path, default=Path("eval/reports/studies.json"))
    p.add_argument("--seed", type=int, default=FRESH_SEED, help="synthetic test set seed")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    report = build_demo_report(args.work, args.out, seed=args.seed, studies=args.studies,
                               progress=not args.quiet)
    print(f"wrote {args.out / 'demo_report.json'} ({report['data']['scored']} photos)")
    return 0


def _studies(argv: Sequence[str]) -> int:
    from eval.studies.run import StudyConfig, run_studies

    p = argparse.ArgumentParser(prog="python -m eval studies", description="The seeds' studies.")
    p.add_argument("--work", type=Path, default=Path("build/eval-studies"), help="rendered data and cache")
    p.add_argument("--out", type=Path, default=Path("eval/reports/studies.json"))
    p.add_argument("--full", action="store_true", help="all ten networks at the paper's sizes (GPU)")
    p.add_argument("--only", nargs="+", choices=("comparison", "pain_binary", "leaky"))
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    config = StudyConfig.full() if args.full else StudyConfig()
    if args.only:
        from dataclasses import replace

        config = replace(config, studies=tuple(args.only))
    result = run_studies(args.work, config, threads=args.threads)
    result["command"] = "python -m eval studies " + " ".join(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "realcheck":
        from eval import realcheck  # written separately; lazy so the rest works without it

        return int(realcheck.main(argv[1:]) or 0)
    if argv and argv[0] == "bench":
        from eval import bench

        return bench.main(argv[1:])
    if argv and argv[0] == "domain":
        from eval import domain

        return domain.main(argv[1:])
    if argv and argv[0] == "reference":
        from eval import reference

        return reference.main(argv[1:])
    if argv and argv[0] == "side-threshold":
        from eval import side_threshold

        return side_threshold.main(argv[1:])
    if argv and argv[0] == "headturn":
        from eval import headturn

        return headturn.main(argv[1:])
    if argv and argv[0] == "demo-report":
        return _demo(argv[1:])
    if argv and argv[0] == "studies":
        return _studies(argv[1:])
    if argv and argv[0] == "report":
        argv = argv[1:]
    return _report(argv)


if __name__ == "__main__":
    sys.exit(main())
