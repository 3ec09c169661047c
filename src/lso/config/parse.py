"""From the raw config to :class:`~lso.config.types.PipelineSettings`, once, before any job.

``rules/common.smk`` calls :func:`parse_config` on the config as Snakemake loaded it. It
merges ``experiment_defaults`` into every experiment, validates the result against the schema
(:mod:`lso.config.schema`, which fills every default), builds the typed settings
(:mod:`lso.config.types`) and runs the checks that span several keys
(:mod:`lso.config.checks`).
"""

from __future__ import annotations

import copy
from typing import Any, get_args, get_type_hints

from lso.config.checks import check_settings
from lso.config.schema import load_schema, validated
from lso.config.smoke import shrink
from lso.config.types import (
    AugmentationSettings,
    ClassifierSettings,
    ComparisonSettings,
    CondgenSearchSettings,
    CondgenSettings,
    ConstraintSettings,
    DatasetSettings,
    ExperimentSettings,
    FaceEvaluationSettings,
    JointTrainingSettings,
    ModelSettings,
    OptimizerSettings,
    PipelineSettings,
    PlotSettings,
    PredictorSettings,
    PredictorsSettings,
    RunSettings,
    SnapshotSettings,
    SurrogateSettings,
    ValiditySettings,
    WeightingSettings,
)
from lso.utils import InputError


def parse_config(config: dict[str, Any], schema: dict[str, Any] | None = None) -> PipelineSettings:
    """Validate the raw config (as Snakemake loaded it) and build the typed settings."""
    schema = load_schema() if schema is None else schema
    raw = copy.deepcopy(config)
    apply_defaults(raw)
    spec = validated(raw, schema)
    smoke = spec["smoke"] is not None
    if smoke:  # sizes capped after every default is filled, then checked again
        spec = validated(shrink(spec, spec["smoke"]), schema)
    for name, experiment in spec["experiments"].items():
        if experiment["model"] not in spec["models"]:
            raise InputError(
                f"experiments.{name}.model {experiment['model']!r} is not a key of models"
            )
    settings = PipelineSettings(
        device=spec["device"],
        precision=spec["precision"],
        smoke=smoke,
        datasets={name: _dataset(d) for name, d in spec["datasets"].items()},
        models={name: _model(m) for name, m in spec["models"].items()},
        experiments={
            name: _experiment(e, spec["models"][e["model"]]["latent_dim"], smoke)
            for name, e in spec["experiments"].items()
        },
        comparisons={
            name: ComparisonSettings(
                title=c.get("title", name),
                experiments=tuple(c["experiments"]),
                labels=dict(sorted(c["labels"].items())),
                baseline=c["baseline"],
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
        predictor=_predictors(spec["predictor"]) if "predictor" in spec else None,
        face_evaluation=FaceEvaluationSettings(
            **_filled(FaceEvaluationSettings, spec["face_evaluation"])
        ),
    )
    check_settings(settings)
    return settings


def _dataset(spec: dict[str, Any]) -> DatasetSettings:
    return DatasetSettings(**_filled(DatasetSettings, spec))


ROLES = ("black_box", "judge")


def _predictors(spec: dict[str, Any]) -> PredictorsSettings:
    return PredictorsSettings(
        dataset=spec["dataset"], **{role: _predictor(spec[role]) for role in ROLES}
    )


def _predictor(spec: dict[str, Any]) -> PredictorSettings:
    fields = _filled(PredictorSettings, spec)
    blocks = spec.get("blocks")
    if blocks is None and spec["architecture"] == "resnet_classifier":
        blocks = [1] * len(spec["widths"])  # one residual block a stage
    augmentation = spec.get("augmentation")
    return PredictorSettings(
        **{
            **fields,
            "widths": tuple(spec["widths"]),
            "blocks": tuple(blocks) if blocks is not None else None,
            "augmentation": (
                AugmentationSettings(**_filled(AugmentationSettings, augmentation))
                if augmentation is not None
                else None
            ),
        }
    )


def apply_predictor_defaults(config: dict[str, Any]) -> None:
    """Fill both predictor roles from the keys given beside them in ``predictor`` (in place,
    before validation), as experiments are filled from ``experiment_defaults``."""
    spec = config.get("predictor")
    if not isinstance(spec, dict):
        return
    shared = {k: v for k, v in spec.items() if k not in (*ROLES, "dataset")}
    for role in ROLES:
        if isinstance(spec.get(role), dict):
            spec[role] = merged(shared, spec[role])
    for key in shared:
        del spec[key]


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


def _experiment(spec: dict[str, Any], latent_dim: int, smoke: bool) -> ExperimentSettings:
    return ExperimentSettings(
        model=spec["model"], seeds=tuple(spec["seeds"]), run=_run(spec, latent_dim, smoke)
    )


def _run(spec: dict[str, Any], latent_dim: int, smoke: bool = False) -> RunSettings:
    snapshot = {"grid_len": spec["snapshot_grid_len"], "bounds": spec["snapshot_bounds"]}
    return RunSettings(
        **{
            **_filled(RunSettings, spec),
            "smoke": smoke,
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


# Keys that are alternatives to each other: a section that gives one drops the others it
# inherits (a GMM constraint's threshold is absolute or a quantile of the codes, never both).
ALTERNATIVE_KEYS = (frozenset({"threshold", "quantile"}),)


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of two config dicts; ``override`` wins.

    A section that names a different ``type`` (say ``optimizer: {type: local}`` over a grid
    default) replaces the default section: the other type's options would not apply to it.
    A key of :data:`ALTERNATIVE_KEYS` in ``override`` removes its alternatives from ``base``.
    """
    result = copy.deepcopy(base)
    for group in ALTERNATIVE_KEYS:
        if group & override.keys():
            for key in group - override.keys():
                result.pop(key, None)
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


def apply_defaults(config: dict[str, Any]) -> None:
    """Fill every experiment from ``experiment_defaults`` and both predictor roles from the
    keys beside them, in place, before validation."""
    apply_experiment_defaults(config)
    apply_predictor_defaults(config)


def apply_experiment_defaults(config: dict[str, Any]) -> None:
    """Fill every experiment from ``experiment_defaults`` in place (before validation)."""
    defaults = config.get("experiment_defaults") or {}
    experiments = config.get("experiments")
    if isinstance(defaults, dict) and isinstance(experiments, dict):
        for name, spec in experiments.items():
            if isinstance(spec, dict):
                experiments[name] = merged(defaults, spec)
