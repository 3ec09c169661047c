rule train_joint:
    input:
        dataset=lambda wildcards: f"data/processed/{CONDGEN.dataset}.npz",
        code=code("train_joint.py", MODELS.module("joint_vae")),
    output:
        checkpoint="results/models/joint_{predictor}/model.pt",
        train_log="results/models/joint_{predictor}/train_log.csv",
    log:
        "logs/train_joint/{predictor}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=4000,
    params:
        spec=lambda wildcards: CONDGEN.training,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/train_joint.py"


rule condgen_bo:
    input:
        joint=lambda wildcards: f"results/models/joint_{CONDGEN.bo_model}/model.pt",
        classifier="results/models/classifier/model.pt",
        code=code("condgen_bo.py", *CONDGEN_MODEL_MODULES),
    output:
        "results/condgen/target{target}/seed{seed}.npz",
    log:
        "logs/condgen_bo/target{target}/seed{seed}.log",
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=2000,
    params:
        spec=lambda wildcards: CONDGEN.search,
        target=lambda wildcards: int(wildcards.target),
        seed=lambda wildcards: int(wildcards.seed),
        binarise=CLASSIFIER_BINARISED,
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/condgen_bo.py"


rule condgen_table:
    input:
        runs=condgen_runs(),
        code=code("condgen_table.py"),
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
    params:
        probability=lambda wildcards: CONDGEN.probability,
    script:
        "../workflow_scripts/condgen_table.py"


rule plot_condgen_latent_spaces:
    input:
        joints=expand("results/models/joint_{predictor}/model.pt", predictor=PREDICTORS),
        dataset=lambda wildcards: f"data/processed/{CONDGEN.dataset}.npz",
        code=code("plot_condgen_latent_spaces.py", MODELS.module("joint_vae")),
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
        bounds=lambda wildcards: CONDGEN.search.bounds,
    script:
        "../workflow_scripts/plot_condgen_latent_spaces.py"


rule plot_condgen_landscapes:
    input:
        joint=rules.condgen_bo.input.joint,
        classifier="results/models/classifier/model.pt",
        code=code("plot_condgen_landscapes.py", *CONDGEN_MODEL_MODULES),
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
        targets=lambda wildcards: list(CONDGEN.targets),
        bounds=lambda wildcards: CONDGEN.search.bounds,
        grid_len=lambda wildcards: CONDGEN.landscape_grid_len,
        binarise=CLASSIFIER_BINARISED,
    script:
        "../workflow_scripts/plot_condgen_landscapes.py"


rule plot_condgen_bo_run:
    input:
        run="results/condgen/target{target}/seed{seed}.npz",
        code=code("plot_condgen_bo_run.py"),
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
        grid_len=lambda wildcards: CONDGEN.landscape_grid_len,
    script:
        "../workflow_scripts/plot_condgen_bo_run.py"


rule plot_condgen_top_images:
    input:
        runs=condgen_runs(),
        code=code("plot_condgen_top_images.py"),
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
        runs=condgen_runs_by_target,
    script:
        "../workflow_scripts/plot_condgen_top_images.py"
