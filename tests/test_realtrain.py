"""Training data from edited development photos: written in the trainer's layouts, with per-half truth."""

from __future__ import annotations

import json

import pytest

from data.layouts import load_any
from data.photos import offline_photos
from data.realtrain import RealEditConfig, learned_photos, left_out, photo_fold, subject_of, write_real_edits


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    photos = [p for p in offline_photos("development") if p.name in ("lfw-000", "lfw-002")]
    out = tmp_path_factory.mktemp("real")
    manifest = write_real_edits(out, photos, RealEditConfig(edits=4, seed=3, palsy_share=0.5), progress=False)
    return out, manifest


def test_held_out_photos_are_refused(tmp_path) -> None:
    held = [p for p in offline_photos("held_out") if p.name == "lfw-001"]
    with pytest.raises(ValueError, match="held-out"):
        write_real_edits(tmp_path, held, RealEditConfig(edits=1), progress=False)


def test_subjects_keep_copies_of_one_person_together() -> None:
    names = {p.name: subject_of(p) for p in offline_photos("development") if not p.name.startswith("lfw-0")}
    assert set(names.values()) == {"astro0"}
    lfw = [p for p in offline_photos("development") if p.name == "lfw-042"][0]
    assert subject_of(lfw) == "lfw042"


def test_edits_load_in_both_layouts_with_the_truth_per_half(written) -> None:
    out, manifest = written
    frames = load_any(out / "unbc")
    halves = load_any(out / "halfface")
    assert manifest["counts"]["written"] == len(frames) > 0
    assert len(halves) == 2 * len(frames)
    assert {r.subject for r in frames} == {"lfw000", "lfw002"}
    by_frame = {}
    for half in halves:
        by_frame.setdefault(half.frame_id, {})[half.side.value] = half.pspi
    for frame in frames:
        truth = json.loads(frame.image_path.with_suffix(".truth.json").read_text())
        assert frame.pspi == pytest.approx(truth["pspi_true"])
        assert by_frame[frame.frame_id] == pytest.approx(truth["pspi"])
        if truth["palsy"] is None:
            assert frame.palsy_side is None and truth["pspi"]["left"] == truth["pspi"]["right"]
        else:
            affected = truth["palsy"]["side"]
            assert frame.palsy_side.value == affected
            other = "left" if affected == "right" else "right"
            assert truth["pspi"][affected] <= truth["pspi"][other] <= truth["pspi_true"]


def test_photo_folds_split_by_person_and_cover_every_photo_once() -> None:
    photos = offline_photos("development")
    folds = [photo_fold(photos, k, 2) for k in range(2)]
    names = [[p.name for p in fold] for fold in folds]
    assert sorted(names[0] + names[1]) == sorted(p.name for p in photos)
    assert not set(names[0]) & set(names[1])
    # the astronaut portrait and its copies are one person: one fold holds all three
    assert {"astronaut", "astronaut-grey", "astronaut-half-jpeg"} <= set(names[0])
    people = [{subject_of(p) for p in fold} for fold in folds]
    assert abs(len(people[0]) - len(people[1])) <= 1
    with pytest.raises(ValueError, match="fold must be"):
        photo_fold(photos, 2, 2)


def test_learned_photos_are_read_from_the_card() -> None:
    training_data = {"extra_manifests": [{"photos": ["lfw-000", "astronaut"]}, {"photos": ["lfw-002"]}]}
    assert learned_photos(training_data) == {"lfw-000", "lfw-002", "astronaut"}
    assert learned_photos({}) == set()
    assert left_out(training_data, {"lfw-004"}) and not left_out(training_data, {"lfw-002", "lfw-004"})
    assert not left_out({}, {"lfw-004"})  # a model that learned from no photos left nothing out
