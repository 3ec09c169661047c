"""Rule plot_condgen_landscapes: objective maps per target, two ways of computing p."""

from lso.steps.condgen_figures import plot_landscapes
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_landscapes(
    snakemake.input.joint,  # noqa: F821
    snakemake.input.classifier,  # noqa: F821
    snakemake.params.targets,  # noqa: F821
    snakemake.params.bounds,  # noqa: F821
    snakemake.params.grid_len,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    binarise=snakemake.params.binarise,  # noqa: F821
)
