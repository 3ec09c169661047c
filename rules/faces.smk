rule train_predictor:
    input:
        dataset=lambda wildcards: f"data/processed/{PREDICTOR.dataset}.npz",
        code=code("train_predictor.py", MODELS.module("resnet_classifier")),
    output:
        checkpoint="results/predictors/{role}/model.pt",
        train_log="results/predictors/{role}/train_log.csv",
        metrics=report(
            "results/predictors/{role}/metrics.json",
            caption="../report/predictor.rst",
            category="Models",
            subcategory="predictors",
            labels={"model": "{role}", "figure": "calibration metrics"},
        ),
        calibration="results/predictors/{role}/calibration.npz",
    log:
        "logs/train_predictor/{role}.log",
    wildcard_constraints:
        role="black_box|judge",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(5, 4000),
    params:
        spec=lambda wildcards: PREDICTOR,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/train_predictor.py"


rule plot_reliability:
    input:
        calibration="results/predictors/{role}/calibration.npz",
        code=code("plot_reliability.py"),
    output:
        report(
            "results/figures/predictors/{role}/reliability.png",
            caption="../report/reliability.rst",
            category="Models",
            subcategory="predictors",
            labels={"model": "{role}", "figure": "reliability diagram"},
        ),
    log:
        "logs/plot_reliability/{role}.log",
    wildcard_constraints:
        role="black_box|judge",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../workflow_scripts/plot_reliability.py"


rule evaluate_faces:
    input:
        arrays="results/opt/{experiment}/seed{seed}/queries.npz",
        info="results/opt/{experiment}/seed{seed}/run.json",
        dataset=experiment_dataset,
        black_box="results/predictors/black_box/model.pt",
        judge="results/predictors/judge/model.pt",
        feature_network=feature_network(SETTINGS.face_evaluation.feature_network),
        code=code("evaluate_faces.py", MODELS.module("resnet_classifier")),
    output:
        per_query="results/opt/{experiment}/seed{seed}/judge.csv",
        summary="results/opt/{experiment}/seed{seed}/evaluation.json",
    log:
        "logs/evaluate_faces/{experiment}/seed{seed}.log",
    wildcard_constraints:
        experiment=names_pattern(experiments_of("faces")),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(4, 4000),
    params:
        spec=SETTINGS.face_evaluation,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/evaluate_faces.py"


rule plot_headline:
    input:
        arrays=experiment_run_files("queries.npz"),
        dataset=experiment_dataset,
        black_box="results/predictors/black_box/model.pt",
        judge="results/predictors/judge/model.pt",
        code=code("plot_headline.py", MODELS.module("resnet_classifier")),
    output:
        report(
            "results/figures/experiments/{experiment}/headline.png",
            caption="../report/headline.rst",
            category="Optimisation",
            subcategory="Headline faces",
            labels={"experiment": "{experiment}"},
        ),
    log:
        "logs/plot_headline/{experiment}.log",
    wildcard_constraints:
        experiment=names_pattern(experiments_of("faces")),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=data_memory(3, 2000),
    params:
        title=lambda wildcards: f"{wildcards.experiment}: black box / judge",
    script:
        "../workflow_scripts/plot_headline.py"


rule plot_discriminator_scores:
    input:
        queries=experiment_run_files("queries.csv"),
        info=experiment_run_files("run.json"),
        dataset=experiment_dataset,
        model=experiment_model,
        code=discriminator_scores_code,
    output:
        report(
            "results/figures/experiments/{experiment}/discriminator_scores.png",
            caption="../report/discriminator_scores.rst",
            category="Optimisation",
            subcategory="Discriminator scores",
            labels={"experiment": "{experiment}"},
        ),
    log:
        "logs/plot_discriminator_scores/{experiment}.log",
    wildcard_constraints:
        experiment=names_pattern(gan_experiments()),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(4, 2000),
    params:
        quantile=lambda wildcards: EXPERIMENTS[
            wildcards.experiment
        ].run.constraint.quantile
        or 0.5,
        title=lambda wildcards: f"{wildcards.experiment}: discriminator logits",
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/plot_discriminator_scores.py"
