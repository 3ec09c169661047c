"""Settings, target lists and input functions.

The config is validated and typed once, here, before any job runs (lso.settings). Each rule
passes each job only the settings object it uses, and lists as code inputs exactly the
library files its script imports (lso.code_inputs), so that a change reruns exactly the jobs
it affects.
"""

import os
import re

from lso.code_inputs import script_library_files
from lso.settings import OPTIMIZERS, PREDICTORS, RESERVED_MODEL_NAMES, parse_config

SETTINGS = parse_config(config)
EXPERIMENTS = SETTINGS.experiments
USED_MODELS = sorted({experiment.model for experiment in EXPERIMENTS.values()})
USED_DATASETS = sorted({SETTINGS.models[m].dataset for m in USED_MODELS})
PLOTS = SETTINGS.plots
CLASSIFIER = SETTINGS.classifier
CONDGEN = SETTINGS.condgen
# GPUs are asked for only when jobs may use one: `device: cpu` never requests them (on SLURM
# a CPU partition could never schedule a --gpus job).
GPU = int(SETTINGS.uses_gpu)
# A classifier trained on binarised digits judges decoded images rounded to {0, 1}.
CLASSIFIER_BINARISED = bool(
    CLASSIFIER and SETTINGS.datasets[CLASSIFIER.dataset].binarize_threshold is not None
)


def code(script, *modules):
    """The library files a workflow script imports (plus ``modules`` it loads by name)."""
    path = os.path.join(workflow.basedir, "workflow_scripts", script)
    return script_library_files(path, *modules)


def optimize_code(wildcards):
    """The optimisation script's library files, with the chosen optimiser's module."""
    optimizer = EXPERIMENTS[wildcards.experiment].run.optimizer.type
    return code("optimize.py", OPTIMIZERS[optimizer][0])


def names_pattern(names):
    return "|".join(re.escape(name) for name in names) or "$^"


wildcard_constraints:
    dataset=names_pattern(SETTINGS.datasets),
    model=names_pattern([*SETTINGS.models, *RESERVED_MODEL_NAMES]),
    experiment=names_pattern(EXPERIMENTS),
    comparison=names_pattern(SETTINGS.comparisons),
    seed=r"\d+",
    target=r"\d",
    predictor="|".join(PREDICTORS),


def model_dataset(wildcards):
    return f"data/processed/{SETTINGS.models[wildcards.model].dataset}.npz"


def experiment_model(wildcards):
    return f"results/models/{EXPERIMENTS[wildcards.experiment].model}/model.pt"


def experiment_dataset(wildcards):
    model = SETTINGS.models[EXPERIMENTS[wildcards.experiment].model]
    return f"data/processed/{model.dataset}.npz"


def run_files(experiment, name):
    return [
        f"results/opt/{experiment}/seed{seed}/{name}"
        for seed in EXPERIMENTS[experiment].seeds
    ]


def all_run_files(name):
    return [path for experiment in EXPERIMENTS for path in run_files(experiment, name)]


def experiment_run_files(name):
    """Input function: one file of every seed of the job's experiment."""
    return lambda wildcards: run_files(wildcards.experiment, name)


def comparison_experiments(wildcards):
    return SETTINGS.comparisons[wildcards.comparison].experiments


def comparison_run_files(wildcards):
    return [
        p
        for e in comparison_experiments(wildcards)
        for p in run_files(e, "queries.csv")
    ]


def comparison_validity_files(wildcards):
    if not CLASSIFIER:
        return []
    return [
        p
        for e in comparison_experiments(wildcards)
        for p in run_files(e, "validity.csv")
    ]


def comparison_runs(wildcards):
    """Experiment -> run folders, for the comparison figure's params."""
    return {
        e: [os.path.dirname(p) for p in run_files(e, "queries.csv")]
        for e in comparison_experiments(wildcards)
    }


def evaluation_files(name):
    """Per-run classifier evaluations, when a classifier is configured."""
    return all_run_files(name) if CLASSIFIER else []


def condgen_runs():
    if not CONDGEN:
        return []
    return [
        f"results/condgen/target{target}/seed{seed}.npz"
        for target in CONDGEN.targets
        for seed in CONDGEN.seeds
    ]


def condgen_runs_by_target(wildcards):
    return {
        target: [
            f"results/condgen/target{target}/seed{seed}.npz" for seed in CONDGEN.seeds
        ]
        for target in CONDGEN.targets
    }


def is_2d(experiment):
    return EXPERIMENTS[experiment].run.snapshot is not None


def weight_k_values(wildcards):
    """The configured k values plus every k an experiment on this data set uses."""
    ks = set(PLOTS.weight_k_values)
    for experiment in EXPERIMENTS.values():
        weighting = experiment.run.weighting
        on_dataset = SETTINGS.models[experiment.model].dataset == wildcards.dataset
        if weighting.type == "rank" and on_dataset:
            ks.add(float(weighting.k))
    return sorted(ks, reverse=True)


def final_outputs():
    """Every final figure and table; the target of the all rule."""
    outputs = [
        "results/tables/summary.csv",
        "results/tables/summary_mean_std.csv",
    ]
    outputs += [f"results/figures/comparisons/{c}.png" for c in SETTINGS.comparisons]
    for experiment in EXPERIMENTS:
        folder = f"results/figures/experiments/{experiment}"
        outputs += [f"{folder}/best_images.png", f"{folder}/diagnostics.png"]
        if is_2d(experiment):
            outputs.append(f"{folder}/latent_snapshots.png")
    outputs += [f"results/figures/models/{m}/training.png" for m in USED_MODELS]
    outputs += [
        f"results/figures/datasets/{d}/weight_distribution.png" for d in USED_DATASETS
    ]
    if CLASSIFIER:
        outputs += ["results/models/classifier/metrics.json"]
        outputs += ["results/figures/models/classifier/training.png"]
    if CONDGEN:
        outputs += [
            "results/tables/condgen.csv",
            "results/figures/condgen/latent_spaces.png",
            "results/figures/condgen/objective_landscapes.png",
            "results/figures/condgen/top_images.png",
            f"results/figures/condgen/bo_run_target{CONDGEN.plot_target}"
            f"_seed{CONDGEN.seeds[0]}.png",
        ]
        outputs += [
            f"results/figures/models/joint_{p}/training.png" for p in PREDICTORS
        ]
    return outputs
