"""Rule plot_condgen_bo_run: one BO run's GP posterior and acquisition."""

from lso.condgen.steps import plot_bo_run
from lso.workflow import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_bo_run(snakemake.input.arrays, snakemake.params.target, snakemake.output[0])  # noqa: F821
