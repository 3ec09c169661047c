"""Rule plot_condgen_top_images: the best decoded images per target."""

from lso.steps.condgen_figures import plot_top_images
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_top_images(snakemake.params.runs, snakemake.output[0])  # noqa: F821
