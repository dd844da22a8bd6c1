"""Command line for the face stage.

``python -m faces bench [--repeat N]`` times :func:`faces.analyse` on a one-megapixel photo.
``python -m faces show PHOTO --out PNG [--mirrored] [--template]`` draws the annotated face.
``python -m faces template`` re-derives the template mean face and prints it as Python source.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faces.errors import FaceInputError


def _bench(args: argparse.Namespace) -> int:
    from faces.bench import bench_photo, format_bench, run_bench

    photo = bench_photo()
    print(format_bench(run_bench(args.repeat, photo), photo.shape))
    return 0


def _show(args: argparse.Namespace) -> int:
    from PIL import Image

    from faces.analyse import analyse
    from faces.draw import annotate
    from faces.image_input import read_image

    try:
        photo = read_image(args.photo)
        geometry = analyse(photo, args.mirrored, on_no_face="template" if args.template else "error")
    except FaceInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    Image.fromarray(annotate(geometry, photo)).save(args.out, format="PNG")
    asymmetry = geometry.asymmetry
    turn = geometry.head_turn
    toward = f" toward the patient's {turn.toward.value}" if turn.toward else ""
    print(f"faces found: {geometry.n_faces}; landmarks from: {geometry.landmark_source}; "
          f"roll {geometry.roll_degrees:+.1f} degrees; head turned about {turn.degrees:.0f} degrees{toward}")
    for measure in asymmetry.measures:
        side = f"patient's {measure.points_to.value}" if measure.points_to else "no side"
        print(f"  {measure.name:<22} {measure.value:+.3f}  ({side})")
    overall = f"patient's {asymmetry.points_to.value}" if asymmetry.points_to else "no side"
    print(f"  asymmetry index {asymmetry.index:.2f}, points to {overall}")
    print(f"wrote {args.out}")
    return 0


def _template(_: argparse.Namespace) -> int:
    from faces.template import derive_template, format_template

    template, placement, used = derive_template()
    print(f"# derived from {used} detected faces of skimage.data.lfw_subset()")
    print(format_template(template, placement))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m faces", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="time faces.analyse on a one-megapixel photo")
    bench.add_argument("--repeat", type=int, default=30, help="timed runs (default 30)")
    bench.set_defaults(handler=_bench)
    show = commands.add_parser("show", help="draw landmarks, midline, halves and regions")
    show.add_argument("photo", type=Path)
    show.add_argument("--out", type=Path, required=True, help="PNG file to write")
    show.add_argument("--mirrored", action="store_true", help="the photo is a mirror image (webcam preview)")
    show.add_argument("--template", action="store_true", help="use template landmarks when no face is found")
    show.set_defaults(handler=_show)
    template = commands.add_parser("template", help="re-derive the template mean face")
    template.set_defaults(handler=_template)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
