"""Where and how torch runs: the device a job uses, seeds, and the number of CPU threads."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from lso.utils import InputError


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch's CPU ops on one thread, then restore the caller's setting.

    Linear algebra on a few hundred points cannot use extra threads, and on busy cores the
    hand-off between threads dominates (one GP fit on 15 points took 1.2 s with 2 threads and
    0.05 s with 1 on a loaded 2-core machine).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that the same seed gives the same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """Map the config's ``device`` value to a torch device; ``auto`` prefers CUDA when present."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"config key 'device' is {name!r} but no CUDA device is available")
    return torch.device(name)
