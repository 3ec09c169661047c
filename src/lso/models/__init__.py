"""Generative models with a latent space, and their checkpoints."""

from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.models.registry import MODEL_CLASSES, build_model

__all__ = ["MODEL_CLASSES", "LatentModel", "build_model", "load_checkpoint", "save_checkpoint"]
