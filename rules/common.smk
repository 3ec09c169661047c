"""Config validation, experiment resolution, target lists and input functions."""

import os
import re

from snakemake.utils import validate

from lso.config import RESERVED_MODEL_NAMES, apply_experiment_defaults, check_config
from lso.models.joint_vae import PREDICTORS


apply_experiment_defaults(config)
validate(config, schema="../schemas/config.schema.yaml")
check_config(config)
EXPERIMENTS = config["experiments"]
USED_MODELS = sorted({spec["model"] for spec in EXPERIMENTS.values()})
USED_DATASETS = sorted({config["models"][m]["dataset"] for m in USED_MODELS})
PLOTS = config["plots"]
CLASSIFIER = config.get("classifier") or {}
CONDGEN = config.get("condgen") or {}
VALIDITY = config["validity"]
# A classifier trained on binarised digits judges decoded images rounded to {0, 1}.
CLASSIFIER_BINARISED = bool(
    CLASSIFIER and config["datasets"][CLASSIFIER["dataset"]]["binarize_threshold"] is not None
)
LIBRARY = os.path.join(workflow.basedir, "src", "lso")


def library(*modules):
    """Library modules a job runs, as inputs; editing one reruns exactly the jobs using it."""
    return [os.path.join(LIBRARY, module) for module in ("pipeline.py", *modules)]


MODEL_CODE = ("models/base.py", "models/mnist.py", "models/registry.py", "training.py")
PLOT_CODE = ("plots.py", "results.py")


def names_pattern(names):
    return "|".join(re.escape(name) for name in names)


wildcard_constraints:
    dataset=names_pattern(config["datasets"]),
    model=names_pattern([*config["models"], *RESERVED_MODEL_NAMES]),
    experiment=names_pattern(EXPERIMENTS),
    comparison=names_pattern(config.get("comparisons", {})) or "$^",
    seed=r"\d+",
    target=r"\d",
    predictor="|".join(PREDICTORS),


def canonical(value):
    """Dicts with sorted keys, recursively: params are compared by value, so reordering
    keys in a config file must not look like a change."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def dataset_spec(wildcards):
    return canonical(config["datasets"][wildcards.dataset])


def model_spec(wildcards):
    return canonical(config["models"][wildcards.model])


def model_dataset(wildcards):
    return f"data/processed/{config['models'][wildcards.model]['dataset']}.npz"


def experiment_spec(wildcards):
    return canonical(EXPERIMENTS[wildcards.experiment])


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


def comparison_validity_files(wildcards):
    if not CLASSIFIER:
        return []
    experiments = config["comparisons"][wildcards.comparison]["experiments"]
    return [path for experiment in experiments for path in run_files(experiment, "validity.csv")]


def comparison_runs(wildcards):
    """Experiment -> run folders, for the comparison figure's params."""
    experiments = config["comparisons"][wildcards.comparison]["experiments"]
    return {e: [os.path.dirname(p) for p in run_files(e, "queries.csv")] for e in experiments}


def evaluation_files(name):
    """Per-run classifier evaluations, when a classifier is configured."""
    return all_run_files(name) if CLASSIFIER else []


def condgen_files(extension):
    return [
        f"results/condgen/target{target}/seed{seed}.{extension}"
        for target in CONDGEN.get("targets", [])
        for seed in CONDGEN.get("seeds", [])
    ]


def condgen_arrays_by_target(wildcards):
    return {
        target: [f"results/condgen/target{target}/seed{seed}.npz" for seed in CONDGEN["seeds"]]
        for target in CONDGEN["targets"]
    }


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
    outputs += [f"results/figures/experiments/{e}/diagnostics.png" for e in EXPERIMENTS]
    outputs += [
        f"results/figures/experiments/{e}/latent_snapshots_seed{seed}.png"
        for e in EXPERIMENTS if is_2d(e) for seed in EXPERIMENTS[e]["seeds"]
    ]
    outputs += [f"results/figures/models/{m}/training.png" for m in USED_MODELS]
    outputs += [f"results/figures/datasets/{d}/weight_distribution.png" for d in USED_DATASETS]
    if CLASSIFIER:
        outputs += ["results/models/classifier/metrics.json"]
        outputs += ["results/figures/models/classifier/training.png"]
    if CONDGEN:
        outputs += [
            "results/tables/condgen.csv",
            "results/figures/condgen/latent_spaces.png",
            "results/figures/condgen/objective_landscapes.png",
            "results/figures/condgen/top_images.png",
            f"results/figures/condgen/bo_run_target{CONDGEN['plot_target']}_seed{CONDGEN['seeds'][0]}.png",
        ]
        outputs += [f"results/figures/models/joint_{p}/training.png" for p in PREDICTORS]
    return outputs
