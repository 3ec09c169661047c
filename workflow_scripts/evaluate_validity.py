"""Rule evaluate_validity: classifier validity and Fréchet distance of one run's queries."""

from pathlib import Path

from lso.steps.digits import evaluate_validity
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
evaluate_validity(
    Path(snakemake.input.arrays).parent,  # noqa: F821
    snakemake.input.dataset,  # noqa: F821
    snakemake.input.classifier,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    per_query=snakemake.output.per_query,  # noqa: F821
    summary=snakemake.output.summary,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
