"""Synthetic face benchmark: PSPI, determinism, patient-side droop, AU footprints, dataset writing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from data.synth.aus import (
    AU_NAMES,
    AU_REGIONS,
    Palsy,
    pspi,
    sample_aus_for_pspi,
    sample_pspi_target,
    weaken,
    zero_aus,
)
from data.synth.generate import make_subject, sample_frame_spec
from data.synth.identity import sample_identity
from data.synth.regions import region_masks, region_mass, sided
from data.synth.render import FrameSpec, au_change_masks, render_face
from faces.sides import Side

SIZE = 128
AU_NAMES_MAX = {n: (1.0 if n == "AU43" else 5.0) for n in AU_NAMES}


def _spec(seed: int = 4, **changes: object) -> FrameSpec:
    base = sample_frame_spec(np.random.default_rng(seed), sample_identity(100 + seed), "balanced", None, SIZE)
    return replace(base, **changes)


def _only(name: str, value: float, side: Side) -> dict[Side, dict[str, float]]:
    aus = {Side.RIGHT: zero_aus(), Side.LEFT: zero_aus()}
    aus[side][name] = value
    return aus


def test_pspi_formula_and_clamping() -> None:
    assert pspi({"AU4": 2, "AU6": 3, "AU7": 1, "AU9": 0, "AU10": 4, "AU43": 1}) == 10.0
    assert pspi({"AU6": 1, "AU7": 4}) == 4.0
    assert pspi({}) == 0.0
    assert pspi({n: 5.0 for n in AU_NAMES}) == 16.0
    assert pspi({"AU4": 9, "AU6": 9, "AU10": 9, "AU43": 1}) == 16.0
    assert pspi({"AU4": -3}) == 0.0
    assert pspi({4: 1, 7: 2, 9: 3, 43: 0.4}) == 7.0


@pytest.mark.parametrize("target", range(17))
def test_sampled_aus_hit_the_target_pspi(target: int) -> None:
    rng = np.random.default_rng(target)
    for _ in range(5):
        aus = sample_aus_for_pspi(rng, target)
        assert pspi(aus) == target
        assert all(0 <= aus[n] <= 5 for n in AU_NAMES) and aus["AU43"] in (0.0, 1.0)


def test_pspi_distributions() -> None:
    rng = np.random.default_rng(0)
    unbc = np.array([sample_pspi_target(rng, "unbc") for _ in range(2000)])
    balanced = np.array([sample_pspi_target(rng, "balanced") for _ in range(2000)])
    assert (unbc == 0).mean() > 0.5 and unbc.max() >= 8
    counts = np.bincount(balanced, minlength=13)
    assert counts.min() > 100 and balanced.max() <= 12
    with pytest.raises(ValueError):
        sample_pspi_target(rng, "uniform")


def test_same_seed_same_bytes_different_seed_differs() -> None:
    spec = _spec(aus={Side.RIGHT: sample_aus_for_pspi(np.random.default_rng(1), 7)})
    a, b = render_face(spec), render_face(spec)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.landmarks, b.landmarks)
    other = render_face(_spec(seed=5))
    assert not np.array_equal(a.image, other.image)
    assert a.image.shape == (SIZE, SIZE, 3) and a.image.dtype == np.uint8
    assert a.landmarks.shape == (68, 2)


@pytest.mark.parametrize("side", list(Side))
def test_palsy_droops_the_stated_patient_side(side: Side) -> None:
    spec = _spec(roll=0.0, yaw=0.0, aus={})
    neutral = render_face(spec).landmarks
    palsied = render_face(replace(spec, palsy=Palsy(side, 1.0, "peripheral"))).landmarks
    # Non-mirrored photo: the patient's right mouth corner is iBUG 48 (image left), the left one 54.
    affected, spared = (54, 48) if side is Side.LEFT else (48, 54)
    eye_lower, brow = ((46, 47), range(22, 27)) if side is Side.LEFT else ((40, 41), range(17, 22))
    spared_eye_lower = (40, 41) if side is Side.LEFT else (46, 47)
    spared_brow = range(17, 22) if side is Side.LEFT else range(22, 27)
    delta = palsied - neutral
    assert delta[affected, 1] > 1.0 and abs(delta[spared, 1]) < 1e-6
    assert palsied[affected, 1] > palsied[spared, 1] + 1.0
    assert delta[list(eye_lower), 1].min() > 0 and np.allclose(delta[list(spared_eye_lower)], 0)
    assert delta[list(brow), 1].min() > 0 and np.allclose(delta[list(spared_brow)], 0)
    central = render_face(replace(spec, palsy=Palsy(side, 1.0, "central"))).landmarks
    assert np.allclose(central[list(brow)], neutral[list(brow)])


@pytest.mark.parametrize("side", list(Side))
def test_peripheral_palsy_smooths_the_forehead_central_spares_it(side: Side) -> None:
    identity = replace(sample_identity(12), forehead_lines=0.45)
    spec = FrameSpec(identity=identity, size=SIZE)
    plain = render_face(spec)
    masks = region_masks(plain.landmarks, (SIZE, SIZE))

    def forehead_change(kind: str, where: Side) -> float:
        palsied = render_face(replace(spec, palsy=Palsy(side, 0.9, kind))).image.astype(int)
        return float(np.abs(palsied - plain.image).sum(axis=2)[masks[f"forehead_{where.value}"]].sum())

    assert forehead_change("peripheral", side) > 5 * max(forehead_change("central", side), 1.0)
    assert forehead_change("peripheral", side.opposite) < 0.1 * forehead_change("peripheral", side)


def test_palsy_weakens_affected_side_only() -> None:
    aus = {"AU4": 4.0, "AU6": 3.0, "AU7": 0.0, "AU9": 2.0, "AU10": 5.0, "AU43": 1.0}
    palsy = Palsy(Side.LEFT, 0.9, "peripheral")
    assert weaken(aus, palsy, Side.RIGHT) == aus | {"AU12": 0.0, "AU25": 0.0}
    weak = weaken(aus, palsy, Side.LEFT)
    assert all(weak[n] < aus[n] for n in ("AU4", "AU6", "AU9", "AU10")) and weak["AU43"] == 0.0
    spec = _spec(aus={Side.RIGHT: aus, Side.LEFT: aus}, palsy=palsy)
    shown = render_face(spec).effective_aus
    assert pspi(shown[Side.RIGHT]) == pspi(aus) > pspi(shown[Side.LEFT])
    central = weaken(aus, Palsy(Side.LEFT, 0.9, "central"), Side.LEFT)
    assert central["AU4"] > weak["AU4"]


def test_au_on_patient_right_changes_the_image_left() -> None:
    spec = _spec(roll=0.0, yaw=0.0, aus=_only("AU6", 5, Side.RIGHT))
    change = au_change_masks(spec)[(Side.RIGHT, "AU6")]
    mid = render_face(spec).landmarks[[27, 8], 0].mean()
    columns = np.arange(SIZE)[None, :]
    assert change[:, columns[0] < mid].sum() > 0.9 * change.sum()


@pytest.mark.parametrize("name", AU_NAMES)
def test_au_changes_mainly_its_own_regions(name: str) -> None:
    inside, total = 0.0, 0.0
    for k, side in enumerate((Side.RIGHT, Side.LEFT, Side.RIGHT)):
        spec = _spec(seed=10 + k, aus=_only(name, AU_NAMES_MAX[name], side))
        rendered = render_face(spec)
        change = au_change_masks(spec)[(side, name)]
        fractions = region_mass(change, region_masks(rendered.landmarks, change.shape))
        inside += change.sum() * sum(fractions[r] for r in sided(AU_REGIONS[name], side))
        total += change.sum()
    assert total > 0
    assert inside / total >= 0.8


@pytest.mark.parametrize("name", [n for n in AU_NAMES if n != "AU43"])
def test_more_intensity_changes_more_pixels(name: str) -> None:
    spec = _spec(seed=7)
    masses = [au_change_masks(replace(spec, aus=_only(name, level, Side.LEFT)))[(Side.LEFT, name)].sum()
              for level in (1, 2, 3, 4, 5)]
    assert all(b > a for a, b in zip(masses, masses[1:], strict=False)), masses


def test_distractor_aus_leave_pspi_alone_but_change_the_mouth() -> None:
    spec = _spec(seed=8, roll=0.0, aus={})
    smile = replace(spec, aus={side: {"AU12": 4.0, "AU25": 3.0} for side in Side})
    neutral, smiling = render_face(spec), render_face(smile)
    assert all(pspi(aus) == 0.0 for aus in smiling.effective_aus.values())
    assert (smiling.landmarks[[48, 54], 1] < neutral.landmarks[[48, 54], 1]).all()
    assert smiling.landmarks[66, 1] > neutral.landmarks[66, 1]
    assert au_change_masks(smile) == {}


def test_half_faces_keep_photo_orientation_and_patient_sides() -> None:
    from data.synth.write import cut_halves

    identity = replace(sample_identity(109), background="flat", bg_rgb=(0, 0, 255), hair_style="buzz")
    spec = FrameSpec(identity=identity, size=256)
    closed = replace(spec, aus=_only("AU43", 1.0, Side.LEFT))
    landmarks = render_face(spec).landmarks
    before = cut_halves(render_face(spec).image, landmarks)
    after = cut_halves(render_face(closed).image, landmarks)
    change = {side: np.abs(after[side].astype(int) - before[side].astype(int)).sum() for side in Side}
    assert change[Side.LEFT] > 0 and change[Side.RIGHT] == 0
    for side, half in after.items():
        assert half.shape[0] > half.shape[1]
        blue = (half[..., 2] > 200) & (half[..., 0] < 60)
        quarter = half.shape[1] // 4
        image_left, image_right = blue[:, :quarter].mean(), blue[:, -quarter:].mean()
        # As in the photo: the patient's right half has the face outline (and background) on its image
        # left and the midline on its right; the patient's left half the other way round.
        assert (image_left > image_right) if side is Side.RIGHT else (image_right > image_left)


def test_subject_identity_is_fixed_across_frames() -> None:
    a, b = make_subject(3, seed=9), make_subject(3, seed=9)
    assert a == b and a.name == "s004"
    assert make_subject(4, seed=9).identity != a.identity


def test_yaw_spread_is_a_setting_and_defaults_to_small_turns() -> None:
    def yaws(**kwargs: float) -> np.ndarray:
        identity = sample_identity(5)
        return np.array([sample_frame_spec(np.random.default_rng([8, k]), identity, **kwargs).yaw
                         for k in range(400)])

    small, wide = yaws(), yaws(yaw_sd=12.0)
    assert np.abs(small).max() <= 10.0 and 3.0 < small.std() < 5.0
    assert np.abs(wide).max() <= 30.0 and 10.0 < wide.std() < 13.0 and (np.abs(wide) > 20).mean() > 0.05
    # the same draws scaled: the rest of every frame (expression, light, camera) is unchanged
    assert np.allclose(np.clip(small * 3, -30, 30)[np.abs(small) < 10], wide[np.abs(small) < 10])
    from data.synth.write import SynthConfig, write_dataset

    with pytest.raises(ValueError, match="yaw_sd"):
        write_dataset("unused", SynthConfig(yaw_sd=0.0), progress=False)


def test_cli_writes_all_layouts(tmp_path: Path) -> None:
    from data.__main__ import main
    from data.layouts import load_any

    out = tmp_path / "synth"
    args = ["synth", "--out", str(out), "--subjects", "2", "--frames", "2", "--seed", "3", "--layout", "all",
            "--size", str(SIZE), "--palsy-fraction", "1", "--quiet", "--au-masks"]
    assert main(args) == 0
    image = out / "unbc" / "Images" / "s001" / "seq01" / "s001_seq01_f0000.png"
    assert image.exists() and image.with_suffix(".truth.json").exists()
    assert (out / "unbc" / "AAM_landmarks" / "s001" / "seq01" / "s001_seq01_f0000_aam.txt").exists()
    assert (out / "halfface" / "pain-dataset" / "s002_seq01_f0001_a.png").exists()
    assert (out / "halfface" / "pain-dataset" / "s002_seq01_f0001_b_facs.txt").exists()
    assert (out / "side" / "labels.csv").exists() and (out / "synth_manifest.json").exists()
    assert len(load_any(out / "unbc")) == 4
    assert len(load_any(out / "halfface")) == 8
    side_records = load_any(out / "side")
    assert len(side_records) == 4 and {r.subject for r in side_records} == {"s001", "s002"}
    assert len(load_any(out / "binary")) == 4
    import json

    truth = json.loads(image.with_suffix(".truth.json").read_text())
    assert truth["mirrored"] is False and len(truth["landmarks"]) == 68
    assert truth["palsy"]["side"] in ("left", "right") and "image" in truth["palsy"]["label"]
    assert set(truth["aus"]) == {"left", "right"}


def test_cli_output_is_deterministic(tmp_path: Path) -> None:
    from data.__main__ import main

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert main(["synth", "--out", str(tmp_path / name), "--subjects", "2", "--frames", "2", "--seed",
                     str(seed), "--layout", "unbc", "--size", "96", "--palsy-fraction", "1", "--quiet"]) == 0
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert "synth_manifest.json" in a
    assert a == b  # the manifest too: a dataset does not record the folder it was written to
    assert a.keys() == c.keys() and a != c
