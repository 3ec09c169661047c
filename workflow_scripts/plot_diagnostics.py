"""Rule plot_diagnostics: per-round timings and surrogate quality of one experiment."""

from pathlib import Path

from lso.steps.figures import plot_diagnostics
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_diagnostics(
    [Path(p).parent for p in snakemake.input.info],  # noqa: F821
    snakemake.wildcards.experiment,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
