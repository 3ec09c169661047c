rule train_classifier:
    input:
        dataset=f"data/processed/{CLASSIFIER['dataset']}.npz" if CLASSIFIER else [],
        code=library("models/classifier.py", "training.py", "condgen/steps.py"),
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
        gpu=1,
        mem_mb=4000,
    params:
        spec=canonical(CLASSIFIER),
        device=config["device"],
    script:
        "../workflow_scripts/train_classifier.py"


rule train_joint:
    input:
        dataset=f"data/processed/{CONDGEN['dataset']}.npz" if CONDGEN else [],
        code=library("models/joint_vae.py", *MODEL_CODE, "condgen/steps.py"),
    output:
        checkpoint="results/models/joint_{predictor}/model.pt",
        train_log="results/models/joint_{predictor}/train_log.csv",
    log:
        "logs/train_joint/{predictor}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
    params:
        spec=canonical(CONDGEN),
        device=config["device"],
    script:
        "../workflow_scripts/train_joint.py"


rule condgen_bo:
    input:
        joint=f"results/models/joint_{CONDGEN.get('bo_model')}/model.pt" if CONDGEN else [],
        classifier=rules.train_classifier.output.checkpoint,
        code=library("condgen/bo.py", "condgen/objective.py", "condgen/steps.py"),
    output:
        arrays="results/condgen/target{target}/seed{seed}.npz",
        summary="results/condgen/target{target}/seed{seed}.json",
    log:
        "logs/condgen_bo/target{target}/seed{seed}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        spec=canonical(CONDGEN),
        target=lambda wildcards: int(wildcards.target),
        seed=lambda wildcards: int(wildcards.seed),
        binarise=CLASSIFIER_BINARISED,
        device=config["device"],
    script:
        "../workflow_scripts/condgen_bo.py"


rule condgen_table:
    input:
        summaries=condgen_files("json"),
        code=library("condgen/steps.py"),
    output:
        report(
            "results/tables/condgen.csv",
            caption="../report/condgen_table.rst",
            category="Conditional generation",
            labels={"table": "per target and seed"},
        ),
    log:
        "logs/condgen_table/condgen.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../workflow_scripts/condgen_table.py"


rule plot_condgen_latent_spaces:
    input:
        joints=expand("results/models/joint_{predictor}/model.pt", predictor=PREDICTORS),
        dataset=f"data/processed/{CONDGEN['dataset']}.npz" if CONDGEN else [],
        code=library("condgen/plots.py", "condgen/steps.py", *PLOT_CODE),
    output:
        report(
            "results/figures/condgen/latent_spaces.png",
            caption="../report/condgen_latent_spaces.rst",
            category="Conditional generation",
            labels={"figure": "latent spaces"},
        ),
    log:
        "logs/plot_condgen/latent_spaces.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        bounds=CONDGEN.get("bounds"),
        device=config["device"],
    script:
        "../workflow_scripts/plot_condgen_latent_spaces.py"


rule plot_condgen_landscapes:
    input:
        joint=rules.condgen_bo.input.joint,
        classifier=rules.train_classifier.output.checkpoint,
        code=library("condgen/plots.py", "condgen/objective.py", "condgen/steps.py"),
    output:
        report(
            "results/figures/condgen/objective_landscapes.png",
            caption="../report/condgen_landscapes.rst",
            category="Conditional generation",
            labels={"figure": "objective landscapes"},
        ),
    log:
        "logs/plot_condgen/landscapes.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        spec=canonical(CONDGEN),
        binarise=CLASSIFIER_BINARISED,
        device=config["device"],
    script:
        "../workflow_scripts/plot_condgen_landscapes.py"


rule plot_condgen_bo_run:
    input:
        arrays="results/condgen/target{target}/seed{seed}.npz",
        code=library("condgen/plots.py", "condgen/steps.py"),
    output:
        report(
            "results/figures/condgen/bo_run_target{target}_seed{seed}.png",
            caption="../report/condgen_bo_run.rst",
            category="Conditional generation",
            labels={"figure": "GP posterior", "target": "{target}"},
        ),
    log:
        "logs/plot_condgen/bo_run_target{target}_seed{seed}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        target=lambda wildcards: int(wildcards.target),
    script:
        "../workflow_scripts/plot_condgen_bo_run.py"


rule plot_condgen_top_images:
    input:
        arrays=condgen_files("npz"),
        code=library("condgen/plots.py", "condgen/steps.py"),
    output:
        report(
            "results/figures/condgen/top_images.png",
            caption="../report/condgen_top_images.rst",
            category="Conditional generation",
            labels={"figure": "best images"},
        ),
    log:
        "logs/plot_condgen/top_images.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        arrays=condgen_arrays_by_target,
    script:
        "../workflow_scripts/plot_condgen_top_images.py"
