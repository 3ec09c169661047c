"""Rule evaluate_predictors: the predictors' robustness to degradations and their agreement."""

from lso.steps.faces import evaluate_predictors
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
evaluate_predictors(
    snakemake.input.dataset,  # noqa: F821
    snakemake.input.black_box,  # noqa: F821
    snakemake.input.judge,  # noqa: F821
    robustness=snakemake.output.robustness,  # noqa: F821
    agreement_path=snakemake.output.agreement,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
