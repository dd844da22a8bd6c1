"""Event handlers of the dashboard: plain functions that tests call without a browser.

A handler never raises for a bad photo: it returns a readable message in place of the results, and the
server keeps serving. Uploaded pixels are only held in memory for the length of the call.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import faces
from faces.draw import annotate
from faces.errors import FaceInputError
from faces.sides import Side, describe

log = logging.getLogger(__name__)

PhotoSource = str | Path | bytes | np.ndarray | None

NO_PHOTO_MESSAGE = "Upload a full-face photo (or take one with the webcam) to start."
UNEXPECTED_MESSAGE = (
    "Something went wrong while analysing this photo. Try another photo; if it keeps happening, "
    "report it together with the time shown here (the photo itself is not logged)."
)


@dataclass(frozen=True)
class FaceView:
    """What the Assess tab shows for the face stage.

    Images are RGB uint8; halves are shown as they appear in the photo (not mirrored), each titled with
    its patient side. ``message`` is Markdown for the status box; the other fields are None on failure.
    """

    message: str
    annotated: np.ndarray | None = None
    halves: list[tuple[np.ndarray, str]] | None = None
    asymmetry_rows: list[list[str]] | None = None
    ok: bool = False


ASYMMETRY_HEADERS = ["Measure", "Value (× inter-ocular distance)", "Points to", "What it measures"]


def _load(photo: PhotoSource) -> np.ndarray:
    """Decode the photo in memory through the face stage's checks (size, bombs, corrupt files)."""
    if isinstance(photo, str) and photo.startswith("data:"):
        photo = base64.b64decode(photo.split(",", 1)[1])
    return faces.read_image(photo)


def asymmetry_rows(geometry: faces.FaceGeometry) -> list[list[str]]:
    """One table row per asymmetry measure, sides written as patient sides."""
    rows = []
    for measure in geometry.asymmetry.measures:
        points_to = describe(measure.points_to, geometry.mirrored) if measure.points_to else "no clear side"
        rows.append([measure.name, f"{measure.value:+.3f}", points_to, measure.description])
    overall = geometry.asymmetry.points_to
    rows.append([
        "overall asymmetry index",
        f"{geometry.asymmetry.index:.3f}",
        describe(overall, geometry.mirrored) if overall else "no clear side",
        "Weighted combination of the measures above (0 = symmetric).",
    ])
    return rows


def analyse_face(photo: PhotoSource, mirrored: bool = False) -> FaceView:
    """Run the face stage on one photo and prepare what the page shows."""
    if photo is None or (isinstance(photo, bytes | str) and len(photo) == 0):
        return FaceView(message=NO_PHOTO_MESSAGE)
    try:
        image = _load(photo)
        geometry = faces.analyse(image, mirrored=bool(mirrored))
    except FaceInputError as err:
        return FaceView(message=f"**Cannot assess this photo.** {err}")
    except Exception:  # noqa: BLE001 - the page must keep working; details go to the log, never the image
        log.exception("face analysis failed")
        return FaceView(message=UNEXPECTED_MESSAGE)

    halves = []
    for side in (Side.RIGHT, Side.LEFT):
        half = geometry.halves[side]
        as_in_photo = np.ascontiguousarray(half.to_aligned(half.image))
        halves.append((as_in_photo, describe(side, geometry.mirrored)))
    notes = [f"Found {geometry.n_faces} face(s); the largest is analysed." if geometry.n_faces > 1 else
             "Found one face."]
    if geometry.landmark_source == "template":
        notes.append("No face was detected; landmarks come from a template and are approximate.")
    notes.append(f"Head roll corrected: {geometry.roll_degrees:+.1f}°.")
    side_note = ("The photo is marked as mirrored, so the patient's right appears on the image right."
                 if geometry.mirrored else
                 "Ordinary photo: the patient's right appears on the image left.")
    notes.append(side_note)
    return FaceView(
        message=" ".join(notes),
        annotated=annotate(geometry, image),
        halves=halves,
        asymmetry_rows=asymmetry_rows(geometry),
        ok=True,
    )
