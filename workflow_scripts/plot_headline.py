"""Rule plot_headline: training faces at the cap level beside the best queries found."""

from pathlib import Path

from lso.steps.headline import plot_headline
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_headline(
    [Path(p).parent for p in snakemake.input.arrays],  # noqa: F821
    snakemake.input.dataset,  # noqa: F821
    snakemake.input.reference,  # noqa: F821
    snakemake.input.scores,  # noqa: F821
    snakemake.params.title,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
