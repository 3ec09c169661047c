"""Rule train_classifier: the MNIST classifier that judges generated digits."""

from lso.steps.digits import train_classifier
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
train_classifier(
    snakemake.input.dataset,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    checkpoint=snakemake.output.checkpoint,  # noqa: F821
    train_log=snakemake.output.train_log,  # noqa: F821
    metrics_path=snakemake.output.metrics,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
