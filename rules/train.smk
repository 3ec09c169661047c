rule pretrain:
    input:
        dataset=model_dataset,
        feature_network=pretrain_feature_network,
        code=pretrain_code,
    output:
        checkpoint="results/models/{model}/model.pt",
        train_log="results/models/{model}/train_log.csv",
        samples="results/models/{model}/samples.npz",
    log:
        "logs/pretrain/{model}.log",
    wildcard_constraints:
        model=names_pattern(SETTINGS.models),
    conda:
        "../envs/lso.yaml"
    threads: 1
    resources:
        gpu=GPU,
        mem_mb=data_memory(3, 4000),
    params:
        spec=lambda wildcards: SETTINGS.models[wildcards.model],
        device=SETTINGS.device,
        precision=SETTINGS.precision,
    script:
        "../workflow_scripts/pretrain.py"
