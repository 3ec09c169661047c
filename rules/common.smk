"""Settings, target lists and input functions.

The config is validated and typed once, here, before any job runs (lso.config). Each rule
passes each job only the settings object it uses, and lists as code inputs exactly the
library files its script imports (lso.code_inputs), plus the modules its settings choose by
name from a registry (model, optimiser, surrogate, constraint, objective, data family), so
that a change reruns exactly the jobs it affects.
"""

import os
import re
import sys

from lso.code_inputs import script_library_files
from lso.config.parse import parse_config
from lso.config.types import PREDICTORS, RESERVED_MODEL_NAMES
from lso.constraints.registry import CONSTRAINTS
from lso.core.registry import OBJECTIVES
from lso.models.registry import MODELS
from lso.optimizers.registry import OPTIMIZERS
from lso.resources import count_lines, memory_mb, npz_megabytes, prepared_megabytes
from lso.steps.data import preparation_module
from lso.surrogates.registry import SURROGATES
from lso.tasks.registry import TASKS
from lso.tasks.sources import image_listing_digest, label_files

SETTINGS = parse_config(config)
if SETTINGS.smoke:
    sys.stderr.write(
        "SMOKE RUN (config section smoke): every data set, model, budget and seed list is "
        "shrunk to check the config and the data layout; its results are not results.\n"
    )
EXPERIMENTS = SETTINGS.experiments
USED_MODELS = sorted({experiment.model for experiment in EXPERIMENTS.values()})
USED_DATASETS = sorted({SETTINGS.models[m].dataset for m in USED_MODELS})
PLOTS = SETTINGS.plots
CLASSIFIER = SETTINGS.classifier
CONDGEN = SETTINGS.condgen
PREDICTOR = SETTINGS.predictor
# Every rule that runs a network on the configured device is handed `device` and asks for
# the `gpu` resource, unless the device is the CPU: then no job asks for one (on SLURM a CPU
# partition could never schedule a --gpus job). Rules that are not handed the device run on
# the CPU; tests/test_workflow.py checks this pairing for every rule.
GPU = int(SETTINGS.uses_gpu)
# A classifier trained on binarised digits judges decoded images rounded to {0, 1}.
CLASSIFIER_BINARISED = bool(
    CLASSIFIER and SETTINGS.datasets[CLASSIFIER.dataset].binarize_threshold is not None
)


def code(script, *modules):
    """The library files a workflow script imports (plus ``modules`` it loads by name)."""
    path = os.path.join(workflow.basedir, "workflow_scripts", script)
    return script_library_files(path, *modules)


def prepare_data_code(wildcards):
    """The prepare script's library files, with its data set's family's preparation module
    only (a digit data set does not depend on the faces code)."""
    family = SETTINGS.datasets[wildcards.dataset].family
    return code("prepare_data.py", preparation_module(family))


def model_modules(kind):
    """The modules a model type loads by name: its class's, and its pretraining monitor's."""
    traits = MODELS.traits(kind)
    return [MODELS.module(kind), *([traits.monitor] if traits.monitor else [])]


# Conditional generation loads the joint VAEs and the classifier (its black box).
CONDGEN_MODEL_MODULES = (MODELS.module("joint_vae"), MODELS.module("classifier"))


def pretrain_code(wildcards):
    """The pretraining script's library files, with the model type's modules and its data
    family's reader."""
    kind = SETTINGS.models[wildcards.model].type
    return code(
        "pretrain.py", *model_modules(kind), TASKS.module(MODELS.traits(kind).family)
    )


def pretrain_feature_network(wildcards):
    """The judge, whose features give a monitored pretraining (the GAN's) its Fréchet
    distances (the network the optimiser does not attack); models without a monitor do not
    use it."""
    if MODELS.traits(SETTINGS.models[wildcards.model].type).monitor and PREDICTOR:
        return "results/predictors/judge/model.pt"
    return []


# The modules of both predictors' architectures (loaded by name from their checkpoints).
PREDICTOR_MODULES = (
    sorted(
        {MODELS.module(PREDICTOR.role(r).architecture) for r in ("black_box", "judge")}
    )
    if PREDICTOR
    else []
)


