"""BO latent optimisers on a toy bar decoder: constraints, gradients, de-duplication, resumes."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
import torch
from scipy.optimize import OptimizeResult

from lso.config.parse import optimizer_from, run_settings_from
from lso.constraints.base import build_constraint, encode_dataset
from lso.constraints.gmm import gmm_fit, gmm_full
from lso.core.loop import WeightedRetrainingRun, load_state
from lso.models.base import BernoulliImageModel
from lso.optimizers import local as local_search
from lso.optimizers.base import SearchContext, build_optimizer, image_keys
from lso.optimizers.bayesopt import SamplingOptimizer
from lso.optimizers.grid import GridOptimizer
from lso.optimizers.local import (
    MultiStartOptimizer,
    density_constraint_functions,
    negated_acquisition,
)
from lso.tasks.digits.objective import thickness
from lso.utils import InputError

SMALL = {"n_candidates": 3000, "surrogate": {"type": "gp", "max_iter": 30}}


def local(**options) -> MultiStartOptimizer:
    """A multi-start optimiser with the schema's defaults for everything not given."""
    return MultiStartOptimizer(optimizer_from({"type": "local", **SMALL, **options}))


def sampling(**options) -> SamplingOptimizer:
    return SamplingOptimizer(optimizer_from({"type": "sampling", **SMALL, **options}))


pytestmark = pytest.mark.usefixtures("single_thread")


