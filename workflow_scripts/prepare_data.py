"""Rule prepare_data: raw MNIST -> one prepared digit data set."""

from lso.steps.data import prepare_data
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
prepare_data(snakemake.params.spec, snakemake.output[0])  # noqa: F821
