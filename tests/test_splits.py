"""Split protocols and the leakage check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data.records import BinaryPainRecord, HalfRecord, SideRecord
from data.splits import (
    LeakageError,
    Split,
    SubjectIdWarning,
    check_leakage,
    cross_dataset,
    kfold,
    predefined_split,
    random_split,
    subject_split,
)
from faces.sides import Side


def _halves(
    n_subjects: int = 10, frames: int = 3, dataset: str = "half_face", prefix: str = "s"
) -> list[HalfRecord]:
    records = []
    for s in range(n_subjects):
        for f in range(frames):
            frame = f"{prefix}{s:03d}_seq01_f{f:04d}"
            for half, side in (("a", Side.RIGHT), ("b", Side.LEFT)):
                records.append(
                    HalfRecord(
                        Path(f"/data/{dataset}/{frame}_{half}.png"),
                        f"{prefix}{s:03d}",
                        frame,
                        side,
                        float((s + f) % 5),
                        dataset=dataset,
                        subset="testing" if s >= 8 else "",
                    )
                )
    return records


def _one_frame_per_subject(n: int = 20) -> list[SideRecord]:
    return [
        SideRecord(Path(f"/side/p{i:03d}.png"), f"p{i:03d}", Side.LEFT if i % 2 else Side.RIGHT)
        for i in range(n)
    ]


def _assert_partition(split: Split, records: list) -> None:
    assert sorted(map(str, (r.image_path for r in split.train + split.test))) == sorted(
        str(r.image_path) for r in records
    )


def test_random_split_keeps_both_halves_of_a_frame_together() -> None:
    records = _halves(n_subjects=1, frames=20)
    split = random_split(records, 0.2, seed=3, allow_subject_leak=True)
    _assert_partition(split, records)
    assert len({r.group for r in split.test}) == 4 and len(split.test) == 8
    assert not ({r.group for r in split.train} & {r.group for r in split.test})


def test_random_split_refuses_subject_leak_unless_allowed_and_records_it() -> None:
    records = _halves()
    with pytest.raises(LeakageError) as err:
        random_split(records, 0.2, seed=0)
    assert err.value.report["checks"]["same_subject"]["count"] > 0
    assert "subject(s) on both sides" in str(err.value)
    split = random_split(records, 0.2, seed=0, allow_subject_leak=True)
    report = split.leakage
    assert split.protocol == "random" and split.seed == 0 and not split.leak_free
    assert report["allowed"] == ["same_subject"] and report["checks"]["same_frame"]["count"] == 0
    assert report["verdict"].startswith("leakage explicitly allowed")
    assert report["checks"]["same_subject"]["test_records"] > 0
    json.dumps(split.to_dict())


def test_random_split_without_repeated_subjects_is_clean() -> None:
    records = _one_frame_per_subject(20)
    split = random_split(records, 0.25, seed=1)
    assert len(split.test) == 5 and len(split.train) == 15 and split.leak_free
    assert split.val is split.test


def test_random_split_is_deterministic_by_seed_and_input_order() -> None:
    records = _one_frame_per_subject(30)
    a = random_split(records, seed=7)
    b = random_split(list(reversed(records)), seed=7)
    c = random_split(records, seed=8)
    assert {r.group for r in a.test} == {r.group for r in b.test}
    assert {r.group for r in a.test} != {r.group for r in c.test}
    assert a.leakage["fingerprint"] == b.leakage["fingerprint"]


def test_subject_split_has_no_subject_on_both_sides() -> None:
    records = _halves(n_subjects=10, frames=3)
    split = subject_split(records, 0.2, seed=2)
    _assert_partition(split, records)
    assert not ({r.subject for r in split.train} & {r.subject for r in split.test})
    assert len({r.subject for r in split.test}) == 2 and len(split.test) == 12
    assert split.leak_free and split.leakage["unit"] == "subject"
    assert split.leakage["test_subjects"] == sorted({r.subject for r in split.test})
    assert subject_split(records, 0.2, seed=2).leakage["fingerprint"] == split.leakage["fingerprint"]
    assert subject_split(records, 0.2, seed=5).leakage["fingerprint"] != split.leakage["fingerprint"]


def test_subject_split_with_uneven_subjects_gets_close_to_fraction() -> None:
    records = [
        BinaryPainRecord(Path(f"/b/s{s}_{i}.png"), f"s{s}", i % 2 == 0)
        for s in range(8)
        for i in range(s + 1)
    ]
    split = subject_split(records, 0.3, seed=0)
    assert 0.15 < len(split.test) / len(records) < 0.45 and split.leak_free
    assert split.leakage["test"]["labels"]["counts"]["true"] + split.leakage["test"]["labels"]["counts"][
        "false"
    ] == len(split.test)


def test_kfold_partitions_the_data_by_subject() -> None:
    records = _halves(n_subjects=10, frames=3)
    folds = kfold(records, k=5, seed=0)
    assert len(folds) == 5 and [f.fold for f in folds] == list(range(5))
    held_out = [str(r.image_path) for f in folds for r in f.test]
    assert sorted(held_out) == sorted(str(r.image_path) for r in records)
    for fold in folds:
        _assert_partition(fold, records)
        assert fold.leak_free and fold.n_folds == 5 and fold.protocol == "kfold"
        assert len(fold.test) == 12
    assert [f.leakage["fingerprint"] for f in kfold(records, 5, seed=0)] == [
        f.leakage["fingerprint"] for f in folds
    ]


def test_kfold_by_frame_needs_explicit_subject_leak() -> None:
    records = _halves(n_subjects=3, frames=5)
    with pytest.raises(LeakageError):
        kfold(records, k=5, seed=0, unit="frame")
    folds = kfold(records, k=5, seed=0, unit="frame", allow_subject_leak=True)
    assert all(f.leakage["checks"]["same_frame"]["count"] == 0 for f in folds)
    assert all("same_subject" in f.leakage["allowed"] for f in folds)
    with pytest.raises(ValueError, match="at least 5 subjects"):
        kfold(records, k=5)


def test_check_leakage_catches_split_halves_of_a_frame() -> None:
    records = _halves(n_subjects=2, frames=1)
    train = [r for r in records if r.side is Side.RIGHT]
    test = [r for r in records if r.side is Side.LEFT]
    with pytest.raises(LeakageError) as err:
        check_leakage(train, test)
    report = err.value.report
    assert report["checks"]["same_frame"]["count"] == 2
    assert report["checks"]["same_frame"]["examples"] == ["s000_seq01_f0000", "s001_seq01_f0000"]
    assert report["checks"]["same_subject"]["count"] == 2
    assert "2 frame(s) on both sides" in str(err.value)
    with pytest.raises(LeakageError):
        check_leakage(train, test, allow_subject_leak=True)
    allowed = check_leakage(train, test, allow=True, protocol="earlier random 80/20")
    assert allowed["allowed"] == ["same_frame", "same_subject"] and not allowed["leak_free"]
    assert allowed["checks"]["same_frame"]["test_fraction"] == 1.0
    assert allowed["allow_flags"] == {"allow": True, "allow_subject_leak": False}
    json.dumps(allowed)


def test_check_leakage_catches_same_image_and_same_subject() -> None:
    records = _halves(n_subjects=2, frames=2)
    with pytest.raises(LeakageError) as err:
        check_leakage(records[:5], records[4:])
    assert err.value.report["checks"]["same_image"]["count"] == 1
    subject_only_train = [r for r in records if r.frame_id.endswith("f0000")]
    subject_only_test = [r for r in records if r.frame_id.endswith("f0001")]
    with pytest.raises(LeakageError) as err:
        check_leakage(subject_only_train, subject_only_test)
    assert err.value.report["checks"]["same_frame"]["count"] == 0
    assert err.value.report["checks"]["same_subject"]["count"] == 2
    report = check_leakage(subject_only_train, subject_only_test, allow_subject_leak=True)
    assert report["allowed"] == ["same_subject"]


def test_clean_report_contents() -> None:
    records = _halves(n_subjects=4, frames=2)
    report = check_leakage(records[:8], records[8:], protocol="x", seed=1)
    assert report["leak_free"] and report["allowed"] == [] and report["verdict"].startswith("no leakage")
    assert (
        report["train"]["records"] == 8
        and report["train"]["subjects"] == 2
        and report["train"]["frames"] == 4
    )
    assert report["train"]["datasets"] == {"half_face": 8}
    assert set(report["test"]["labels"]) >= {"mean", "fraction_positive", "histogram"}
    json.dumps(report)


def test_cross_dataset() -> None:
    train = _halves(n_subjects=3, dataset="synthetic", prefix="a")
    test = _halves(n_subjects=2, dataset="unbc", prefix="b")
    split = cross_dataset(train, test)
    assert split.protocol == "cross_dataset" and split.leak_free and len(split.test) == len(test)
    assert split.leakage["test"]["datasets"] == {"unbc": len(test)}
    clash = _halves(n_subjects=2, dataset="unbc")
    with pytest.raises(LeakageError):
        cross_dataset(_halves(n_subjects=3, dataset="synthetic"), clash)
    assert cross_dataset(_halves(n_subjects=3, dataset="synthetic"), clash, allow=True).leakage["allowed"]


def test_predefined_split_uses_testing_folder() -> None:
    records = _halves(n_subjects=10, frames=2)
    split = predefined_split(records)
    assert {r.subset for r in split.test} == {"testing"} and len(split.test) == 8 and split.leak_free
    with pytest.raises(ValueError):
        predefined_split(records, test_subset="nothing")


def test_bad_arguments() -> None:
    records = _one_frame_per_subject(5)
    with pytest.raises(ValueError):
        random_split(records, 1.5)
    with pytest.raises(ValueError):
        subject_split(records[:1])
    with pytest.raises(ValueError):
        kfold(records, k=1)


def test_subject_ids_that_look_like_frame_ids_are_warned_about():
    one_each = _one_frame_per_subject(20)
    with pytest.warns(SubjectIdWarning, match="20 subjects for 20 frames"):
        split = subject_split(one_each, 0.25, seed=0)
    assert split.leakage["warnings"] and "frame-wise in effect" in split.leakage["warnings"][0]


def test_real_subjects_with_several_frames_raise_no_subject_warning(recwarn):
    split = subject_split(_halves(10, 3), 0.2, seed=0)
    assert split.leakage["warnings"] == []
    assert not [w for w in recwarn if issubclass(w.category, SubjectIdWarning)]
