"""Leaky against honest: the same network and budget under the stroke report's protocol (halves of one
frame and frames of one subject on both sides, the testing images inside training), a random 80/20 over
images, a random 80/20 by frame and a subject-wise 80/20, so a reader sees how much a leaky split
flatters a model. Each protocol's leakage check is reported beside its figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eval.protocols import PROTOCOLS, make_splits
from eval.studies.cells import baseline_cell, network_cell
from eval.studies.harness import Budget, StudyData
from models.registry import build_model

LEAKY_PROTOCOLS = ("report", "random_image", "random", "subject")


def leaky_study(arch: str, data: StudyData, budget: Budget, *, n_boot: int, seed: int,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """PSPI from half faces with ``arch`` under each protocol of :data:`LEAKY_PROTOCOLS`."""
    protocols: dict[str, Any] = {}
    for protocol in LEAKY_PROTOCOLS:
        log(f"  leaky vs honest: {arch}, {protocol}")
        splits = make_splits(protocol, data.records, seed=seed)
        protocols[protocol] = {
            "description": PROTOCOLS[protocol],
            "model": network_cell(lambda: build_model(arch, outputs=1, task="pain"), "pain", splits, data,
                                  budget, n_boot=n_boot, seed=seed),
            "training mean": baseline_cell("pain", splits, data, n_boot=n_boot, seed=seed),
        }
    return {"task": "pain", "arch": arch, "protocols": protocols, "budget": budget.to_dict(),
            "input": {"kind": data.spec.kind, "height": data.spec.height, "width": data.spec.width}}


__all__ = ["LEAKY_PROTOCOLS", "leaky_study"]
