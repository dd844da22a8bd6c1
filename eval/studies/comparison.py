"""The stroke report's model comparison, done under one protocol and one budget: PSPI from the
canonical half face (simple CNN, ResNet18, MobileNetV2, EfficientNet-B0) and the affected side from the
aligned face (the custom CNN, MobileNetV2), each in subject-wise K-fold with pooled held-out
predictions, beside the training-mean / majority baseline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eval.protocols import PROTOCOLS, make_splits
from eval.studies.cells import baseline_cell, network_cell
from eval.studies.harness import Budget, StudyData
from models.registry import build_model


def compare(task: str, archs: Sequence[str], data: StudyData, budget: Budget, *, k: int, n_boot: int,
            seed: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every architecture of ``archs`` on ``data`` in subject-wise ``k``-fold (same folds, same budget)."""
    splits = make_splits("kfold", data.records, k=k, seed=seed)
    outputs = 1 if task == "pain" else 2
    cells: dict[str, Any] = {}
    for arch in archs:
        log(f"  {task}: {arch}, {k} folds")
        cells[arch] = network_cell(lambda a=arch: build_model(a, outputs=outputs, task=task), task, splits,
                                   data, budget, n_boot=n_boot, seed=seed)
    name = "training mean" if task == "pain" else "majority class (training)"
    cells[name] = baseline_cell(task, splits, data, n_boot=n_boot, seed=seed)
    return {"task": task, "protocol": PROTOCOLS["kfold"], "k": k,
            "input": {"kind": data.spec.kind, "height": data.spec.height, "width": data.spec.width},
            "budget": budget.to_dict(), "samples": len(data.records), "subjects": len(set(data.subjects)),
            "cells": cells, "baseline": name}


__all__ = ["compare"]
