"""The pipeline's settings as small typed objects: one per thing a job is given.

:func:`lso.config.parse.parse_config` builds them once, before any job, from the validated
config. Each rule then passes each job only the object it uses (a run's :class:`RunSettings`,
not the experiment's seeds; a BO run's :class:`CondgenSearchSettings`, not the figure
settings). The objects are ``NamedTuple``s: immutable, picklable into a job, and tracked by
Snakemake's params trigger through their ``repr``, which lists the fields in a fixed order, so
reordering keys in a config file is not a change, while changing a value reruns exactly the
jobs that receive it.

Standard library only: the Snakefile builds them while it parses the workflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from lso.tasks.registry import family_of

PREDICTORS = ("off", "classifier", "regressor")
# Models the pipeline trains itself (results/models/<name>/), beside the configured ones.
RESERVED_MODEL_NAMES = ("classifier", *(f"joint_{predictor}" for predictor in PREDICTORS))


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
        return family_of(self.source)


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
        """The keyword arguments of :func:`lso.core.weighting.compute_weights` for this type."""
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

    def options(self) -> dict[str, Any]:
        """Keyword options of this type's fit (:func:`lso.constraints.base.build_constraint`)."""
        return _options_of_type(self)


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

    type: str  # grid | local | sampling | stronger_nas | codes | turbo
    batch_size: int | None  # q, points per call; None proposes a whole iteration at once
    bounds: float
    grid_len: int | None  # grid
    surrogate: SurrogateSettings | None  # local, sampling
    acquisition: str | None  # ei | log_ei; turbo: thompson | log_ei
    incumbent: str | None
    n_best: int | None
    n_random: int | None
    n_candidates: int | None  # turbo: None is the tutorial's min(5000, max(2000, 200 d))
    candidate_distribution: str | None
    dedup_distance: float | None
    generated_samples: int | None
    n_mutations: int | None  # codes
    n_starts: int | None  # local
    method: str | None
    maxiter: int | None
    batch: bool | None
    length_init: float | None  # turbo: the trust region
    length_min: float | None
    length_max: float | None
    success_tolerance: int | None
    failure_tolerance: int | None  # None is the tutorial's ceil(max(4/q, d/q))
    improvement_threshold: float | None
    perturbation_dims: float | None
    exact_max: int | None  # turbo: its GPs
    lengthscale_min: float | None
    lengthscale_max: float | None
    noise_min: float | None
    noise_max: float | None
    n_inducing: int | None
    initial_epochs: int | None
    update_epochs: int | None
    update_batch_size: int | None
    update_lr: float | None
    max_grad_norm: float | None
    joint_update: bool | None  # turbo: LOL-BO
    e2e_freq: int | None
    top_k: int | None
    joint_epochs: int | None
    joint_lr: float | None
    joint_batch_size: int | None


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
    smoke: bool = False  # a smoke run's shrunk settings (config section smoke), in run.json

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
    """Experiments drawn on one figure, and the one the others are paired with (or None)."""

    title: str
    experiments: tuple[str, ...]
    labels: dict[str, str]
    baseline: str | None


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


class AugmentationSettings(NamedTuple):
    """Random degradations of training faces (:class:`lso.tasks.faces.augment.Augmentation`)."""

    probability: float
    blur_sigma: float
    noise_std: float
    gain: float
    offset: float
    contrast: float
    shift: float
    scale: float


class PredictorSettings(NamedTuple):
    """Training of one faces attribute predictor: the black box or the judge.

    They learn from the two halves of the labelled faces; the judge should also differ in
    architecture, seed and augmentation draws (its errors then share as little as possible
    with the black box's).
    """

    architecture: str  # a model type: resnet_classifier | conv_classifier
    widths: tuple[int, ...]
    blocks: tuple[int, ...] | None  # residual blocks per stage (resnet_classifier)
    input_size: int  # faces are resized (bicubic, antialiased) to this side; the thesis: 128
    epochs: float
    batch_size: int
    lr: float
    seed: int
    augmentation: AugmentationSettings | None


class PredictorsSettings(NamedTuple):
    """The faces data set both predictors learn from, and each one's settings."""

    dataset: str
    black_box: PredictorSettings
    judge: PredictorSettings

    def role(self, name: str) -> PredictorSettings:
        """The settings of ``black_box`` or ``judge``."""
        return {"black_box": self.black_box, "judge": self.judge}[name]


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
    precision: str  # fp32 | bf16 (autocast on CUDA devices that have it)
    smoke: bool  # every size shrunk by the config's smoke section
    datasets: dict[str, DatasetSettings]
    models: dict[str, ModelSettings]
    experiments: dict[str, ExperimentSettings]
    comparisons: dict[str, ComparisonSettings]
    plots: PlotSettings
    classifier: ClassifierSettings | None
    validity: ValiditySettings
    condgen: CondgenSettings | None
    predictor: PredictorsSettings | None
    face_evaluation: FaceEvaluationSettings

    @property
    def uses_gpu(self) -> bool:
        """Whether jobs that train or decode in bulk should ask for a GPU."""
        return self.device != "cpu"
