"""A neutral face to put in place of what an explanation removes: the ``neutral`` fill.

Removing a region of a face (blurring it, or painting it with a flat colour) is how perturbation
explanations (LIME, deletion / insertion curves) ask "what did this region contribute?". For the pain
model the answer depends on what the removed region is replaced with: the demo model reads eye closure,
orbit tightening and brow lowering as the *absence* of an open eye or a relaxed brow, and a blurred or
flat eye is no more open than a closed one, so removing it *raises* the PSPI (see
:mod:`explain.groundtruth`, ``blurring_it_raises_pspi_by_group``). Those explanations then rank the
region where the pain is drawn as one that lowers the score.

The neutral fill replaces a removed region with the same region of an **average neutral face**: the
mean, over many synthetic people at rest (no action unit, no palsy), of the exact model input the
pipeline cuts (the levelled face for the side and full-face models, the canonical half for the pain
model), with the true landmarks placing the crop. Because every input is aligned on the landmarks, the
template's eye sits where the photo's eye is. Before use it is matched to the input's colour (per
channel mean and spread over the whole input), so a region swap changes the expression, not the skin
tone. The face template is made left-right symmetric, so a mirror-averaged side explanation stays
mirror-consistent and swapping a region for it never adds a palsy.

It is generic (not the person's own rest face: ``fill="reference"`` takes one when there is), it comes
from the synthetic renderer rather than from any photograph, and it shows what a region contributes
relative to an average relaxed face, which is the question a clinician asks of a pain map.

The templates are small PNG files beside this module, made by::

    python -m explain neutral --faces 200 --seed 5151

from a seed used for nothing else (the demo weights were trained on seeds 1, 2 and 4, tested on 99;
the explanation reports use 2026 and 4040, development 7).
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from models.preprocess import InputSpec

TEMPLATE_DIR = Path(__file__).resolve().parent / "neutral"
TEMPLATE_FILES = {"aligned_face": "face.png", "half_face": "half.png"}


@functools.lru_cache(maxsize=8)
def _stored(kind: str, directory: str) -> np.ndarray:
    path = Path(directory) / TEMPLATE_FILES[kind]
    picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if picture is None:
        raise FileNotFoundError(f"No neutral template at {path}; make it with `python -m explain neutral`")
    return cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)


def template(spec: InputSpec, directory: Path = TEMPLATE_DIR) -> np.ndarray:
    """The stored neutral template for ``spec``'s kind of input, as uint8 ``(h, w, 3)`` at its size."""
    stored = _stored(spec.kind, str(directory))
    if stored.shape[:2] != (spec.height, spec.width):
        stored = cv2.resize(stored, (spec.width, spec.height), interpolation=cv2.INTER_AREA)
    if spec.grayscale:
        grey = cv2.cvtColor(stored, cv2.COLOR_RGB2GRAY)
        stored = np.repeat(grey[..., None], 3, axis=2)
    return stored


def colour_matched(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``reference`` with each channel's mean and standard deviation set to ``image``'s (uint8)."""
    ref = reference.astype(np.float64)
    target = image.astype(np.float64)
    spread = ref.std(axis=(0, 1))
    out = (ref - ref.mean(axis=(0, 1))) / np.maximum(spread, 1e-6) * target.std(axis=(0, 1)) \
        + target.mean(axis=(0, 1))
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def neutral_fill(image: np.ndarray, spec: InputSpec, directory: Path = TEMPLATE_DIR) -> np.ndarray:
    """The neutral fill for the model input ``image`` (uint8 ``(h, w, 3)``, as the model saw it)."""
    base = template(InputSpec(spec.kind, image.shape[0], image.shape[1], spec.mean, spec.std, spec.grayscale),
                    directory)
    return colour_matched(base, image)


def build_templates(faces: int, seed: int, size: int = 256) -> dict[str, np.ndarray]:
    """Mean model inputs of ``faces`` neutral synthetic people (both halves of each for the half
    template; the face template symmetrised), at the demo models' input sizes."""
    from tqdm import tqdm

    from data.synth import render_face, sample_frame_spec, sample_identity
    from explain.base import input_pixels
    from faces.sides import Side
    from models.pipeline import ModelBundle, assess, load_default_models

    bundle = load_default_models()
    models = ModelBundle(side=bundle.side, pain=bundle.pain)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}

    def add(kind: str, picture: np.ndarray) -> None:
        sums[kind] = sums.get(kind, 0.0) + picture.astype(np.float64)
        counts[kind] = counts.get(kind, 0) + 1

    for index in tqdm(range(faces), desc="neutral faces", unit="face"):
        rng = np.random.default_rng([seed, index])
        identity = sample_identity(int(rng.integers(2**31)))
        spec = replace(sample_frame_spec(rng, identity, size=size, pspi_target=0), aus={}, palsy=None)
        rendered = render_face(spec)
        result = assess(rendered.image, side=Side.LEFT, models=models, landmarks=rendered.landmarks)
        if result.inputs.side is not None and bundle.side is not None:
            add("aligned_face", input_pixels(result.inputs.side, bundle.side.spec))
        for half in (Side.RIGHT, Side.LEFT):
            add("half_face", input_pixels(result.inputs.halves[half], bundle.pain.spec))
    means = {kind: sums[kind] / counts[kind] for kind in sums}
    if "aligned_face" in means:
        means["aligned_face"] = 0.5 * (means["aligned_face"] + means["aligned_face"][:, ::-1])
    return {kind: np.clip(np.round(v), 0, 255).astype(np.uint8) for kind, v in means.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explain neutral", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5151)
    parser.add_argument("--out", type=Path, default=TEMPLATE_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for kind, picture in build_templates(args.faces, args.seed).items():
        path = args.out / TEMPLATE_FILES[kind]
        cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        print(f"{kind}: {picture.shape[1]}x{picture.shape[0]} -> {path}")
    _stored.cache_clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["TEMPLATE_DIR", "build_templates", "colour_matched", "main", "neutral_fill", "template"]
