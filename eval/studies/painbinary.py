"""The cerebral-palsy paper's pain / no-pain study and its three scenarios: image-wise K-fold (people
seen in training), subject-wise K-fold (unseen people) and cross-dataset (train on one dataset, test on
another whose people have a facial palsy, standing in for the CP-PAIN set), with the paper's networks by
name (:mod:`eval.studies.networks`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from eval.protocols import PROTOCOLS, make_splits
from eval.studies.cells import baseline_cell, network_cell
from eval.studies.harness import Budget, StudyData
from eval.studies.networks import PAPER_NETWORKS

SCENARIOS = ("kfold_image", "kfold", "cross_dataset")


def tag_records(data: StudyData, tag: str) -> StudyData:
    """The same samples with subject and frame ids prefixed by ``tag``: two synthetic datasets both name
    their people ``s001`` ... although they are different people, which the leakage check would flag."""
    def renamed(record: Any) -> Any:
        return dataclasses.replace(record, subject=f"{tag}:{record.subject}",
                                   frame_id=f"{tag}:{record.frame_id}")

    return StudyData(data.images, data.targets, [renamed(r) for r in data.records], data.spec)


def pain_binary_study(networks: Sequence[str], data: StudyData, other: StudyData, budget: Budget, *, k: int,
                      n_boot: int, seed: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every network under the three scenarios; ``other`` is the cross-dataset test set."""
    other = tag_records(other, "other")
    scenarios: dict[str, Any] = {}
    for scenario in SCENARIOS:
        test = other if scenario == "cross_dataset" else None
        splits = make_splits(scenario, data.records, k=k, seed=seed,
                             test_records=other.records if test else None)
        cells: dict[str, Any] = {}
        for name in networks:
            log(f"  pain/no pain, {scenario}: {name}")
            cells[name] = network_cell(lambda n=name: PAPER_NETWORKS[n].build(2), "pain_binary", splits, data,
                                       budget, test=test, n_boot=n_boot, seed=seed)
        cells["majority class (training)"] = baseline_cell("pain_binary", splits, data, test=test,
                                                           n_boot=n_boot, seed=seed)
        scenarios[scenario] = {"protocol": PROTOCOLS[scenario], "cells": cells}
    return {"task": "pain_binary", "scenarios": scenarios, "networks": list(networks),
            "not_run": [n for n in PAPER_NETWORKS if n not in networks],
            "input": {"height": data.spec.height, "width": data.spec.width}, "budget": budget.to_dict(),
            "samples": {"main": len(data.records), "other": len(other.records)}}


__all__ = ["SCENARIOS", "pain_binary_study", "tag_records"]
