"""Model classes by config name, so configs and checkpoints can say ``type: vae``.

The names and their modules are listed in :data:`lso.settings.MODELS`; a class's module is
imported only when a model of that type is built.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch

from lso.models.base import TrainableModule
from lso.settings import MODELS
from lso.utils import InputError


def model_class(kind: str) -> type[TrainableModule]:
    """The class implementing model type ``kind``; unknown names fail with the known ones."""
    if kind not in MODELS:
        raise InputError(f"model type {kind!r} is unknown; expected one of {sorted(MODELS)}")
    module, name = MODELS[kind]
    return getattr(importlib.import_module(module), name)


def build_model(kind: str, hparams: dict[str, Any]) -> TrainableModule:
    """Instantiate model ``kind`` with ``hparams``; unknown names or keys fail with the name.

        Convolution weights are laid out channels-last: on CPU that halves the time of training
        steps and of decoding the optimiser's grid (``benchmarks/README.md``), and cuDNN prefers it.
    A class that sets ``channels_last = False`` keeps the default layout.
    """
    try:
        model = model_class(kind)(**hparams)
    except TypeError as error:
        raise InputError(f"hyperparameters for model type {kind!r} are invalid: {error}") from error
    return model.to(memory_format=torch.channels_last) if model.channels_last else model
