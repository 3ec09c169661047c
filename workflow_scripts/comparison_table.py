"""Rule comparison_table: the methods of one comparison side by side, mean ± std over seeds."""

from lso.steps.job import start_job
from lso.steps.tables import compare

start_job(snakemake)  # noqa: F821 - injected by Snakemake
compare(
    snakemake.params.runs,  # noqa: F821
    snakemake.params.labels,  # noqa: F821
    snakemake.params.top_k,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
