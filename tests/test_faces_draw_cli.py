"""The annotated face picture and the ``python -m faces`` command line."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from faces import ImageSide, analyse
from faces.__main__ import main
from faces.draw import OUTPUT_SIDE, annotate, half_labels


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def geometry(photo):
    return analyse(photo)


def test_labels_name_patient_sides_with_their_image_side(geometry, photo):
    assert half_labels(geometry) == {
        ImageSide.LEFT: "patient's right (image left)",
        ImageSide.RIGHT: "patient's left (image right)",
    }
    mirrored = analyse(np.ascontiguousarray(photo[:, ::-1]), mirrored=True)
    assert half_labels(mirrored) == {
        ImageSide.LEFT: "patient's left (image left)",
        ImageSide.RIGHT: "patient's right (image right)",
    }


def test_annotate_draws_on_the_face_area(geometry, photo):
    drawn = annotate(geometry, photo)
    assert drawn.dtype == np.uint8 and drawn.ndim == 3 and drawn.shape[2] == 3
    assert max(drawn.shape[:2]) >= OUTPUT_SIDE
    assert np.array_equal(drawn, annotate(geometry, Image.fromarray(photo)))
    with pytest.raises(ValueError):
        annotate(geometry, photo[:300])


def test_show_writes_an_annotated_png(photo, tmp_path, capsys):
    source, out = tmp_path / "face.png", tmp_path / "annotated.png"
    Image.fromarray(photo).save(source)
    assert main(["show", str(source), "--out", str(out)]) == 0
    written = np.asarray(Image.open(io.BytesIO(out.read_bytes())))
    assert written.shape[2] == 3 and max(written.shape[:2]) >= OUTPUT_SIDE
    printed = capsys.readouterr().out
    assert "faces found: 1" in printed and "mouth_corner_height" in printed


def test_show_reports_bad_input_without_writing(tmp_path, capsys):
    source, out = tmp_path / "notes.txt", tmp_path / "annotated.png"
    source.write_text("not a photo")
    assert main(["show", str(source), "--out", str(out)]) == 2
    assert "could not be read as an image" in capsys.readouterr().err
    assert not out.exists()


def test_bench_prints_median_p90_and_steps(capsys):
    assert main(["bench", "--repeat", "2"]) == 0
    printed = capsys.readouterr().out
    for word in ("median", "p90", "detect", "landmarks", "halves"):
        assert word in printed
