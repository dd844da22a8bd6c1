"""The model card of a finished training run: data description and hash, split with its leakage report,
hyperparameters, metrics and curves (:class:`models.checkpoint.ModelCard`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from models.checkpoint import ModelCard, json_default
from models.preprocess import InputSpec
from models.samples import PreparedData
from models.train_config import HYPERPARAMETERS, TrainConfig


def json_safe(value: Any) -> Any:
    """``value`` as it reads back from JSON (numpy scalars, paths and enums made plain)."""
    return json.loads(json.dumps(value, default=json_default))


def synthetic_manifest(root: Path) -> dict[str, Any] | None:
    """The ``synth_manifest.json`` of a synthetic benchmark holding ``root`` (in it or a parent), if any."""
    for folder in (root, *root.resolve().parents[:2]):
        manifest = folder / "synth_manifest.json"
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                return None
            return data if isinstance(data, dict) else None
    return None


def _extra_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of an extra training folder (synthetic or real-photo edits), without long lists."""
    for folder in (root, root.parent):
        for name in ("synth_manifest.json", "realedit_manifest.json"):
            path = folder / name
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                return {k: v for k, v in data.items() if not isinstance(v, list) or len(v) < 60}
    return None


def make_card(config: TrainConfig, spec: InputSpec, layout: str, loader_notes: dict[str, Any],
               records: list[Any], listing: str, split: Any, train_data: PreparedData,
               val_data: PreparedData, metrics: dict[str, Any], history: list[dict[str, Any]]) -> ModelCard:
    """The card of a run: what it was trained on (with the synthetic generator's manifest when there
    is one), how it was split, its initialisation, hyperparameters, validation metrics and curves."""
    subjects = len({r.subject for r in records})
    description = config.description or (
        f"{layout} layout at {config.data}: {len(records)} labelled records from {subjects} subjects"
    )
    manifest = synthetic_manifest(config.data)
    synthetic = None
    if manifest is not None:
        synthetic = {k: manifest.get(k) for k in ("generator", "config", "faces", "frames_by_palsy_side")}
        description = f"Synthetic faces ({manifest.get('generator', 'data.synth')}): {description}"
    init = "scratch (random initialisation; no pretrained weights)"
    if config.pretrained is not None:
        from models.checkpoint import sha256_file

        digest = sha256_file(config.pretrained)
        init = f"backbone weights from local file {config.pretrained} (sha256 {digest}; final layer random)"
    skipped = {**train_data.skipped, **val_data.skipped}
    notes = list(config.notes)
    if manifest is not None:
        notes.append("Trained on synthetic, computer-drawn faces, not on patients: research use only, not a "
                      "medical device.")
    if config.allow_leak and not split.leak_free:
        notes.append("The split leaks (allowed with --allow-leak): held-out metrics are optimistic.")
    return ModelCard(
        architecture=config.arch,
        task=config.task,
        outputs=config.outputs,
        input=spec.to_dict(),
        init=init,
        training_data=json_safe({
            "description": description,
            "root": str(config.data),
            "extra_roots": [str(p) for p in config.extra_data],
            "extra_manifests": [_extra_manifest(p) for p in config.extra_data],
            "landmarks": ("dlib fitted to every image, as on a photo" if config.landmarks == "detect"
                          else "the dataset's landmark files where present, else dlib"),
            "layout": layout,
            "records": len(records),
            "subjects": subjects,
            "listing_sha256": listing,
            "synthetic": synthetic,
            "samples": {"train": len(train_data.images), "val": len(val_data.images)},
            "skipped": {"count": len(skipped), "examples": dict(list(skipped.items())[:5])},
            "loader_notes": {k: v for k, v in loader_notes.items() if not isinstance(v, list) or len(v) < 50},
            "binary_threshold": config.binary_threshold if config.task == "pain_binary" else None,
            "side_convention": config.side_convention if layout in ("half_face", "side_labels") else None,
            "hyperparameters": {k: v for k, v in asdict(config).items() if k in HYPERPARAMETERS},
        }),
        split=json_safe({**split.to_dict(), "allow_leak": config.allow_leak,
                          "val_fraction": config.val_fraction}),
        metrics=json_safe(metrics),
        curves=json_safe(history),
        command=config.command,
        seed=config.seed,
        notes=notes,
    )



__all__ = ["json_safe", "make_card", "synthetic_manifest"]
