"""Rule plot_latent_snapshots: decoded 2-D latent space over each run, queries overlaid."""

from pathlib import Path

from lso.steps.figures import plot_snapshots
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_snapshots(
    [Path(p).parent for p in snakemake.input.arrays],  # noqa: F821
    snakemake.params.max_panels,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
