"""Rule evaluate_faces: the judge's scores and the distances to smiling faces of one run."""

from pathlib import Path

from lso.steps.faces import evaluate_faces
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
evaluate_faces(
    Path(snakemake.input.arrays).parent,  # noqa: F821
    snakemake.input.reference,  # noqa: F821
    snakemake.input.scores,  # noqa: F821
    snakemake.input.judge,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    per_query=snakemake.output.per_query,  # noqa: F821
    summary=snakemake.output.summary,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
