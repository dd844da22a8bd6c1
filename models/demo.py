"""Reproduce the shipped demo weights and measure them on unseen synthetic subjects.

``python -m models demo-weights`` runs the whole recipe in one go:

1. renders three synthetic datasets (:mod:`data.synth`) into a work folder, each from its own seed so no
   identity is shared: for the pain models, faces of which half have a unilateral palsy, written in every
   layout (the half-face layout labels each half with the PSPI it shows, so an affected half is labelled
   with its weakened expression; the UNBC layout labels the frame with the subject's PSPI); for the side
   model, faces with a palsy in the side-label layout; and a test set of new subjects, each with a palsy
   on one side (UNBC layout), that no model sees during training;
2. trains the side classifier, the half-face PSPI regressor and the full-face PSPI regressor with
   subject-wise validation splits (:func:`models.train.run_training`);
3. runs the whole pipeline (:func:`models.pipeline.assess`: dlib detection and landmarks, levelling, side
   model, halves) on every test photo and compares it with the ground truth the renderer wrote;
4. installs the checkpoints into the weights folder (pain models as float16) with the test figures in
   their model cards, and writes ``reports/demo_weights.json`` beside them.

The ground truth for a test face is the subject's pain, ``pspi_true`` (the PSPI of the AUs the subject
intends on both sides). The unaffected half shows those AUs fully; the affected half shows them weakened
by the palsy, so its score is expected to be lower. The baseline is the mean predictor: the mean frame
PSPI of the pain training split, predicted for every test face.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import accuracy, regression_metrics
from faces.sides import Side
from models.bundle import ROLES
from models.checkpoint import card_path, read_card, update_card
from models.pipeline import WEIGHTS_DIR, ModelBundle, assess, install, load_bundle
from models.reference import fit_neutral_scores, write_neutral_scores
from models.registry import get_architecture

REPORT_NAME = "reports/demo_weights.json"  # a subfolder: every *.json beside the weights is a card


@dataclass(frozen=True)
class DatasetRecipe:
    """One synthetic dataset of the recipe (arguments of :class:`data.synth.SynthConfig`)."""

    subjects: int
    frames: int
    seed: int
    layout: str
    palsy_fraction: float
    distribution: str = "balanced"
    halves_from: str = "truth"
    yaw_sd: float = 4.0  # spread of the head turn, degrees (data.synth.SynthConfig.yaw_sd)


@dataclass(frozen=True)
class RealRecipe:
    """The real-photo edits of the recipe (:class:`data.realtrain.RealEditConfig` on the development
    photos of :mod:`data.photos`; the held-out photos are never used)."""

    edits: int = 24
    seed: int = 5
    distribution: str = "mixed"
    palsy_share: float = 0.5
    #: scale of a random resting asymmetry drawn on every edit (:func:`data.facemoves.asymmetry_moves`;
    #: 0: none). Tried at 1.0 on the side model's set and judged on development photos the models did not
    #: learn from (two folds, ``--leave-out-photos``): the side of a full-severity palsy was found on 0.89
    #: of them against 0.94 without it, so the recipe leaves it off.
    asymmetry: float = 0.0


@dataclass(frozen=True)
class ModelRecipe:
    """One training run of the recipe (arguments of :class:`models.train.TrainConfig`)."""

    task: str
    data: str  # key of DemoRecipe.datasets, then /<layout> for a dataset written in every layout
    arch: str
    input_kind: str
    epochs: int
    batch_size: int
    lr: float
    patience: int
    half_precision: bool
    role: str
    extra: tuple[str, ...] = ()  # more training folders, keys like data
    landmarks: str = "detect"
    side_no_palsy: str = "even"
    randomise: bool = True
    init_from: str | None = None  # role of an earlier run whose best weights start this one's backbone
    install: bool = True
    #: the installed card reads a turned head with its halves evened out (``InputSpec.balance_halves``,
    #: :class:`faces.pose.HalfBalance`); the model trains on faces as they are
    balance_halves: bool = False


def _default_datasets() -> dict[str, DatasetRecipe]:
    return {
        # halves cut from dlib's landmarks, as on a photo; a prior with 40% of frames at PSPI 0
        "pain": DatasetRecipe(subjects=140, frames=16, seed=1, layout="all", palsy_fraction=0.5,
                              distribution="mixed", halves_from="dlib"),
        # a quarter of the side model's subjects have no palsy: it learns to say so (even odds)
        "side": DatasetRecipe(subjects=140, frames=8, seed=4, layout="unbc", palsy_fraction=0.75,
                              distribution="mixed"),
        # the base side model's data: other identities than "side", every subject with a palsy
        "side_base": DatasetRecipe(subjects=160, frames=8, seed=2, layout="side", palsy_fraction=1.0),
        "test": DatasetRecipe(subjects=40, frames=10, seed=99, layout="unbc", palsy_fraction=1.0),
    }


def _default_models() -> list[ModelRecipe]:
    return [
        # the side model sits near chance for several epochs before it finds the asymmetry cues, so it
        # gets a long patience
        # the side model is trained in two stages. Trained from scratch on the mixed data (a quarter of the
        # synthetic faces and half of the photo edits without palsy, their target even odds), it stayed at
        # chance for 60 epochs: the fine asymmetry cues are not found under that much even-odds and
        # low-resolution data. So a base model first learns the cues on synthetic faces that all have a
        # palsy (other identities), with the settings that found them before (it sits near chance for
        # several epochs first, hence the long patience), and the side model starts from its backbone.
        # Both keep the light augmentation: with the stronger randomisation (sensor noise, gamma) the cues
        # drown. The network is side_halves (models.registry.HalfEvidenceSide): one evidence network per
        # canonical half, so its Grad-CAM splits the log-odds exactly into places and the model is exactly
        # mirror-symmetric. Against the side_cnn of the same recipe, on development data: full-severity
        # palsy edits of the development photos 0.99 against 0.95, central palsy at half severity 0.97
        # against 0.89, side map mass inside the palsy's regions 28% against 10%, and with its own
        # no-clear-side threshold every development face without a palsy left unclear (93% / 90% before),
        # a side named for 88% of synthetic palsy faces (93%) and 97% of the palsy photos (83%).
        ModelRecipe("side", "side_base", "side_halves", "aligned_face", epochs=60, batch_size=32, lr=1e-3,
                    patience=20, half_precision=False, role="side_base", side_no_palsy="skip",
                    randomise=False, install=False),
        # the side model's photo edits are its own set (real_side: four times as many edits per photo, three
        # in four with a palsy) and it trains twice as long: on edits of development photos that no candidate
        # trained on, a full-severity palsy was found on 0.87 of edits with the earlier 24 edits per photo
        # (half with a palsy) and 30 epochs, 0.90 with the larger set and 0.91 with it and 60 epochs; the
        # stronger randomisation lowered it to 0.87
        # Installed, it reads a head turned more than 10 degrees with the halves evened out (chosen on
        # development faces, see faces.pose), which it did not train on. Fine-tuning it on the same set drawn
        # with a wider head turn (DatasetRecipe.yaw_sd 12 instead of 4; 15 epochs at lr 1e-4, the first kept
        # by validation loss) lowered the head-turn score on development faces (python -m eval headturn
        # --faces 40, seeds 6060 and 6262: palsy named clearly and right minus false palsies, mean over
        # turns) from 0.950 and 0.950 to 0.925 and 0.887. The whole two-stage recipe with both side sets
        # drawn at yaw_sd 12 (from scratch; seed-99 test side accuracy 1.000) raised it to 0.969 and 0.975:
        # a candidate, not yet judged on photos it did not learn from (python -m models demo-weights --only
        # side --yaw-sd side=12 --yaw-sd side_base=12, with --leave-out-photos K/2 for the folds).
        ModelRecipe("side", "side", "side_halves", "aligned_face", epochs=60, batch_size=32, lr=3e-4,
                    patience=20, half_precision=False, role="side", extra=("real_side/unbc",),
                    randomise=False, init_from="side_base", balance_halves=True),
        # the pain models run the whole cosine schedule (patience = epochs: no early stop) and keep the best
        # validation epoch; their validation loss is too bumpy at the high learning rate to stop on. The
        # half-face model is the patch-evidence network (models.registry.PatchEvidenceNet) with 33-pixel
        # patches (patch_evidence_33): its PSPI is a sum of evidence from small patches, so its Grad-CAM is
        # an exact split of the score into places; it needs 30 epochs, since it sits at the mean predictor
        # for several before it learns. Its evidence carries a fixed gain of 8, which fits the data better
        # and reads calm photos lower. With 49-pixel patches and the gain, Grad-CAM put a changed region
        # first on only 25 of 40 development faces (seed 7); with 33-pixel patches on 32 (gain 4: also 32,
        # at a higher validation loss): see PatchEvidenceNet
        ModelRecipe("pain", "pain/halfface", "patch_evidence_33", "half_face", epochs=30, batch_size=64,
                    lr=1e-3, patience=30, half_precision=True, role="pain", extra=("real/halfface",)),
        ModelRecipe("pain", "pain/unbc", "resnet18", "aligned_face", epochs=18, batch_size=64, lr=1e-3,
                    patience=18, half_precision=True, role="full_face_pain", extra=("real/unbc",)),
    ]


@dataclass(frozen=True)
class DemoRecipe:
    """Everything the demo weights depend on. :meth:`scaled` shrinks it for a quick trial or a test."""

    datasets: dict[str, DatasetRecipe] = field(default_factory=_default_datasets)
    models: list[ModelRecipe] = field(default_factory=_default_models)
    seed: int = 0
    bf16: bool = True
    real: RealRecipe | None = field(default_factory=RealRecipe)
    real_side: RealRecipe | None = field(
        default_factory=lambda: RealRecipe(edits=96, seed=6, palsy_share=0.75))
    #: ``(k, n)``: leave fold k of n of the development photos (:func:`data.realtrain.photo_fold`) out of
    #: every photo-edit set, so that a model can be judged on photos it did not learn from; None: all
    leave_out: tuple[int, int] | None = None
    #: neutral synthetic faces on which each retrained PSPI model's typical score of a face at rest is
    #: measured (``ModelCard.neutral_score``, read by :mod:`models.reference`)
    neutral_subjects: int = 120

    def real_sets(self) -> dict[str, RealRecipe]:
        """The photo-edit sets that the recipe's models train on, by folder name (``real``, ``real_side``)."""
        used = {key.partition("/")[0] for m in self.models for key in m.extra}
        return {name: r for name, r in (("real", self.real), ("real_side", self.real_side))
                if r is not None and name in used}

    def only(self, roles: Iterable[str]) -> DemoRecipe:
        """The part of the recipe that trains ``roles`` (with the runs they start from) and the data they
        and the test need; the other models are kept as installed (:func:`build_demo_weights`)."""
        by_role = {m.role: m for m in self.models}
        wanted = set(roles)
        installed = sorted(m.role for m in self.models if m.install)
        if not wanted or not wanted <= set(installed):
            raise ValueError(f"roles to retrain must be among {installed}, got {sorted(wanted)}")
        names: set[str] = set()
        todo = list(wanted)
        while todo:
            role = todo.pop()
            if role not in names:
                names.add(role)
                todo += [by_role[role].init_from] if by_role[role].init_from else []
        models = [m for m in self.models if m.role in names]
        used = {key.partition("/")[0] for m in models for key in (m.data, *m.extra)}
        datasets = {k: d for k, d in self.datasets.items() if k in used or k == "test"}
        return replace(self, datasets=datasets, models=models)

    def with_architecture(self, role: str, architecture: str) -> DemoRecipe:
        """The same recipe with ``role``'s network (and that of the run it starts from, e.g. the side
        model's base) built as ``architecture`` (a :data:`models.registry.ARCHITECTURES` key)."""
        by_role = {m.role: m for m in self.models}
        if role not in by_role or not by_role[role].install:
            raise ValueError(f"no installed role {role!r} in the recipe")
        get_architecture(architecture)  # a clear KeyError for an unknown name
        roles = {role} | ({by_role[role].init_from} if by_role[role].init_from else set())
        models = [ModelRecipe(**{**asdict(m), "arch": architecture}) if m.role in roles else m
                  for m in self.models]
        return replace(self, models=models)

    def scaled(self, subjects: float, epochs: int | None = None) -> DemoRecipe:
        """The same recipe with ``subjects`` times as many subjects (at least 4) and at most ``epochs``."""
        datasets = {k: DatasetRecipe(**{**asdict(d), "subjects": max(4, round(d.subjects * subjects))})
                    for k, d in self.datasets.items()}
        models = [m if epochs is None else ModelRecipe(**{**asdict(m), "epochs": min(m.epochs, epochs)})
                  for m in self.models]
        def shrink(real: RealRecipe | None) -> RealRecipe | None:
            if real is None or subjects >= 1:
                return real
            return RealRecipe(**{**asdict(real), "edits": max(2, round(real.edits * subjects))})

        return replace(self, datasets=datasets, models=models, real=shrink(self.real),
                       real_side=shrink(self.real_side),
                       neutral_subjects=max(2, round(self.neutral_subjects * min(subjects, 1.0))))

    def with_yaw_sd(self, spreads: dict[str, float]) -> DemoRecipe:
        """The same recipe with the head-turn spread (:attr:`DatasetRecipe.yaw_sd`, degrees) of the named
        synthetic datasets changed, e.g. ``{"side": 12, "side_base": 12}``."""
        unknown = sorted(set(spreads) - set(self.datasets))
        if unknown:
            raise ValueError(f"no dataset {unknown} in the recipe (datasets: {sorted(self.datasets)})")
        if any(float(v) <= 0 for v in spreads.values()):
            raise ValueError(f"head-turn spreads must be positive, got {spreads}")
        datasets = {k: replace(d, yaw_sd=float(spreads[k])) if k in spreads else d
                    for k, d in self.datasets.items()}
        return replace(self, datasets=datasets)

    def leaving_out(self, fold: int, folds: int) -> DemoRecipe:
        """The same recipe with fold ``fold`` of ``folds`` of the development photos left out of its
        photo edits (:attr:`leave_out`)."""
        if not 0 <= fold < folds or folds < 2:
            raise ValueError(f"need 0 <= fold < folds and folds >= 2, got {fold}/{folds}")
        return replace(self, leave_out=(fold, folds))


