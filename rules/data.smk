rule list_images:
    output:
        "data/manifests/{dataset}.tsv",
    log:
        "logs/list_images/{dataset}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        image_dir=lambda wildcards: SETTINGS.datasets[wildcards.dataset].image_dir,
        listing=image_listing,
    script:
        "../workflow_scripts/list_images.py"


rule prepare_data:
    input:
        raw=raw_data,
        code=prepare_data_code,
    output:
        "data/processed/{dataset}.npz",
    log:
        "logs/prepare_data/{dataset}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=prepare_memory,
    params:
        spec=lambda wildcards: SETTINGS.datasets[wildcards.dataset],
    script:
        "../workflow_scripts/prepare_data.py"
