rule evaluate_validity:
    input:
        arrays="results/opt/{experiment}/seed{seed}/queries.npz",
        info="results/opt/{experiment}/seed{seed}/run.json",
        dataset=experiment_dataset,
        classifier=rules.train_classifier.output.checkpoint,
        code=library("metrics.py", "condgen/steps.py", "results.py"),
    output:
        per_query="results/opt/{experiment}/seed{seed}/validity.csv",
        summary="results/opt/{experiment}/seed{seed}/evaluation.json",
    log:
        "logs/evaluate_validity/{experiment}/seed{seed}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        spec=canonical(VALIDITY),
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_validity.py"


rule summarise:
    input:
        queries=all_run_files("queries.csv"),
        info=all_run_files("run.json"),
        evaluations=evaluation_files("evaluation.json"),
        code=library("results.py"),
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
        top_k=PLOTS["top_k"],
    script:
        "../workflow_scripts/summarise.py"
