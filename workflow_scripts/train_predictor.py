"""Rule train_predictor: the faces attribute predictor (black box or judge), calibrated."""

from lso.steps.job import start_job
from lso.steps.predictors import train_predictor

start_job(snakemake)  # noqa: F821 - injected by Snakemake
train_predictor(
    snakemake.input.dataset,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    snakemake.wildcards.role,  # noqa: F821
    checkpoint=snakemake.output.checkpoint,  # noqa: F821
    train_log=snakemake.output.train_log,  # noqa: F821
    metrics=snakemake.output.metrics,  # noqa: F821
    calibration=snakemake.output.calibration,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
