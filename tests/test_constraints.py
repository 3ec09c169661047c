"""Validity constraints: densities against scipy/scikit-learn, gradients, error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from lso.constraints.base import build_constraint, encode_dataset, encoder_means
from lso.constraints.gmm import gmm_fit, gmm_full
from lso.models.build import build_model
from lso.utils import InputError


def test_gmm_full_log_density_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    means, log_vars = rng.normal(size=(7, 3)), rng.normal(scale=0.3, size=(7, 3))
    z = rng.normal(size=(11, 3))
    constraint = gmm_full(torch.as_tensor(means), torch.as_tensor(log_vars), threshold=-5.0)
    expected = logsumexp(
        [
            multivariate_normal(m, np.diag(np.exp(lv))).logpdf(z)
            for m, lv in zip(means, log_vars, strict=True)
        ],
        axis=0,
    ) - np.log(7)
    assert np.allclose(constraint.log_density(torch.as_tensor(z)).numpy(), expected)


def test_gmm_fit_log_density_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    codes = np.concatenate([rng.normal(-2, 0.5, size=(100, 2)), rng.normal(2, 1.0, size=(100, 2))])
    constraint = gmm_fit(torch.as_tensor(codes), threshold=-4.0, n_components=3, seed=0)
    reference = GaussianMixture(
        3, covariance_type="full", max_iter=2000, tol=1e-3, random_state=0, reg_covar=1e-6
    ).fit(codes)
    z = rng.normal(scale=2, size=(50, 2))
    assert np.allclose(
        constraint.log_density(torch.as_tensor(z)).numpy(), reference.score_samples(z)
    )


@pytest.mark.parametrize("kind", ["full", "fit"])
def test_analytic_gradient_matches_finite_differences(kind: str) -> None:
    rng = np.random.default_rng(2)
    codes = torch.as_tensor(rng.normal(size=(40, 4)))
    constraint = (
        gmm_full(codes, torch.full_like(codes, -1.0), -5.0)
        if kind == "full"
        else gmm_fit(codes, -5.0, 2, seed=0)
    )
    z = torch.tensor(rng.normal(size=(1, 4)), requires_grad=True)
    constraint.log_density(z).sum().backward()
    eps = 1e-6
    numeric = []
    for i in range(4):
        step = torch.zeros(1, 4, dtype=torch.float64)
        step[0, i] = eps
        with torch.no_grad():
            up, down = constraint.log_density(z + step), constraint.log_density(z - step)
        numeric.append(float((up - down) / (2 * eps)))
    assert np.allclose(z.grad.numpy()[0], numeric, atol=1e-5)


def test_is_valid_applies_the_threshold() -> None:
    constraint = gmm_full(torch.zeros(1, 2), torch.zeros(1, 2), threshold=-3.0)
    z = torch.tensor([[0.0, 0.0], [3.0, 3.0]])
    # log N(0; 0, I) = -log(2 pi) = -1.84 ; at (3, 3): -1.84 - 9
    assert constraint.is_valid(z).tolist() == [True, False]


def test_build_constraint_encodes_the_data(trained_vae, digit_data) -> None:
    images = torch.as_tensor(digit_data["train_images"])
    full = build_constraint("gmm_full", trained_vae, images, threshold=-4.0)
    fit = build_constraint("gmm_fit", trained_vae, images, threshold=-4.0, n_components=3)
    assert full.means.shape == (len(images), 2)
    assert fit.means.shape == (3, 2)
    assert build_constraint("none", trained_vae, images) is None
    # the data's own encodings are mostly valid under their own density
    assert full.is_valid(full.means).float().mean() > 0.5


def test_constraint_errors_name_the_key() -> None:
    rae = build_model("rae", {"latent_dim": 2})
    images = torch.zeros(4, 28, 28)
    with pytest.raises(InputError, match="gmm_full"):
        build_constraint("gmm_full", rae, images, threshold=-4.0)
    with pytest.raises(InputError, match="threshold"):
        build_constraint("gmm_fit", rae, images, n_components=2)
    with pytest.raises(InputError, match="threshold and quantile"):
        build_constraint(
            "gmm_full", build_model("vae", {"latent_dim": 2}), images, threshold=-4.0, quantile=0.1
        )
    with pytest.raises(InputError, match="n_components"):
        build_constraint("gmm_fit", rae, images, threshold=-4.0, n_components=10)
    with pytest.raises(InputError, match="constraint.type"):
        build_constraint("kde", rae, images, threshold=0.5)
    with pytest.raises(InputError, match="'discriminator' needs an sn_gan"):
        build_constraint("discriminator", rae, images, quantile=0.5, n_samples=10)


def drifting_codes(seed: int) -> torch.Tensor:
    """Three clusters in 4-D whose centres move a little with ``seed``: consecutive rounds."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-3.0, 0, 0, 0], [3.0, 0, 0, 0], [0, 3.0, 0, 0]]) + 0.05 * seed
    return torch.as_tensor(np.concatenate([rng.normal(c, 0.7, size=(300, 4)) for c in centres]))


