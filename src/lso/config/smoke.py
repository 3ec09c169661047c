"""The smoke overlay: any config, every size shrunk, every kind of thing it runs kept.

A researcher's real run (``configs/thesis.yaml`` on CelebA-Dialog and full MNIST) takes GPU
days; a typo in a path, a data layout the readers do not expect or a rule that fails on the
thesis's model types would show after hours. ``smoke:`` (``configs/smoke.yaml``) makes the
same DAG small enough for a CPU: ``parse_config`` calls :func:`shrink` on the validated
config (every default filled), so the caps apply to values the config left to the schema too,
and validates the result again.

Every cap is ``min(value, cap)``: nothing grows, and nothing changes kind. Model types,
optimiser types, surrogates, constraint types, objectives, weightings, data sources and paths
stay; latent sizes stay (they are the shape of the search space, and cheap); ``.inf`` stays
``.inf``. The one value that is not a size, a GMM constraint's threshold, is replaced by
``gmm_threshold`` (see the schema): it is a property of one trained latent space, which a
one-epoch model of a sixteenth of the width does not have.

Standard library only: the Snakefile calls this while it parses the workflow.
"""

from __future__ import annotations

import math
from typing import Any

# Model hyperparameters that are network widths, with the smallest value each may take
# (None: the smoke section's min_width) and the multiple it must stay (sn_gan: 16).
WIDTH_HPARAMS = {
    "widths": (None, 1),
    "embedding_dim": (None, 1),
    "generator_width": (16, 16),
    "discriminator_width": (16, 16),
}


def shrink(spec: dict[str, Any], smoke: dict[str, Any]) -> dict[str, Any]:
    """A copy of the validated config ``spec`` with every size capped by ``smoke``."""
    spec = _unshared(spec)
    for dataset in spec["datasets"].values():
        _cap(dataset, "n_images", smoke["n_images"], none_means_all=True)
    for model in spec["models"].values():
        _shrink_model(model, smoke)
    for experiment in spec["experiments"].values():
        _shrink_experiment(experiment, smoke)
    _shrink_trainer(spec.get("classifier"), smoke)
    for role in ("black_box", "judge"):  # each role holds the shared keys by now
        if spec.get("predictor") is not None:
            _shrink_predictor(spec["predictor"][role], smoke)
    if spec.get("condgen") is not None:
        _shrink_condgen(spec["condgen"], smoke)
    _cap(spec.get("face_evaluation") or {}, "n_best", smoke["budget"])
    return spec


def _unshared(value: Any) -> Any:
    """A deep copy in which no two places share an object: YAML anchors (``<<: *thesis_sngan``)
    make two models share one ``hparams`` mapping, and a width must be divided once."""
    if isinstance(value, dict):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value


def _shrink_model(model: dict[str, Any], smoke: dict[str, Any]) -> None:
    _shrink_trainer(model, smoke)
    hparams = model["hparams"]
    for key, (smallest, multiple) in WIDTH_HPARAMS.items():
        if key in hparams:
            floor = smoke["min_width"] if smallest is None else smallest
            hparams[key] = _divided(hparams[key], smoke, floor, multiple)
    _cap(hparams, "n_residual", smoke["depth"])


def _shrink_predictor(predictor: dict[str, Any], smoke: dict[str, Any]) -> None:
    _shrink_trainer(predictor, smoke)
    predictor["widths"] = _divided(predictor["widths"], smoke, smoke["min_width"], 1)
    if "blocks" in predictor:
        predictor["blocks"] = [min(b, smoke["depth"]) for b in predictor["blocks"]]
    _cap(predictor, "input_size", smoke["input_size"])


def _shrink_trainer(section: dict[str, Any] | None, smoke: dict[str, Any]) -> None:
    """Epochs and batch size of a pretraining (a model, the predictors, the classifier)."""
    if section is not None:
        _cap(section, "epochs", smoke["epochs"])
        _cap(section, "batch_size", smoke["batch_size"])


def _shrink_experiment(experiment: dict[str, Any], smoke: dict[str, Any]) -> None:
    _cap(experiment, "budget", smoke["budget"])
    _cap(experiment, "retrain_every", smoke["retrain_every"])  # .inf stays .inf
    _cap(experiment, "retrain_epochs", smoke["retrain_epochs"])
    _cap(experiment, "initial_retrain_epochs", smoke["retrain_epochs"])
    _cap(experiment, "batch_size", smoke["batch_size"])
    _cap(experiment, "snapshot_grid_len", smoke["grid_len"])
    experiment["seeds"] = experiment["seeds"][: smoke["seeds"]]
    optimizer = experiment["optimizer"]
    _cap(optimizer, "n_candidates", smoke["n_candidates"])
    _cap(optimizer, "generated_samples", smoke["generated_samples"])
    for key in ("n_best", "n_random"):
        _cap(optimizer, key, smoke["surrogate_points"])
    for key in ("n_starts", "maxiter"):
        _cap(optimizer, key, smoke["search_steps"])
    _cap(optimizer, "grid_len", smoke["grid_len"])
    surrogate = optimizer.get("surrogate") or {}
    for key in ("epochs", "max_iter", "sparse_max_iter", "n_estimators"):
        _cap(surrogate, key, smoke["surrogate_steps"])
    _cap(surrogate, "n_inducing", smoke["n_inducing"])
    _cap(surrogate, "prefit_size", max(2, smoke["n_inducing"]))
    constraint = experiment["constraint"]
    _cap(constraint, "n_samples", smoke["constraint_samples"])
    if "threshold" in constraint and smoke["gmm_threshold"] is not None:
        constraint["threshold"] = smoke["gmm_threshold"]


def _shrink_condgen(condgen: dict[str, Any], smoke: dict[str, Any]) -> None:
    _shrink_trainer(condgen, smoke)
    condgen["seeds"] = condgen["seeds"][: smoke["seeds"]]
    condgen["targets"] = condgen["targets"][: smoke["seeds"]]
    if condgen["plot_target"] not in condgen["targets"]:
        condgen["plot_target"] = condgen["targets"][0]
    _cap(condgen, "n_iterations", smoke["budget"])
    _cap(condgen, "landscape_grid_len", smoke["grid_len"])


def _cap(section: dict[str, Any], key: str, limit: float, none_means_all: bool = False) -> None:
    """``section[key] = min(section[key], limit)`` where the key is set (None: unbounded when
    ``none_means_all``, else left alone; ``.inf`` stays); an integer stays an integer."""
    if key not in section:
        return
    value = section[key]
    if value is None:
        if none_means_all:
            section[key] = limit
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return  # .inf (never retrain) stays .inf
    if value > limit:
        whole = isinstance(value, int) and float(limit).is_integer()
        section[key] = int(limit) if whole else limit


def _divided(
    widths: int | list[int], smoke: dict[str, Any], floor: int, multiple: int
) -> int | list[int]:
    """Widths divided by ``width_divisor``, at least ``floor``, a multiple of ``multiple``;
    never larger than they were."""
    if isinstance(widths, list):
        return [_divided(w, smoke, floor, multiple) for w in widths]
    shrunk = max(floor, widths // smoke["width_divisor"] // multiple * multiple)
    return min(widths, shrunk)
