"""Rule condgen_bo: BO in the joint VAE's latent space for one target digit and seed."""

from lso.steps.condgen import condgen_run
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
condgen_run(
    snakemake.input.joint,  # noqa: F821
    snakemake.input.classifier,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    snakemake.params.target,  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    binarise=snakemake.params.binarise,  # noqa: F821
    arrays=snakemake.output[0],  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
