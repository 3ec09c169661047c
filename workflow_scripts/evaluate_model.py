"""Rule evaluate_model: how well a pretrained faces model draws faces (FD, KID, references)."""

from lso.steps.faces import evaluate_model
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
evaluate_model(
    snakemake.input.checkpoint,  # noqa: F821
    snakemake.input.dataset,  # noqa: F821
    snakemake.input.black_box,  # noqa: F821
    snakemake.input.judge,  # noqa: F821
    output=snakemake.output[0],  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
