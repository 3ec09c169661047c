"""The thesis at its own DAG, on a CPU: ``configs/thesis.yaml`` with the smoke overlay, on data
in the real layouts, through the real snakemake, report included.

A researcher's real use is ``snakemake --configfile configs/thesis.yaml --cores 8 --resources
gpu=1`` on CelebA-Dialog and full MNIST that they bring. This runs the same config, with every
size shrunk by ``configs/smoke.yaml``, on:

- a CelebA-Dialog tree in the real layout (``tests/celeba_tree.py``): 178x218 JPEGs in
  ``data/raw/celeba/img_align_celeba/`` (the first 430 images; the label files list all
  202,599), ``combined_annotation.txt`` with its header, Windows line ends and trailing
  spaces, 21 unlabelled rows (9 of them among the first 430), the three split lists and
  ``list_eval_partition.txt``, all where ``configs/thesis.yaml`` looks for them;
- full MNIST as the four gzipped IDX files (60,000 + 10,000 digits: the 5,000 embedded ones
  repeated).

Every thesis experiment (digits 2-D and 16-D, the CelebA VAE, the VQ-VAE, the three SN-GAN
runs) must produce its tables and figures with the thesis's model types.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from celeba_tree import write_dialog_tree, write_mnist_idx
from helpers import run_command, snakemake_command
from lso.tasks.digits.mnist import load_mnist

pytestmark = pytest.mark.thesis

REPO = Path(__file__).resolve().parents[1]
CONFIGS = [REPO / "configs" / "thesis.yaml", REPO / "configs" / "smoke.yaml"]
THESIS = yaml.safe_load(CONFIGS[0].read_text())
CELEBA_ROWS = 202_599  # images listed by CelebA-Dialog's label files
IMAGES = 430  # images written: the smoke run keeps the first 400 labelled ones
# 21 unlabelled rows, as in the real combined file: some among the images a smoke run reads
UNLABELLED = {
    **{index: "" for index in (3, 40, 41, 200, 399)},
    **{index: "-1 -1 -1 -1 -1" for index in (17, 120, 250, 401)},
    **{CELEBA_ROWS - 1 - 997 * k: ("" if k % 2 else "-1 -1 -1 -1 -1") for k in range(12)},
}
RUN_TIMEOUT = 2400  # seconds: 100 jobs, about 9 CPU-minutes (5 minutes on 2 idle cores)


def write_thesis_data(workdir: Path) -> None:
    """The data where configs/thesis.yaml expects them, in the layouts users bring."""
    dialog = THESIS["datasets"]["celeba_dialog"]
    write_dialog_tree(
        workdir / dialog["path"],
        IMAGES,
        unlabelled=UNLABELLED,
        listed=CELEBA_ROWS,
        image_dir=workdir / dialog["image_dir"],
    )
    images, labels = load_mnist("embedded")
    repeats = 14  # 70,000 digits
    write_mnist_idx(
        workdir / THESIS["datasets"]["mnist3_full"]["path"],
        np.tile(images, (repeats, 1, 1)),
        np.tile(labels, repeats),
        n_train=60_000,
    )


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = snakemake_command(workdir, CONFIGS, "--cores", "2", *args)
    return run_command(command, RUN_TIMEOUT)


@pytest.fixture(scope="module")
def thesis_run(tmp_path_factory) -> dict:
    workdir = tmp_path_factory.mktemp("thesis")
    write_thesis_data(workdir)
    start = time.perf_counter()
    result = snakemake(workdir)
    seconds = time.perf_counter() - start
    snakemake(workdir, "--report", str(workdir / "report.html"))
    print(f"configs/thesis.yaml + configs/smoke.yaml: {seconds:.0f} s")
    return {"workdir": workdir, "log": result.stdout + result.stderr, "seconds": seconds}


def test_every_thesis_experiment_makes_its_tables_and_figures(thesis_run: dict) -> None:
    results = thesis_run["workdir"] / "results"
    summary = pd.read_csv(results / "tables" / "summary.csv")
    assert sorted(summary.experiment) == sorted(THESIS["experiments"])  # one seed each
    assert (summary.queries >= 1).all() and (summary.queries <= 4).all()
    faces = summary.experiment.str.startswith("celeba")
    assert summary.loc[faces, "judge_top_mean"].notna().all()
    assert (summary.loc[faces, "queries"] == 4).all()
    gans = summary.experiment.str.startswith("celeba_sngan")
    assert (summary.loc[gans, "oracle_evaluations"] == 2 * 16).all()  # 16 samples, 2 retrainings
    mean_std = pd.read_csv(results / "tables" / "summary_mean_std.csv")
    assert set(mean_std.experiment) == set(THESIS["experiments"])
    figures = [f"comparisons/{name}.png" for name in THESIS["comparisons"]]
    for name, experiment in THESIS["experiments"].items():
        folder = f"experiments/{name}"
        figures += [f"{folder}/best_images.png", f"{folder}/diagnostics.png"]
        model = THESIS["models"][experiment["model"]]
        if model.get("latent_dim") == 2:
            figures.append(f"{folder}/latent_snapshots.png")
        if name.startswith("celeba"):
            figures.append(f"{folder}/headline.png")
        if model["type"] == "sn_gan":
            figures.append(f"{folder}/discriminator_scores.png")
    for name in THESIS["models"]:
        figures += [f"models/{name}/training.png", f"models/{name}/samples.png"]
    figures += [f"predictors/{role}/reliability.png" for role in ("black_box", "judge")]
    figures.append("datasets/mnist3_full/weight_distribution.png")
    missing = [f for f in figures if not (results / "figures" / f).is_file()]
    assert not missing, missing
    for figure in figures:
        assert (results / "figures" / figure).stat().st_size > 1000, figure


def test_the_models_are_the_thesis_types(thesis_run: dict) -> None:
    for name, model in THESIS["models"].items():
        checkpoint = torch.load(
            thesis_run["workdir"] / "results" / "models" / name / "model.pt", weights_only=True
        )
        assert checkpoint["hparams"]["latent_dim"] == model["latent_dim"], name
        assert checkpoint["class"] == model["type"], name


def test_the_run_is_marked_as_a_smoke_run(thesis_run: dict) -> None:
    workdir = thesis_run["workdir"]
    assert "SMOKE RUN" in thesis_run["log"]
    for run_json in (workdir / "results" / "opt").glob("*/seed*/run.json"):
        assert json.loads(run_json.read_text())["settings"]["smoke"] is True, run_json
    assert "SMOKE RUN: not a result" in (workdir / "report.html").read_text(errors="replace")


def test_the_data_were_read_in_their_real_layout(thesis_run: dict) -> None:
    workdir = thesis_run["workdir"]
    prepare = (workdir / "logs" / "prepare_data" / "celeba_dialog.log").read_text()
    assert "skipped 21 unlabelled rows" in prepare
    assert f"keeping 400 of {CELEBA_ROWS - 21} labelled faces" in prepare
    faces = np.load(workdir / "data" / "processed" / "celeba_dialog.npz")
    assert faces["images"].shape == (400, 3, 64, 64) and faces["images"].dtype == np.uint8
    assert faces["val"].any()  # the partition holds out none of the first 400: a random 10 %
    digits = np.load(workdir / "data" / "processed" / "mnist3_full.npz")
    kept = len(digits["train_images"]) + len(digits["val_images"])
    assert 380 <= kept < 400  # the first 400 threes less the thickest 5 % (ties are kept)
