"""Rule list_images: the manifest of a CelebA image directory (the images' stand-in input)."""

from lso.steps.faces_data import list_images
from lso.steps.job import start_job

start_job(snakemake)  # noqa: F821 - injected by Snakemake
list_images(snakemake.params.image_dir, snakemake.output[0])  # noqa: F821
