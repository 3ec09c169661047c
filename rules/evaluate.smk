rule summarise:
    input:
        queries=all_run_files("queries.csv"),
        info=all_run_files("run.json"),
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
