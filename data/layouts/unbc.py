"""The UNBC-McMaster Shoulder Pain Expression Archive layout, read and written unchanged.

::

    <root>/Images/<subject>/<sequence>/<frame>.png
    <root>/Frame_Labels/PSPI/<subject>/<sequence>/<frame>_facs.txt   one number, e.g. "   3.0000000e+00"
    <root>/Frame_Labels/FACS/<subject>/<sequence>/<frame>_facs.txt   rows "AU intensity [more columns]";
                                                                      empty = coded, no AU active
    <root>/AAM_landmarks/<subject>/<sequence>/<frame>_aam.txt        66 rows "x y"

Example names: subject ``042-ll042``, sequence ``ll042t1aaaff``, frame ``ll042t1aaaff001``. Some copies
unpack with a doubled folder (``Images/Images/...``, ``Frame_Labels/Frame_Labels/...``); the loader
descends through it.

Landmarks. The AAM tracker's 66 points are the iBUG 68-point layout without the two inner mouth corners
(indices 60 and 64, :data:`faces.landmarks.AAM66_DROPPED`). :func:`aam66_to_68` puts them back: each
inner corner is estimated halfway between the outer mouth corner (48 / 54) and the midpoint of its two
inner-lip neighbours (61, 67 / 63, 65). The writer drops them again, so a round trip reproduces every
point except 60 and 64.

Project extension: ``Frame_Labels/Palsy_Side/<subject>/<sequence>/<frame>_palsy.txt`` (``left`` or
``right``, the patient side) carries a palsy side for synthetic data; real UNBC has no such folder and its
records get ``palsy_side=None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from data.layouts.common import (
    LayoutError,
    MissingLabels,
    format_float,
    handle_missing,
    is_image,
    read_numbers,
    read_scalar,
    resolve_nested,
    write_png,
    write_scalar,
)
from data.records import FrameRecord, RecordList, pspi_from_facs
from faces.landmarks import AAM66_DROPPED, N_LANDMARKS
from faces.sides import Side

DATASET_NAME = "unbc"
AU43 = 43

_KEPT_68 = np.array([i for i in range(N_LANDMARKS) if i not in AAM66_DROPPED])


def aam66_to_68(points66: np.ndarray) -> np.ndarray:
    """Convert UNBC AAM landmarks (66, 2) to the iBUG layout (68, 2) (float64, x then y).

    Inner mouth corners 60 and 64 are estimated from their neighbours (see the module docstring).
    """
    points66 = np.asarray(points66, dtype=np.float64)
    if points66.shape != (N_LANDMARKS - len(AAM66_DROPPED), 2):
        raise ValueError(f"expected (66, 2) AAM landmarks, got shape {points66.shape}")
    points = np.zeros((N_LANDMARKS, 2), dtype=np.float64)
    points[_KEPT_68] = points66
    points[60] = 0.5 * points[48] + 0.25 * (points[61] + points[67])
    points[64] = 0.5 * points[54] + 0.25 * (points[63] + points[65])
    return points


def aam68_to_66(points68: np.ndarray) -> np.ndarray:
    """Drop the inner mouth corners: (68, 2) iBUG landmarks -> (66, 2) UNBC AAM order."""
    points68 = np.asarray(points68, dtype=np.float64)
    if points68.shape != (N_LANDMARKS, 2):
        raise ValueError(f"expected (68, 2) landmarks, got shape {points68.shape}")
    return points68[_KEPT_68]


def parse_facs_rows(rows: list[list[float]], source: Path | str = "FACS file") -> dict[int, float]:
    """AU code -> intensity from UNBC FACS rows ``[AU, intensity, ...]``.

    UNBC lists only the AUs active in a frame. Extra columns are ignored; a row with only an AU code
    counts as intensity 1; AU43 (eyes closed) is binary, so a listed AU43 is 1 whatever its intensity
    column says; a repeated AU keeps its highest intensity.
    """
    facs: dict[int, float] = {}
    for row in rows:
        code = round(row[0])
        if abs(row[0] - code) > 1e-6 or code <= 0:
            raise LayoutError(f"{source}: {row[0]!r} is not an action-unit code")
        intensity = row[1] if len(row) > 1 else 1.0
        if code == AU43:
            intensity = 1.0
        facs[code] = max(intensity, facs.get(code, float("-inf")))
    return facs


def read_facs(path: Path) -> dict[int, float]:
    """Read one UNBC ``Frame_Labels/FACS/.../<frame>_facs.txt`` file."""
    return parse_facs_rows(read_numbers(path), path)


def read_aam(path: Path) -> np.ndarray:
    """Read ``<frame>_aam.txt`` as (68, 2) iBUG landmarks (66-point files are converted, 68 kept)."""
    rows = read_numbers(path)
    try:
        points = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise LayoutError(f"{path}: rows have different lengths") from exc
    if points.ndim != 2 or points.shape[1] < 2:
        raise LayoutError(f"{path}: expected rows 'x y', got shape {points.shape}")
    points = points[:, :2]
    if points.shape[0] == N_LANDMARKS:
        return points
    if points.shape[0] == N_LANDMARKS - len(AAM66_DROPPED):
        return aam66_to_68(points)
    raise LayoutError(f"{path}: expected 66 (or 68) landmark rows, got {points.shape[0]}")


def _dirs(root: Path) -> dict[str, Path]:
    labels = resolve_nested(root, "Frame_Labels")
    return {
        "images": resolve_nested(root, "Images"),
        "pspi": resolve_nested(labels, "PSPI"),
        "facs": resolve_nested(labels, "FACS"),
        "palsy": resolve_nested(labels, "Palsy_Side"),
        "aam": resolve_nested(root, "AAM_landmarks"),
    }


def looks_like_unbc(root: str | Path) -> bool:
    """True when ``root`` has an ``Images/`` folder (possibly doubled) with subject/sequence folders
    and a ``Frame_Labels/`` or ``AAM_landmarks/`` folder beside it."""
    root = Path(root)
    dirs = _dirs(root)
    if not dirs["images"].is_dir():
        return False
    return resolve_nested(root, "Frame_Labels").is_dir() or dirs["aam"].is_dir()


def load_unbc(
    root: str | Path,
    *,
    missing_labels: MissingLabels = "error",
    dataset: str = DATASET_NAME,
) -> RecordList:
    """Read every frame of a UNBC-McMaster-layout dataset.

    Args:
        root: folder holding ``Images/``, ``Frame_Labels/`` and (optionally) ``AAM_landmarks/``.
        missing_labels: a frame with neither a PSPI nor a FACS file is an error (``"error"``, the error
            lists how many and which), left out (``"skip"``) or kept with ``pspi=None`` (``"keep"``).
            When only the FACS file exists, PSPI is computed from it.
        dataset: the name recorded in each record.

    Returns:
        :class:`~data.records.RecordList` of :class:`~data.records.FrameRecord`, sorted by path, with
        ``notes``: frames, pspi_from_facs (count), pspi_facs_disagree (count and examples), no_landmarks,
        missing_labels (paths, when skipped or kept), ignored_files.
    """
    root = Path(root)
    dirs = _dirs(root)
    if not dirs["images"].is_dir():
        raise LayoutError(f"{root} is not a UNBC-McMaster layout: no Images/ folder")
    records: list[FrameRecord] = []
    missing: list[Path] = []
    ignored: list[str] = []
    from_facs = 0
    disagree: list[str] = []
    no_landmarks = 0
    for path in sorted(dirs["images"].rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(dirs["images"])
        if not is_image(path) or len(rel.parts) != 3:
            ignored.append(str(rel))
            continue
        subject, sequence, _ = rel.parts
        frame = path.stem
        label_rel = Path(subject, sequence, f"{frame}_facs.txt")
        pspi_file, facs_file = dirs["pspi"] / label_rel, dirs["facs"] / label_rel
        facs = read_facs(facs_file) if facs_file.is_file() else None
        pspi: float | None = read_scalar(pspi_file) if pspi_file.is_file() else None
        if pspi is None and facs is not None:
            pspi = pspi_from_facs(facs)
            from_facs += 1
        elif pspi is not None and facs is not None and abs(pspi - pspi_from_facs(facs)) > 1e-6:
            disagree.append(str(Path(subject, sequence, frame)))
        if pspi is None and facs is None:
            missing.append(path)
            if missing_labels == "skip":
                continue
        aam_file = dirs["aam"] / subject / sequence / f"{frame}_aam.txt"
        landmarks = read_aam(aam_file) if aam_file.is_file() else None
        no_landmarks += landmarks is None
        palsy_file = dirs["palsy"] / subject / sequence / f"{frame}_palsy.txt"
        palsy = Side.parse(palsy_file.read_text(encoding="utf-8").strip()) if palsy_file.is_file() else None
        records.append(
            FrameRecord(
                image_path=path,
                dataset=dataset,
                subject=subject,
                sequence=sequence,
                frame_id=frame,
                pspi=pspi,
                facs=facs,
                landmarks=landmarks,
                palsy_side=palsy,
            )
        )
    handle_missing(missing, missing_labels, str(root))
    if not records and not missing:
        raise LayoutError(f"{dirs['images']} holds no images at Images/<subject>/<sequence>/<frame>.<ext>")
    notes = {
        "layout": "unbc",
        "root": str(root),
        "frames": len(records),
        "pspi_from_facs": from_facs,
        "pspi_facs_disagree": {"count": len(disagree), "examples": disagree[:10]},
        "no_landmarks": no_landmarks,
        "missing_labels": {"count": len(missing), "handling": missing_labels,
                           "examples": [str(p) for p in missing[:10]]},
        "ignored_files": {"count": len(ignored), "examples": ignored[:10]},
    }
    return RecordList(records, notes)


def write_unbc_frame(
    root: str | Path,
    subject: str,
    sequence: str,
    frame: str,
    image: np.ndarray,
    pspi: float | None,
    facs: Mapping[int, float] | None,
    landmarks68: np.ndarray | None,
    *,
    palsy_side: Side | None = None,
) -> Path:
    """Write one frame in the UNBC layout and return the image path.

    Args:
        root: dataset root (created as needed).
        subject, sequence, frame: folder names and file stem (UNBC style: ``042-ll042``, ``ll042t1aaaff``,
            ``ll042t1aaaff001``).
        image: uint8 ``(H, W)`` grayscale or ``(H, W, 3)`` RGB, written as PNG.
        pspi: the PSPI label; ``None`` computes it from ``facs`` (then ``facs`` is required).
        facs: AU code -> intensity. As in UNBC, only active AUs (intensity > 0) get a row,
            ``AU intensity 0 0`` in UNBC notation, so zero entries do not come back from the loader;
            an empty file means "coded, nothing active". ``None`` writes no FACS file.
        landmarks68: ``(68, 2)`` (x, y) iBUG landmarks, written as the 66-point AAM file; or None.
        palsy_side: patient side with palsy, written to the ``Palsy_Side`` extension folder; or None.
    """
    root = Path(root)
    for name, value in (("subject", subject), ("sequence", sequence), ("frame", frame)):
        if not value or "/" in value or "\\" in value or value in (".", ".."):
            raise ValueError(f"{name} must be a plain folder/file name, got {value!r}")
    if pspi is None:
        if facs is None:
            raise ValueError("Give pspi or facs (PSPI is computed from FACS when pspi is None)")
        pspi = pspi_from_facs(facs)
    dirs = {
        "images": root / "Images",
        "pspi": root / "Frame_Labels" / "PSPI",
        "facs": root / "Frame_Labels" / "FACS",
        "palsy": root / "Frame_Labels" / "Palsy_Side",
        "aam": root / "AAM_landmarks",
    }
    image_path = write_png(dirs["images"] / subject / sequence / f"{frame}.png", image)
    write_scalar(dirs["pspi"] / subject / sequence / f"{frame}_facs.txt", pspi)
    if facs is not None:
        facs_file = dirs["facs"] / subject / sequence / f"{frame}_facs.txt"
        facs_file.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            format_float(code) + format_float(value) + format_float(0) + format_float(0)
            for code, value in sorted((int(c), float(v)) for c, v in facs.items())
            if value > 0
        ]
        facs_file.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    if landmarks68 is not None:
        aam_file = dirs["aam"] / subject / sequence / f"{frame}_aam.txt"
        aam_file.parent.mkdir(parents=True, exist_ok=True)
        points = aam68_to_66(landmarks68)
        aam_file.write_text("".join(format_float(x) + format_float(y) + "\n" for x, y in points), "utf-8")
    if palsy_side is not None:
        palsy_file = dirs["palsy"] / subject / sequence / f"{frame}_palsy.txt"
        palsy_file.parent.mkdir(parents=True, exist_ok=True)
        palsy_file.write_text(Side.parse(palsy_side).value + "\n", encoding="utf-8")
    return image_path