# ----------------------------------------------------------------------------- evaluation


def _truth(image_path: Path) -> dict[str, Any]:
    path = Path(image_path)
    return json.loads(path.with_name(path.stem + ".truth.json").read_text(encoding="utf-8"))


def _regression(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    found = regression_metrics(pred, true)
    return {k: found[k] for k in ("mae", "rmse", "pearson_r", "mean_error", "icc_3_1")}


def evaluate_pipeline(data_dir: Path, bundle: ModelBundle, *, baseline_pspi: float,
                      progress: bool = True) -> dict[str, Any]:
    """Run :func:`assess` on every full-face photo of a synthetic dataset and score it against its truth.

    Returns side accuracy (and recall per patient side, and the geometric rule's accuracy), and for
    PSPI the MAE / RMSE / Pearson r of the unaffected half, the affected half and the full face, next to
    the mean-predictor baseline. Photos without a detected face are counted, not scored.
    """
    from tqdm import tqdm

    from data.layouts import load_any
    from data.records import HalfRecord
    from faces.errors import FaceInputError

    records = [r for r in load_any(data_dir) if not isinstance(r, HalfRecord)]
    rows, missed = [], 0
    for record in tqdm(records, desc="assessing test photos", unit="photo", disable=not progress):
        truth = _truth(record.image_path)
        try:
            result = assess(record.image_path, models=bundle)
        except FaceInputError:
            missed += 1
            continue
        palsy = truth.get("palsy")
        rows.append({
            "subject": record.subject,
            "affected": Side.parse(palsy["side"]) if palsy else None,
            "predicted": result.affected_side,
            "geometry": result.asymmetry_side,
            "p_max": max(result.side_probabilities.values()) if result.side_probabilities else math.nan,
            "pspi": float(truth["pspi_true"]),
            "unaffected": result.pspi.unaffected_half,
            "affected_half": result.pspi.affected_half,
            "full_face": result.pspi.full_face,
            "full_face_source": result.pspi.full_face_source,
            "ms": result.timings_ms["total"],
        })
    if not rows:
        raise ValueError(f"No face was found in any of the {len(records)} photos of {data_dir}")
    sided = [r for r in rows if r["affected"] is not None]
    true = np.array([r["pspi"] for r in rows])
    report: dict[str, Any] = {
        "data": str(data_dir),
        "photos": len(records),
        "face_not_found": missed,
        "subjects": len({r["subject"] for r in rows}),
        "side": {
            "accuracy": accuracy(_names(r["predicted"] for r in sided), _names(r["affected"] for r in sided)),
            "recall_patient_left": _recall(sided, Side.LEFT),
            "recall_patient_right": _recall(sided, Side.RIGHT),
            "geometry_rule_accuracy": accuracy(_names(r["geometry"] for r in sided),
                                               _names(r["affected"] for r in sided)),
            "geometry_rule_inconclusive": float(np.mean([r["geometry"] is None for r in sided])),
            "median_top_probability": float(np.nanmedian([r["p_max"] for r in sided])),
            "n": len(sided),
        },
        "pspi": {
            "truth": "pspi_true: the subject's intended PSPI (what the unaffected half shows)",
            "unaffected_half": _regression(np.array([r["unaffected"] for r in rows]), true),
            "affected_half": _regression(np.array([r["affected_half"] for r in rows]), true),
            "full_face": _regression(np.array([r["full_face"] for r in rows]), true),
            "full_face_source": rows[0]["full_face_source"],
            "mean_baseline": {**_regression(np.full_like(true, baseline_pspi), true),
                              "predicts": round(baseline_pspi, 4)},
            "n": len(rows),
            "truth_mean": float(true.mean()),
            "truth_std": float(true.std()),
        },
        "median_assess_ms": float(np.median([r["ms"] for r in rows])),
    }
    pspi = report["pspi"]
    pspi["mae_ratio_to_baseline"] = pspi["unaffected_half"]["mae"] / pspi["mean_baseline"]["mae"]
    return report


def _recall(rows: Sequence[dict[str, Any]], side: Side) -> float | None:
    chosen = [r for r in rows if r["affected"] is side]
    return accuracy(_names(r["predicted"] for r in chosen), [side.value] * len(chosen)) if chosen else None


def _names(sides: Iterable[Side | None]) -> list[str]:
    """Side values (``"left"`` / ``"right"``), ``"none"`` for no side, for :func:`eval.metrics.accuracy`."""
    return [side.value if side is not None else "none" for side in sides]


ACCEPTANCE = {
    "side accuracy >= 0.95": lambda e: e["side"]["accuracy"] >= 0.95,
    "PSPI MAE <= 0.40 x mean baseline": lambda e: e["pspi"]["mae_ratio_to_baseline"] <= 0.40,
    "PSPI Pearson r >= 0.85": lambda e: e["pspi"]["unaffected_half"]["pearson_r"] >= 0.85,
    "unaffected-half MAE < affected-half MAE":
        lambda e: e["pspi"]["unaffected_half"]["mae"] < e["pspi"]["affected_half"]["mae"],
}


def acceptance(evaluation: dict[str, Any]) -> dict[str, bool]:
    """Each quality bar of the demo weights and whether the evaluation meets it."""
    return {name: bool(check(evaluation)) for name, check in ACCEPTANCE.items()}


# ----------------------------------------------------------------------------- the recipe


def _generate(work: Path, recipe: DemoRecipe, progress: bool) -> tuple[dict[str, Path], list[str]]:
    """Render each dataset of the recipe; returns the folders and the names reused from an earlier run."""
    from data.synth import SynthConfig, write_dataset

    folders, reused = {}, []
    for name, d in recipe.datasets.items():
        folder = work / "data" / name
        manifest = folder / "synth_manifest.json"
        config = SynthConfig(subjects=d.subjects, frames=d.frames, seed=d.seed, layout=d.layout,
                             distribution=d.distribution, palsy_fraction=d.palsy_fraction,
                             halves_from=d.halves_from, yaw_sd=d.yaw_sd)
        if manifest.is_file() and json.loads(manifest.read_text())["config"] == asdict(config):
            folders[name] = folder  # already rendered with this exact configuration
            reused.append(name)
            continue
        if folder.exists():
            shutil.rmtree(folder)
        write_dataset(folder, config, progress=progress)
        folders[name] = folder
    for name, real in recipe.real_sets().items():
        folders[name] = _real_edits(work / "data" / name, real, progress, reused, recipe.leave_out)
    return folders, reused


def _real_edits(folder: Path, real: RealRecipe, progress: bool, reused: list[str],
                leave_out: tuple[int, int] | None = None) -> Path:
    """Write the recipe's real-photo edits (development photos only, less the fold ``leave_out`` names)
    unless already written alike."""
    from data.photos import offline_photos
    from data.realtrain import MANIFEST, RealEditConfig, photo_fold, write_real_edits

    config = RealEditConfig(edits=real.edits, seed=real.seed, distribution=real.distribution,
                            palsy_share=real.palsy_share, asymmetry=real.asymmetry)
    photos = offline_photos("development")
    if leave_out is not None:
        fold, folds = leave_out
        left = {p.name for p in photo_fold(photos, fold, folds)}
        photos = [p for p in photos if p.name not in left]
    manifest = folder / MANIFEST
    if manifest.is_file():
        written = json.loads(manifest.read_text())
        if written["config"] == asdict(config) and written["photos"] == [p.name for p in photos]:
            reused.append(folder.name)
            return folder
    if folder.exists():
        shutil.rmtree(folder)
    write_real_edits(folder, photos, config, progress=progress)
    return folder


def _train(work: Path, recipe: DemoRecipe, folders: dict[str, Path], threads: int | None,
           progress: bool, command: str) -> tuple[dict[str, Path], dict[str, Any]]:
    """Train every model of the recipe; returns the card path and the training config per role."""
    from models.train import TrainConfig, run_training

    cards, configs = {}, {}
    for m in recipe.models:
        name, _, layout = m.data.partition("/")
        d = recipe.datasets[name]
        extra = [folders[key.partition("/")[0]] / key.partition("/")[2] for key in m.extra
                 if key.partition("/")[0] in folders]
        real_note = (f"; with {len(extra)} folder(s) of edited development photos (data.realtrain)"
                     + (f", fold {recipe.leave_out[0]} of {recipe.leave_out[1]} of them left out"
                        if recipe.leave_out else "") if extra else "")
        config = TrainConfig(
            task=m.task, data=folders[name] / layout, out=work / "runs" / m.role, arch=m.arch,
            split="subject", extra_data=extra, landmarks=m.landmarks, side_no_palsy=m.side_no_palsy,
            randomise=m.randomise,
            pretrained=None if m.init_from is None else work / "runs" / m.init_from / "best.safetensors",
            epochs=m.epochs, seed=recipe.seed, batch_size=m.batch_size, lr=m.lr, patience=m.patience,
            input_kind=m.input_kind, threads=threads, bf16=recipe.bf16, progress=progress,
            # training prefixes the synthetic generator's name from the dataset's manifest
            description=(f"{d.subjects} subjects x {d.frames} frames, seed "
                         f"{d.seed}, {d.distribution} PSPI, palsy on {d.palsy_fraction:.0%} of subjects, "
                         f"{layout or d.layout} layout{real_note}"),
            notes=["Trained on synthetic, computer-drawn faces and on warp-edited photos of a few "
                   "people not in pain (skimage and LFW samples): a demonstration, not a clinical model.",
                   "Research software, not a medical device."],
            command=command,
        )
        cards[m.role] = run_training(config).card_path
        configs[m.role] = config
    return cards, configs


def fit_domains(weights_dir: Path, configs: dict[str, Any], progress: bool = False) -> dict[str, int]:
    """Fit the domain indicator's statistics (:func:`models.domain.fit_domain`) of each installed model
    on the inputs it was trained on (its training split, read back from the run's input cache) and write
    them into its card; returns the number of inputs per role."""
    from models.domain import fit_domain, write_domain_stats
    from models.samples import expand, load_records, make_split, prepare

    bundle = load_bundle(weights_dir, device="cpu")
    used = {}
    for role, config in configs.items():
        loaded = bundle.loaded()[role]
        records, _, _ = load_records(config)
        subject_of = {str(r.image_path): r.subject for r in records}
        samples = expand(make_split(records, config).train, config, loaded.spec.kind)
        data = prepare(samples, loaded.spec, config.out / "cache", on_no_face=config.on_no_face,
                       progress=progress, landmarks=config.landmarks)
        groups = [subject_of[key.rsplit("|", 1)[0]] for key in data.keys]
        stats = fit_domain(loaded.network, data.images, loaded.spec, architecture=loaded.card.architecture,
                           groups=groups)
        write_domain_stats(weights_dir, role, stats)
        used[role] = len(data.keys)
    return used


def _training_mean(card: Path) -> float:
    """Mean PSPI of the training split the card records (the mean predictor's constant)."""
    return float(read_card(card).metrics["baseline_mean_value"])


def _record_in_cards(weights_dir: Path, roles: Sequence[str], evaluation: dict[str, Any]) -> None:
    """Add the test figures to each installed card (the weights, and so their sha256, are unchanged)."""
    summary = {
        "evaluated_on": (f"{evaluation['photos']} photos of {evaluation['subjects']} unseen synthetic "
                         f"subjects (seed {evaluation['seed']}), full pipeline with dlib landmarks"),
        "side": evaluation["side"],
        "pspi": evaluation["pspi"],
        "acceptance": evaluation["acceptance"],
    }
    for role in roles:
        path = card_path(weights_dir / role)
        data = json.loads(path.read_text(encoding="utf-8"))
        data["metrics"]["test"] = summary
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def build_demo_weights(work: Path, weights_dir: Path = WEIGHTS_DIR, *, recipe: DemoRecipe | None = None,
                       threads: int | None = None, progress: bool = True, command: str = "",
                       only: Sequence[str] | None = None,
                       log: Callable[[str], None] = print) -> dict[str, Any]:
    """Render, train, evaluate and install the demo weights; returns the report (also written as JSON).

    ``only`` retrains just those roles (:meth:`DemoRecipe.only`): the other models installed in
    ``weights_dir`` are kept byte for byte, tested together with the new ones, and named in the report.
    """
    recipe = recipe or DemoRecipe()
    weights_dir = Path(weights_dir)
    kept_roles: list[str] = []
    if only:
        recipe = recipe.only(only)
        kept_roles = [role for role in ROLES
                      if role not in only and (weights_dir / f"{role}.json").is_file()]
        if "pain" not in set(only) | set(kept_roles):
            raise ValueError(f"retraining only {', '.join(only)} needs the other models installed in "
                             f"{weights_dir}")
    started = time.perf_counter()
    work = Path(work)
    log(f"rendering synthetic datasets into {work / 'data'}")
    folders, reused_data = _generate(work, recipe, progress)
    rendered = time.perf_counter()
    log("training")
    reused_runs = [m.role for m in recipe.models if (work / "runs" / m.role / "model.json").is_file()]
    cards, configs = _train(work, recipe, folders, threads, progress, command)
    trained = time.perf_counter()

    staging = work / "weights"
    if staging.exists():
        shutil.rmtree(staging)
    half = {m.role: m.half_precision for m in recipe.models}
    to_install = {m.role for m in recipe.models if m.install}
    cards = {role: card for role, card in cards.items() if role in to_install}
    configs = {role: config for role, config in configs.items() if role in to_install}
    staging.mkdir(parents=True)
    kept: dict[str, dict[str, Any]] = {}
    for role in kept_roles:  # the models not retrained, as installed
        for suffix in (".json", ".safetensors"):
            shutil.copy2(weights_dir / f"{role}{suffix}", staging / f"{role}{suffix}")
        card = read_card(staging / f"{role}.json")
        kept[role] = {"sha256": card.weights["sha256"], "command": card.command, "created": card.created}
    balanced = {m.role for m in recipe.models if m.balance_halves}
    for role, card in cards.items():
        install(card, staging, role=role, half_precision=half[role])
        if role in balanced:
            spec = read_card(staging / f"{role}.json").input
            update_card(staging, role, input={**spec, "balance_halves": True})
    log("fitting the domain indicator on each model's training inputs")
    fit_domains(staging, configs)
    bundle = load_bundle(staging, device="cpu")
    pspi_roles = [role for role in cards if role in ("pain", "full_face_pain")]
    if pspi_roles:
        log(f"measuring the typical score of a face at rest on {recipe.neutral_subjects} neutral faces")
        scores = fit_neutral_scores(bundle, recipe.neutral_subjects)
        write_neutral_scores(staging, {role: scores[role] for role in pspi_roles if role in scores},
                             f"{command} (models.reference.fit_neutral_scores)")
    log(f"assessing the test photos in {folders['test']}")
    pain_card = next(staging / f"{role}.json" for role in ("full_face_pain", "pain")
                     if (staging / f"{role}.json").is_file())
    baseline = _training_mean(pain_card)  # frame-level PSPI labels
    evaluation = evaluate_pipeline(folders["test"], bundle, baseline_pspi=baseline, progress=progress)
    evaluation["seed"] = recipe.datasets["test"].seed
    evaluation["acceptance"] = acceptance(evaluation)
    installed = [*cards, *kept]
    _record_in_cards(staging, installed, evaluation)

    weights_dir.mkdir(parents=True, exist_ok=True)
    for role in installed:
        for suffix in (".json", ".safetensors"):
            shutil.copy2(staging / f"{role}{suffix}", weights_dir / f"{role}{suffix}")
    finished = time.perf_counter()
    seconds = {"render": round(rendered - started, 1), "train": round(trained - rendered, 1),
               "evaluate_and_install": round(finished - trained, 1), "total": round(finished - started, 1)}
    report = {
        "command": command,
        "recipe": asdict(recipe),
        "evaluation": evaluation,
        "sizes_bytes": {f.name: f.stat().st_size for f in sorted(weights_dir.iterdir())
                        if f.suffix in (".json", ".safetensors")},
        "seconds": seconds,
        "reused": {"data": reused_data, "runs": reused_runs},
        "retrained": sorted(cards),
        "kept": kept,
        "seconds_from_scratch": (seconds if not reused_data and not reused_runs and not kept
                                 else _from_scratch_seconds(weights_dir / REPORT_NAME, recipe)),
        "threads": threads,
    }
    (weights_dir / "README.md").write_text(model_card_markdown(report, weights_dir), encoding="utf-8")
    (weights_dir / REPORT_NAME).parent.mkdir(exist_ok=True)
    (weights_dir / REPORT_NAME).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def _from_scratch_seconds(previous_report: Path, recipe: DemoRecipe) -> dict[str, float] | None:
    """The from-scratch wall time of the previous report in the weights folder, for the same recipe.

    A run that reuses rendered data or finished training runs cannot time the whole recipe, so it keeps
    the figure of the last run that did everything (reports without a ``reused`` record predate it and
    were full runs).
    """
    if not previous_report.is_file():
        return None
    previous = json.loads(previous_report.read_text(encoding="utf-8"))
    if previous.get("recipe") != json.loads(json.dumps(asdict(recipe))):
        return None
    if "reused" not in previous:
        return previous.get("seconds")
    return previous.get("seconds_from_scratch")


def format_report(report: dict[str, Any]) -> str:
    """A short plain-text summary of :func:`build_demo_weights`' report."""
    e = report["evaluation"]
    p, side = e["pspi"], e["side"]
    lines = [
        f"test set: {e['photos']} photos, {e['subjects']} unseen subjects, "
        f"{e['face_not_found']} without a face",
        f"side accuracy {side['accuracy']:.3f} (patient-left recall {side['recall_patient_left']:.3f}, "
        f"patient-right recall {side['recall_patient_right']:.3f}; geometric rule "
        f"{side['geometry_rule_accuracy']:.3f})",
    ]
    for key in ("unaffected_half", "affected_half", "full_face", "mean_baseline"):
        m = p[key]
        lines.append(f"PSPI {key:<16} MAE {m['mae']:.3f}  RMSE {m['rmse']:.3f}  r {m['pearson_r']:.3f}")
    lines.append(f"MAE / baseline MAE: {p['mae_ratio_to_baseline']:.3f}")
    lines += [f"[{'ok' if ok else 'MISSED'}] {name}" for name, ok in e["acceptance"].items()]
    sizes = report["sizes_bytes"]
    lines.append("weights: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items())
                 + f" (total {sum(sizes.values()) / 1e6:.1f} MB)")
    s = report["seconds"]
    lines.append(f"wall time: render {s['render']:.0f} s, train {s['train']:.0f} s, evaluate and install "
                 f"{s['evaluate_and_install']:.0f} s, total {s['total'] / 60:.1f} min")
    return "\n".join(lines)


def _wall_time(report: dict[str, Any]) -> str:
    count = report['threads']
    threads = f"{count or 'the default number of'} CPU thread{'' if count == 1 else 's'}"
    scratch, reused = report.get("seconds_from_scratch"), report.get("reused") or {}
    text = (f"wall time from scratch {scratch['total'] / 60:.0f} min with {threads}" if scratch
            else f"with {threads}")
    what = [f"{kind} ({', '.join(names)})" for kind, names in
            (("rendered data", reused.get("data")), ("finished training runs", reused.get("runs"))) if names]
    if what:
        text += (f"; the last run reused {' and '.join(what)} from its work folder and took "
                 f"{report['seconds']['total'] / 60:.1f} min")
    return text


def model_card_markdown(report: dict[str, Any], weights_dir: Path) -> str:
    """``README.md`` for the weights folder, from the report and the cards (no hand-copied figures)."""
    e, recipe = report["evaluation"], report["recipe"]
    side, pspi = e["side"], e["pspi"]
    rows = []
    for role in ("side", "pain", "full_face_pain"):
        card_file = weights_dir / f"{role}.json"
        if not card_file.is_file():
            continue
        card = read_card(card_file)
        spec = card.input
        metrics = card.metrics
        val = (f"accuracy {metrics['accuracy']:.3f}" if card.task == "side"
               else f"MAE {metrics['mae']:.2f}, r {metrics['pearson_r']:.3f}")
        size = f"{spec['kind']} {spec['height']}x{spec['width']}" + (
            " (a head turned past 10° read with its halves balanced)" if spec.get("balance_halves") else "")
        rows.append(f"| `{role}` | {card.architecture} | {size} | "
                    f"{card.weights['dtype']}, {card.weights['bytes'] / 1e6:.1f} MB | {val} "
                    f"(epoch {metrics['best_epoch']}) | {card.training_data.get('description', '')} |")
    pain_cards = [read_card(weights_dir / f"{role}.json") for role in ("pain", "full_face_pain")
                  if (weights_dir / f"{role}.json").is_file()]
    mixed = any("mixed PSPI" in c.training_data.get("description", "") for c in pain_cards)
    pain_range = "0-14" if mixed else "0-12"
    real = recipe.get("real") or recipe.get("real_side")
    kept = report.get("kept") or {}
    kept_note = ([
        "",
        f"The last run retrained {', '.join(f'`{r}`' for r in report.get('retrained', []))} only "
        f"(`--only`); {', '.join(f'`{r}`' for r in kept)} were kept as installed, byte for byte, and tested "
        "with it. The same command without `--only` retrains every model with the recipe, whose other "
        "parts are unchanged.",
    ] if kept else [])
    lines = [
        "# Demo weights",
        "",
        "> **Trained on synthetic, computer-drawn faces** (`data.synth`)"
        + (" **and on warp-edited copies of a few photos of people not in pain** (`data.realtrain`: "
           "the development part of `data.photos`, the astronaut portrait and 50 small LFW crops)"
           if real else "")
        + ", not on patients or any real pain or stroke data.",
        "> They show how the tool works; their figures say nothing about accuracy on people. Research "
        "software, not a medical device.",
        "",
        "Made by one command, which renders the data, trains, tests and writes this folder "
        f"({_wall_time(report)}):",
        "",
        "```bash",
        report["command"] or "python -m models demo-weights",
        "```",
        *kept_note,
        "",
        "| role | architecture | input | stored | validation (subject-wise split) | training data |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "No ImageNet weights are downloaded: the pain models start from random weights, the side model from "
        "a base model the same command trains first (palsy-only synthetic faces of other identities). Each "
        "`.json` is the model card the loader checks against its `.safetensors` (architecture, input, "
        "normalisation, side conventions, data hash, split, curves, command) and carries the domain "
        "indicator's statistics of the model's training inputs (`models.domain`).",
        "",
        "What carries them towards photographs: every crop is cut with the landmarks dlib fits to the image, "
        "as on a photo (halves included); the pain prior puts 40% of frames at PSPI 0 (`mixed`), so a face "
        "the model cannot read is not pulled to the middle of the scale; the edited photos (each labelled "
        "with the expression and palsy drawn onto it, unedited ones with PSPI 0) show the networks real "
        "skin, hair, lenses and compression; a quarter of the side model's synthetic subjects and a "
        "quarter of its own, larger set of photo edits have no palsy and train it towards even odds, so it "
        "can say that no side is clear.",
        "",
        "Training augmentation (`models.augment`): contrast, brightness, colour cast and a small "
        "rotation, scale and shift for every model; grey copies (p 0.15) and shrunk-and-re-enlarged copies "
        "(p 0.25) for the pain models, with stronger domain randomisation (gamma, saturation, sensor noise, "
        "blur); mirror images with the label swapped for the side model.",
        "",
        f"## Held-out test: {e['photos']} photos of {e['subjects']} unseen subjects (seed {e['seed']})",
        "",
        "Every test subject has a palsy on one side. The whole pipeline runs on each photo (dlib detection "
        "and landmarks, levelling, side model, halves); the truth is the renderer's record.",
        "",
        f"- Side accuracy **{side['accuracy']:.3f}** (recall: patient-left affected "
        f"{side['recall_patient_left']:.3f}, patient-right affected {side['recall_patient_right']:.3f}); "
        f"the training-free geometric rule alone: {side['geometry_rule_accuracy']:.3f} "
        f"({side['geometry_rule_inconclusive']:.0%} of faces inconclusive).",
        f"- Faces not found: {e['face_not_found']}. Median `assess` time: {e['median_assess_ms']:.0f} ms.",
        "",
        "| PSPI scored on | MAE | RMSE | Pearson r |",
        "| --- | --- | --- | --- |",
    ]
    names = {"unaffected_half": "unaffected half (the reported score)", "affected_half": "affected half",
             "full_face": f"full face ({pspi['full_face_source'].replace('_', ' ')})",
             "mean_baseline": f"mean predictor ({pspi['mean_baseline']['predicts']:.2f} always)"}
    for key, name in names.items():
        m = pspi[key]
        r = "-" if math.isnan(m["pearson_r"]) or key == "mean_baseline" else f"{m['pearson_r']:.3f}"
        lines.append(f"| {name} | {m['mae']:.3f} | {m['rmse']:.3f} | {r} |")
    lines += [
        "",
        f"Unaffected-half MAE / mean-predictor MAE: **{pspi['mae_ratio_to_baseline']:.3f}**.",
        "",
        *[f"- [{'x' if ok else ' '}] {name}" for name, ok in e["acceptance"].items()],
        "",
        "## Limits",
        "",
        f"- The pain models saw PSPI {pain_range} only; higher scores are extrapolation.",
        "- Synthetic faces differ from photos of people in texture, lighting and expression; expect real "
        "photos to score differently, and read the explanations before any number.",
        "- The side model gives the probability that each patient side is the affected one; faces without "
        "palsy were trained towards even odds, and below the pipeline's threshold (`CLEAR_ABOVE`) the "
        "assessment says that no side is clear. It is not a palsy detector.",
        "- The photo edits move landmarks and warp the photo; they do not add the wrinkles and bulges of a "
        "real expression, and the real-photo figures of `python -m eval realcheck` are measured on the same "
        "kind of edit (of other people's photos).",
        "- On real photos the networks react to one-pixel shifts of the face crop more than on synthetic "
        "faces; the pipeline averages each over its input and four shifted copies "
        "(`models.pipeline.JitterAveraged`), and the test figures above were measured that way.",
        "",
    ]
    return "\n".join(lines)


__all__ = ["DemoRecipe", "acceptance", "build_demo_weights", "evaluate_pipeline", "fit_domains",
           "format_report", "model_card_markdown"]
