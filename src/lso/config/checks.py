"""Checks that span several config keys, asked of what each choice offers or needs.

The schema checks each key on its own; these check that the choices fit together: an
optimiser that searches the model's kind of latent points, a constraint whose needs the model
meets (an encoder, an encoder variance, a discriminator), an objective that scores the images
the model makes, files that exist. They ask the registries' traits
(:mod:`lso.models.registry`, :mod:`lso.optimizers.registry`, ...), never type names, so a new
model that offers an encoder is accepted wherever one is needed. Every error names the key.
"""

from __future__ import annotations

import math
import os

from lso.config.types import (
    RESERVED_MODEL_NAMES,
    ExperimentSettings,
    ModelSettings,
    PipelineSettings,
    RunSettings,
)
from lso.constraints.registry import CONSTRAINTS
from lso.core.registry import OBJECTIVES
from lso.models.registry import MODELS, ModelTraits
from lso.optimizers.registry import OPTIMIZERS
from lso.surrogates.registry import SURROGATES
from lso.utils import InputError

IMAGE_SIDE = 64  # faces models are 64x64; a grid model halves the side once per width
LATENTS = {"continuous": "continuous latent vectors", "codes": "grids of categorical codes"}


def _latents(kinds: tuple[str, ...] | str) -> str:
    return " or ".join(LATENTS[kind] for kind in ((kinds,) if isinstance(kinds, str) else kinds))


def check_settings(settings: PipelineSettings) -> None:
    """Every cross-key check; the first failure raises an ``InputError`` naming the key."""
    _check_models(settings)
    _check_judging(settings)
    for name, experiment in settings.experiments.items():
        _check_experiment(f"experiments.{name}", experiment, settings)
    for name, comparison in settings.comparisons.items():
        unknown = [e for e in comparison.experiments if e not in settings.experiments]
        if unknown:
            raise InputError(f"comparisons.{name}.experiments names unknown experiments {unknown}")
        if comparison.baseline is not None and comparison.baseline not in comparison.experiments:
            raise InputError(
                f"comparisons.{name}.baseline {comparison.baseline!r} is not one of its "
                f"experiments {list(comparison.experiments)}"
            )
    check_paths(settings)


def _describe(name: str, model: ModelSettings) -> str:
    return f"model {name!r} (a {model.type})"


def _check_models(settings: PipelineSettings) -> None:
    for name, model in settings.models.items():
        if model.dataset not in settings.datasets:
            raise InputError(f"models.{name}.dataset {model.dataset!r} is not a key of datasets")
        dataset = settings.datasets[model.dataset]
        traits = MODELS.traits(model.type)
        if dataset.family != traits.family:
            raise InputError(
                f"models.{name}: a {model.type!r} model trains on {traits.family}, "
                f"but data set {model.dataset!r} holds {dataset.family}"
            )
        if dataset.family == "digits" and dataset.digit is None:
            raise InputError(
                f"models.{name}.dataset {model.dataset!r} keeps all digits (digit: null); "
                "thickness models need one digit"
            )
        if traits.latent == "codes":
            side = IMAGE_SIDE >> len(model.hparams["widths"])
            if model.latent_dim != side * side:
                raise InputError(
                    f"models.{name}.latent_dim must be the number of grid cells: widths "
                    f"{model.hparams['widths']} give a {side}x{side} grid, so {side * side}"
                )
    for name in sorted(set(RESERVED_MODEL_NAMES) & set(settings.models)):
        raise InputError(f"models.{name}: the name is reserved for the pipeline's own models")


def _check_judging(settings: PipelineSettings) -> None:
    """The classifier and conditional generation need labelled (all-digit) data sets; the
    faces predictor needs faces."""
    for section, spec in (("classifier", settings.classifier), ("condgen", settings.condgen)):
        if spec is None:
            continue
        dataset = settings.datasets.get(spec.dataset)
        if dataset is None:
            raise InputError(f"{section}.dataset {spec.dataset!r} is not a key of datasets")
        if dataset.family != "digits" or dataset.digit is not None:
            raise InputError(
                f"{section}.dataset {spec.dataset!r} must keep all digits (digit: null)"
            )
    predictor = settings.predictor
    if predictor is not None:
        dataset = settings.datasets.get(predictor.dataset)
        if dataset is None or dataset.family != "faces":
            raise InputError(f"predictor.dataset {predictor.dataset!r} is not a faces data set")
        for role in ("black_box", "judge"):
            spec = predictor.role(role)
            if spec.blocks is not None and len(spec.widths) != len(spec.blocks):
                raise InputError(
                    f"predictor.{role}.blocks needs one entry per width ({len(spec.widths)}), "
                    f"got {len(spec.blocks)}"
                )
        if predictor.judge.seed == predictor.black_box.seed:
            raise InputError(
                f"predictor.judge.seed ({predictor.judge.seed}) must differ from "
                "predictor.black_box.seed: the judge's initialisation, batch order and "
                "augmentation draws are its own"
            )
    condgen = settings.condgen
    if condgen is not None and settings.classifier is None:
        raise InputError("condgen needs a classifier section: the classifier is its black box")
    if condgen is not None and condgen.plot_target not in condgen.targets:
        raise InputError(
            f"condgen.plot_target {condgen.plot_target} is not one of condgen.targets "
            f"{list(condgen.targets)}"
        )


