"""What every workflow script does first: log to the rule's log file, use the rule's threads."""

from __future__ import annotations

import sys
from typing import Any

from lso.utils import configure_logging


def start_job(snakemake: Any) -> None:
    """Route logging, warnings and tracebacks of this job to its ``log:`` file.

    Snakemake sets the BLAS/OpenMP thread variables from ``threads:``, which torch reads when
    it is imported; if the job's step has imported torch already, its intra-op pool is set
    here too, so a rule's ``threads`` really bounds its CPU use. Jobs that never touch torch
    (tables, most figures) do not import it.
    """
    log_file = snakemake.log[0]
    configure_logging(log_file)
    sys.stderr = open(log_file, "a", buffering=1)  # noqa: SIM115 - lives as long as the job
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(max(1, int(snakemake.threads)))
