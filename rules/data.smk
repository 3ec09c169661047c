rule prepare_data:
    input:
        code=code("prepare_data.py"),
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
        spec=lambda wildcards: SETTINGS.datasets[wildcards.dataset],
    script:
        "../workflow_scripts/prepare_data.py"
