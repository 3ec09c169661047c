"""Rule plot_condgen_bo_run: one BO run's GP posterior and acquisition."""

from lso.steps.condgen_figures import plot_bo_run
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_bo_run(snakemake.input.run, snakemake.params.grid_len, snakemake.output[0])  # noqa: F821
