"""Validity constraints: densities against scipy/scikit-learn, gradients, error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from lso.constraints import build_constraint, gmm_fit, gmm_full
from lso.models import build_model
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
        build_constraint("gmm_fit", rae, images)
    with pytest.raises(InputError, match="n_components"):
        build_constraint("gmm_fit", rae, images, threshold=-4.0, n_components=10)
    with pytest.raises(InputError, match="constraint.type"):
        build_constraint("discriminator", rae, images, threshold=0.5)
