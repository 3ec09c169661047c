"""Rule condgen_table: condgen.csv, one row per target and seed."""

from lso.steps.condgen import condgen_table
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
condgen_table(
    snakemake.input.runs,  # noqa: F821
    snakemake.params.probability,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