class BarModel(BernoulliImageModel):
    image_shape = (28, 28)
    """z1 sets the width of a vertical bar and the sign of z2 one corner pixel.

    ``encode`` inverts ``decode`` (zeros in the other coordinates), so the surrogate sees a
    clean relation: thickness grows with z1, and the best points lie on the constraint's edge.
    """

    kind = "toy"

    def __init__(self, latent_dim: int = 2) -> None:
        super().__init__(latent_dim=latent_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = x.new_zeros(len(x), self.latent_dim)
        z[:, 0] = x[:, 14, :].sum(-1) / 4 - 3
        z[:, 1] = x[:, 0, 0] * 2 - 1
        return z, torch.full_like(z, math.log(0.25))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        width = torch.clamp(((z[:, 0] + 3) * 4).round(), 0, 28)
        columns = torch.arange(28, dtype=z.dtype, device=z.device)
        image = (columns[None, :] < width[:, None]).to(z.dtype)[:, None, :].repeat(1, 28, 1)
        image[:, 0, 0] = (z[:, 1] > 0).to(z.dtype)
        return (image * 20 - 10)[:, None]


def setting(d: int = 2, seed: int = 0, threshold: float | None = -4.0):
    """A toy model, 20 data images (bars up to 12 px wide) and a search context."""
    model = BarModel(d)
    grid = np.stack(np.meshgrid(np.linspace(-3, 0, 10), [-1, 1], indexing="ij"), -1)
    codes = np.concatenate([grid.reshape(-1, 2), np.zeros((20, d - 2))], axis=1)
    images = (model.decode(torch.as_tensor(codes, dtype=torch.float32)) > 0.5).float()
    means, log_vars = encode_dataset(model, images)
    constraint = None if threshold is None else gmm_full(means, log_vars, threshold)
    context = SearchContext(
        objective=thickness,
        constraint=constraint,
        known=set(image_keys(images.numpy())),
        device=torch.device("cpu"),
        data_images=images,
        data_scores=thickness(images.numpy()),
        seed=seed,
    )
    return model, context


def central_difference(function, z: np.ndarray, step: float = 1e-5) -> np.ndarray:
    steps = step * np.eye(len(z))
    return np.array([(function(z + h) - function(z - h)) / (2 * step) for h in steps])


def assert_valid(proposal, context: SearchContext) -> None:
    keys = image_keys(proposal.images)
    assert len(set(keys)) == len(keys) and not set(keys) & context.known
    if context.constraint is not None:
        z = torch.as_tensor(proposal.latents)
        recomputed = context.constraint.log_density(z).numpy()
        assert np.all(recomputed >= context.constraint.threshold)
        assert np.allclose(recomputed, proposal.log_density)


@pytest.mark.parametrize("seed", [0, 1])
def test_constrained_multistart_never_violates_the_constraint_in_2d(seed: int) -> None:
    model, context = setting(seed=seed)
    proposal = local().propose(model, 5, context)
    assert len(proposal.latents) == 5
    assert_valid(proposal, context)
    assert proposal.oracle_evaluations == 0
    # the optimum is the widest bar the constraint allows, beyond the data's widest
    assert thickness(proposal.images).max() > context.data_scores.max()


def test_constrained_multistart_never_violates_the_constraint_in_16d() -> None:
    model, context = setting(d=16, threshold=-30.0)
    optimizer = local(candidate_distribution="normal", n_starts=4, maxiter=30)
    proposal = optimizer.propose(model, 4, context)
    assert proposal.diagnostics["n_candidates_valid"] > 0
    assert len(proposal.latents) == 4
    assert_valid(proposal, context)


def test_infeasible_slsqp_results_fall_back_to_their_feasible_start(monkeypatch) -> None:
    def reckless(fun, x0, **kwargs):
        return OptimizeResult(x=x0 + 50.0, success=True, nit=1)

    monkeypatch.setattr(local_search, "minimize", reckless)
    model, context = setting()
    proposal = local().propose(model, 5, context)
    assert len(proposal.latents) == 5
    assert_valid(proposal, context)
    assert np.all(np.abs(proposal.latents) <= 3.0)


def test_unconstrained_multistart_stays_in_the_box() -> None:
    model, context = setting(threshold=None)
    proposal = local(bounds=1.5).propose(model, 3, context)
    assert np.all(np.abs(proposal.latents) <= 1.5 + 1e-9)
    assert np.all(np.isnan(proposal.log_density))
    assert_valid(proposal, context)


def test_constraint_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    codes = torch.as_tensor(rng.normal(size=(30, 3)))
    for constraint in (
        gmm_full(codes, torch.as_tensor(rng.normal(-1, 0.2, (30, 3))), threshold=-3.0),
        gmm_fit(codes, threshold=-3.0, n_components=2, seed=0),
    ):
        fun, jac = density_constraint_functions(constraint, torch.device("cpu"), margin=0.1)
        for z in rng.normal(size=(4, 3)):
            assert np.allclose(jac(z), central_difference(fun, z), rtol=1e-5, atol=1e-8)
            expected = constraint.log_density(torch.as_tensor(z[None]))[0] - (-3.0) - 0.1
            assert fun(z) == pytest.approx(float(expected))


def test_acquisition_gradient_matches_finite_differences() -> None:
    model, context = setting()
    optimizer = local(acquisition="log_ei")
    fit = optimizer._fit(model, context, np.random.default_rng(0))
    objective = negated_acquisition(fit.acquisition, torch.device("cpu"))
    for z in np.random.default_rng(1).uniform([-3, -1], [0, 1], (3, 2)):
        _, gradient = objective(z)
        assert np.allclose(gradient, central_difference(lambda p: objective(p)[0], z), rtol=1e-4)


def test_sampling_returns_the_best_new_candidates_with_predictions() -> None:
    model, context = setting()
    proposal = sampling().propose(model, 4, context)
    assert len(proposal.latents) == 4
    assert_valid(proposal, context)
    assert proposal.predicted_mean.shape == proposal.predicted_var.shape == (4,)
    assert np.all(proposal.predicted_var > 0)
    assert set(proposal.diagnostics) >= {
        "surrogate_fit_seconds",
        "acquisition_seconds",
        "n_train",
        "n_candidates_valid",
    }
    assert proposal.diagnostics["n_train"] == 20


def test_returns_fewer_points_only_when_no_more_new_images_exist() -> None:
    model, context = setting()
    proposal = local(n_starts=2).propose(model, 60, context)
    assert 5 < len(proposal.latents) < 60
    assert_valid(proposal, context)


def test_batch_mode_proposes_feasible_distinct_points() -> None:
    model, context = setting()
    optimizer = local(batch=True, n_starts=3, maxiter=20)
    proposal = optimizer.propose(model, 3, context)
    assert len(proposal.latents) == 3
    assert_valid(proposal, context)


def test_state_dict_round_trip_reproduces_the_next_proposal() -> None:
    spec = {
        "type": "local",
        "n_candidates": 2000,
        "n_starts": 3,
        "surrogate": {"type": "gp", "exact_max": 10, "n_inducing": 8},
    }
    model, first_context = setting(seed=1)
    original = build_optimizer(optimizer_from(spec))
    assert original.state_dict() == {}
    original.propose(model, 3, first_context)
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    buffer.seek(0)
    resumed = build_optimizer(optimizer_from(spec))
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert "inducing_points" in resumed.state_dict()["surrogate"]
    _, next_context = setting(seed=2)
    expected = original.propose(model, 3, next_context)
    actual = resumed.propose(model, 3, next_context)
    assert np.array_equal(expected.latents, actual.latents)
    assert np.array_equal(expected.predicted_mean, actual.predicted_mean)


def test_dngo_surrogate_drives_the_optimiser() -> None:
    model, context = setting()
    surrogate = {"type": "dngo", "epochs": 20, "batch_size": 8}
    proposal = sampling(n_candidates=2000, surrogate=surrogate).propose(model, 3, context)
    assert len(proposal.latents) == 3
    assert_valid(proposal, context)


def test_build_optimizer_builds_the_chosen_type_with_schema_defaults() -> None:
    grid = build_optimizer(optimizer_from({"type": "grid", "bounds": 2, "grid_len": 7}))
    assert isinstance(grid, GridOptimizer) and grid.grid_len == 7
    local_optimizer = build_optimizer(optimizer_from({"type": "local", "n_starts": 3}))
    assert isinstance(local_optimizer, MultiStartOptimizer)
    assert local_optimizer.settings.n_starts == 3
    assert local_optimizer.settings.n_candidates == 100_000  # the schema's default
    assert isinstance(build_optimizer(optimizer_from({"type": "sampling"})), SamplingOptimizer)
    # YAML's 1.5e4 is JSON schema's integer 15000; the settings hold it as one
    assert optimizer_from({"type": "sampling", "n_candidates": 1.5e4}).n_candidates == 15000


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "annealing"}, "type: 'annealing' is not one of"),
        ({"type": "sampling", "n_starts": 3}, "'n_starts' was unexpected"),
        (
            {"type": "grid", "grid_len": 5, "surrogate": {"type": "gp"}},
            "'surrogate' was unexpected",
        ),
        ({"type": "local", "n_starts": 0}, "n_starts: 0 is less than the minimum of 1"),
        ({"type": "sampling", "n_candidates": 2.5}, "n_candidates: 2.5 is not of type 'integer'"),
        ({"type": "local", "candidate_distribution": "sobol"}, "candidate_distribution"),
        ({"type": "local", "incumbent": "percentile:200"}, "incumbent"),
        ({"type": "local", "surrogate": {"type": "forest"}}, "surrogate.type"),
        ({"type": "local", "surrogate": {"type": "gp", "epochs": 3}}, "'epochs' was unexpected"),
        ({"type": "local", "method": "Nelder-Mead"}, "method"),
    ],
)
def test_optimizer_settings_reject_foreign_keys_and_bad_values(spec, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        optimizer_from(spec)


def test_the_constraints_encoding_of_the_data_is_reused(monkeypatch) -> None:
    model, context = setting(d=4)
    context.constraint = build_constraint(
        "gmm_fit", model, context.data_images, threshold=-12.0, n_components=2
    )
    calls = []
    monkeypatch.setattr(
        "lso.constraints.base.encode_dataset",
        lambda *args: calls.append(args) or encode_dataset(*args),
    )
    local(n_starts=2, maxiter=20).propose(model, 2, context)
    assert calls == []


def test_a_resumed_gmm_fit_bo_run_makes_the_same_queries(
    trained_vae_state, trained_vae, digit_data, tmp_path
) -> None:
    """The GMM's and the GP's warm states travel with the resume state."""
    settings = run_settings_from(
        {
            "budget": 6,
            "retrain_every": 2,
            "retrain_epochs": 0.2,
            "initial_retrain_epochs": 0.2,
            "batch_size": 16,
            "lr": 1e-3,
            "weighting": {"type": "rank", "k": 1e-3},
            "constraint": {"type": "gmm_fit", "threshold": -6.0, "n_components": 3},
            "optimizer": {"type": "local", **SMALL, "n_starts": 2, "maxiter": 30},
        },
        latent_dim=2,
    )

    def queries(out, interrupt_at: int | None = None):
        trained_vae.load_state_dict(trained_vae_state)
        kwargs = {"seed": 3, "device": torch.device("cpu"), "fingerprint": "f"}
        run = WeightedRetrainingRun(
            trained_vae, digit_data, settings, thickness, state_path=out / "state.pt", **kwargs
        )
        if interrupt_at is None:
            run.run()
        else:
            with pytest.raises(KeyboardInterrupt):
                run.run(on_round_end=lambda n: n >= interrupt_at and throw(KeyboardInterrupt))
            assert load_state(out / "state.pt", "f").constraint_state
            return queries(out)
        return np.asarray(run.state.latents), [row["score"] for row in run.state.rows]

    expected = queries(tmp_path / "a")
    actual = queries(tmp_path / "b", interrupt_at=2)
    assert np.array_equal(expected[0], actual[0]) and expected[1] == actual[1]


def throw(error: type[BaseException]) -> None:
    raise error


def test_a_starved_constraint_draws_more_then_falls_back_and_says_so(caplog) -> None:
    """A threshold no candidate reaches must not end the run short of its budget: the
    optimiser draws more batches, then takes the rejected candidates nearest to the threshold,
    logs it and counts them."""
    model, context = setting(threshold=50.0)  # far above any log density of these codes
    with caplog.at_level("WARNING", logger="lso.optimizers.bayesopt"):
        proposal = sampling(candidate_distribution="normal", n_candidates=200).propose(
            model, 1, context
        )
    assert len(proposal.latents) == 1
    assert proposal.diagnostics["n_candidates_drawn"] == 800  # the first batch and 3 more
    assert proposal.diagnostics["n_candidates_valid"] == 0
    assert proposal.diagnostics["n_queries_below_threshold"] == 1
    assert (proposal.log_density < context.constraint.threshold).all()
    assert "nearest to its threshold" in caplog.text


def test_an_easy_constraint_draws_one_batch() -> None:
    model, context = setting(threshold=-50.0)
    proposal = sampling(candidate_distribution="normal", n_candidates=200).propose(
        model, 3, context
    )
    assert proposal.diagnostics["n_candidates_drawn"] == 200
    assert proposal.diagnostics["n_queries_below_threshold"] == 0
