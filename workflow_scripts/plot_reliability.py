"""Rule plot_reliability: a faces predictor's reliability diagram before and after scaling."""

from lso.steps.figures import plot_reliability
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
plot_reliability(
    snakemake.input.calibration,  # noqa: F821
    snakemake.wildcards.role,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
