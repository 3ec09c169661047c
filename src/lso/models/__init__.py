"""Generative models with a latent space, and their checkpoints."""

from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.models.registry import build_model, model_class

__all__ = ["LatentModel", "build_model", "load_checkpoint", "model_class", "save_checkpoint"]
