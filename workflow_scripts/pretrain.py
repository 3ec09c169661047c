"""Rule pretrain: train a generative model from scratch."""

from lso.steps.job import start_job
from lso.steps.pretrain import pretrain

start_job(snakemake)  # noqa: F821 - injected by Snakemake
pretrain(
    snakemake.input.dataset,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    checkpoint=snakemake.output.checkpoint,  # noqa: F821
    train_log=snakemake.output.train_log,  # noqa: F821
    samples=snakemake.output.samples,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
    feature_network=snakemake.input.feature_network or None,  # noqa: F821
)
