"""Small shared helpers: the input error, atomic file writes, JSON, logging set-up.

Standard library only: the Snakefile imports it while it parses the workflow, and figure
jobs never load torch (:mod:`lso.runtime` holds the torch helpers).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
