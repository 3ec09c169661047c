"""Rule prepare_data: raw MNIST -> one prepared digit data set."""

from lso.data.prepare import prepare_data
from lso.workflow import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
prepare_data(snakemake.params.spec, snakemake.output[0])  # noqa: F821
