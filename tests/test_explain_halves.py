"""Which half a side decision rests on: the right half is replaced, and the probability is read again."""

from __future__ import annotations

import numpy as np
import pytest

from explain.halves import FILLS, evaluate, main, replaced_halves


def test_the_affected_half_is_the_image_half_of_the_patient_side() -> None:
    image = np.zeros((4, 6, 3), np.uint8)
    fill = np.full_like(image, 200)
    # patient-left affected: the patient's left is the image's right
    versions = replaced_halves(image, True, fill)
    assert (versions["affected"][:, 3:] == 200).all() and (versions["affected"][:, :3] == 0).all()
    assert (versions["other"][:, :3] == 200).all() and (versions["other"][:, 3:] == 0).all()
    flipped = replaced_halves(image, False, fill)
    assert np.array_equal(flipped["affected"], versions["other"])
    assert (image == 0).all()  # the input is left as it was


def test_replacing_halves_moves_the_shipped_side_models_probability(capsys) -> None:
    report = evaluate(2, 7)
    keys = {"intact"} | {f"{half}_half_{fill}" for half in ("affected", "other") for fill in FILLS}
    assert set(report["median"]) == keys and len(report["faces_detail"]) == 2
    for face in report["faces_detail"]:
        assert all(0.0 <= v <= 1.0 for v in face.values())
        # a palsy is drawn: the intact face gives its side more than even odds, and some replacement moves it
        assert face["intact"] > 0.5
        assert max(abs(v - face["intact"]) for k, v in face.items() if k != "intact") > 0.01
    assert main(["--faces", "1"]) == 0
    assert "other_half_neutral" in capsys.readouterr().out


def test_command_line_rejects_a_bad_face_count() -> None:
    with pytest.raises(SystemExit):
        main(["--faces", "x"])
