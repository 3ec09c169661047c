"""Rule plot_best_images: the best images of one experiment over all seeds."""

from pathlib import Path

from lso.steps.figures import plot_best_images
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_best_images(
    [Path(p).parent for p in snakemake.input.arrays],  # noqa: F821
    snakemake.params.n,  # noqa: F821
    snakemake.wildcards.experiment,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
