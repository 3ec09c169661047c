"""A run's resumable state: everything needed to continue after a kill, saved every round.

The state lives beside the run's outputs (``.seed<N>.resume.pt``), never among them, so
Snakemake does not delete it when a job fails; a fingerprint of the run's settings and input
files ties it to its run, and a state written for anything else is ignored.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lso.utils import atomic_path

logger = logging.getLogger(__name__)


@dataclass
class LoopState:
    """Everything needed to continue a run: saved after every round of queries."""

    iteration: int
    queried_this_iteration: int
    data_images: torch.Tensor  # uint8 (N, *image_shape), pixel * 255
    data_scores: torch.Tensor  # float64 (N,)
    model_state: dict[str, torch.Tensor]
    rows: list[dict[str, float]] = field(default_factory=list)
    latents: list[list[float]] = field(default_factory=list)
    images: list[torch.Tensor] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)
    snapshot_iterations: list[int] = field(default_factory=list)
    n_retrainings: int = 0
    oracle_evaluations: int = 0
    recentering_evaluations: int = 0  # LOL-BO's recentering: queries the optimiser made
    elapsed: float = 0.0
    stalled: int = 0
    rng: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[dict[str, float]] = field(default_factory=list)
    constraint_state: dict[str, torch.Tensor] = field(default_factory=dict)  # gmm_fit warm start


def to_uint8(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] as 8-bit levels (pixel * 255); 8-bit images as they are."""
    if isinstance(images, np.ndarray | torch.Tensor) and images.dtype in (np.uint8, torch.uint8):
        return torch.as_tensor(images)
    return torch.as_tensor(np.rint(np.asarray(images, dtype=np.float32) * 255)).to(torch.uint8)


def rng_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Every random stream the loop draws from, so a resumed run draws the same numbers."""
    state = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng(state: dict[str, torch.Tensor], generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save_state(path: Path, state: LoopState, fingerprint: str) -> None:
    """Write the state atomically; ``fingerprint`` ties it to the run's settings and inputs."""
    with atomic_path(path) as tmp:
        torch.save({"fingerprint": fingerprint, **asdict(state)}, tmp)


def load_state(path: Path, fingerprint: str) -> LoopState | None:
    """The saved state if it belongs to this run; a state from other settings is ignored."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as error:  # a corrupt state is not worth dying for: start over
        logger.warning("ignoring unreadable resume state %s: %s", path, error)
        return None
    if payload.pop("fingerprint", None) != fingerprint:
        logger.warning("ignoring resume state %s: it was written for other settings", path)
        return None
    return LoopState(**payload)


def state_path_for(out_dir: str | os.PathLike) -> Path:
    """Where a run keeps its resume state: beside its outputs, never one of them."""
    out = Path(out_dir)
    return out.parent / f".{out.name}.resume.pt"