def mean_log_likelihood(constraint, codes: torch.Tensor) -> float:
    return float(constraint.log_density(codes).mean())


def test_warm_started_gmm_fit_is_as_likely_as_a_cold_fit() -> None:
    previous = gmm_fit(drifting_codes(0), threshold=-8.0, n_components=3, seed=0)
    codes = drifting_codes(1)
    cold = gmm_fit(codes, threshold=-8.0, n_components=3, seed=1)
    warm = gmm_fit(codes, threshold=-8.0, n_components=3, seed=1, warm_start=previous.fit_state)
    assert mean_log_likelihood(warm, codes) >= mean_log_likelihood(cold, codes) - 1e-3
    assert set(previous.fit_state) == {"means", "weights", "precisions"}
    precisions = previous.fit_state["precisions"]
    assert torch.allclose(precisions, precisions.mT) and bool(
        (torch.linalg.eigvalsh(precisions) > 0).all()
    )


def test_a_warm_state_of_another_shape_is_ignored() -> None:
    codes = drifting_codes(1)
    other = gmm_fit(codes, threshold=-8.0, n_components=2, seed=0).fit_state
    cold = gmm_fit(codes, threshold=-8.0, n_components=3, seed=1)
    ignored = gmm_fit(codes, threshold=-8.0, n_components=3, seed=1, warm_start=other)
    assert torch.equal(cold.means, ignored.means)


def test_build_constraint_keeps_the_encoding_for_the_optimiser(trained_vae, digit_data) -> None:
    images = torch.as_tensor(digit_data["train_images"])
    constraint = build_constraint(
        "gmm_fit", trained_vae, images, threshold=-8.0, n_components=2, seed=0
    )
    means, _ = encode_dataset(trained_vae, images)
    assert torch.equal(encoder_means(trained_vae, images, constraint), means)
    assert encoder_means(trained_vae, images, constraint) is constraint.fitted_to[1]
    copy = images.clone()  # equal but not the same tensor: encoded afresh
    assert encoder_means(trained_vae, copy, constraint) is not constraint.fitted_to[1]
    assert torch.equal(encoder_means(trained_vae, copy, None), means)


def test_samples_of_a_fitted_mixture_follow_it() -> None:
    """Draws from gmm_fit's mixture have the data's moments and its typical log density."""
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(-3, 0.5, (400, 3)), rng.normal(2, 1.5, (600, 3))])
    codes[:, 2] += codes[:, 0]  # correlated: needs the full covariance
    constraint = gmm_fit(torch.as_tensor(codes), threshold=-1e9, n_components=2, seed=0)
    draws = constraint.sample(20000, np.random.default_rng(1))
    assert draws.shape == (20000, 3)
    np.testing.assert_allclose(draws.mean(0), codes.mean(0), atol=0.1)
    np.testing.assert_allclose(np.cov(draws.T), np.cov(codes.T), atol=0.25)
    data_density = constraint.log_density(torch.as_tensor(codes)).median()
    draw_density = constraint.log_density(torch.as_tensor(draws)).median()
    assert float(draw_density) == pytest.approx(float(data_density), abs=0.2)
    again = constraint.sample(20000, np.random.default_rng(1))
    np.testing.assert_array_equal(again, draws)  # reproducible from the generator
