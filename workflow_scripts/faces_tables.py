"""Rule faces_tables: the faces models' quality table and the predictors' agreement table."""

from lso.steps.job import start_job
from lso.steps.tables import faces_tables

start_job(snakemake)  # noqa: F821 - injected by Snakemake
faces_tables(
    snakemake.input.agreement,  # noqa: F821
    snakemake.input.quality,  # noqa: F821
    snakemake.params.run_dirs,  # noqa: F821
    models=snakemake.output.models,  # noqa: F821
    agreement=snakemake.output.agreement,  # noqa: F821
)
