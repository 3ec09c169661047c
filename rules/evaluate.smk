rule train_classifier:
    input:
        dataset=lambda wildcards: f"data/processed/{CLASSIFIER.dataset}.npz",
        code=code("train_classifier.py", MODELS.module("classifier")),
    output:
        checkpoint="results/models/classifier/model.pt",
        train_log="results/models/classifier/train_log.csv",
        metrics=report(
            "results/models/classifier/metrics.json",
            caption="../report/classifier.rst",
            category="Models",
            subcategory="classifier",
            labels={"model": "classifier", "figure": "held-out accuracy"},
        ),
    log:
        "logs/train_classifier/classifier.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(2, 4000),
    params:
        spec=lambda wildcards: CLASSIFIER,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/train_classifier.py"


rule evaluate_validity:
    input:
        arrays="results/opt/{experiment}/seed{seed}/queries.npz",
        info="results/opt/{experiment}/seed{seed}/run.json",
        dataset=experiment_dataset,
        classifier="results/models/classifier/model.pt",
        feature_network=feature_network(SETTINGS.validity.feature_network),
        code=code("evaluate_validity.py", MODELS.module("classifier")),
    output:
        per_query="results/opt/{experiment}/seed{seed}/validity.csv",
        summary="results/opt/{experiment}/seed{seed}/evaluation.json",
    log:
        "logs/evaluate_validity/{experiment}/seed{seed}.log",
    wildcard_constraints:
        experiment=names_pattern(experiments_of("digits")),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(2, 2000),
    params:
        spec=SETTINGS.validity,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/evaluate_validity.py"


rule summarise:
    input:
        queries=all_run_files("queries.csv"),
        info=all_run_files("run.json"),
        evaluations=evaluation_files("evaluation.json"),
        code=code("summarise.py"),
    output:
        summary=report(
            "results/tables/summary.csv",
            caption="../report/summary.rst",
            category="Tables",
            labels={"table": "per run"},
        ),
        mean_std=report(
            "results/tables/summary_mean_std.csv",
            caption="../report/summary_mean_std.rst",
            category="Tables",
            labels={"table": "mean ± std over seeds"},
        ),
    log:
        "logs/summarise/summarise.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        top_k=PLOTS.top_k,
    script:
        "../workflow_scripts/summarise.py"


rule paired_table:
    input:
        queries=comparison_files("queries.csv"),
        info=comparison_files("run.json"),
        evaluations=comparison_files("evaluation.json"),
        code=code("paired_table.py"),
    output:
        report(
            "results/tables/paired/{comparison}.csv",
            caption="../report/paired.rst",
            category=comparison_category,
            subcategory="Paired comparisons",
            labels={"table": "paired: {comparison}"},
        ),
    log:
        "logs/paired_table/{comparison}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        baseline=lambda wildcards: SETTINGS.comparisons[wildcards.comparison].baseline,
        experiments=lambda wildcards: [
            e
            for e in SETTINGS.comparisons[wildcards.comparison].experiments
            if e != SETTINGS.comparisons[wildcards.comparison].baseline
        ],
        run_dirs=lambda wildcards: run_folders(comparison_experiments(wildcards)),
        top_k=PLOTS.top_k,
    script:
        "../workflow_scripts/paired_table.py"


rule comparison_table:
    input:
        queries=comparison_files("queries.csv"),
        info=comparison_files("run.json"),
        evaluations=comparison_files("evaluation.json"),
        code=code("comparison_table.py"),
    output:
        report(
            "results/tables/comparisons/{comparison}.csv",
            caption="../report/comparison_table.rst",
            category=comparison_category,
            subcategory="Comparisons",
            labels={"table": "comparison {comparison}"},
        ),
    log:
        "logs/comparison_table/{comparison}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        runs=comparison_runs,
        labels=lambda wildcards: SETTINGS.comparisons[wildcards.comparison].labels,
        top_k=PLOTS.top_k,
    script:
        "../workflow_scripts/comparison_table.py"
