rule prepare_data:
    input:
        code=library("data/mnist.py"),
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
        spec=dataset_spec,
    script:
        "../workflow_scripts/prepare_data.py"
