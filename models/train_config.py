"""What a training run depends on: :class:`TrainConfig` (recorded in the model card) and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from models.registry import DEFAULT_ARCHITECTURE, check_task, default_outputs

SPLITS = ("random", "kfold", "subject", "predefined")
SCHEDULERS = ("cosine", "step")
HYPERPARAMETERS = ("epochs", "batch_size", "lr", "weight_decay", "patience", "scheduler", "augment",
                   "on_no_face", "bf16", "landmarks", "side_no_palsy", "randomise")


class TrainingError(ValueError):
    """The data, split or run directory cannot be used for the requested training; says why."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (recorded in the model card).

    ``input_size`` is ``(height, width)``; None takes the default of the input kind (128 x 128 for
    faces, 128 x 64 for halves). ``input_kind`` None picks the task's natural input (see module doc).

    ``extra_data``: more dataset folders in the same layout as ``data``, trained on together (subjects
    must not repeat across folders). ``landmarks``: ``"file"`` uses a record's landmark file when it has
    one, ``"detect"`` always lets dlib fit them, as on a photo at inference. ``side_no_palsy``: for the
    side task, ``"skip"`` leaves frames without a palsy side out; ``"even"`` trains them towards 50 / 50
    (only for datasets where a missing palsy side means "no palsy", as in the synthetic and real-edit
    data), so the model can say that a face shows no clear affected side. ``randomise``: stronger domain
    randomisation in training (see :func:`models.augment.augment`).
    """

    task: str
    data: Path
    out: Path
    arch: str | None = None
    split: str = "subject"
    epochs: int = 30
    seed: int = 0
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5
    scheduler: str = "cosine"
    input_size: tuple[int, int] | None = None
    input_kind: str | None = None
    grayscale: bool = False
    pretrained: Path | None = None
    allow_leak: bool = False
    val_fraction: float = 0.2
    folds: int = 5
    fold: int = 0
    layout: str | None = None
    side_convention: str = "patient"
    binary_threshold: float = 0.0
    on_no_face: str = "error"
    outputs: int | None = None
    half_precision: bool = False
    max_records: int | None = None
    threads: int | None = None
    augment: bool = True
    extra_data: list[Path] = field(default_factory=list)
    landmarks: str = "file"
    side_no_palsy: str = "skip"
    randomise: bool = False
    bf16: bool = False
    description: str = ""
    notes: list[str] = field(default_factory=list)
    command: str = ""
    progress: bool = True

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        self.extra_data = [Path(p) for p in self.extra_data]
        if self.landmarks not in ("file", "detect"):
            raise ValueError(f"landmarks must be 'file' or 'detect', got {self.landmarks!r}")
        if self.side_no_palsy not in ("skip", "even"):
            raise ValueError(f"side_no_palsy must be 'skip' or 'even', got {self.side_no_palsy!r}")
        if self.pretrained is not None:
            self.pretrained = Path(self.pretrained)
        self.arch = self.arch or DEFAULT_ARCHITECTURE.get(self.task)
        if self.outputs is None:
            self.outputs = default_outputs(self.task)
        check_task(self.arch, self.task, self.outputs)
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0 or self.patience < 1:
            raise ValueError("epochs >= 1, batch_size >= 2, lr > 0 and patience >= 1 are required")



__all__ = ["HYPERPARAMETERS", "SCHEDULERS", "SPLITS", "TrainConfig", "TrainingError"]
