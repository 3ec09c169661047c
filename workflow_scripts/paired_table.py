"""Rule paired_table: a comparison's experiments against its baseline, seed by seed."""

from lso.steps.job import start_job
from lso.steps.tables import paired

start_job(snakemake)  # noqa: F821 - injected by Snakemake
paired(
    snakemake.params.run_dirs,  # noqa: F821
    snakemake.params.top_k,  # noqa: F821
    snakemake.params.baseline,  # noqa: F821
    snakemake.params.experiments,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
