"""Latent optimisers: the grid oracle and the Bayesian-optimisation searches.

:func:`build_optimizer` is the one place that maps an optimiser type to its class.
"""

from __future__ import annotations

import importlib

from lso.optimizers.base import LatentOptimizer
from lso.settings import OPTIMIZERS, OptimizerSettings


def build_optimizer(settings: OptimizerSettings) -> LatentOptimizer:
    """The optimiser of ``settings.type``: ``grid``, ``local``, ``sampling`` or ``stronger_nas``.

    Its module is imported only when chosen (:data:`lso.settings.OPTIMIZERS`): a grid run
    neither loads BoTorch nor depends on the surrogate code.
    """
    module, name = OPTIMIZERS[settings.type]
    cls = getattr(importlib.import_module(module), name)
    if settings.type == "grid":
        return cls(bounds=settings.bounds, grid_len=settings.grid_len)
    return cls(settings)
