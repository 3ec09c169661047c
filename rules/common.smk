"""Config validation, experiment resolution, target lists and input functions."""

import copy
import math
import os
import re

from snakemake.utils import validate


def merged(base, override):
    """Deep-merge two config dicts; override wins."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def apply_experiment_defaults():
    """Fill each experiment from experiment_defaults before validation sees it."""
    defaults = config.get("experiment_defaults") or {}
    experiments = config.get("experiments")
    if isinstance(defaults, dict) and isinstance(experiments, dict):
        for name, spec in experiments.items():
            if isinstance(spec, dict):
                experiments[name] = merged(defaults, spec)


def check_experiments():
    """Cross-key rules the schema cannot express."""
    for name, experiment in config["experiments"].items():
        if experiment["model"] not in config["models"]:
            raise ValueError(f"experiments.{name}.model {experiment['model']!r} is not a key of models")
        r = experiment["retrain_every"]
        if not (math.isinf(r) or float(r).is_integer()):
            raise ValueError(f"experiments.{name}.retrain_every must be an integer or .inf, got {r}")
        model = config["models"][experiment["model"]]
        if experiment["optimizer"]["type"] == "grid" and model["latent_dim"] != 2:
            raise ValueError(f"experiments.{name}: optimizer 'grid' needs a 2-D model, "
                             f"{experiment['model']} has latent_dim {model['latent_dim']}")
        if experiment["constraint"]["type"] == "gmm_full" and model["type"] != "vae":
            raise ValueError(f"experiments.{name}: constraint 'gmm_full' needs a VAE, "
                             f"{experiment['model']} is a {model['type']}")


def check_references():
    """Models name known data sets, data files exist, comparisons name known experiments."""
    for name, model in config["models"].items():
        if model["dataset"] not in config["datasets"]:
            raise ValueError(f"models.{name}.dataset {model['dataset']!r} is not a key of datasets")
    for name, dataset in config["datasets"].items():
        if dataset["source"] != "embedded":
            path = dataset.get("path")
            if not path or not os.path.exists(path):
                raise ValueError(f"datasets.{name}.path {path!r}: no such file or directory "
                                 f"(source {dataset['source']!r} needs the MNIST files there)")
    for name, comparison in config.get("comparisons", {}).items():
        unknown = [e for e in comparison["experiments"] if e not in EXPERIMENTS]
        if unknown:
            raise ValueError(f"comparisons.{name} names unknown experiments {unknown}")


apply_experiment_defaults()
validate(config, schema="../schemas/config.schema.yaml")
EXPERIMENTS = config["experiments"]
check_experiments()
check_references()
USED_MODELS = sorted({spec["model"] for spec in EXPERIMENTS.values()})
USED_DATASETS = sorted({config["models"][m]["dataset"] for m in USED_MODELS})
PLOTS = config["plots"]


def names_pattern(names):
    return "|".join(re.escape(name) for name in names)


wildcard_constraints:
    dataset=names_pattern(config["datasets"]),
    model=names_pattern(config["models"]),
    experiment=names_pattern(EXPERIMENTS),
    comparison=names_pattern(config.get("comparisons", {})) or "$^",
    seed=r"\d+",


def model_spec(wildcards):
    return config["models"][wildcards.model]


def model_dataset(wildcards):
    return f"data/processed/{config['models'][wildcards.model]['dataset']}.npz"


def experiment_spec(wildcards):
    return EXPERIMENTS[wildcards.experiment]


def experiment_model(wildcards):
    return f"results/models/{EXPERIMENTS[wildcards.experiment]['model']}/model.pt"


def experiment_dataset(wildcards):
    model = config["models"][EXPERIMENTS[wildcards.experiment]["model"]]
    return f"data/processed/{model['dataset']}.npz"


def run_files(experiment, name):
    return [f"results/opt/{experiment}/seed{seed}/{name}" for seed in EXPERIMENTS[experiment]["seeds"]]


def all_run_files(name):
    return [path for experiment in EXPERIMENTS for path in run_files(experiment, name)]


def comparison_run_files(wildcards):
    experiments = config["comparisons"][wildcards.comparison]["experiments"]
    return [path for experiment in experiments for path in run_files(experiment, "queries.csv")]


def comparison_runs(wildcards):
    """Experiment -> run folders, for the comparison figure's params."""
    experiments = config["comparisons"][wildcards.comparison]["experiments"]
    return {e: [os.path.dirname(p) for p in run_files(e, "queries.csv")] for e in experiments}


def is_2d(experiment):
    return config["models"][EXPERIMENTS[experiment]["model"]]["latent_dim"] == 2


def weight_k_values(wildcards):
    """The configured k values plus every k an experiment on this data set uses."""
    ks = set(PLOTS["weight_k_values"])
    for spec in EXPERIMENTS.values():
        if spec["weighting"]["type"] == "rank" and config["models"][spec["model"]]["dataset"] == wildcards.dataset:
            ks.add(spec["weighting"]["k"])
    return sorted(ks, reverse=True)


def final_outputs():
    """Every final figure and table; the target of the all rule."""
    outputs = [
        "results/tables/summary.csv",
        "results/tables/summary_mean_std.csv",
    ]
    outputs += [f"results/figures/comparisons/{c}.png" for c in config.get("comparisons", {})]
    outputs += [f"results/figures/experiments/{e}/best_images.png" for e in EXPERIMENTS]
    outputs += [
        f"results/figures/experiments/{e}/latent_snapshots_seed{seed}.png"
        for e in EXPERIMENTS if is_2d(e) for seed in EXPERIMENTS[e]["seeds"]
    ]
    outputs += [f"results/figures/models/{m}/training.png" for m in USED_MODELS]
    outputs += [f"results/figures/datasets/{d}/weight_distribution.png" for d in USED_DATASETS]
    return outputs
