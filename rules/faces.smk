rule train_predictor:
    input:
        dataset=lambda wildcards: f"data/processed/{PREDICTOR.dataset}.npz",
        code=predictor_code,
    output:
        checkpoint="results/predictors/{role}/model.pt",
        train_log="results/predictors/{role}/train_log.csv",
        metrics=report(
            "results/predictors/{role}/metrics.json",
            caption="../report/predictor.rst",
            category="Faces",
            subcategory="Predictors",
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
        spec=lambda wildcards: PREDICTOR.role(wildcards.role),
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
            category="Faces",
            subcategory="Predictors",
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


rule score_faces:
    input:
        dataset="data/processed/{dataset}.npz",
        judge="results/predictors/judge/model.pt",
        feature_network=feature_network(SETTINGS.face_evaluation.feature_network),
        code=code("score_faces.py", *PREDICTOR_MODULES),
    output:
        "results/predictors/reference/{dataset}.npz",
    log:
        "logs/score_faces/{dataset}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(4, 4000),
    params:
        feature_network=SETTINGS.face_evaluation.feature_network,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/score_faces.py"


rule evaluate_faces:
    input:
        arrays="results/opt/{experiment}/seed{seed}/queries.npz",
        info="results/opt/{experiment}/seed{seed}/run.json",
        reference=experiment_face_reference,
        scores=black_box_scores,
        judge="results/predictors/judge/model.pt",
        feature_network=feature_network(SETTINGS.face_evaluation.feature_network),
        code=code("evaluate_faces.py", *PREDICTOR_MODULES),
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
        mem_mb=2000,
    params:
        spec=SETTINGS.face_evaluation,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/evaluate_faces.py"


rule plot_headline:
    input:
        arrays=experiment_run_files("queries.npz"),
        judged=experiment_run_files("judge.csv"),
        dataset=experiment_dataset,
        reference=experiment_face_reference,
        scores=black_box_scores,
        code=code("plot_headline.py"),
    output:
        report(
            "results/figures/experiments/{experiment}/headline.png",
            caption="../report/headline.rst",
            category="Faces",
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
            category="Faces",
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


rule evaluate_predictors:
    input:
        dataset=lambda wildcards: f"data/processed/{PREDICTOR.dataset}.npz",
        black_box="results/predictors/black_box/model.pt",
        judge="results/predictors/judge/model.pt",
        code=code("evaluate_predictors.py", *PREDICTOR_MODULES),
    output:
        robustness=report(
            "results/tables/predictor_robustness.csv",
            caption="../report/predictor_robustness.rst",
            category="Faces",
            subcategory="Predictors",
            labels={"table": "robustness to degradations"},
        ),
        agreement="results/predictors/agreement.json",
    log:
        "logs/evaluate_predictors/predictors.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=4000,
    params:
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/evaluate_predictors.py"


rule evaluate_model:
    input:
        checkpoint="results/models/{model}/model.pt",
        dataset=model_dataset,
        black_box="results/predictors/black_box/model.pt",
        judge="results/predictors/judge/model.pt",
        code=evaluate_model_code,
    output:
        "results/models/{model}/quality.json",
    log:
        "logs/evaluate_model/{model}.log",
    wildcard_constraints:
        model=names_pattern(faces_models()),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=4000,
    params:
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/evaluate_model.py"


rule faces_tables:
    input:
        agreement="results/predictors/agreement.json",
        quality=expand("results/models/{model}/quality.json", model=faces_models()),
        queries=all_run_files("queries.csv", faces_experiments()),
        info=all_run_files("run.json", faces_experiments()),
        evaluations=evaluation_files("evaluation.json", faces_experiments()),
        code=code("faces_tables.py"),
    output:
        models=report(
            "results/tables/faces_models.csv",
            caption="../report/faces_models.rst",
            category="Faces",
            subcategory="Models",
            labels={"table": "how well each model draws faces"},
        ),
        agreement=report(
            "results/tables/faces_agreement.csv",
            caption="../report/faces_agreement.rst",
            category="Faces",
            subcategory="Predictors",
            labels={"table": "black box and judge agreement"},
        ),
    log:
        "logs/faces_tables/faces.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        run_dirs=run_folders(faces_experiments()),
    script:
        "../workflow_scripts/faces_tables.py"
