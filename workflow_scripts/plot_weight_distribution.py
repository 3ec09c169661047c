"""Rule plot_weight_distribution: training scores under rank weighting with several k."""

from lso.steps.figures import plot_weights
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_weights(snakemake.input.dataset, snakemake.params.k_values, snakemake.output[0])  # noqa: F821
