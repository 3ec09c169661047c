"""Rule train_joint: a 2-D VAE trained jointly with a predictor head."""

from lso.steps.condgen import train_joint
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
train_joint(
    snakemake.input.dataset,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    snakemake.wildcards.predictor,  # noqa: F821
    checkpoint=snakemake.output.checkpoint,  # noqa: F821
    train_log=snakemake.output.train_log,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
