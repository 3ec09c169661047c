"""What every workflow script does first: log to the rule's log file, use the rule's threads."""

from __future__ import annotations

import sys
from typing import Any

import torch

from lso.utils import configure_logging


def start_job(snakemake: Any) -> None:
    """Route logging, warnings and tracebacks of this job to its ``log:`` file.

    Snakemake sets the BLAS thread variables from ``threads:``; torch's intra-op pool is set
    here too so a rule's ``threads`` really bounds its CPU use.
    """
    log_file = snakemake.log[0]
    configure_logging(log_file)
    sys.stderr = open(log_file, "a", buffering=1)  # noqa: SIM115 - lives as long as the job
    torch.set_num_threads(max(1, int(snakemake.threads)))
