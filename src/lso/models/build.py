"""Building a model by its config name (``type: vae``), as configs and checkpoints name it.

The names and their modules are in :data:`lso.models.registry.MODELS`; a class's module is
imported only when a model of that type is built.
"""

from __future__ import annotations

from typing import Any

import torch

from lso.models.base import TrainableModule
from lso.models.registry import MODELS
from lso.utils import InputError


def model_class(kind: str) -> type[TrainableModule]:
    """The class implementing model type ``kind``; unknown names fail with the known ones."""
    return MODELS.load(kind)


def build_model(kind: str, hparams: dict[str, Any]) -> TrainableModule:
    """Instantiate model ``kind`` with ``hparams``; unknown names or keys fail with the name.

    Convolution weights are laid out channels-last: on CPU that halves the time of training
    steps and of decoding the optimiser's grid (``benchmarks/README.md``), and cuDNN prefers
    it. A class that sets ``channels_last = False`` keeps the default layout.
    """
    cls = model_class(kind)
    try:
        model = cls(**hparams)
    except TypeError as error:
        raise InputError(f"hyperparameters for model type {kind!r} are invalid: {error}") from error
    return model.to(memory_format=torch.channels_last) if model.channels_last else model
