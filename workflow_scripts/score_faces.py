"""Rule score_faces: both predictors' scores of the training faces and the judge's features
of the smiling faces, once for every run of a data set."""

from lso.steps.faces import score_faces
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
score_faces(
    snakemake.input.dataset,  # noqa: F821
    snakemake.input.judge,  # noqa: F821
    snakemake.params.feature_network,  # noqa: F821
    output=snakemake.output[0],  # noqa: F821
    device_name=snakemake.params.device,  # noqa: F821
    precision=snakemake.params.precision,  # noqa: F821
)
