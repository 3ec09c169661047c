"""Rule plot_discriminator_scores: a GAN run's queries among the discriminator's scores."""

from pathlib import Path

from lso.steps.face_figures import plot_discriminator_scores
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_discriminator_scores(
    [Path(p).parent for p in snakemake.input.queries],  # noqa: F821
    snakemake.input.dataset,  # noqa: F821
    snakemake.input.model,  # noqa: F821
    snakemake.params.quantile,  # noqa: F821
    snakemake.params.title,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
