"""Small shared helpers: atomic file writes, seeding, device choice, logging set-up."""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# torch is imported inside the functions that use it: the Snakefile imports this module (via
# lso.settings) to parse the config, and a plotting job need not pay for torch.

PathLike = str | os.PathLike[str]


class InputError(ValueError):
    """Bad user input (config value, data file, checkpoint); the message names what and where."""


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place only on success.

    A job killed half-way therefore never leaves a truncated file under ``results/`` that a
    later run could mistake for a finished one. The temporary name keeps the suffix so that
    writers which dispatch on it (``np.savez``, ``Figure.savefig``) behave the same.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; results are for sharing
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch's CPU ops on one thread, then restore the caller's setting.

    Linear algebra on a few hundred points cannot use extra threads, and on busy cores the
    hand-off between threads dominates (one GP fit on 15 points took 1.2 s with 2 threads and
    0.05 s with 1 on a loaded 2-core machine).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that the same seed gives the same numbers on CPU."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """Map the config's ``device`` value to a torch device; ``auto`` prefers CUDA when present."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"config key 'device' is {name!r} but no CUDA device is available")
    return torch.device(name)


def configure_logging(log_file: str | os.PathLike | None = None) -> logging.Logger:
    """Send the library's log records to ``log_file`` (a rule's ``log:``) or to stderr."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("lso")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    return logger


def write_json(path: str | os.PathLike, payload: dict) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2))
