rule plot_comparison:
    input:
        runs=comparison_run_files,
        validity=comparison_validity_files,
        code=code("plot_comparison.py"),
    output:
        report(
            "results/figures/comparisons/{comparison}.png",
            caption="../report/comparison.rst",
            category=comparison_category,
            subcategory="Comparisons",
            labels={"comparison": "{comparison}"},
        ),
    log:
        "logs/plot_comparison/{comparison}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        runs=comparison_runs,
        labels=lambda wildcards: SETTINGS.comparisons[wildcards.comparison].labels,
        title=lambda wildcards: SETTINGS.comparisons[wildcards.comparison].title,
        top_k=PLOTS.top_k,
        pdf=PLOTS.pdf,
    script:
        "../workflow_scripts/plot_comparison.py"


rule plot_best_images:
    input:
        arrays=experiment_run_files("queries.npz"),
        code=code("plot_best_images.py"),
    output:
        report(
            "results/figures/experiments/{experiment}/best_images.png",
            caption="../report/best_images.rst",
            category="Optimisation",
            subcategory="Best images",
            labels={"experiment": "{experiment}"},
        ),
    log:
        "logs/plot_best_images/{experiment}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        n=PLOTS.n_best_images,
    script:
        "../workflow_scripts/plot_best_images.py"


rule plot_diagnostics:
    input:
        diagnostics=experiment_run_files("diagnostics.csv"),
        info=experiment_run_files("run.json"),
        code=code("plot_diagnostics.py"),
    output:
        report(
            "results/figures/experiments/{experiment}/diagnostics.png",
            caption="../report/diagnostics.rst",
            category="Optimisation",
            subcategory="Diagnostics",
            labels={"experiment": "{experiment}"},
        ),
    log:
        "logs/plot_diagnostics/{experiment}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../workflow_scripts/plot_diagnostics.py"


rule plot_latent_snapshots:
    input:
        arrays=experiment_run_files("queries.npz"),
        code=code("plot_latent_snapshots.py"),
    output:
        report(
            "results/figures/experiments/{experiment}/latent_snapshots.png",
            caption="../report/latent_snapshots.rst",
            category="Optimisation",
            subcategory="Latent snapshots",
            labels={"experiment": "{experiment}"},
        ),
    log:
        "logs/plot_latent_snapshots/{experiment}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        max_panels=PLOTS.snapshot_panels,
    script:
        "../workflow_scripts/plot_latent_snapshots.py"


rule plot_weight_distribution:
    input:
        dataset="data/processed/{dataset}.npz",
        code=code("plot_weight_distribution.py"),
    output:
        report(
            "results/figures/datasets/{dataset}/weight_distribution.png",
            caption="../report/weight_distribution.rst",
            category="Data",
            labels={"dataset": "{dataset}"},
        ),
    log:
        "logs/plot_weight_distribution/{dataset}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        k_values=weight_k_values,
    script:
        "../workflow_scripts/plot_weight_distribution.py"


rule plot_training:
    input:
        train_log="results/models/{model}/train_log.csv",
        code=code("plot_training.py"),
    output:
        report(
            "results/figures/models/{model}/training.png",
            caption="../report/training.rst",
            category="Models",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "losses"},
        ),
    log:
        "logs/plot_training/{model}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../workflow_scripts/plot_training.py"


rule plot_model_samples:
    input:
        samples="results/models/{model}/samples.npz",
        code=code("plot_model_samples.py"),
    output:
        report(
            "results/figures/models/{model}/samples.png",
            caption="../report/samples.rst",
            category="Models",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "samples"},
        ),
    log:
        "logs/plot_model_samples/{model}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../workflow_scripts/plot_model_samples.py"
