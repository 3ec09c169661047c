rule optimize:
    input:
        checkpoint=experiment_model,
        dataset=experiment_dataset,
        code=library(
            *MODEL_CODE,
            "loop.py",
            "optimizers/grid.py",
            "constraints.py",
            "weighting.py",
            "objectives.py",
            "data/mnist.py",
        ),
    output:
        queries="results/opt/{experiment}/seed{seed}/queries.csv",
        arrays="results/opt/{experiment}/seed{seed}/queries.npz",
        info="results/opt/{experiment}/seed{seed}/run.json",
        diagnostics="results/opt/{experiment}/seed{seed}/diagnostics.csv",
    log:
        "logs/optimize/{experiment}/seed{seed}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
    params:
        spec=experiment_spec,
        seed=lambda wildcards: int(wildcards.seed),
        device=config["device"],
    script:
        "../workflow_scripts/optimize.py"
