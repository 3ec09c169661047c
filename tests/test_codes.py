"""Search over categorical code grids: the tree surrogate's exploration bonus and the
pool + local-search optimiser, on problems whose answers are known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from botorch.models.kernels.categorical import CategoricalKernel

from lso.optimizers.code_search import optimise_codes, single_changes
from lso.surrogates.categorical_gp import HammingKernel
from lso.surrogates.trees import TreeEnsembleSurrogate

TARGET = np.array([3, 0, 4, 1, 2, 4])
K = 5


def matches(grids: np.ndarray) -> np.ndarray:
    """A toy objective with one known optimum: positions equal to TARGET, plus a bonus for
    the first two together (an interaction a one-position search must cross)."""
    grids = np.asarray(grids)
    hits = (grids == TARGET).astype(np.float64)
    return hits.sum(axis=1) + 2.0 * hits[:, 0] * hits[:, 1]


def test_single_changes_are_every_one_position_neighbour():
    grid = np.array([0, 1, 2])
    neighbours = single_changes(grid, 4)
    assert neighbours.shape == (3 * 3, 3)
    assert ((neighbours != grid).sum(axis=1) == 1).all()
    assert len({row.tobytes() for row in neighbours}) == 9


def test_the_code_optimiser_finds_the_known_optimum_and_skips_known_grids():
    rng = np.random.default_rng(0)
    data = rng.integers(K, size=(30, len(TARGET)))
    data = data[(data != TARGET).any(axis=1)]
    best = optimise_codes(matches, data, 3, K, rng, pool_size=200, n_starts=3)
    assert np.array_equal(best[0], TARGET)
    assert len({row.tobytes() for row in best}) == 3
    data_keys = {row.tobytes() for row in data}
    assert not any(row.tobytes() in data_keys for row in best)
    again = optimise_codes(
        matches, data, 1, K, rng, exclude={TARGET.tobytes()}, pool_size=200, n_starts=3
    )
    assert not np.array_equal(again[0], TARGET)


def test_the_local_search_matches_exhaustive_search_on_a_small_grid():
    grids = np.array(list(itertools.product(range(K), repeat=4)))
    objective = lambda g: matches(np.pad(g, ((0, 0), (0, 2)), constant_values=0))  # noqa: E731
    exhaustive = grids[np.argmax(objective(grids))]
    rng = np.random.default_rng(1)
    found = optimise_codes(objective, grids[:20], 1, K, rng, pool_size=50, n_starts=2)
    assert objective(found)[0] == objective(exhaustive[None])[0]


def test_the_tree_surrogate_bonus_is_zero_at_data_and_grows_with_hamming_distance():
    rng = np.random.default_rng(2)
    x = rng.integers(K, size=(60, len(TARGET)))
    surrogate = TreeEnsembleSurrogate(n_estimators=50, min_child_samples=5).fit(x, matches(x))
    assert np.all(surrogate.exploration_bonus(x) == 0)
    far = x[:1].copy()
    bonuses = []
    for position in range(3):  # change 1, 2, 3 positions of a grid (to a code it never has)
        far[0, position] = K
        nearest = min((far != row).sum() for row in x)
        bonuses.append((nearest, surrogate.exploration_bonus(far)[0]))
    assert [b for _, b in bonuses] == sorted(b for _, b in bonuses)
    for nearest, bonus in bonuses:
        assert bonus == pytest.approx(np.std(matches(x)) * nearest / len(TARGET))
    pure_mean = TreeEnsembleSurrogate(n_estimators=50, min_child_samples=5, kappa=0.0)
    pure_mean.fit(x, matches(x))
    assert np.allclose(pure_mean.acquisition(far), pure_mean.predict(far))


def test_the_tree_surrogate_learns_the_toy_objective():
    rng = np.random.default_rng(3)
    x = rng.integers(K, size=(400, len(TARGET)))
    surrogate = TreeEnsembleSurrogate(n_estimators=200, min_child_samples=5).fit(x, matches(x))
    test = rng.integers(K, size=(200, len(TARGET)))
    correlation = np.corrcoef(surrogate.predict(test), matches(test))[0, 1]
    assert correlation > 0.8


@pytest.mark.parametrize("ard", [True, False])
def test_the_fast_hamming_kernel_equals_botorchs_categorical_kernel(ard):
    """Same values and lengthscale gradients on plain, batched (acquisition) and diagonal calls."""
    generator = torch.Generator().manual_seed(0)
    x1 = torch.randint(0, 5, (7, 6), generator=generator).double()
    x2 = torch.randint(0, 5, (4, 6), generator=generator).double()
    shared = (x1[:, None, :], x2.expand(7, 4, 6))  # log EI's batches: one training set
    own = (x1[:, None, :], torch.randint(0, 5, (7, 4, 6), generator=generator).double())
    lengthscale = torch.rand(1, 6 if ard else 1, generator=generator).double() + 0.2
    kernels = [
        cls(ard_num_dims=6 if ard else None).double() for cls in (CategoricalKernel, HammingKernel)
    ]
    for kernel in kernels:
        kernel.lengthscale = lengthscale
    for inputs, diag in [
        ((x1, x2), False),
        (shared, False),
        (own, False),
        ((x1, x1.flip(0)), True),
    ]:
        reference, fast = (kernel(*inputs, diag=diag).to_dense() for kernel in kernels)
        torch.testing.assert_close(fast, reference, rtol=1e-12, atol=1e-12)
        gradients = [
            torch.autograd.grad(out.sum(), kernel.raw_lengthscale)[0]
            for out, kernel in zip((reference, fast), kernels, strict=True)
        ]
        torch.testing.assert_close(gradients[1], gradients[0], rtol=1e-10, atol=1e-12)
