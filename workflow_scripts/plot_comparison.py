"""Rule plot_comparison: top-k curves of several experiments on one axis."""

from lso.steps.figures import plot_comparison
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_comparison(
    snakemake.params.runs,  # noqa: F821
    snakemake.params.labels,  # noqa: F821
    snakemake.params.top_k,  # noqa: F821
    snakemake.params.title,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    pdf=snakemake.params.pdf,  # noqa: F821
)
