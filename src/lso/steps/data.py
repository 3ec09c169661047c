"""The prepare_data step: raw digits or faces -> one prepared data set file (no torch).

Each family's preparation is its own module, ``lso.steps.<family>_data``, loaded by name
here and named by the Snakefile as the job's code input, so that a digit data set's job
does not depend on the faces code (and the whole digit pipeline does not rerun when it
changes).
"""

from __future__ import annotations

import importlib

from lso.config.types import DatasetSettings
from lso.utils import PathLike


def preparation_module(family: str) -> str:
    """The module that prepares data sets of ``family`` (``digits`` or ``faces``)."""
    return f"lso.steps.{family}_data"


def prepare_data(spec: DatasetSettings, output: PathLike) -> None:
    """Read the raw source named in ``spec`` and write the prepared data set."""
    importlib.import_module(preparation_module(spec.family)).prepare(spec, output)
