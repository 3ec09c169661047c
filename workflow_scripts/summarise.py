"""Rule summarise: per-run and mean ± std tables of every run."""

from pathlib import Path

from lso.steps.job import start_job
from lso.steps.tables import summarise

start_job(snakemake)  # noqa: F821 - injected by Snakemake
summarise(
    [Path(p).parent for p in snakemake.input.queries],  # noqa: F821
    snakemake.params.top_k,  # noqa: F821
    summary=snakemake.output.summary,  # noqa: F821
    mean_std=snakemake.output.mean_std,  # noqa: F821
)
