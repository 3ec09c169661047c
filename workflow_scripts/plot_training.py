"""Rule plot_training: pretraining loss curves."""

from lso.steps.figures import plot_training
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_training(snakemake.input.train_log, snakemake.output[0])  # noqa: F821
