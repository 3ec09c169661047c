"""Rule optimize: one weighted-retraining run (experiment x seed)."""

from pathlib import Path

from lso.steps.job import start_job
from lso.steps.optimize import optimise

start_job(snakemake)  # noqa: F821 - injected by Snakemake
optimise(
    snakemake.input.checkpoint,  # noqa: F821
    snakemake.input.dataset,  # noqa: F821
    snakemake.params.run,  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    out_dir=Path(snakemake.output.queries).parent,  # noqa: F821
    experiment=snakemake.wildcards.experiment,  # noqa: F821
    predictor=snakemake.input.get("predictor") or None,  # noqa: F821
    data_scores=snakemake.input.get("scores") or None,  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