def predictor_code(wildcards):
    """The predictor-training script's library files, with the role's architecture module."""
    architecture = PREDICTOR.role(wildcards.role).architecture
    return code("train_predictor.py", MODELS.module(architecture))


def faces_models():
    """The faces models the experiments use (each one's quality is evaluated)."""
    return [
        m
        for m in USED_MODELS
        if SETTINGS.datasets[SETTINGS.models[m].dataset].family == "faces"
    ]


def paired_comparisons():
    return [name for name, c in SETTINGS.comparisons.items() if c.baseline is not None]


def gan_experiments():
    """Experiments whose model has a discriminator (their discriminator-score figure)."""
    return [
        e
        for e in EXPERIMENTS
        if MODELS.traits(SETTINGS.models[EXPERIMENTS[e].model].type).discriminator
    ]


def optimize_code(wildcards):
    """The optimisation script's library files, with every module its settings choose by
    name: the model's, the optimiser's, the surrogate's, the constraint's, the objective's and
    the data family's."""
    experiment = EXPERIMENTS[wildcards.experiment]
    run = experiment.run
    kind = SETTINGS.models[experiment.model].type
    modules = [
        MODELS.module(kind),
        OPTIMIZERS.module(run.optimizer.type),
        CONSTRAINTS.module(run.constraint.type),
        OBJECTIVES.module(run.objective),
        TASKS.module(OBJECTIVES.traits(run.objective).family),
    ]
    if run.optimizer.surrogate is not None:
        modules.append(SURROGATES.module(run.optimizer.surrogate.type))
    return code("optimize.py", *modules)


def experiment_family(experiment):
    """``digits`` or ``faces``: the data the experiment's model makes."""
    model = SETTINGS.models[EXPERIMENTS[experiment].model]
    return SETTINGS.datasets[model.dataset].family


def experiments_of(family):
    return [e for e in EXPERIMENTS if experiment_family(e) == family]


def black_box_predictor(wildcards):
    """The predictor checkpoint an experiment's objective loads, if it needs one."""
    if OBJECTIVES.traits(EXPERIMENTS[wildcards.experiment].run.objective).predictor:
        return "results/predictors/black_box/model.pt"
    return []


def black_box_scores(wildcards):
    """The black box's scores of the experiment's training images, if its objective has one
    (computed once for every run of the data set by score_data)."""
    run = EXPERIMENTS[wildcards.experiment].run
    if OBJECTIVES.traits(run.objective).predictor:
        dataset = SETTINGS.models[EXPERIMENTS[wildcards.experiment].model].dataset
        return f"results/predictors/black_box/scores/{run.objective}/{dataset}.npz"
    return []


def score_data_code(wildcards):
    """The scoring script's library files, with the objective's and its family's modules."""
    family = OBJECTIVES.traits(wildcards.objective).family
    return code(
        "score_data.py",
        OBJECTIVES.module(wildcards.objective),
        TASKS.module(family),
        *PREDICTOR_MODULES,
    )


def raw_data(wildcards):
    """The files a user brought that preparing the data set reads (labels, IDX, npz), and
    the manifest that stands for its image directory."""
    spec = SETTINGS.datasets[wildcards.dataset]
    inputs = (
        [str(path) for path in label_files(spec.source, spec.path)] if spec.path else []
    )
    if spec.image_dir:
        inputs.append(f"data/manifests/{wildcards.dataset}.tsv")
    return inputs


def image_listing(wildcards):
    """A digest of the image directory's listing: a new one reruns list_images."""
    return image_listing_digest(SETTINGS.datasets[wildcards.dataset].image_dir)


def data_memory(factor, floor):
    """mem_mb of a job that loads its prepared data set (input ``dataset``): ``floor`` MB plus
    ``factor`` times the data set's uncompressed size (lso.resources); known once it exists.
    """
    return lambda wildcards, input: memory_mb(
        npz_megabytes(input.dataset), factor, floor
    )


def prepare_memory(wildcards, input):
    """mem_mb of preparing a data set: the images it will keep, three times over (decoded
    images, the stacked array, the compressed file's buffers), plus 2 GB."""
    spec = SETTINGS.datasets[wildcards.dataset]
    manifest = f"data/manifests/{wildcards.dataset}.tsv"
    listed = count_lines(manifest) if spec.image_dir else None
    return memory_mb(prepared_megabytes(spec.family, spec.n_images, listed), 3, 2000)


