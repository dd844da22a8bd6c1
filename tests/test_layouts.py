"""Dataset layouts: writers and loaders round-trip, and real-world quirks are read correctly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from data.layouts import (
    LayoutError,
    MissingLabelError,
    aam66_to_68,
    aam68_to_66,
    detect_layout,
    load_any,
    load_binary_pain,
    load_half_face,
    load_side_labels,
    load_unbc,
    read_image_array,
    subject_from,
    write_binary_pain,
    write_half_face_pair,
    write_png,
    write_side_labels,
    write_unbc_frame,
)
from data.records import FrameRecord, HalfRecord, pspi_from_facs
from faces.landmarks import AAM66_DROPPED
from faces.sides import Side


def _rgb(seed: int, h: int = 12, w: int = 10) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _gray(seed: int, h: int = 12, w: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)


def _landmarks(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 100, (68, 2))


# ---------------------------------------------------------------- PSPI


@pytest.mark.parametrize(
    ("facs", "expected"),
    [
        ({}, 0.0),
        ({4: 2}, 2.0),
        ({6: 1, 7: 3}, 3.0),
        ({9: 4, 10: 2}, 4.0),
        ({43: 1}, 1.0),
        ({4: 5, 6: 5, 7: 5, 9: 5, 10: 5, 43: 1}, 16.0),
        ({4: 1, 6: 2, 7: 1, 9: 0, 10: 3, 43: 1, 12: 5, 25: 2}, 7.0),
        ({4: 6, 6: 6, 9: 6, 43: 1}, 16.0),
        ({4: -1}, 0.0),
    ],
)
def test_pspi_formula(facs: dict[int, float], expected: float) -> None:
    assert pspi_from_facs(facs) == expected


# ---------------------------------------------------------------- UNBC


def test_unbc_round_trip_records_and_pixels(tmp_path: Path) -> None:
    frames = [
        (
            "042-ll042",
            "ll042t1aaaff",
            "ll042t1aaaff001",
            _rgb(1),
            {4: 2.0, 6: 1.0, 7: 3.0, 43: 1.0},
            Side.LEFT,
        ),
        ("042-ll042", "ll042t1aaaff", "ll042t1aaaff002", _gray(2), {4: 0.0, 43: 0.0}, None),
        ("064-ak064", "ak064t1aeunaff", "ak064t1aeunaff010", _rgb(3), {9: 2.5, 10: 1.0, 12: 4.0}, Side.RIGHT),
    ]
    written = {}
    for i, (subject, sequence, frame, image, facs, palsy) in enumerate(frames):
        path = write_unbc_frame(
            tmp_path, subject, sequence, frame, image, None, facs, _landmarks(i), palsy_side=palsy
        )
        written[frame] = (path, image, facs, palsy, _landmarks(i))
    records = load_unbc(tmp_path)
    assert sorted(r.frame_id for r in records) == sorted(written)
    for record in records:
        path, image, facs, palsy, points = written[record.frame_id]
        assert isinstance(record, FrameRecord)
        assert record.image_path == path and record.dataset == "unbc"
        assert record.pspi == pspi_from_facs(facs)
        assert record.facs == {au: value for au, value in facs.items() if value > 0}
        assert record.palsy_side == palsy
        keep = [i for i in range(68) if i not in AAM66_DROPPED]
        np.testing.assert_allclose(record.landmarks[keep], points[keep], rtol=1e-6)
        np.testing.assert_array_equal(read_image_array(record.image_path), image)
    assert records[0].subject == "042-ll042" and records[0].sequence == "ll042t1aaaff"
    assert records[0].group == "042-ll042/ll042t1aaaff/ll042t1aaaff001"
    assert records.notes["frames"] == 3 and records.notes["pspi_facs_disagree"]["count"] == 0
    assert load_unbc(tmp_path) == records
    assert detect_layout(tmp_path) == "unbc"


def _real_unbc_tree(root: Path, nested: bool) -> Path:
    images = root / "Images" / "Images" if nested else root / "Images"
    labels = root / "Frame_Labels" / "Frame_Labels" if nested else root / "Frame_Labels"
    rel = Path("107-hs107", "hs107t2afaff")
    write_png(images / rel / "hs107t2afaff001.png", _rgb(7))
    write_png(images / rel / "hs107t2afaff002.png", _rgb(8))
    (labels / "PSPI" / rel).mkdir(parents=True)
    (labels / "FACS" / rel).mkdir(parents=True)
    (labels / "PSPI" / rel / "hs107t2afaff001_facs.txt").write_text("   4.0000000e+00\n")
    (labels / "PSPI" / rel / "hs107t2afaff002_facs.txt").write_text("   0.0000000e+00\n")
    (labels / "FACS" / rel / "hs107t2afaff001_facs.txt").write_text(
        "   4.0000000e+00   2.0000000e+00   0.0000000e+00   0.0000000e+00\n"
        "   7.0000000e+00   1.0000000e+00   0.0000000e+00   0.0000000e+00\n"
        "   2.5000000e+01   0.0000000e+00   1.0000000e+00   0.0000000e+00\n"
        "   4.3000000e+01   0.0000000e+00   0.0000000e+00   0.0000000e+00\n"
    )
    (labels / "FACS" / rel / "hs107t2afaff002_facs.txt").write_text("")
    aam = root / "AAM_landmarks" / rel
    aam.mkdir(parents=True)
    points = aam68_to_66(_landmarks(9))
    (aam / "hs107t2afaff001_aam.txt").write_text("".join(f"   {x:.7e}   {y:.7e}\n" for x, y in points))
    return root


@pytest.mark.parametrize("nested", [False, True])
def test_unbc_real_files_with_sci_notation_and_doubled_folders(tmp_path: Path, nested: bool) -> None:
    root = _real_unbc_tree(tmp_path, nested)
    records = load_unbc(root)
    assert [r.pspi for r in records] == [4.0, 0.0]
    assert records.notes["pspi_facs_disagree"]["count"] == 0
    assert records[0].facs == {4: 2.0, 7: 1.0, 25: 0.0, 43: 1.0}
    assert records[1].facs == {}
    assert records[0].landmarks.shape == (68, 2) and records[1].landmarks is None
    assert records[0].palsy_side is None
    assert records.notes["no_landmarks"] == 1
    assert detect_layout(root) == "unbc"


def test_unbc_ignores_ground_truth_files_and_computes_pspi_from_facs(tmp_path: Path) -> None:
    path = write_unbc_frame(tmp_path, "s001", "seq01", "s001_seq01_f0001", _rgb(0), None, {4: 3, 43: 1}, None)
    path.with_name(path.stem + ".truth.json").write_text(json.dumps({"pspi": 4}))
    np.savez(path.with_name(path.stem + ".aumask.npz"), mask=np.zeros((2, 2)))
    (tmp_path / "Frame_Labels" / "PSPI" / "s001" / "seq01" / "s001_seq01_f0001_facs.txt").unlink()
    records = load_unbc(tmp_path)
    assert len(records) == 1 and records[0].pspi == 4.0
    assert records.notes["pspi_from_facs"] == 1
    assert records.notes["ignored_files"]["count"] == 2


def test_unbc_missing_labels_error_lists_them_or_skips(tmp_path: Path) -> None:
    write_unbc_frame(tmp_path, "s001", "seq01", "s001_f1", _rgb(0), 2.0, None, None)
    for i in range(3):
        write_png(tmp_path / "Images" / "s001" / "seq01" / f"s001_f9{i}.png", _rgb(i))
    with pytest.raises(MissingLabelError) as err:
        load_unbc(tmp_path)
    assert len(err.value.missing) == 3 and "3 image(s)" in str(err.value) and "s001_f90.png" in str(err.value)
    skipped = load_unbc(tmp_path, missing_labels="skip")
    assert [r.frame_id for r in skipped] == ["s001_f1"] and skipped.notes["missing_labels"]["count"] == 3
    kept = load_unbc(tmp_path, missing_labels="keep")
    assert len(kept) == 4 and sum(r.pspi is None for r in kept) == 3


def test_aam_conversion_restores_inner_mouth_corners_between_neighbours() -> None:
    points = _landmarks(5)
    restored = aam66_to_68(aam68_to_66(points))
    keep = [i for i in range(68) if i not in AAM66_DROPPED]
    np.testing.assert_array_equal(restored[keep], points[keep])
    np.testing.assert_allclose(restored[60], 0.5 * points[48] + 0.25 * (points[61] + points[67]))
    np.testing.assert_allclose(restored[64], 0.5 * points[54] + 0.25 * (points[63] + points[65]))


def test_unbc_bad_landmark_file_is_a_clear_error(tmp_path: Path) -> None:
    write_unbc_frame(tmp_path, "s001", "q", "s001_f1", _rgb(0), 1.0, None, _landmarks(0))
    (tmp_path / "AAM_landmarks" / "s001" / "q" / "s001_f1_aam.txt").write_text("1 2\n3 4\n")
    with pytest.raises(LayoutError, match="66"):
        load_unbc(tmp_path)


# ---------------------------------------------------------------- half faces


def test_half_face_round_trip_patient_convention(tmp_path: Path) -> None:
    pairs = {
        "s007_seq02_f0013": (_gray(1), _gray(2), 3.0, 1.0),
        "s008_seq01_f0001": (_rgb(3, w=5), _rgb(4, w=5), 0.0, 0.0),
    }
    for frame, (right, left, p_right, p_left) in pairs.items():
        a, b = write_half_face_pair(tmp_path, frame, right, left, p_right, p_left)
        assert a.name == f"{frame}_a.png" and b.name == f"{frame}_b.png"
    records = load_half_face(tmp_path)
    assert len(records) == 4 and all(isinstance(r, HalfRecord) for r in records)
    for record in records:
        right, left, p_right, p_left = pairs[record.frame_id]
        expected = right if record.side is Side.RIGHT else left
        assert record.pspi == (p_right if record.side is Side.RIGHT else p_left)
        assert record.image_path.stem.endswith("_a" if record.side is Side.RIGHT else "_b")
        np.testing.assert_array_equal(read_image_array(record.image_path), expected)
        assert record.group == record.frame_id and record.subject == record.frame_id[:4]
    assert records.notes["label_sources"]["per_half"] == 4
    assert detect_layout(tmp_path) == "half_face" and load_any(tmp_path) == records
    assert load_half_face(tmp_path / "pain-dataset") == records


def test_half_face_image_side_convention(tmp_path: Path) -> None:
    write_half_face_pair(tmp_path, "s001_f1", _gray(1), _gray(2), 2.0, 5.0)
    by_half = {r.image_path.stem[-1]: r for r in load_half_face(tmp_path, side_convention="image")}
    assert by_half["a"].side is Side.LEFT and by_half["b"].side is Side.RIGHT
    by_half = {r.image_path.stem[-1]: r for r in load_half_face(tmp_path)}
    assert by_half["a"].side is Side.RIGHT and by_half["b"].side is Side.LEFT
    with pytest.raises(ValueError):
        load_half_face(tmp_path, side_convention="viewer")


@pytest.mark.parametrize(
    ("label_mode", "label_dir"),
    [("beside", ""), ("pspi_dir", "pspi"), ("beside_per_frame", ""), ("pspi_dir_per_frame", "pspi")],
)
def test_half_face_label_places(tmp_path: Path, label_mode: str, label_dir: str) -> None:
    write_half_face_pair(tmp_path, "s001_f1", _gray(1), _gray(2), 4.0, 4.0, label_mode=label_mode)
    folder = tmp_path / "pain-dataset" / label_dir
    expected = (
        {"s001_f1_facs.txt"}
        if label_mode.endswith("per_frame")
        else {"s001_f1_a_facs.txt", "s001_f1_b_facs.txt"}
    )
    assert {p.name for p in folder.glob("*_facs.txt")} == expected
    assert [r.pspi for r in load_half_face(tmp_path)] == [4.0, 4.0]


def test_half_face_per_half_label_wins_over_per_frame(tmp_path: Path) -> None:
    folder = tmp_path / "pain-dataset"
    write_png(folder / "s002_f9_a.png", _gray(1))
    write_png(folder / "s002_f9_b.png", _gray(2))
    (folder / "s002_f9_facs.txt").write_text("2.0000000e+00\n")
    (folder / "s002_f9_b_facs.txt").write_text("  7.0000000e+00")
    records = {r.side: r.pspi for r in load_half_face(tmp_path)}
    assert records == {Side.RIGHT: 2.0, Side.LEFT: 7.0}


def test_half_face_per_frame_label_needs_equal_scores(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="equal"):
        write_half_face_pair(tmp_path, "s1_f1", _gray(1), _gray(2), 1.0, 2.0, label_mode="beside_per_frame")


def test_half_face_testing_subfolder_and_pspi_dir(tmp_path: Path) -> None:
    write_half_face_pair(tmp_path, "s001_f1", _gray(1), _gray(2), 1.0, 2.0)
    write_half_face_pair(
        tmp_path, "s002_f1", _gray(3), _gray(4), 3.0, 0.0, label_mode="pspi_dir", subset="testing"
    )
    records = load_half_face(tmp_path)
    assert sorted((r.subset, r.frame_id) for r in records)[-1] == ("testing", "s002_f1")
    assert {r.frame_id: r.pspi for r in records if r.side is Side.RIGHT} == {"s001_f1": 1.0, "s002_f1": 3.0}
    assert records.notes["subsets"] == {"top": 2, "testing": 2}
    assert len(load_half_face(tmp_path, include_testing=False)) == 2
    # labels for testing/ may also live under pain-dataset/pspi/testing/
    moved = tmp_path / "pain-dataset" / "pspi" / "testing"
    shutil.move(tmp_path / "pain-dataset" / "testing" / "pspi", moved)
    assert len(load_half_face(tmp_path)) == 4


def test_half_face_csv_overrides_label_files(tmp_path: Path) -> None:
    write_half_face_pair(tmp_path, "s001_f1", _gray(1), _gray(2), 1.0, 2.0)
    write_half_face_pair(tmp_path, "s001_f2", _gray(3), _gray(4), 0.0, 0.0)
    absolute = (tmp_path / "pain-dataset" / "s001_f2_b.png").resolve()
    csv_path = tmp_path / "full_train_pspi.csv"
    csv_path.write_text(f"image_path,pspi_score\npain-dataset/s001_f1_a.png,9.5\n{absolute},6\n")
    records = {r.image_path.name: r.pspi for r in load_half_face(tmp_path, csv=csv_path)}
    assert records == {"s001_f1_a.png": 9.5, "s001_f1_b.png": 2.0, "s001_f2_a.png": 0.0, "s001_f2_b.png": 6.0}
    bad = tmp_path / "bad.csv"
    bad.write_text("image_path,pspi_score\npain-dataset/nope_a.png,1\n")
    with pytest.raises(LayoutError, match="nope_a.png"):
        load_half_face(tmp_path, csv=bad)
    wrong_header = tmp_path / "wrong.csv"
    wrong_header.write_text("path,score\n")
    with pytest.raises(LayoutError, match="image_path,pspi_score"):
        load_half_face(tmp_path, csv=wrong_header)


def test_half_face_csv_labels_images_without_label_files(tmp_path: Path) -> None:
    folder = tmp_path / "pain-dataset"
    write_png(folder / "s003_f1_a.png", _gray(1))
    with pytest.raises(MissingLabelError):
        load_half_face(tmp_path)
    (folder / "labels.csv").write_text("image_path,pspi_score\ns003_f1_a.png,3.0000000e+00\n")
    assert [r.pspi for r in load_half_face(tmp_path, csv=folder / "labels.csv")] == [3.0]


def test_half_face_ignores_ground_truth_and_reports_missing(tmp_path: Path) -> None:
    a, _ = write_half_face_pair(tmp_path, "s001_f1", _gray(1), _gray(2), 1.0, 2.0)
    a.with_name("s001_f1.truth.json").write_text("{}")
    np.savez(a.with_name("s001_f1.aumask.npz"), mask=np.zeros(2))
    write_png(a.with_name("s001_f2_a.png"), _gray(3))
    write_png(a.with_name("s001_f3_b.png"), _gray(4))
    with pytest.raises(MissingLabelError) as err:
        load_half_face(tmp_path)
    assert {p.name for p in err.value.missing} == {"s001_f2_a.png", "s001_f3_b.png"}
    assert "2 image(s)" in str(err.value)
    skipped = load_half_face(tmp_path, missing_labels="skip")
    assert len(skipped) == 2 and skipped.notes["missing_labels"]["count"] == 2


def test_half_face_subject_pattern(tmp_path: Path) -> None:
    write_half_face_pair(tmp_path, "patient-12_visit3", _gray(1), _gray(2), 1.0, 2.0)
    with pytest.raises(LayoutError, match="subject"):
        load_half_face(tmp_path)
    records = load_half_face(tmp_path, subject_pattern=r"patient-(\d+)_")
    assert {r.subject for r in records} == {"12"}
    assert {r.subject for r in load_half_face(tmp_path, subject_pattern=None)} == {"patient-12_visit3"}


def test_default_subject_pattern() -> None:
    from data.layouts import DEFAULT_SUBJECT_PATTERN as pattern

    assert subject_from("s007_seq02_f0013", pattern) == "s007"
    assert subject_from("ll042t1aaaff001", pattern) == "ll042"
    assert subject_from("ak064t1aeunaff010", pattern) == "ak064"
    assert subject_from("photo_final", pattern) is None


# ---------------------------------------------------------------- side labels


def test_side_labels_round_trip_with_skip_rows(tmp_path: Path) -> None:
    entries = [
        ("s001_a", _rgb(1), Side.LEFT),
        ("s002_b.png", _gray(2), Side.RIGHT),
        ("sub/s003_c", _rgb(3), None),
        ("s004_d", _rgb(4), Side.LEFT),
    ]
    csv_path = write_side_labels(tmp_path, entries)
    assert csv_path.read_text().splitlines()[0] == "filename,label"
    (tmp_path / "s001_a.truth.json").write_text("{}")
    records = load_side_labels(tmp_path)
    assert [(r.frame_id, r.subject, r.affected_side) for r in records] == [
        ("s001_a", "s001", Side.LEFT),
        ("s002_b", "s002", Side.RIGHT),
        ("s004_d", "s004", Side.LEFT),
    ]
    np.testing.assert_array_equal(read_image_array(records[1].image_path), _gray(2))
    np.testing.assert_array_equal(read_image_array(records[0].image_path), _rgb(1))
    assert records.notes["skip_rows"]["count"] == 1
    assert records.notes["per_side"] == {"right": 1, "left": 2}
    assert detect_layout(tmp_path) == "side_labels"


def test_side_labels_reads_patient_wording_and_subject_column(tmp_path: Path) -> None:
    write_png(tmp_path / "img1.png", _rgb(1))
    write_png(tmp_path / "img2.png", _rgb(2))
    (tmp_path / "labels.csv").write_text(
        "filename,label,subject\nimg1.png,patient-left,P1\nimg2.png, Right ,P1\n"
    )
    records = load_side_labels(tmp_path)
    assert [(r.affected_side, r.subject) for r in records] == [(Side.LEFT, "P1"), (Side.RIGHT, "P1")]


def test_side_labels_image_side_convention(tmp_path: Path) -> None:
    write_side_labels(tmp_path, [("s001_a", _rgb(1), Side.LEFT), ("s002_a", _rgb(2), Side.RIGHT)])
    as_patient = load_side_labels(tmp_path)
    as_image = load_side_labels(tmp_path, side_convention="image")
    assert [r.affected_side for r in as_patient] == [Side.LEFT, Side.RIGHT]
    # "left" meant the image left of an ordinary photo: the patient's right
    assert [r.affected_side for r in as_image] == [Side.RIGHT, Side.LEFT]
    assert as_image.notes["side_convention"] == "image"
    assert load_any(tmp_path, side_convention="image")[0].affected_side is Side.RIGHT
    with pytest.raises(ValueError, match="side_convention"):
        load_side_labels(tmp_path, side_convention="viewer")


def test_side_labels_errors(tmp_path: Path) -> None:
    write_side_labels(tmp_path, [("s001_a", _rgb(1), Side.LEFT)])
    write_png(tmp_path / "s009_extra.png", _rgb(2))
    with pytest.raises(MissingLabelError, match="s009_extra"):
        load_side_labels(tmp_path)
    assert len(load_side_labels(tmp_path, missing_labels="skip")) == 1
    (tmp_path / "labels.csv").write_text("filename,label\ns001_a.png,up\ns009_extra.png,left\n")
    with pytest.raises(LayoutError, match="left/right/skip"):
        load_side_labels(tmp_path)
    (tmp_path / "labels.csv").write_text(
        "filename,label\ns001_a.png,left\ngone.png,left\ns009_extra.png,skip\n"
    )
    with pytest.raises(LayoutError, match="gone.png"):
        load_side_labels(tmp_path)
    with pytest.raises(ValueError, match="PNG"):
        write_side_labels(tmp_path / "x", [("a.jpg", _rgb(1), Side.LEFT)])


# ---------------------------------------------------------------- binary pain


def test_binary_pain_round_trip(tmp_path: Path) -> None:
    write_binary_pain(tmp_path, "s001_f1", _rgb(1), True)
    write_binary_pain(tmp_path, "s001_f2", _gray(2), False)
    write_binary_pain(tmp_path, "s002_f1", _rgb(3), False)
    (tmp_path / "pain" / "s001_f1.truth.json").write_text("{}")
    records = load_binary_pain(tmp_path)
    assert sorted((r.frame_id, r.subject, r.pain) for r in records) == [
        ("s001_f1", "s001", True),
        ("s001_f2", "s001", False),
        ("s002_f1", "s002", False),
    ]
    by_id = {r.frame_id: r for r in records}
    np.testing.assert_array_equal(read_image_array(by_id["s001_f2"].image_path), _gray(2))
    assert records.notes["pain"] == 1 and records.notes["no_pain"] == 2
    assert detect_layout(tmp_path) == "binary_pain" and load_any(tmp_path) == records


# ---------------------------------------------------------------- common


def test_detect_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="not found"):
        detect_layout(tmp_path / "nowhere")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(LayoutError, match="no known dataset layout"):
        detect_layout(tmp_path)
    with pytest.raises(LayoutError):
        load_any(tmp_path)


def test_write_png_is_lossless_and_refuses_bad_input(tmp_path: Path) -> None:
    image = _rgb(5, 9, 7)
    path = write_png(tmp_path / "x.png", image)
    np.testing.assert_array_equal(read_image_array(path), image)
    np.testing.assert_array_equal(
        read_image_array(write_png(tmp_path / "g.png", _gray(6)[:, :, None])), _gray(6)
    )
    with pytest.raises(ValueError, match="PNG"):
        write_png(tmp_path / "x.jpg", image)
    with pytest.raises(ValueError, match="uint8"):
        write_png(tmp_path / "f.png", image.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        write_png(tmp_path / "r.png", np.zeros((4, 4, 4), np.uint8))


def test_training_reads_side_labels_in_the_convention_asked_for(tmp_path: Path) -> None:
    from models.samples import load_records
    from models.train_config import TrainConfig

    write_side_labels(tmp_path, [("s001_a", _rgb(1, 64, 64), Side.LEFT),
                                 ("s002_a", _rgb(2, 64, 64), Side.RIGHT)])
    as_patient, layout, _ = load_records(TrainConfig(task="side", data=tmp_path, out=tmp_path / "run"))
    as_image, _, notes = load_records(TrainConfig(task="side", data=tmp_path, out=tmp_path / "run",
                                                  side_convention="image"))
    assert layout == "side_labels" and notes["side_convention"] == "image"
    assert [r.affected_side for r in as_patient] == [Side.LEFT, Side.RIGHT]
    assert [r.affected_side for r in as_image] == [Side.RIGHT, Side.LEFT]
