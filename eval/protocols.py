"""Evaluation protocols by name, each a list of :class:`data.splits.Split` whose leakage report travels
into the study results.

- ``report``: the stroke report's protocol: a random 80/20 over single images, so the two halves of one
  frame and frames of one subject land on both sides, and the testing images are also inside the
  training set (the earlier project trained on its ``testing/`` folder too). Leaky by design; the
  check records how much.
- ``random_image``: random 80/20 over single images (halves and subjects on both sides; no test image
  in training).
- ``random``: random 80/20 by frame (:func:`data.splits.random_split`): halves stay together, subjects
  do not.
- ``kfold_image``: K-fold by frame, subjects across folds (the cerebral-palsy paper's image-wise
  scenario).
- ``kfold`` / ``subject``: subject-wise K-fold / 80/20: no subject on both sides.
- ``cross_dataset``: train on one dataset, test on another (:func:`data.splits.cross_dataset`).

Leaks are always *allowed* here (that is what the leaky protocols are for) and always *measured*: every
split carries :func:`data.splits.check_leakage`'s report, and :func:`leakage_summary` is what a study
writes beside its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from data import splits

PROTOCOLS = {
    "report": "stroke report's protocol: random 80/20 over single images, test images also in training",
    "random_image": "random 80/20 over single images (halves and subjects on both sides)",
    "random": "random 80/20 by frame (subjects on both sides)",
    "kfold_image": "K-fold by frame (image-wise; subjects on both sides)",
    "kfold": "subject-wise K-fold",
    "subject": "subject-wise 80/20",
    "cross_dataset": "train on one dataset, test on another",
}


def _image_split(records: Sequence[Any], fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    order = sorted(range(len(records)), key=lambda i: str(records[i].image_path))
    shuffled = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
    n_test = min(max(round(fraction * len(records)), 1), len(records) - 1)
    test = sorted(shuffled[:n_test])
    train = sorted(shuffled[n_test:])
    return [records[i] for i in train], [records[i] for i in test]


def make_splits(protocol: str, records: Sequence[Any], *, k: int = 5, seed: int = 0, fraction: float = 0.2,
                test_records: Sequence[Any] | None = None) -> list[splits.Split]:
    """The splits of ``protocol`` (see module doc) over ``records``; ``test_records`` for cross-dataset."""
    records = list(records)
    if protocol in ("report", "random_image"):
        train, test = _image_split(records, fraction, seed)
        if protocol == "report":
            train = records  # the testing images are inside the training set
        report = splits.check_leakage(train, test, allow=True, protocol=protocol, seed=seed, unit="image")
        return [splits.Split(train, test, protocol, seed, report)]
    if protocol == "random":
        return [splits.random_split(records, fraction, seed, allow_subject_leak=True)]
    if protocol == "kfold_image":
        return splits.kfold(records, k, seed, unit="frame", allow_subject_leak=True)
    if protocol == "kfold":
        return splits.kfold(records, k, seed, unit="subject")
    if protocol == "subject":
        return [splits.subject_split(records, fraction, seed)]
    if protocol == "cross_dataset":
        if not test_records:
            raise ValueError("cross_dataset needs test_records (the other dataset)")
        return [splits.cross_dataset(records, list(test_records), allow=True)]
    raise ValueError(f"Unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")


def leakage_summary(split_list: Sequence[splits.Split]) -> dict[str, Any]:
    """The leakage verdict of every split of a protocol, and the share of held-out records that share an
    image, a frame or a subject with training (largest over splits)."""
    checks = [s.leakage["checks"] for s in split_list]
    worst = {name: max(c[name]["test_fraction"] for c in checks) for name in checks[0]}
    return {"leak_free": all(s.leak_free for s in split_list),
            "verdicts": sorted({s.leakage["verdict"] for s in split_list}),
            "held_out_fraction_sharing": worst, "splits": len(split_list)}


__all__ = ["PROTOCOLS", "leakage_summary", "make_splits"]