def feature_network(path):
    """A user's feature network as an input (when the config names one)."""
    return [path] if path else []


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


def experiment_face_reference(wildcards):
    """The scores of the training and smiling faces of the experiment's data set."""
    model = SETTINGS.models[EXPERIMENTS[wildcards.experiment].model]
    return f"results/predictors/reference/{model.dataset}.npz"


def run_files(experiment, name):
    return [
        f"results/opt/{experiment}/seed{seed}/{name}"
        for seed in EXPERIMENTS[experiment].seeds
    ]


def all_run_files(name, experiments=None):
    return [
        path
        for experiment in (EXPERIMENTS if experiments is None else experiments)
        for path in run_files(experiment, name)
    ]


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


def is_judged(experiment):
    """Whether the experiment's runs are judged: digits by the classifier, faces by the judge."""
    family = experiment_family(experiment)
    return bool(
        (CLASSIFIER and family == "digits") or (PREDICTOR and family == "faces")
    )


def evaluation_files(name, experiments=None):
    """Per-run evaluations of the judged ones among ``experiments`` (default: all)."""
    judged = [
        e for e in (EXPERIMENTS if experiments is None else experiments) if is_judged(e)
    ]
    return [path for experiment in judged for path in run_files(experiment, name)]


def run_folders(experiments):
    return [os.path.dirname(p) for e in experiments for p in run_files(e, "run.json")]


def faces_experiments():
    return [e for e in EXPERIMENTS if experiment_family(e) == "faces"]


def comparison_files(name):
    """Input function: one file of every run of the comparison's experiments (evaluations
    only where a judge looks at them)."""
    if name == "evaluation.json":
        return lambda wildcards: evaluation_files(
            name, comparison_experiments(wildcards)
        )
    return lambda wildcards: [
        p for e in comparison_experiments(wildcards) for p in run_files(e, name)
    ]


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
    outputs += [f"results/tables/paired/{c}.csv" for c in paired_comparisons()]
    outputs += [f"results/tables/comparisons/{c}.csv" for c in SETTINGS.comparisons]
    for experiment in EXPERIMENTS:
        folder = f"results/figures/experiments/{experiment}"
        outputs += [f"{folder}/best_images.png", f"{folder}/diagnostics.png"]
        if is_2d(experiment):
            outputs.append(f"{folder}/latent_snapshots.png")
        if experiment_family(experiment) == "faces":
            outputs.append(f"{folder}/headline.png")
        if experiment in gan_experiments():
            outputs.append(f"{folder}/discriminator_scores.png")
    outputs += [
        f"results/figures/models/{m}/{name}.png"
        for m in USED_MODELS
        for name in ("training", "samples")
    ]
    outputs += [
        f"results/figures/datasets/{d}/weight_distribution.png"
        for d in USED_DATASETS
        if SETTINGS.datasets[d].family == "digits"
    ]
    if PREDICTOR:
        outputs += [
            path
            for role in ("black_box", "judge")
            for path in (
                f"results/predictors/{role}/metrics.json",
                f"results/figures/predictors/{role}/reliability.png",
            )
        ]
        outputs += ["results/tables/predictor_robustness.csv"]
        if faces_models():
            outputs += [
                "results/tables/faces_models.csv",
                "results/tables/faces_agreement.csv",
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


def discriminator_scores_code(wildcards):
    """The discriminator-score figure's library files, with the experiment's model module."""
    kind = SETTINGS.models[EXPERIMENTS[wildcards.experiment].model].type
    return code("plot_discriminator_scores.py", MODELS.module(kind))


def evaluate_model_code(wildcards):
    """The model-evaluation script's library files, with the model's and the predictors'
    modules."""
    kind = SETTINGS.models[wildcards.model].type
    return code("evaluate_model.py", MODELS.module(kind), *PREDICTOR_MODULES)


def comparison_category(wildcards):
    """The report category of a comparison's figure and paired table: a faces comparison
    sits with the rest of the faces results."""
    experiments = SETTINGS.comparisons[wildcards.comparison].experiments
    if all(experiment_family(e) == "faces" for e in experiments):
        return "Faces"
    return "Optimisation"
