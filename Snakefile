"""Latent space optimisation with weighted retraining: data -> models -> runs -> report."""

from snakemake.utils import min_version

min_version("9.1")


# A --configfile replaces config.yaml instead of being merged into it, so that a small
# config (such as .test/config.yaml) runs only its own experiments.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/optimize.smk"
include: "rules/condgen.smk"
include: "rules/evaluate.smk"
include: "rules/faces.smk"
include: "rules/plots.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
