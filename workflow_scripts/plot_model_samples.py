"""Rule plot_model_samples: what pretraining saved of a model (samples.npz) as a figure."""

from lso.steps.figures import plot_model_samples
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_model_samples(snakemake.input.samples, snakemake.output[0])  # noqa: F821
