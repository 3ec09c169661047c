"""Rule plot_condgen_latent_spaces: the three joint models' latent spaces side by side."""

from pathlib import Path

from lso.steps.condgen_figures import plot_latent_spaces
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_latent_spaces(
    {Path(p).parent.name.removeprefix("joint_"): p for p in snakemake.input.joints},  # noqa: F821
    snakemake.input.dataset,  # noqa: F821
    snakemake.params.bounds,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
