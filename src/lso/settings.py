"""The pipeline's settings: validated once, before any job, into small typed objects.

``rules/common.smk`` calls :func:`parse_config` on the raw config. It merges
``experiment_defaults`` into every experiment, validates the result against
``schemas/config.schema.yaml`` (which holds every default: a key the config leaves out is
filled from there, never from code), runs the checks that span several keys, and returns a
:class:`PipelineSettings`. A key that does not belong to the chosen type (``n_starts`` on a
``sampling`` optimiser, ``epochs`` on a GP) is rejected by the schema with its dotted name.

Each rule then passes each job only the object it uses (a run's :class:`RunSettings`, not the
experiment's seeds; a BO run's :class:`CondgenSearchSettings`, not the figure settings). The
objects are ``NamedTuple``s: immutable, picklable into a job, and tracked by Snakemake's
params trigger through their ``repr``, which lists the fields in a fixed order, so reordering
keys in a config file is not a change, while changing a value reruns exactly the jobs that
receive it.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, get_args, get_type_hints

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from lso.utils import InputError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
PREDICTORS = ("off", "classifier", "regressor")
# Optimiser type -> (module, class) implementing it. The module is imported only when its
# type is chosen, and the workflow adds exactly that module (and what it imports) to an
# optimisation job's code inputs: editing the BO code does not rerun grid runs.
OPTIMIZERS = {
    "grid": ("lso.optimizers.grid", "GridOptimizer"),
    "local": ("lso.optimizers.bayesopt", "MultiStartOptimizer"),
    "sampling": ("lso.optimizers.bayesopt", "SamplingOptimizer"),
    # sampling in rounds of M on a warm sparse GP; the schema gives it its own defaults
    "stronger_nas": ("lso.optimizers.bayesopt", "SamplingOptimizer"),
    "codes": ("lso.optimizers.categorical", "CodeOptimizer"),
}
# Objective -> (module, attribute): a function of images, or a class built from the predictor
# checkpoint with ``load(path, device)``. Imported only when chosen, and a code input of
# exactly the runs that use it.
OBJECTIVES = {
    "thickness": ("lso.data.mnist", "thickness"),
    "expected_level": ("lso.predictor", "SmileObjective"),
}
# Model type -> (module, class), as configs and checkpoints name them. Like the optimisers,
# a model's module is imported only when it is used and is a code input of exactly the jobs
# that use it: editing the faces VAE does not retrain the digit models.
MODELS = {
    "vae": ("lso.models.mnist", "BinaryVAE"),
    "rae": ("lso.models.mnist", "BinaryRAE"),
    "face_vae": ("lso.models.faces", "FaceVAE"),
    "sn_gan": ("lso.models.sngan", "SNGAN"),
    "vq_vae": ("lso.models.vqvae", "VQVAE"),
    "joint_vae": ("lso.models.joint_vae", "JointVAE"),
    "classifier": ("lso.models.classifier", "MnistClassifier"),
    "resnet_classifier": ("lso.models.resnet", "ResNetClassifier"),
}
# Models the pipeline trains itself (results/models/<name>/), beside the configured ones.
RESERVED_MODEL_NAMES = ("classifier", *(f"joint_{predictor}" for predictor in PREDICTORS))


DIGIT_SOURCES = ("embedded", "idx", "npz")
FACE_SOURCES = ("generated", "celeba_dialog", "celeba")
# Model type -> the data family it is trained on.
MODEL_FAMILIES = {
    "vae": "digits",
    "rae": "digits",
    "face_vae": "faces",
    "sn_gan": "faces",
    "vq_vae": "faces",
}
# Objective -> the data family whose images it scores.
OBJECTIVE_FAMILIES = {"thickness": "digits", "expected_level": "faces"}


class DatasetSettings(NamedTuple):
    """One prepared data set: digits or faces, where they come from and how they are split.

    Fields of the other family are None.
    """

    source: str  # embedded | idx | npz (digits); generated | celeba_dialog | celeba (faces)
    path: str | None
    digit: int | None  # None keeps every digit with its label
    binarize_threshold: float | None
    val_fraction: float
    holdout_top_fraction: float | None
    seed: int
    image_dir: str | None
    attribute: str | None
    max_level: int | None
    n_images: int | None
    workers: int | None

    @property
    def family(self) -> str:
        """``digits`` or ``faces``."""
        return "digits" if self.source in DIGIT_SOURCES else "faces"


class ModelSettings(NamedTuple):
    """Pretraining of one generative model."""

    dataset: str
    type: str  # vae | rae | face_vae | sn_gan
    latent_dim: int
    epochs: float
    batch_size: int
    lr: float
    lr_decay: str  # constant | linear | cosine
    seed: int
    hparams: dict[str, Any]  # the type's hyperparameters, every one filled, keys sorted


class WeightingSettings(NamedTuple):
    """How retraining weights the data; fields another type does not take are None."""

    type: str  # rank | uniform | dbas | cem-pi | rwr | fb
    k: float | None
    quantile: float | None
    noise: float | None
    alpha: float | None

    def parameters(self) -> dict[str, float]:
        """The keyword arguments of :func:`lso.weighting.compute_weights` for this type."""
        return _options_of_type(self)


def _options_of_type(settings: NamedTuple) -> dict[str, Any]:
    """The fields a settings object of one type holds (the other types' fields are None)."""
    return {k: v for k, v in settings._asdict().items() if k != "type" and v is not None}


class ConstraintSettings(NamedTuple):
    """The validity constraint (log p(z) >= threshold, or the discriminator's logit at least
    its prior quantile); None fields do not apply to the type."""

    type: str  # none | gmm_full | gmm_fit | discriminator
    threshold: float | None
    n_components: int | None
    quantile: float | None  # discriminator
    n_samples: int | None


class SurrogateSettings(NamedTuple):
    """A BO surrogate; the fields of the other type are None."""

    type: str  # gp | dngo (local, sampling, stronger_nas) | trees | categorical_gp (codes)
    normalize_inputs: bool
    predict_batch_size: int
    kernel: str | None
    exact_max: int | None
    n_inducing: int | None
    max_iter: int | None
    sparse_max_iter: int | None
    prefit_size: int | None
    noise_floor: float | None
    epochs: int | None
    lr: float | None
    batch_size: int | None
    n_estimators: int | None  # trees
    max_depth: int | None
    num_leaves: int | None
    min_child_samples: int | None
    learning_rate: float | None
    kappa: float | None

    def options(self) -> dict[str, Any]:
        """Constructor keywords of the surrogate class of this type."""
        return _options_of_type(self)


class OptimizerSettings(NamedTuple):
    """A latent optimiser; the fields another type does not take are None."""

    type: str  # grid | local | sampling | stronger_nas | codes
    batch_size: int | None  # q, points per call; None proposes a whole iteration at once
    bounds: float
    grid_len: int | None  # grid
    surrogate: SurrogateSettings | None  # local, sampling
    acquisition: str | None
    incumbent: str | None
    n_best: int | None
    n_random: int | None
    n_candidates: int | None
    candidate_distribution: str | None
    dedup_distance: float | None
    generated_samples: int | None
    n_mutations: int | None  # codes
    n_starts: int | None  # local
    method: str | None
    maxiter: int | None
    batch: bool | None


class SnapshotSettings(NamedTuple):
    """The decoded latent grid a 2-D run records after every retraining."""

    grid_len: int
    bounds: float


class RunSettings(NamedTuple):
    """Everything one optimisation run uses, apart from its seed; its resume identity too."""

    objective: str
    budget: int
    retrain_every: float  # .inf: never retrain after the first retraining
    retrain_epochs: float
    initial_retrain_epochs: float
    batch_size: int
    lr: float
    keep_optimizer_state: bool
    weighting: WeightingSettings
    constraint: ConstraintSettings
    optimizer: OptimizerSettings
    snapshot: SnapshotSettings | None  # None for latent spaces that are not 2-D

    @property
    def queries_per_round(self) -> int:
        """q: points proposed per optimiser call (per surrogate fit)."""
        if self.optimizer.batch_size is not None:
            return int(self.optimizer.batch_size)
        return self.budget if math.isinf(self.retrain_every) else int(self.retrain_every)


class ExperimentSettings(NamedTuple):
    """One experiment: a model, the run settings, and the seeds it runs once each."""

    model: str
    seeds: tuple[int, ...]
    run: RunSettings


class ComparisonSettings(NamedTuple):
    """Experiments drawn on one figure."""

    title: str
    experiments: tuple[str, ...]
    labels: dict[str, str]


class PlotSettings(NamedTuple):
    top_k: tuple[int, ...]
    n_best_images: int
    snapshot_panels: int
    weight_k_values: tuple[float, ...]
    pdf: bool


class ClassifierSettings(NamedTuple):
    """Training of the MNIST classifier that judges generated digits."""

    dataset: str
    epochs: float
    batch_size: int
    lr: float
    seed: int


class ValiditySettings(NamedTuple):
    """How the queried images of a thickness run are judged."""

    digit: int
    threshold: float
    feature_network: str | None


class PredictorSettings(NamedTuple):
    """Training of the faces attribute predictor (the black box) and of its independent judge.

    Both share these settings; the judge learns from the other half of the labelled faces
    with ``seed + 1``.
    """

    dataset: str
    widths: tuple[int, ...]  # ResNet stage widths; (64, 128, 256, 512) is ResNet-18's
    blocks: tuple[int, ...]  # residual blocks per stage
    input_size: int  # faces are upscaled (bicubic) to this side; the thesis: 128
    epochs: float
    batch_size: int
    lr: float
    seed: int


class FaceEvaluationSettings(NamedTuple):
    """How the faces runs' queries are judged: the judge's view and the Fréchet distance."""

    n_best: int
    feature_network: str | None


class JointTrainingSettings(NamedTuple):
    """Training of the VAEs with a predictor head (conditional generation)."""

    epochs: float
    batch_size: int
    lr: float
    optimizer: str
    predictor_weight: float
    beta: float
    seed: int


class CondgenSearchSettings(NamedTuple):
    """One conditional-generation BO run, apart from its target and seed."""

    bounds: float
    n_initial: int
    n_iterations: int
    xi: float


class CondgenSettings(NamedTuple):
    dataset: str
    training: JointTrainingSettings
    search: CondgenSearchSettings
    bo_model: str
    targets: tuple[int, ...]
    seeds: tuple[int, ...]
    probability: float
    landscape_grid_len: int
    plot_target: int


@dataclass(frozen=True)
class PipelineSettings:
    """The whole validated config, as the rules read it."""

    device: str
    datasets: dict[str, DatasetSettings]
    models: dict[str, ModelSettings]
    experiments: dict[str, ExperimentSettings]
    comparisons: dict[str, ComparisonSettings]
    plots: PlotSettings
    classifier: ClassifierSettings | None
    validity: ValiditySettings
    condgen: CondgenSettings | None
    predictor: PredictorSettings | None
    face_evaluation: FaceEvaluationSettings

    @property
    def uses_gpu(self) -> bool:
        """Whether jobs that train or decode in bulk should ask for a GPU."""
        return self.device != "cpu"


# --- validation ------------------------------------------------------------------------


@cache
def load_schema(path: str | os.PathLike = SCHEMA_PATH) -> dict[str, Any]:
    """The config schema; it lives in the repository beside the workflow (editable install)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config schema {path} not found: install the package with pip -e")
    with open(path) as handle:
        return yaml.safe_load(handle)


def _with_defaults(validator_class: type) -> type:
    """A validator that fills each missing key from its schema ``default`` (a fresh copy)
    before checking it, so that a type's own defaults, behind an if/then, land only on that
    type."""
    check_properties = validator_class.VALIDATORS["properties"]

    def fill_defaults(validator, properties, instance, schema) -> Iterator[ValidationError]:
        if isinstance(instance, dict):
            for key, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(key, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": fill_defaults})


_DefaultingValidator = _with_defaults(Draft202012Validator)


def validated(
    instance: dict[str, Any], schema: dict[str, Any], definition: str | None = None
) -> dict[str, Any]:
    """A copy of ``instance`` with every default filled, or an ``InputError`` naming the key.

    ``definition`` validates against one ``$defs`` entry (e.g. ``"optimizer"``) instead of
    the whole config: the library's tests and users building one object use that.
    """
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    filled = copy.deepcopy(instance)
    error = best_match(_DefaultingValidator(schema).iter_errors(filled))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "the config"
        raise InputError(f"{where}: {error.message}")
    return filled


# --- building the objects ----------------------------------------------------------------


def parse_config(config: dict[str, Any], schema: dict[str, Any] | None = None) -> PipelineSettings:
    """Validate the raw config (as Snakemake loaded it) and build the typed settings."""
    schema = load_schema() if schema is None else schema
    raw = copy.deepcopy(config)
    apply_experiment_defaults(raw)
    spec = validated(raw, schema)
    for name, experiment in spec["experiments"].items():
        if experiment["model"] not in spec["models"]:
            raise InputError(
                f"experiments.{name}.model {experiment['model']!r} is not a key of models"
            )
    settings = PipelineSettings(
        device=spec["device"],
        datasets={name: _dataset(d) for name, d in spec["datasets"].items()},
        models={name: _model(m) for name, m in spec["models"].items()},
        experiments={
            name: _experiment(e, spec["models"][e["model"]]["latent_dim"])
            for name, e in spec["experiments"].items()
        },
        comparisons={
            name: ComparisonSettings(
                title=c.get("title", name),
                experiments=tuple(c["experiments"]),
                labels=dict(sorted(c["labels"].items())),
            )
            for name, c in spec["comparisons"].items()
        },
        plots=PlotSettings(
            top_k=tuple(spec["plots"]["top_k"]),
            n_best_images=spec["plots"]["n_best_images"],
            snapshot_panels=spec["plots"]["snapshot_panels"],
            weight_k_values=tuple(float(k) for k in spec["plots"]["weight_k_values"]),
            pdf=spec["plots"]["pdf"],
        ),
        classifier=(
            ClassifierSettings(**_filled(ClassifierSettings, spec["classifier"]))
            if "classifier" in spec
            else None
        ),
        validity=ValiditySettings(**_filled(ValiditySettings, spec["validity"])),
        condgen=_condgen(spec["condgen"]) if "condgen" in spec else None,
        predictor=_predictor(spec["predictor"]) if "predictor" in spec else None,
        face_evaluation=FaceEvaluationSettings(
            **_filled(FaceEvaluationSettings, spec["face_evaluation"])
        ),
    )
    _check(settings)
    return settings


def _dataset(spec: dict[str, Any]) -> DatasetSettings:
    return DatasetSettings(**_filled(DatasetSettings, spec))


def _predictor(spec: dict[str, Any]) -> PredictorSettings:
    fields = _filled(PredictorSettings, spec)
    return PredictorSettings(
        **{**fields, "widths": tuple(spec["widths"]), "blocks": tuple(spec["blocks"])}
    )


def _model(spec: dict[str, Any]) -> ModelSettings:
    fields = _filled(ModelSettings, spec)
    return ModelSettings(**{**fields, "hparams": dict(sorted(spec["hparams"].items()))})


def _filled(cls: type, spec: dict[str, Any]) -> dict[str, Any]:
    """Every field of ``cls`` from ``spec`` (None for those the chosen type does not take),
    numbers in the field's declared type: JSON schema calls 3.0 an integer and 3 a number, so
    ``bounds: 3`` and ``bounds: 3.0`` must give the same settings (and the same params)."""
    hints = get_type_hints(cls)
    return {field: _as_declared(spec.get(field), hints[field]) for field in cls._fields}


def _as_declared(value: Any, hint: Any) -> Any:
    allowed = set(get_args(hint)) or {hint}
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if int in allowed and float(value).is_integer():
        return int(value)
    if float in allowed:
        return float(value)
    return value


def weighting_settings(spec: dict[str, Any]) -> WeightingSettings:
    return WeightingSettings(**_filled(WeightingSettings, spec))


def constraint_settings(spec: dict[str, Any]) -> ConstraintSettings:
    return ConstraintSettings(**_filled(ConstraintSettings, spec))


def surrogate_settings(spec: dict[str, Any]) -> SurrogateSettings:
    return SurrogateSettings(**_filled(SurrogateSettings, spec))


def optimizer_settings(spec: dict[str, Any]) -> OptimizerSettings:
    fields = _filled(OptimizerSettings, spec)
    if spec.get("surrogate") is not None:
        fields["surrogate"] = surrogate_settings(spec["surrogate"])
    return OptimizerSettings(**fields)


def _experiment(spec: dict[str, Any], latent_dim: int) -> ExperimentSettings:
    return ExperimentSettings(
        model=spec["model"], seeds=tuple(spec["seeds"]), run=_run(spec, latent_dim)
    )


def _run(spec: dict[str, Any], latent_dim: int) -> RunSettings:
    snapshot = {"grid_len": spec["snapshot_grid_len"], "bounds": spec["snapshot_bounds"]}
    return RunSettings(
        **{
            **_filled(RunSettings, spec),
            "weighting": weighting_settings(spec["weighting"]),
            "constraint": constraint_settings(spec["constraint"]),
            "optimizer": optimizer_settings(spec["optimizer"]),
            "snapshot": (
                SnapshotSettings(**_filled(SnapshotSettings, snapshot)) if latent_dim == 2 else None
            ),
        }
    )


def _condgen(spec: dict[str, Any]) -> CondgenSettings:
    return CondgenSettings(
        dataset=spec["dataset"],
        training=JointTrainingSettings(**_filled(JointTrainingSettings, spec)),
        search=CondgenSearchSettings(**_filled(CondgenSearchSettings, spec)),
        bo_model=spec["bo_model"],
        targets=tuple(spec["targets"]),
        seeds=tuple(spec["seeds"]),
        probability=float(spec["probability"]),
        landscape_grid_len=spec["landscape_grid_len"],
        plot_target=spec["plot_target"],
    )


def optimizer_from(spec: dict[str, Any]) -> OptimizerSettings:
    """One optimiser's settings from a partial mapping; the schema fills and checks the rest."""
    return optimizer_settings(validated(spec, load_schema(), "optimizer"))


def surrogate_from(spec: dict[str, Any]) -> SurrogateSettings:
    """One surrogate's settings from a partial mapping; the schema fills and checks the rest."""
    return surrogate_settings(validated(spec, load_schema(), "surrogate"))


def run_settings_from(spec: dict[str, Any], latent_dim: int) -> RunSettings:
    """One run's settings from an experiment mapping (every required key given)."""
    return _run(validated(spec, load_schema(), "experiment"), latent_dim)


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of two config dicts; ``override`` wins.

    A section that names a different ``type`` (say ``optimizer: {type: local}`` over a grid
    default) replaces the default section: the other type's options would not apply to it.
    """
    result = copy.deepcopy(base)
    for key, value in override.items():
        old = result.get(key)
        if (
            isinstance(value, dict)
            and isinstance(old, dict)
            and value.get("type", old.get("type")) == old.get("type")
        ):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def apply_experiment_defaults(config: dict[str, Any]) -> None:
    """Fill every experiment from ``experiment_defaults`` in place (before validation)."""
    defaults = config.get("experiment_defaults") or {}
    experiments = config.get("experiments")
    if isinstance(defaults, dict) and isinstance(experiments, dict):
        for name, spec in experiments.items():
            if isinstance(spec, dict):
                experiments[name] = merged(defaults, spec)


# --- checks that span several keys -------------------------------------------------------


def _check(settings: PipelineSettings) -> None:
    """Cross-key checks on the built settings; each error names the key."""
    _check_models(settings)
    _check_judging(settings)
    for name, experiment in settings.experiments.items():
        _check_experiment(name, experiment, settings.models[experiment.model])
        _check_objective(name, experiment, settings)
    for name, comparison in settings.comparisons.items():
        unknown = [e for e in comparison.experiments if e not in settings.experiments]
        if unknown:
            raise InputError(f"comparisons.{name}.experiments names unknown experiments {unknown}")
    _check_data_files(settings)


def _check_models(settings: PipelineSettings) -> None:
    for name, model in settings.models.items():
        if model.dataset not in settings.datasets:
            raise InputError(f"models.{name}.dataset {model.dataset!r} is not a key of datasets")
        dataset = settings.datasets[model.dataset]
        if dataset.family != MODEL_FAMILIES[model.type]:
            raise InputError(
                f"models.{name}: a {model.type!r} model trains on {MODEL_FAMILIES[model.type]}, "
                f"but data set {model.dataset!r} holds {dataset.family}"
            )
        if dataset.family == "digits" and dataset.digit is None:
            raise InputError(
                f"models.{name}.dataset {model.dataset!r} keeps all digits (digit: null); "
                "thickness models need one digit"
            )
        if model.type == "vq_vae":
            side = 64 >> len(model.hparams["widths"])
            if model.latent_dim != side * side:
                raise InputError(
                    f"models.{name}.latent_dim must be the number of grid cells: widths "
                    f"{model.hparams['widths']} give a {side}x{side} grid, so {side * side}"
                )
    for name in sorted(set(RESERVED_MODEL_NAMES) & set(settings.models)):
        raise InputError(f"models.{name}: the name is reserved for the pipeline's own models")


def _check_judging(settings: PipelineSettings) -> None:
    """The classifier and conditional generation need labelled (all-digit) data sets."""
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
        if len(predictor.widths) != len(predictor.blocks):
            raise InputError(
                f"predictor.blocks needs one entry per width ({len(predictor.widths)}), "
                f"got {len(predictor.blocks)}"
            )
    if settings.condgen is not None and settings.classifier is None:
        raise InputError("condgen needs a classifier section: the classifier is its black box")
    if (
        settings.condgen is not None
        and settings.condgen.plot_target not in settings.condgen.targets
    ):
        raise InputError(
            f"condgen.plot_target {settings.condgen.plot_target} is not one of condgen.targets "
            f"{list(settings.condgen.targets)}"
        )


def _check_objective(name: str, experiment: ExperimentSettings, settings: PipelineSettings) -> None:
    """The objective must score the images the experiment's model makes."""
    model = settings.models[experiment.model]
    objective = experiment.run.objective
    family = MODEL_FAMILIES[model.type]
    if OBJECTIVE_FAMILIES[objective] != family:
        raise InputError(
            f"experiments.{name}.objective {objective!r} scores {OBJECTIVE_FAMILIES[objective]}; "
            f"model {experiment.model!r} makes {family} (use "
            f"{[o for o, f in OBJECTIVE_FAMILIES.items() if f == family]})"
        )
    if objective == "expected_level":
        if settings.predictor is None:
            raise InputError(
                f"experiments.{name}.objective 'expected_level' needs the predictor section"
            )
        if settings.predictor.dataset != model.dataset:
            raise InputError(
                f"experiments.{name}: the predictor learns from {settings.predictor.dataset!r} "
                f"but model {experiment.model!r} from {model.dataset!r}; one score scale needs "
                "one data set"
            )


def _check_experiment(name: str, experiment: ExperimentSettings, model: ModelSettings) -> None:
    key = f"experiments.{name}"
    run = experiment.run
    optimizer = run.optimizer
    if optimizer.type == "grid" and model.latent_dim != 2:
        raise InputError(
            f"{key}.optimizer.type 'grid' needs a 2-D model; {experiment.model} has "
            f"latent_dim {model.latent_dim}"
        )
    if math.isinf(run.retrain_every) and optimizer.type != "grid" and optimizer.batch_size is None:
        raise InputError(
            f"{key}.optimizer.batch_size must be set when retrain_every is .inf: a "
            f"{optimizer.type!r} optimiser should not propose the whole budget from one fit"
        )
    if optimizer.candidate_distribution == "constraint" and run.constraint.type == "none":
        raise InputError(
            f"{key}.optimizer.candidate_distribution 'constraint' draws candidates from the "
            "constraint's own distribution; set constraint.type to gmm_fit, gmm_full or "
            "discriminator"
        )
    if run.constraint.type == "gmm_full" and model.type not in ("vae", "face_vae"):
        raise InputError(
            f"{key}.constraint.type 'gmm_full' needs an encoder variance (a vae); "
            f"{experiment.model} is a {model.type}"
        )
    _check_gan_experiment(key, experiment, model)
    _check_code_experiment(key, experiment, model)


def _check_code_experiment(key: str, experiment: ExperimentSettings, model: ModelSettings) -> None:
    """Code grids and the codes optimiser belong together; the VQ-VAE has no constraint."""
    run, is_vq = experiment.run, model.type == "vq_vae"
    if is_vq != (run.optimizer.type == "codes"):
        raise InputError(
            f"{key}.optimizer.type {run.optimizer.type!r}: the 'codes' optimiser searches "
            f"grids of code indices, which only a vq_vae has ({experiment.model} is a "
            f"{model.type})"
        )
    if is_vq and run.constraint.type != "none":
        raise InputError(
            f"{key}.constraint.type {run.constraint.type!r}: a vq_vae's latent points are code "
            "grids, which no density constraint models; use 'none'"
        )


def _check_gan_experiment(key: str, experiment: ExperimentSettings, model: ModelSettings) -> None:
    """What needs a GAN (its discriminator, its kept Adam states) and what a GAN, having no
    encoder, needs instead (generated samples for the surrogate)."""
    run, is_gan = experiment.run, model.type == "sn_gan"
    if run.constraint.type == "discriminator" and not is_gan:
        raise InputError(
            f"{key}.constraint.type 'discriminator' needs an sn_gan; {experiment.model} is a "
            f"{model.type}"
        )
    if is_gan and run.constraint.type in ("gmm_full", "gmm_fit"):
        raise InputError(
            f"{key}.constraint.type {run.constraint.type!r} fits the data's codes, and "
            f"{experiment.model} (an sn_gan) has no encoder; use 'discriminator' or 'none'"
        )
    if run.keep_optimizer_state and not is_gan:
        raise InputError(
            f"{key}.keep_optimizer_state applies to sn_gan models; {experiment.model} is a "
            f"{model.type}, whose retrainings start a fresh Adam"
        )
    optimizer = run.optimizer
    if is_gan and optimizer.type != "grid" and not optimizer.generated_samples:
        raise InputError(
            f"{key}.optimizer.generated_samples must be at least 1: {experiment.model} (an "
            "sn_gan) has no encoder, so its surrogate learns from generated samples"
        )


def _check_data_files(settings: PipelineSettings) -> None:
    """Data a user brings must be where the config says, before any job starts."""
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
