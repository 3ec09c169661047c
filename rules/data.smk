rule prepare_data:
    output:
        "data/processed/{dataset}.npz",
    log:
        "logs/prepare_data/{dataset}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        spec=lambda wildcards: config["datasets"][wildcards.dataset],
    script:
        "../workflow_scripts/prepare_data.py"
