"""Settings, target lists and input functions.

The config is validated and typed once, here, before any job runs (lso.settings). Each rule
passes each job only the settings object it uses, and lists as code inputs exactly the
library files its script imports (lso.code_inputs), so that a change reruns exactly the jobs
it affects.
"""

import os
import re

from lso.code_inputs import script_library_files
from lso.settings import (
    MODELS,
    OBJECTIVES,
    OPTIMIZERS,
    PREDICTORS,
    RESERVED_MODEL_NAMES,
    parse_config,
)

SETTINGS = parse_config(config)
EXPERIMENTS = SETTINGS.experiments
USED_MODELS = sorted({experiment.model for experiment in EXPERIMENTS.values()})
USED_DATASETS = sorted({SETTINGS.models[m].dataset for m in USED_MODELS})
PLOTS = SETTINGS.plots
CLASSIFIER = SETTINGS.classifier
CONDGEN = SETTINGS.condgen
PREDICTOR = SETTINGS.predictor
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


def model_module(kind):
    """The library module implementing model type ``kind`` (it is loaded by name)."""
    return MODELS[kind][0]


# Conditional generation loads the joint VAEs and the classifier (its black box).
CONDGEN_MODEL_MODULES = (model_module("joint_vae"), model_module("classifier"))


def pretrain_code(wildcards):
    """The pretraining script's library files, with the model type's module."""
    return code("pretrain.py", model_module(SETTINGS.models[wildcards.model].type))


def pretrain_feature_network(wildcards):
    """The black-box predictor, whose features give a GAN's pretraining log its Fréchet
    distances (models with an encoder do not use it)."""
    if SETTINGS.models[wildcards.model].type == "sn_gan" and PREDICTOR:
        return "results/predictors/black_box/model.pt"
    return []


def gan_experiments():
    return [
        e for e in EXPERIMENTS if SETTINGS.models[EXPERIMENTS[e].model].type == "sn_gan"
    ]


def optimize_code(wildcards):
    """The optimisation script's library files, with the modules chosen by name: the
    optimiser's, the model's and the objective's."""
    experiment = EXPERIMENTS[wildcards.experiment]
    return code(
        "optimize.py",
        OPTIMIZERS[experiment.run.optimizer.type][0],
        model_module(SETTINGS.models[experiment.model].type),
        OBJECTIVES[experiment.run.objective][0],
    )


def experiment_family(experiment):
    """``digits`` or ``faces``: the data the experiment's model makes."""
    model = SETTINGS.models[EXPERIMENTS[experiment].model]
    return SETTINGS.datasets[model.dataset].family


def experiments_of(family):
    return [e for e in EXPERIMENTS if experiment_family(e) == family]


def black_box_predictor(wildcards):
    """The predictor checkpoint an experiment's objective loads, if it needs one."""
    if EXPERIMENTS[wildcards.experiment].run.objective == "expected_level":
        return "results/predictors/black_box/model.pt"
    return []


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
        if experiment_family(e) == "digits"
        for p in run_files(e, "validity.csv")
    ]


def comparison_runs(wildcards):
    """Experiment -> run folders, for the comparison figure's params."""
    return {
        e: [os.path.dirname(p) for p in run_files(e, "queries.csv")]
        for e in comparison_experiments(wildcards)
    }


def evaluation_files(name):
    """Per-run evaluations: digits by the classifier, faces by the judge, when configured."""
    judged = [
        experiment
        for experiment in EXPERIMENTS
        if (CLASSIFIER and experiment_family(experiment) == "digits")
        or (PREDICTOR and experiment_family(experiment) == "faces")
    ]
    return [path for experiment in judged for path in run_files(experiment, name)]


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
        if experiment_family(experiment) == "faces":
            outputs.append(f"{folder}/headline.png")
        if experiment in gan_experiments():
            outputs.append(f"{folder}/discriminator_scores.png")
    outputs += [f"results/figures/models/{m}/training.png" for m in USED_MODELS]
    outputs += [
        f"results/figures/datasets/{d}/weight_distribution.png"
        for d in USED_DATASETS
        if SETTINGS.datasets[d].family == "digits"
    ]
    if PREDICTOR:
        outputs += [
            f"results/predictors/{role}/{name}"
            for role in ("black_box", "judge")
            for name in ("metrics.json", "reliability.png")
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
