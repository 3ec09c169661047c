"""GP and DNGO surrogates on synthetic functions: accuracy, uncertainty, warm starts, robustness."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch
from botorch.acquisition import LogExpectedImprovement
from gpytorch.mlls import ExactMarginalLogLikelihood
from linear_operator.utils.errors import NotPSDError

from lso.config.parse import surrogate_from
from lso.surrogates.build import build_surrogate, select_training_set
from lso.surrogates.dngo import DNGOSurrogate
from lso.surrogates.gp import GPSurrogate
from lso.surrogates.gp_numerics import ExactModel
from lso.utils import InputError

pytestmark = pytest.mark.usefixtures("single_thread")


def target(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 - 0.3 * x[:, 2]


def dataset(n: int, seed: int = 0, noise: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, (n, 3))
    return x, target(x) + noise * rng.standard_normal(n)


def held_out_rmse(surrogate, seed: int = 99) -> float:
    x, _ = dataset(300, seed)
    mean, _ = surrogate.predict(x)
    return float(np.sqrt(np.mean((mean.numpy() - target(x)) ** 2)))


def assert_uncertainty_is_sensible(surrogate) -> None:
    near, _ = dataset(50, seed=5)
    far = np.full((5, 3), 6.0)
    _, var_near = surrogate.predict(near)
    _, var_far = surrogate.predict(far)
    assert torch.all(var_near > 0) and torch.all(var_far > 0)
    assert var_far.min() > 5 * var_near.median()


def test_exact_gp_recovers_a_known_function() -> None:
    gp = GPSurrogate(seed=0).fit(*dataset(150))
    assert not gp.is_sparse
    assert held_out_rmse(gp) < 0.1
    assert_uncertainty_is_sensible(gp)
    assert 0 < gp.noise_variance < 0.01


def test_sparse_gp_is_used_above_exact_max_and_recovers_the_function() -> None:
    gp = GPSurrogate(exact_max=100, n_inducing=60, sparse_max_iter=30, seed=0)
    gp.fit(*dataset(400))
    assert gp.is_sparse and gp.fit_info["sparse"] == 1.0
    assert gp.get_warm_state()["inducing_points"].shape == (60, 3)
    assert held_out_rmse(gp) < 0.15
    assert_uncertainty_is_sensible(gp)


def test_collapsed_bound_is_the_exact_evidence_when_inducing_points_are_the_data() -> None:
    """With U = X the Nyström approximation is exact and the trace term vanishes."""
    x, y = (torch.as_tensor(a) for a in dataset(40))
    gp = GPSurrogate(seed=0)
    gp._build_modules(3, noise_floor=1e-4)
    gp.covar.base_kernel.lengthscale = torch.tensor([0.7, 1.3, 2.0])
    gp.likelihood.noise = 0.05
    model = ExactModel(x, y, gp.mean, gp.covar, gp.likelihood).train()
    exact = ExactMarginalLogLikelihood(gp.likelihood, model)(model(x), y)
    bound = gp._collapsed_bound(x, y, x)
    assert bound.item() == pytest.approx(exact.item(), rel=1e-5)
    gradients = torch.autograd.grad(bound, gp.covar.base_kernel.raw_lengthscale)
    expected = torch.autograd.grad(exact, gp.covar.base_kernel.raw_lengthscale)
    assert torch.allclose(gradients[0], expected[0], rtol=1e-4)


def test_dngo_recovers_a_known_function() -> None:
    dngo = DNGOSurrogate(epochs=150, lr=3e-3, batch_size=32, seed=0).fit(*dataset(300))
    assert held_out_rmse(dngo) < 0.2
    assert_uncertainty_is_sensible(dngo)
    assert dngo.noise_variance > 0


def test_warm_start_converges_in_fewer_iterations_to_a_similar_fit() -> None:
    x, y = dataset(150)
    cold = GPSurrogate(max_iter=100, seed=0).fit(x, y)
    more_x, more_y = dataset(5, seed=1)
    x, y = np.concatenate([x, more_x]), np.concatenate([y, more_y])
    again_cold = GPSurrogate(max_iter=100, seed=0).fit(x, y)
    warm = GPSurrogate(max_iter=100, seed=0).fit(x, y, warm_start=cold.get_warm_state())
    assert warm.fit_info["iterations"] < again_cold.fit_info["iterations"]
    probe, _ = dataset(100, seed=7)
    assert torch.allclose(warm.predict(probe)[0], again_cold.predict(probe)[0], atol=0.02)


def test_sparse_warm_start_keeps_the_inducing_points_near_the_previous_ones() -> None:
    x, y = dataset(300)
    cold = GPSurrogate(exact_max=100, n_inducing=40, seed=0).fit(x, y)
    state = cold.get_warm_state()
    warm = GPSurrogate(exact_max=100, n_inducing=40, seed=1).fit(x, y, warm_start=state)
    moved = (warm.get_warm_state()["inducing_points"] - state["inducing_points"]).norm(dim=1)
    assert moved.median() < 0.2


@pytest.mark.parametrize(
    "surrogate",
    [
        GPSurrogate(seed=0),
        GPSurrogate(exact_max=10, n_inducing=5, seed=0),
        DNGOSurrogate(epochs=2, seed=0),
    ],
    ids=["exact", "sparse", "dngo"],
)
def test_singular_training_sets_do_not_crash(surrogate) -> None:
    x = np.ones((40, 3))
    surrogate.fit(x, np.full(40, 2.5))
    mean, var = surrogate.predict(np.vstack([x[:2], np.zeros((2, 3))]))
    assert torch.allclose(mean[:2], torch.full((2,), 2.5, dtype=torch.float64), atol=1e-3)
    assert torch.all(torch.isfinite(var)) and torch.all(var > 0)
    x_dup, y_dup = dataset(20)
    surrogate.fit(np.repeat(x_dup, 3, axis=0), np.repeat(y_dup, 3))
    assert torch.all(surrogate.predict(x_dup)[1] > 0)


def test_cholesky_failures_are_retried_with_more_jitter(monkeypatch) -> None:
    original = GPSurrogate._fit_hyperparameters
    calls = []

    def failing_first(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise NotPSDError("simulated")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GPSurrogate, "_fit_hyperparameters", failing_first)
    gp = GPSurrogate(seed=0).fit(*dataset(60))
    assert len(calls) == 2 and gp.fit_info["jitter"] > 1e-8
    assert held_out_rmse(gp) < 0.3


def test_posterior_is_a_botorch_posterior_consistent_with_predict() -> None:
    x, y = dataset(80)
    for surrogate in (GPSurrogate(seed=0), DNGOSurrogate(epochs=5, seed=0)):
        surrogate.fit(x, y)
        probe = torch.as_tensor(dataset(6, seed=3)[0])
        posterior = surrogate.posterior(probe.reshape(2, 3, 3))
        assert posterior.mean.shape == (2, 3, 1)
        mean, var = surrogate.predict(probe)
        assert torch.allclose(posterior.mean.reshape(-1), mean)
        assert torch.allclose(posterior.variance.reshape(-1), var, rtol=1e-5, atol=1e-8)
        noisy = surrogate.posterior(probe[:, None], observation_noise=True).variance.reshape(-1)
        assert torch.allclose(noisy, var + surrogate.noise_variance, rtol=1e-5)
        z = probe[:, None].clone().requires_grad_(True)
        LogExpectedImprovement(surrogate, best_f=float(y.max()))(z).sum().backward()
        assert torch.all(torch.isfinite(z.grad)) and z.grad.abs().sum() > 0


def test_predict_batches_large_inputs() -> None:
    gp = GPSurrogate(predict_batch_size=7, seed=0).fit(*dataset(40))
    probe = dataset(30, seed=4)[0]
    whole = GPSurrogate(predict_batch_size=4096, seed=0).fit(*dataset(40)).predict(probe)
    for part, full in zip(gp.predict(probe), whole, strict=True):
        assert torch.allclose(part, full)


def test_warm_state_survives_a_weights_only_round_trip() -> None:
    for surrogate in (GPSurrogate(exact_max=50, n_inducing=10, seed=0), DNGOSurrogate(epochs=1)):
        state = surrogate.fit(*dataset(60)).get_warm_state()
        buffer = io.BytesIO()
        torch.save(state, buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=True)
        assert loaded.keys() == state.keys()


def test_select_training_set_takes_the_best_and_random_others() -> None:
    x, y = np.arange(20.0)[:, None], np.arange(20.0)[::-1].copy()
    same_x, same_y = select_training_set(x, y, None, None, np.random.default_rng(0))
    assert same_x is x and same_y is y
    sub_x, sub_y = select_training_set(x, y, 3, 4, np.random.default_rng(0))
    assert len(sub_y) == 7 and {19.0, 18.0, 17.0} <= set(sub_y)
    assert np.array_equal(sub_y, 19.0 - sub_x[:, 0])
    only_best = select_training_set(x, y, 5, None, np.random.default_rng(0))[1]
    assert sorted(only_best) == [15.0, 16.0, 17.0, 18.0, 19.0]
    with pytest.raises(InputError, match="optimizer.n_random"):
        select_training_set(x, y, 1, -1, np.random.default_rng(0))


def test_build_surrogate_builds_the_chosen_type_with_schema_defaults() -> None:
    gp = build_surrogate(surrogate_from({"type": "gp", "n_inducing": 20}))
    assert isinstance(gp, GPSurrogate)
    assert isinstance(build_surrogate(surrogate_from({"type": "dngo", "epochs": 3})), DNGOSurrogate)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "forest"}, "type: 'forest' is not one of"),
        ({"type": "gp", "epochs": 3}, "'epochs' was unexpected"),
        ({"type": "dngo", "kernel": "rbf"}, "'kernel' was unexpected"),
        ({"type": "gp", "n_inducing": 0}, "n_inducing: 0 is less than the minimum of 1"),
        ({"type": "gp", "kernel": "linear"}, "kernel"),
        ({"type": "dngo", "lr": 0}, "lr: 0 is less than or equal to the minimum of 0"),
    ],
)
def test_surrogate_settings_reject_foreign_keys_and_bad_values(spec, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        surrogate_from(spec)


def test_bad_training_data_is_rejected() -> None:
    with pytest.raises(InputError, match="NaN"):
        GPSurrogate().fit(np.array([[0.0], [np.nan]]), np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="X \\(n, d\\)"):
        GPSurrogate().fit(np.zeros((3, 2)), np.zeros(4))


def test_written_out_rbf_kernel_equals_gpytorchs() -> None:
    x, y = dataset(1200)
    surrogate = GPSurrogate(exact_max=100, n_inducing=30, seed=0).fit(x, y)
    assert surrogate.is_sparse
    a = surrogate._scale_inputs(torch.as_tensor(x[:300]))
    b = surrogate._predictor.anchors
    assert torch.allclose(surrogate._kernel(a, b), surrogate.covar(a, b).to_dense(), atol=1e-12)
