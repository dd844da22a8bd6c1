"""Contact sheet of the synthetic benchmark: PSPI levels across, palsy side down, labelled by patient side."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from data.synth.aus import Palsy, pspi, sample_aus_for_pspi
from data.synth.generate import sample_frame_spec
from data.synth.identity import sample_identity
from data.synth.render import render_face
from faces.sides import Side, describe

DEFAULT_LEVELS = (0, 3, 6, 9, 12, 15)


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float,
          colour: tuple[int, int, int]) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def contact_sheet(levels: tuple[int, ...] = DEFAULT_LEVELS, cell: int = 144, seed: int = 11,
                  severity: float = 0.8) -> np.ndarray:
    """(H, W, 3) uint8 RGB grid: one column per PSPI level in ``levels``, rows for no palsy, palsy on the
    patient's left and palsy on the patient's right (peripheral, ``severity``). Each column shows one
    identity in all three rows; every cell is captioned with the per-side PSPI it shows."""
    rows = [None, Palsy(Side.LEFT, severity, "peripheral"), Palsy(Side.RIGHT, severity, "peripheral")]
    label_w, head_h, cap_h, foot_h = 250, 26, 18, 22
    width = label_w + cell * len(levels)
    height = head_h + len(rows) * (cell + cap_h) + foot_h
    sheet = np.full((height, width, 3), 255, np.uint8)
    for c, level in enumerate(levels):
        _text(sheet, f"PSPI {level}", (label_w + c * cell + cell // 2 - 30, 18), 0.5, (0, 0, 0))
        rng = np.random.default_rng([seed, c])
        identity = sample_identity(seed * 1000 + c * 7 + 1)
        aus = sample_aus_for_pspi(rng, level)
        base = sample_frame_spec(rng, identity, "balanced", None, 256)
        base = replace(base, aus={Side.RIGHT: aus, Side.LEFT: aus}, noise=1.5, jpeg_quality=0, blur=0.3)
        for r, palsy in enumerate(rows):
            face = render_face(replace(base, palsy=palsy))
            y = head_h + r * (cell + cap_h)
            x = label_w + c * cell
            sheet[y:y + cell, x:x + cell] = cv2.resize(face.image, (cell, cell), interpolation=cv2.INTER_AREA)
            right = pspi(face.effective_aus[Side.RIGHT])
            left = pspi(face.effective_aus[Side.LEFT])
            _text(sheet, f"R {right:.1f} | L {left:.1f}", (x + 8, y + cell + 13), 0.38, (60, 60, 60))
    for r, palsy in enumerate(rows):
        y = head_h + r * (cell + cap_h) + cell // 2
        if palsy is None:
            _text(sheet, "no palsy", (8, y), 0.5, (0, 0, 0))
        else:
            words = describe(palsy.side)
            _text(sheet, "palsy: " + words.split(" (")[0], (8, y - 8), 0.5, (0, 0, 0))
            _text(sheet, "(" + words.split(" (")[1], (8, y + 12), 0.5, (0, 0, 0))
            _text(sheet, f"{palsy.kind}, severity {palsy.severity:.1f}", (8, y + 32), 0.4, (90, 90, 90))
    footer = ("R | L = PSPI shown by the patient's right | left side. Non-mirrored photos: the patient's "
              "right is on the image left. Each column is one identity.")
    _text(sheet, footer, (8, height - 8), 0.4, (90, 90, 90))
    return sheet


def write_contact_sheet(path: str | Path, **options: object) -> Path:
    """Write :func:`contact_sheet` as an adaptive-palette PNG (small file) and return the path."""
    from PIL import Image

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(contact_sheet(**options))  # type: ignore[arg-type]
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(out, optimize=True)
    return out