def _check_experiment(key: str, experiment: ExperimentSettings, settings: PipelineSettings) -> None:
    model = settings.models[experiment.model]
    traits = MODELS.traits(model.type)
    who = _describe(experiment.model, model)
    _check_objective(key, experiment.run, model, settings)
    _check_optimizer(key, experiment.run, model, traits, who)
    _check_constraint(key, experiment.run, traits, who)
    if experiment.run.keep_optimizer_state and not traits.keeps_optimizer_state:
        raise InputError(
            f"{key}.keep_optimizer_state: {who} starts a fresh optimiser at every retraining; "
            "only a model whose retrainings may continue their Adam states (an sn_gan) "
            "takes it"
        )


def _check_objective(
    key: str, run: RunSettings, model: ModelSettings, settings: PipelineSettings
) -> None:
    """The objective must score the images the experiment's model makes."""
    objective = OBJECTIVES.traits(run.objective)
    family = MODELS.traits(model.type).family
    if objective.family != family:
        fitting = [name for name in OBJECTIVES if OBJECTIVES.traits(name).family == family]
        raise InputError(
            f"{key}.objective {run.objective!r} scores {objective.family}; the model makes "
            f"{family} (use {fitting})"
        )
    if objective.predictor:
        if settings.predictor is None:
            raise InputError(f"{key}.objective {run.objective!r} needs the predictor section")
        if settings.predictor.dataset != model.dataset:
            raise InputError(
                f"{key}: the predictor learns from {settings.predictor.dataset!r} but the "
                f"model from {model.dataset!r}; one score scale needs one data set"
            )


def _check_optimizer(
    key: str, run: RunSettings, model: ModelSettings, traits: ModelTraits, who: str
) -> None:
    optimizer = run.optimizer
    offers = OPTIMIZERS.traits(optimizer.type)
    if traits.latent not in offers.latents:
        raise InputError(
            f"{key}.optimizer.type {optimizer.type!r} searches {_latents(offers.latents)}; "
            f"{who} has {_latents(traits.latent)}"
        )
    if offers.two_d_only and model.latent_dim != 2:
        raise InputError(
            f"{key}.optimizer.type {optimizer.type!r} needs a 2-D latent space; {who} has "
            f"latent_dim {model.latent_dim}"
        )
    if optimizer.surrogate is not None:
        surrogate = SURROGATES.traits(optimizer.surrogate.type)
        if surrogate.latent != traits.latent:
            raise InputError(
                f"{key}.optimizer.surrogate.type {optimizer.surrogate.type!r} models "
                f"{_latents(surrogate.latent)}; {who} has {_latents(traits.latent)}"
            )
    if offers.surrogate and math.isinf(run.retrain_every) and optimizer.batch_size is None:
        raise InputError(
            f"{key}.optimizer.batch_size must be set when retrain_every is .inf: a "
            f"{optimizer.type!r} optimiser should not propose the whole budget from one fit"
        )
    if optimizer.joint_update and not traits.encoder:
        raise InputError(
            f"{key}.optimizer.joint_update: LOL-BO fine-tunes the encoder together with the "
            f"surrogate and re-encodes the best points; {who} has no encoder (set "
            "joint_update: false for TuRBO in the latent space)"
        )
    if offers.surrogate and not traits.encoder and not optimizer.generated_samples:
        raise InputError(
            f"{key}.optimizer.generated_samples must be at least 1: {who} has no encoder, so "
            "its surrogate learns from generated samples"
        )
    if optimizer.candidate_distribution == "constraint" and run.constraint.type == "none":
        raise InputError(
            f"{key}.optimizer.candidate_distribution 'constraint' draws candidates from the "
            "constraint's own distribution; set constraint.type to one that has one "
            f"({[c for c in CONSTRAINTS if c != 'none']})"
        )


def _check_constraint(key: str, run: RunSettings, traits: ModelTraits, who: str) -> None:
    kind = run.constraint.type
    needs = CONSTRAINTS.traits(kind)
    if traits.latent not in needs.latents:
        raise InputError(
            f"{key}.constraint.type {kind!r} describes {_latents(needs.latents)}; {who} has "
            f"{_latents(traits.latent)} (use 'none')"
        )
    missing = [need for need in needs.needs if not getattr(traits, need)]
    if missing:
        raise InputError(
            f"{key}.constraint.type {kind!r} needs a model with "
            f"{' and '.join(need.replace('_', ' ') for need in missing)}; {who} has none"
        )


def check_paths(settings: PipelineSettings) -> None:
    """Files a user brings must be where the config says, before any job starts: the data,
    and the feature networks of the Fréchet distances."""
    for name, dataset in settings.datasets.items():
        if dataset.source in ("embedded", "generated"):
            continue
        what = "the MNIST files" if dataset.family == "digits" else "the label files"
        if not dataset.path or not os.path.exists(dataset.path):
            raise InputError(
                f"datasets.{name}.path {dataset.path!r}: no such file or directory (source "
                f"{dataset.source!r} needs {what} there; see data/raw/README.md)"
            )
        if dataset.family == "faces" and not (
            dataset.image_dir and os.path.isdir(dataset.image_dir)
        ):
            raise InputError(
                f"datasets.{name}.image_dir {dataset.image_dir!r}: no such directory (source "
                f"{dataset.source!r} needs the aligned images, img_align_celeba/*.jpg)"
            )
    for section, spec in (
        ("validity", settings.validity),
        ("face_evaluation", settings.face_evaluation),
    ):
        path = spec.feature_network
        if path is not None and not os.path.isfile(path):
            raise InputError(
                f"{section}.feature_network {path!r}: no such file (a TorchScript network "
                "mapping images to features)"
            )
