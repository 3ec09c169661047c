rule score_data:
    input:
        dataset="data/processed/{dataset}.npz",
        predictor="results/predictors/black_box/model.pt",
        code=score_data_code,
    output:
        "results/predictors/black_box/scores/{objective}/{dataset}.npz",
    log:
        "logs/score_data/{objective}/{dataset}.log",
    wildcard_constraints:
        objective=names_pattern(
            [o for o in OBJECTIVES if OBJECTIVES.traits(o).predictor]
        ),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(4, 4000),
    params:
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/score_data.py"


rule optimize:
    input:
        checkpoint=experiment_model,
        dataset=experiment_dataset,
        predictor=black_box_predictor,
        scores=black_box_scores,
        code=optimize_code,
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
        gpu=GPU,
        mem_mb=data_memory(4, 4000),
    params:
        run=lambda wildcards: EXPERIMENTS[wildcards.experiment].run,
        seed=lambda wildcards: int(wildcards.seed),
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/optimize.py"
