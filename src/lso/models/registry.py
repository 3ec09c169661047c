"""Model classes by config name, so configs and checkpoints can say ``type: vae``."""

from __future__ import annotations

from typing import Any

import torch

from lso.models.base import TrainableModule
from lso.models.classifier import MnistClassifier
from lso.models.joint_vae import JointVAE
from lso.models.mnist import BinaryRAE, BinaryVAE
from lso.utils import InputError

# The generative models, plus the oracle classifier of conditional generation, which shares
# their fit loop and checkpoint format.
MODEL_CLASSES: dict[str, type[TrainableModule]] = {
    "vae": BinaryVAE,
    "rae": BinaryRAE,
    "joint_vae": JointVAE,
    "classifier": MnistClassifier,
}


def build_model(kind: str, hparams: dict[str, Any]) -> TrainableModule:
    """Instantiate model ``kind`` with ``hparams``; unknown names or keys fail with the name.

    Convolution weights are laid out channels-last: on CPU that halves the time of training
    steps and of decoding the optimiser's grid (``benchmarks/README.md``), and cuDNN prefers it.
    """
    if kind not in MODEL_CLASSES:
        raise InputError(f"model type {kind!r} is unknown; expected one of {sorted(MODEL_CLASSES)}")
    try:
        model = MODEL_CLASSES[kind](**hparams)
    except TypeError as error:
        raise InputError(f"hyperparameters for model type {kind!r} are invalid: {error}") from error
    return model.to(memory_format=torch.channels_last)
