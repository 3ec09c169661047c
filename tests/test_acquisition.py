"""Acquisition construction: incumbent parsing, EI/LogEI/qLogEI on a fitted surrogate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import (
    ExpectedImprovement,
    LogExpectedImprovement,
    qLogExpectedImprovement,
)

from lso.optimizers.acquisition import (
    incumbent_value,
    make_acquisition,
    make_batch_acquisition,
    parse_incumbent,
)
from lso.surrogates.gp import GPSurrogate
from lso.utils import InputError

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def fitted() -> tuple[GPSurrogate, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 2))
    y = np.sin(3 * x[:, 0]) + x[:, 1]
    return GPSurrogate(seed=0).fit(x, y), y


def near_the_best() -> torch.Tensor:
    """Points around the best region (x1 ≈ 0.5, x2 = 1), where EI is far from underflow."""
    return torch.tensor([[[0.5, 1.0]], [[0.6, 0.9]], [[0.4, 0.8]]], dtype=torch.float64)


def test_parse_incumbent() -> None:
    assert parse_incumbent("best") is None
    assert parse_incumbent("percentile:90") == 90.0
    assert parse_incumbent("percentile:12.5") == 12.5
    for bad in ("worst", "percentile:", "percentile:abc", "percentile:101", "quantile:90", ""):
        with pytest.raises(InputError, match="optimizer.incumbent"):
            parse_incumbent(bad)


def test_incumbent_value() -> None:
    y = np.arange(11.0)
    assert incumbent_value(y, "best") == 10.0
    assert incumbent_value(y, "percentile:90") == pytest.approx(np.percentile(y, 90))
    assert incumbent_value(torch.as_tensor(y), "percentile:0") == 0.0
    with pytest.raises(InputError, match="at least one"):
        incumbent_value(np.zeros(0), "best")


def test_make_acquisition_uses_the_incumbent(fitted) -> None:
    surrogate, y = fitted
    ei = make_acquisition("ei", surrogate, y, "percentile:90")
    assert isinstance(ei, ExpectedImprovement)
    assert float(ei.best_f) == pytest.approx(np.percentile(y, 90))
    log_ei = make_acquisition("log_ei", surrogate, y, "best")
    assert isinstance(log_ei, LogExpectedImprovement)
    assert float(log_ei.best_f) == pytest.approx(y.max())
    z = near_the_best()
    assert torch.allclose(log_ei(z), make_acquisition("ei", surrogate, y, "best")(z).log())
    with pytest.raises(InputError, match="optimizer.acquisition"):
        make_acquisition("ucb", surrogate, y)


def test_batch_acquisition_is_deterministic_qlogei(fitted) -> None:
    surrogate, y = fitted
    acquisition = make_batch_acquisition(surrogate, y, "percentile:90", seed=3)
    assert isinstance(acquisition, qLogExpectedImprovement)
    z = near_the_best().reshape(1, 3, 2).repeat(4, 1, 1) + torch.linspace(0, 0.1, 4)[:, None, None]
    first = acquisition(z)
    assert first.shape == (4,)
    assert torch.equal(first, make_batch_acquisition(surrogate, y, "percentile:90", seed=3)(z))
    single = make_acquisition("log_ei", surrogate, y, "percentile:90")(z[:, :1])
    assert torch.allclose(acquisition(z[:, :1]), single, rtol=0.1)
