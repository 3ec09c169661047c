"""Rule score_data: the black box's scores of a data set's training images, for its runs."""

from lso.steps.job import start_job
from lso.steps.scores import score_data

start_job(snakemake)  # noqa: F821 - injected by Snakemake
score_data(
    snakemake.input.dataset,  # noqa: F821
    snakemake.wildcards.objective,  # noqa: F821
    snakemake.input.predictor,  # noqa: F821
    output=snakemake.output[0],  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
