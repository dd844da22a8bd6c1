"""LIME on facial-region segments: segments tile the input, the region a model reads wins, the map is
reproducible from its seed, and the lime package and captum agree on the same segments.

The stand-in pain model reads the mean brightness of one segment of the input (a fixed mask), so the
right answer is known: LIME must put (nearly) all its weight on that segment.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import faces
from data.synth import Palsy, render_face, sample_identity
from data.synth.generate import sample_frame_spec
from explain.lime import CaptumLimeExplainer, LimeExplainer, fill_image
from explain.segments import (
    OUTSIDE,
    paint,
    region_segments,
    split_mask,
    subregion_segments,
    superpixel_segments,
)
from explain.types import MapSource
from faces.sides import Side
from models.checkpoint import ModelCard
from models.pipeline import LoadedModel, deployed
from models.preprocess import InputSpec, half_tensor

SPEC = InputSpec.default("half_face", (64, 32))


class MaskMean(nn.Module):
    """PSPI stand-in: ``scale`` x the mean of the (normalised) input inside ``mask``."""

    def __init__(self, mask: np.ndarray, scale: float = 4.0) -> None:
        super().__init__()
        self.register_buffer("mask", torch.from_numpy(mask.astype(np.float32)))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inside = (x * self.mask).sum((1, 2, 3)) / (3 * self.mask.sum())
        return (self.scale * inside)[:, None]


@pytest.fixture(scope="module")
def geometry() -> faces.types.FaceGeometry:
    rng = np.random.default_rng(4)
    spec = sample_frame_spec(rng, sample_identity(3), palsy=Palsy(Side.LEFT, 0.8, "central"), size=160)
    rendered = render_face(spec)
    return faces.analyse(rendered.image, landmarks=rendered.landmarks, size=96)


def _reader(geometry: faces.types.FaceGeometry, region: str) -> tuple[LoadedModel, torch.Tensor, MapSource]:
    source = MapSource(geometry, "pain", Side.RIGHT)
    segments = region_segments(source, SPEC)
    mask = segments.labels == segments.names.index(region)
    card = ModelCard(architecture="simple_cnn", task="pain", outputs=1, input=SPEC.to_dict())
    model = LoadedModel("pain", deployed(MaskMean(mask), "pain", 0.0), card)
    return model, half_tensor([geometry.halves[Side.RIGHT]], SPEC), source


def test_region_segments_tile_the_half_with_named_regions(geometry) -> None:
    segments = region_segments(MapSource(geometry, "pain", Side.LEFT), SPEC)
    assert segments.labels.shape == SPEC.size
    assert set(np.unique(segments.labels)) == set(range(segments.count))
    assert segments.names[-1] == OUTSIDE
    assert {name.rsplit("_", 1)[1] for name in segments.names[:-1]} == {"left"}  # only this half's regions
    assert {"eye_left", "mouth_left", "brow_left"} <= set(segments.names)


def test_face_segments_name_both_patient_sides(geometry) -> None:
    spec = InputSpec.default("aligned_face", (64, 64))
    segments = region_segments(MapSource(geometry, "side"), spec)
    sides = {name.rsplit("_", 1)[1] for name in segments.names[:-1]}
    assert sides == {"left", "right"}
    # canonical view: the patient's right is on the image left
    columns = np.nonzero(segments.labels == segments.names.index("eye_right"))[1]
    assert columns.mean() < spec.width / 2


def test_split_mask_cuts_compact_pieces_of_similar_size_deterministically() -> None:
    mask = np.zeros((30, 60), bool)
    mask[10:20, 5:55] = True  # a horizontal bar, like a brow
    pieces = split_mask(mask, 3)
    assert (pieces[~mask] == -1).all() and set(np.unique(pieces[mask])) == {0, 1, 2}
    sizes = np.bincount(pieces[mask])
    assert sizes.min() > 0.7 * sizes.max()
    # cut across the long axis: each piece is a band of columns, the bands in order and not interleaved
    spans = [np.nonzero((pieces == k).any(axis=0))[0] for k in range(3)]
    assert spans[0].max() < spans[1].min() and spans[1].max() < spans[2].min()
    np.testing.assert_array_equal(pieces, split_mask(mask, 3))
    assert (split_mask(mask, 1)[mask] == 0).all()


def test_subregions_nest_inside_the_named_regions(geometry) -> None:
    source = MapSource(geometry, "pain", Side.LEFT)
    regions = region_segments(source, SPEC)
    pieces = subregion_segments(source, SPEC, piece_fraction=1 / 16)
    assert pieces.method == "subregions" and pieces.count > regions.count
    assert set(np.unique(pieces.labels)) == set(range(pieces.count))
    for k, name in enumerate(pieces.names):  # every piece lies in the one region it is named after
        assert set(np.unique(regions.labels[pieces.labels == k])) == {regions.names.index(name)}
    assert set(pieces.names) == set(regions.names)
    # with pieces larger than the input every region stays whole
    whole = subregion_segments(source, SPEC, piece_fraction=2.0)
    np.testing.assert_array_equal(whole.labels, regions.labels)


def test_lime_on_subregions_weights_the_piece_the_model_reads(geometry) -> None:
    source = MapSource(geometry, "pain", Side.RIGHT)
    pieces = subregion_segments(source, SPEC)  # the explainer's own pieces
    split = [k for k, name in enumerate(pieces.names) if name != OUTSIDE and pieces.names.count(name) > 1]
    assert split, "some facial region is cut into pieces"
    read = max(split, key=lambda k: int((pieces.labels == k).sum()))  # one piece of a cut region
    card = ModelCard(architecture="simple_cnn", task="pain", outputs=1, input=SPEC.to_dict())
    model = LoadedModel("pain", deployed(MaskMean(pieces.labels == read), "pain", 0.0), card)
    inputs = half_tensor([geometry.halves[Side.RIGHT]], SPEC)
    explanation = LimeExplainer().attribute(model, inputs, 0, source=source, n_samples=128, seed=1,
                                            segmentation="subregions")
    assert explanation.params["segmentation"] == "subregions"
    assert explanation.params["segments"] == len(explanation.params["segment_names"]) >= pieces.count
    values = np.array([np.abs(explanation.input_map[pieces.labels == k]).sum() for k in range(pieces.count)])
    assert int(np.argmax(values)) == read
    assert np.delete(values, read).max() < 0.2 * values[read]


def test_superpixels_are_relabelled_from_zero(geometry) -> None:
    image = np.ascontiguousarray(geometry.halves[Side.RIGHT].image[:64, :32])
    for method in ("quickshift", "slic"):
        segments = superpixel_segments(image, method)
        assert set(np.unique(segments.labels)) == set(range(segments.count)) and segments.count > 1
        assert paint(np.arange(segments.count), segments).shape == image.shape[:2]


@pytest.mark.parametrize("region", ["mouth_right", "eye_right"])
@pytest.mark.parametrize("explainer", [LimeExplainer(), CaptumLimeExplainer()], ids=["lime", "captum"])
def test_lime_weights_the_segment_the_model_reads(geometry, region, explainer) -> None:
    model, inputs, source = _reader(geometry, region)
    explanation = explainer.attribute(model, inputs, 0, source=source, n_samples=64, seed=1)
    names = explanation.params["segment_names"]
    segments = region_segments(source, SPEC)
    weights = np.array([explanation.input_map[segments.labels == k][0] for k in range(len(names))])
    top = int(np.argmax(np.abs(weights)))
    assert names[top] == region
    others = np.delete(np.abs(weights), top)
    assert others.max() < 0.2 * abs(weights[top])
    assert explanation.face_map.shape == geometry.aligned.shape[:2]
    assert explanation.stage == "pain" and explanation.half is Side.RIGHT


def test_same_input_and_seed_give_the_identical_map(geometry) -> None:
    model, inputs, source = _reader(geometry, "mouth_right")
    explainer = LimeExplainer()
    first = explainer.attribute(model, inputs, 0, source=source, n_samples=32, seed=7)
    explainer.attribute(model, inputs, 0, source=source, n_samples=32, seed=3)  # moves the RNG on
    again = explainer.attribute(model, inputs, 0, source=source, n_samples=32, seed=7)
    other = explainer.attribute(model, inputs, 0, source=source, n_samples=32, seed=8)
    np.testing.assert_array_equal(first.input_map, again.input_map)
    assert not np.array_equal(first.input_map, other.input_map)
    captum = CaptumLimeExplainer()
    a = captum.attribute(model, inputs, 0, source=source, n_samples=32, seed=7)
    b = captum.attribute(model, inputs, 0, source=source, n_samples=32, seed=7)
    np.testing.assert_array_equal(a.input_map, b.input_map)


def test_fills(geometry) -> None:
    image = np.ascontiguousarray(geometry.halves[Side.RIGHT].image[:64, :32])
    segments = superpixel_segments(image, "slic")
    mean = fill_image(image, "mean", SPEC, segments)
    assert (mean == np.array(SPEC.pad_value, np.uint8)).all()
    per_segment = fill_image(image, "segment_mean", SPEC, segments)
    for k in range(segments.count):
        assert len(np.unique(per_segment[segments.labels == k], axis=0)) == 1
    blur = fill_image(image, "blur", SPEC, segments)
    assert blur.std() < image.std()


def test_reference_fill_switches_regions_to_the_reference() -> None:
    from explain.lime import fill_image
    from explain.segments import Segments

    image = np.full((16, 8, 3), 200, np.uint8)
    reference = np.full((16, 8, 3), 17, np.uint8)
    segments = Segments(labels=np.zeros((16, 8), np.int32), names=("all",), method="regions")
    spec = InputSpec.default("half_face", (16, 8))
    np.testing.assert_array_equal(fill_image(image, "reference", spec, segments, reference), reference)
    with pytest.raises(ValueError, match="reference"):
        fill_image(image, "reference", spec, segments)


def test_lime_against_a_reference_weighs_only_what_differs_from_it(geometry) -> None:
    source = MapSource(geometry, "pain", Side.RIGHT)
    segments = region_segments(source, SPEC)
    card = ModelCard(architecture="simple_cnn", task="pain", outputs=1, input=SPEC.to_dict())
    model = LoadedModel("pain", deployed(MaskMean(np.ones(SPEC.size, bool)), "pain", 0.0), card)
    x = half_tensor([geometry.halves[Side.RIGHT]], SPEC)
    eye = torch.from_numpy(segments.labels == segments.names.index("eye_right"))
    reference = torch.where(eye, x + 1.0, x)  # the same half with a brighter eye, nothing else changed
    result = LimeExplainer().attribute(model, x, 0, source=source, fill="reference", reference=reference,
                                       n_samples=64)
    # the map is a density: its sum over a segment is that segment's weight x the mean segment area
    values = {name: float(result.input_map[segments.labels == k].sum())
              for k, name in enumerate(segments.names)}
    assert values["eye_right"] < 0  # this eye is darker than the reference's: it lowers the output
    others = [abs(v) for name, v in values.items() if name != "eye_right"]
    assert max(others) < 0.05 * abs(values["eye_right"])
    assert result.params["fill"] == "reference"
