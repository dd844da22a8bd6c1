"""Example photos for the Assess tab: synthetic faces with known truth, and a real portrait.

The synthetic examples are rendered by :mod:`data.synth` from a seed used for nothing else
(:data:`EXAMPLE_SEED`), across PSPI levels and palsy sides, and committed as small JPEGs in
``app/examples/`` with their truth in ``examples.json`` (regenerate with ``python -m app.examples``).
The real example is scikit-image's astronaut portrait, read from the installed package (no download).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from faces.sides import Side, describe

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
EXAMPLE_SEED = 20261126
EXAMPLE_SIZE = 256

#: (PSPI intended for the unaffected side, palsy side, palsy kind)
RECIPES: tuple[tuple[int, Side, str], ...] = (
    (0, Side.LEFT, "central"),
    (4, Side.RIGHT, "central"),
    (8, Side.LEFT, "peripheral"),
    (12, Side.RIGHT, "peripheral"),
    (15, Side.LEFT, "central"),
)


@dataclass(frozen=True)
class Example:
    """One example photo: its file, a caption, and for synthetic faces the truth it was drawn with."""

    path: Path
    caption: str
    palsy_side: Side | None = None
    pspi_unaffected: float | None = None


def render_examples(seed: int = EXAMPLE_SEED) -> list[tuple[str, np.ndarray, dict]]:
    """``(file name, RGB uint8 image, truth)`` for every recipe, deterministic from ``seed``."""
    from data.synth import Palsy, pspi, render_face, sample_frame_spec, sample_identity
    from data.synth.aus import sample_aus_for_pspi

    out = []
    for index, (level, palsy_side, kind) in enumerate(RECIPES):
        rng = np.random.default_rng([seed, index])
        identity = sample_identity(seed % 100_000 + 17 * index)
        aus = sample_aus_for_pspi(rng, level)
        spec = sample_frame_spec(rng, identity, "balanced", None, EXAMPLE_SIZE)
        spec = replace(spec, aus={Side.RIGHT: aus, Side.LEFT: aus}, palsy=Palsy(palsy_side, 0.9, kind))
        face = render_face(spec)
        unaffected = palsy_side.opposite
        truth = {
            "palsy_side": palsy_side.value,
            "palsy_kind": kind,
            "pspi_unaffected": round(float(pspi(face.effective_aus[unaffected])), 3),
            "pspi_affected": round(float(pspi(face.effective_aus[palsy_side])), 3),
        }
        out.append((f"synthetic_{index + 1}.jpg", face.image, truth))
    return out


def write_examples(folder: Path = EXAMPLES_DIR, seed: int = EXAMPLE_SEED) -> Path:
    """Render the synthetic examples into ``folder`` with ``examples.json``; returns the JSON path."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    index = {}
    for name, image, truth in render_examples(seed):
        Image.fromarray(image).save(folder / name, quality=92, optimize=True)
        index[name] = truth
    path = folder / "examples.json"
    path.write_text(json.dumps({"seed": seed, "examples": index}, indent=2, sort_keys=True) + "\n")
    return path


def astronaut_path() -> Path | None:
    """scikit-image's astronaut portrait as installed (None when the package has no copy)."""
    try:
        import skimage
    except ImportError:
        return None
    path = Path(skimage.__file__).resolve().parent / "data" / "astronaut.png"
    return path if path.is_file() else None


def examples(folder: Path = EXAMPLES_DIR) -> list[Example]:
    """The examples the page offers: the committed synthetic faces, then the real portrait."""
    found: list[Example] = []
    index = folder / "examples.json"
    if index.is_file():
        for name, truth in sorted(json.loads(index.read_text())["examples"].items()):
            side = Side(truth["palsy_side"])
            caption = (f"Synthetic face: {truth['palsy_kind']} palsy of the {describe(side)}, "
                       f"PSPI {truth['pspi_unaffected']:.0f} on the unaffected side")
            found.append(Example(folder / name, caption, side, float(truth["pspi_unaffected"])))
    real = astronaut_path()
    if real is not None:
        found.append(Example(real, "Real photo (scikit-image's astronaut portrait; no palsy, no pain)"))
    return found


if __name__ == "__main__":
    print(f"wrote {write_examples()}")
