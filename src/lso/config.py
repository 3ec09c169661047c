"""Config handling the JSON schema cannot express: experiment defaults and cross-key checks.

``rules/common.smk`` calls these before any job runs, so a config that names an unknown
model, asks for an impossible combination or points at a missing data file fails at once
with the offending key.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

from lso.models.joint_vae import PREDICTORS
from lso.utils import InputError

# Models the pipeline trains itself (results/models/<name>/), beside the configured ones.
RESERVED_MODEL_NAMES = ("classifier", *(f"joint_{predictor}" for predictor in PREDICTORS))


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


def check_config(config: dict[str, Any]) -> None:
    """Cross-key checks on a schema-valid config; raises ``InputError`` naming the key."""
    _check_models(config)
    _check_judging(config)
    _check_experiments(config)
    _check_comparisons(config)
    _check_data_files(config)


def _check_models(config: dict[str, Any]) -> None:
    for name, model in config["models"].items():
        if model["dataset"] not in config["datasets"]:
            raise InputError(f"models.{name}.dataset {model['dataset']!r} is not a key of datasets")
        if config["datasets"][model["dataset"]]["digit"] is None:
            raise InputError(
                f"models.{name}.dataset {model['dataset']!r} keeps all digits (digit: null); "
                "thickness models need one digit"
            )


def _check_judging(config: dict[str, Any]) -> None:
    """The classifier and conditional generation need labelled (all-digit) data sets."""
    for section in ("classifier", "condgen"):
        spec = config.get(section)
        if not spec:
            continue
        dataset = config["datasets"].get(spec["dataset"])
        if dataset is None:
            raise InputError(f"{section}.dataset {spec['dataset']!r} is not a key of datasets")
        if dataset["digit"] is not None:
            raise InputError(
                f"{section}.dataset {spec['dataset']!r} must keep all digits (digit: null)"
            )
    if config.get("condgen") and not config.get("classifier"):
        raise InputError("condgen needs a classifier section: the classifier is its black box")
    for name in set(RESERVED_MODEL_NAMES) & set(config["models"]):
        raise InputError(f"models.{name}: the name is reserved for the pipeline's own models")


def _check_experiments(config: dict[str, Any]) -> None:
    for name, experiment in config["experiments"].items():
        key = f"experiments.{name}"
        if experiment["model"] not in config["models"]:
            raise InputError(f"{key}.model {experiment['model']!r} is not a key of models")
        r = experiment["retrain_every"]
        if not (math.isinf(r) or float(r).is_integer()):
            raise InputError(f"{key}.retrain_every must be an integer or .inf, got {r}")
        model = config["models"][experiment["model"]]
        if experiment["optimizer"]["type"] == "grid" and model["latent_dim"] != 2:
            raise InputError(
                f"{key}.optimizer.type 'grid' needs a 2-D model; {experiment['model']} has "
                f"latent_dim {model['latent_dim']}"
            )
        optimizer = experiment["optimizer"]
        if math.isinf(r) and optimizer["type"] != "grid" and optimizer.get("batch_size") is None:
            raise InputError(
                f"{key}.optimizer.batch_size must be set when retrain_every is .inf: a "
                f"{optimizer['type']!r} optimiser should not propose the whole budget from one fit"
            )
        if experiment["constraint"]["type"] == "gmm_full" and model["type"] != "vae":
            raise InputError(
                f"{key}.constraint.type 'gmm_full' needs an encoder variance (a vae); "
                f"{experiment['model']} is a {model['type']}"
            )


def _check_comparisons(config: dict[str, Any]) -> None:
    for name, comparison in (config.get("comparisons") or {}).items():
        unknown = [e for e in comparison["experiments"] if e not in config["experiments"]]
        if unknown:
            raise InputError(f"comparisons.{name}.experiments names unknown experiments {unknown}")


def _check_data_files(config: dict[str, Any]) -> None:
    for name, dataset in config["datasets"].items():
        if dataset["source"] == "embedded":
            continue
        path = dataset.get("path")
        if not path or not os.path.exists(path):
            raise InputError(
                f"datasets.{name}.path {path!r}: no such file or directory (source "
                f"{dataset['source']!r} needs the MNIST files there; see data/raw/README.md)"
            )
