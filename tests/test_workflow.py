"""The real thing: the snakemake binary running the workflow on .test/config.yaml.

One module-scoped run builds the whole DAG in a temporary directory; the tests then check its
outputs, that an immediate rerun has nothing to do, that a plot setting reruns only plot jobs,
the report, the linter, config errors, and resuming a killed optimisation job.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml

from celeba_tree import write_dialog_tree
from lso.config.parse import parse_config

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
TEST_CONFIG = REPO / ".test" / "config.yaml"
TEST_SETTINGS = parse_config(yaml.safe_load(TEST_CONFIG.read_text()))


def snakemake(
    workdir: Path, *args: str, config: Path = TEST_CONFIG, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """Run the snakemake binary on the repository's Snakefile inside ``workdir``, or on the
    private copy of the workflow in ``workdir/workflow`` (with its own library) if it has one."""
    repo = workdir / "workflow" if (workdir / "workflow" / "Snakefile").is_file() else REPO
    if repo != REPO:
        kwargs["env"] = {**os.environ, "PYTHONPATH": str(repo / "src")}
    command = [
        SNAKEMAKE,
        "--snakefile",
        str(repo / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        "--cores",
        "2",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def jobs_to_run(workdir: Path, *args: str, config: Path = TEST_CONFIG) -> set[str]:
    """Names of the rules a dry run would execute."""
    return {rule for rule, _ in planned_jobs(workdir, *args, config=config)}


def planned_jobs(workdir: Path, *args: str, config: Path = TEST_CONFIG) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run would execute, e.g. ("optimize",
    "experiment=vae_wr, seed=1"); wildcards are "" for rules without any."""
    out = snakemake(workdir, "--dry-run", *args, config=config).stdout
    jobs: list[tuple[str, str]] = []
    for line in out.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line)
        if match:
            jobs.append((match.group(1), ""))
        elif line.strip().startswith("wildcards:") and jobs:
            jobs[-1] = (jobs[-1][0], line.split(":", 1)[1].strip())
    return jobs


def changed_config(tmp_path: Path, edit) -> Path:
    """A copy of the test config with ``edit`` applied."""
    config = yaml.safe_load(TEST_CONFIG.read_text())
    edit(config)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


WORKFLOW_FILES = ("Snakefile", "rules", "schemas", "workflow_scripts", "src", "report", "envs")


def copy_workflow(workdir: Path) -> None:
    """A private copy of the workflow and its library in ``workdir/workflow``: tests may edit
    its code without touching the repository."""
    for name in WORKFLOW_FILES:
        source, target = REPO / name, workdir / "workflow" / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, target, ignore=ignore)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@contextmanager
def edited(workdir: Path, relative: str):
    """The private copy's library file ``relative`` (under src/lso), edited (a comment added:
    Snakemake also compares checksums, so touching is not enough); restored afterwards."""
    path = workdir / "workflow" / "src" / "lso" / relative
    original, before = path.read_bytes(), path.stat()
    path.write_bytes(original + b"\n# edited by a test\n")
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("workflow")
    copy_workflow(workdir)
    snakemake(workdir)
    return workdir


def test_whole_dag_produces_every_output(finished_run: Path) -> None:
    results = finished_run / "results"
    summary = pd.read_csv(results / "tables" / "summary.csv")
    experiments = TEST_SETTINGS.experiments
    assert sorted(zip(summary.experiment, summary.seed, strict=True)) == sorted(
        (name, seed) for name, experiment in experiments.items() for seed in experiment.seeds
    )
    assert (summary.queries == summary.experiment.map(lambda e: experiments[e].run.budget)).all()
    assert {"final_top1", "final_top3_mean", "wall_seconds", "validity", "frechet_distance"} <= set(
        summary.columns
    )
    model_types = summary.experiment.map(lambda e: TEST_SETTINGS.models[experiments[e].model].type)
    is_gan = model_types == "sn_gan"
    on_digits = summary.experiment.map(lambda e: experiments[e].run.objective == "thickness")
    assert summary.validity[on_digits].between(0, 1).all()
    assert summary.judge_top_mean[~on_digits].notna().all()
    assert (summary.frechet_distance >= 0).all()
    # the GAN's surrogate data: 16 generated samples scored per retraining, 2 retrainings
    assert (summary.oracle_evaluations[is_gan] == 32).all()
    assert summary.budget_spent.all()  # every run spent its budget (else it is flagged)
    mean_std = pd.read_csv(results / "tables" / "summary_mean_std.csv")
    assert set(mean_std.experiment) == set(summary.experiment)
    assert (mean_std.runs_short_of_budget == 0).all()
    assert {"kid_x1000", "queries_spearman_rho"} <= set(summary.columns)
    paired = pd.read_csv(results / "tables" / "paired" / "ablation.csv")
    assert set(paired.experiment) == {"vae_wr"} and (paired.seeds == 2).all()
    robustness = pd.read_csv(results / "tables" / "predictor_robustness.csv")
    assert set(robustness.predictor) == {"black box", "judge"}
    assert robustness.mean_abs_change.notna().all()
    models = pd.read_csv(results / "tables" / "faces_models.csv")
    assert set(models.model) == {"tiny_face_vae", "tiny_face_gan", "tiny_face_vq"}
    assert {"samples_kid_x1000", "blur2_fd", "halves_fd"} <= set(models.columns)
    agreement = pd.read_csv(results / "tables" / "faces_agreement.csv")
    assert agreement.faces.iloc[0] == "validation faces" and len(agreement) >= 4
    # only LOL-BO recentres, and its recentred points are among the budget's queries
    assert (summary.recentering_evaluations[summary.experiment != "vae16_lolbo"] == 0).all()
    lolbo = pd.read_csv(results / "opt" / "vae16_lolbo" / "seed1" / "diagnostics.csv")
    assert lolbo.trust_region_length.notna().all()
    for name, comparison in TEST_SETTINGS.comparisons.items():
        table = pd.read_csv(results / "tables" / "comparisons" / f"{name}.csv")
        assert list(table.experiment) == list(comparison.experiments)
    diagnostics = pd.read_csv(results / "opt" / "vae16_gp" / "seed1" / "diagnostics.csv")
    assert diagnostics.surrogate_fit_seconds.gt(0).all()
    assert diagnostics.predictive_log_likelihood.notna().all()
    condgen = pd.read_csv(results / "tables" / "condgen.csv")
    assert list(condgen.target) == [3] and list(condgen.evaluations) == [5]
    assert condgen.best_probability.between(0, 1).all()
    figures = [
        "comparisons/ablation.png",
        "experiments/vae_wr/best_images.png",
        "experiments/vae_wr/latent_snapshots.png",
        "experiments/vae16_gp/diagnostics.png",
        "models/tiny_rae/training.png",
        "models/classifier/training.png",
        "datasets/tiny3/weight_distribution.png",
        "condgen/latent_spaces.png",
        "condgen/objective_landscapes.png",
        "condgen/bo_run_target3_seed1.png",
        "condgen/top_images.png",
        "experiments/faces_wr/headline.png",
        "experiments/gan_nas/discriminator_scores.png",
        "models/tiny_face_gan/training.png",
        "models/tiny_face_gan/samples.png",
        "models/tiny_vae/samples.png",
        "models/tiny_vae16/samples.png",
        "predictors/judge/reliability.png",
    ]
    for figure in figures:
        assert (results / "figures" / figure).stat().st_size > 1000, figure
    assert (results / "models" / "tiny_vae" / "model.pt").is_file()
    assert not list((results / "opt").glob("**/.*.resume.pt")), "resume states were left behind"


def test_rerun_has_nothing_to_do(finished_run: Path) -> None:
    result = snakemake(finished_run, "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_plot_setting_reruns_only_plot_jobs(finished_run: Path, tmp_path: Path) -> None:
    changed = changed_config(tmp_path, lambda c: c["plots"].update(n_best_images=2))
    assert jobs_to_run(finished_run, config=changed) == {"plot_best_images", "all"}


def test_retraining_setting_reruns_only_its_experiment(finished_run: Path, tmp_path: Path) -> None:
    changed = changed_config(
        tmp_path, lambda c: c["experiments"]["rae_wr"].update(retrain_epochs=0.2)
    )
    jobs = planned_jobs(finished_run, config=changed)
    assert [w for rule, w in jobs if rule == "optimize"] == ["experiment=rae_wr, seed=1"]
    assert "pretrain" not in {rule for rule, _ in jobs}


def test_adding_a_seed_runs_one_optimisation(finished_run: Path, tmp_path: Path) -> None:
    config = changed_config(tmp_path, lambda c: c["experiments"]["vae_wr"].update(seeds=[1, 2, 3]))
    jobs = planned_jobs(finished_run, config=config)
    counts = Counter(rule for rule, _ in jobs)
    assert [w for rule, w in jobs if rule == "optimize"] == ["experiment=vae_wr, seed=3"]
    # the new run is judged, and what summarises vae_wr is redrawn (its paired comparison
    # too, but not the faces tables); nothing is retrained
    assert set(counts) == {
        "optimize",
        "evaluate_validity",
        "summarise",
        "paired_table",
        "plot_best_images",
        "plot_diagnostics",
        "plot_latent_snapshots",
        "plot_comparison",
        "comparison_table",
        "all",
    }
    assert max(counts.values()) == 1


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["condgen"].update(landscape_grid_len=7),
            {"plot_condgen_landscapes", "plot_condgen_bo_run", "all"},
        ),
        (lambda c: c["condgen"].update(probability=0.5), {"condgen_table", "all"}),
        (
            lambda c: c["plots"].update(top_k=[1, 2]),
            {"summarise", "plot_comparison", "paired_table", "comparison_table", "all"},
        ),
    ],
    ids=["condgen-figure-resolution", "condgen-success-threshold", "top-k"],
)
def test_a_figure_or_table_setting_reruns_only_that_output(
    finished_run: Path, tmp_path: Path, edit, expected: set[str]
) -> None:
    assert jobs_to_run(finished_run, config=changed_config(tmp_path, edit)) == expected


def runs_using(predicate) -> list[str]:
    """The optimisation jobs ("experiment=..., seed=...") of experiments matching ``predicate``."""
    return sorted(
        f"experiment={name}, seed={seed}"
        for name, experiment in TEST_SETTINGS.experiments.items()
        if predicate(experiment.run)
        for seed in experiment.seeds
    )


def surrogate_type(run) -> str | None:
    return run.optimizer.surrogate.type if run.optimizer.surrogate is not None else None


@pytest.mark.parametrize("surrogate", ["gp", "dngo", "trees"])
def test_editing_a_surrogate_reruns_exactly_the_runs_that_use_it(
    finished_run: Path, surrogate: str
) -> None:
    with edited(finished_run, f"surrogates/{surrogate}.py"):
        jobs = planned_jobs(finished_run)
    optimised = sorted(w for rule, w in jobs if rule == "optimize")
    assert optimised == runs_using(lambda run: surrogate_type(run) == surrogate)
    assert optimised  # the .test config has a run of every surrogate type
    rules = {rule for rule, _ in jobs}
    assert not rules & {"pretrain", "train_classifier", "train_joint", "condgen_bo"}


def figure_modules() -> list[str]:
    return sorted(p.name for p in (REPO / "src" / "lso" / "figures").glob("*.py"))


@pytest.mark.parametrize("module", figure_modules())
def test_editing_figure_code_reruns_figures_only(finished_run: Path, module: str) -> None:
    """Training steps save arrays and figure jobs draw them: a figure edit retrains nothing."""
    with edited(finished_run, f"figures/{module}"):
        rules = jobs_to_run(finished_run)
    computing = {"pretrain", "optimize", "train_classifier", "train_predictor", "train_joint"}
    computing |= {"condgen_bo", "evaluate_faces", "evaluate_validity", "prepare_data"}
    computing |= {"score_data", "score_faces"}
    assert not rules & computing, rules
    assert rules - {"all"}, "a figure module no figure job depends on"


def test_editing_condgen_figures_reruns_no_search(finished_run: Path) -> None:
    with edited(finished_run, "figures/condgen.py"):
        rules = jobs_to_run(finished_run)
    assert rules == {
        "plot_condgen_latent_spaces",
        "plot_condgen_landscapes",
        "plot_condgen_bo_run",
        "plot_condgen_top_images",
        "all",
    }


def test_report_builds(finished_run: Path) -> None:
    report = finished_run / "report.html"
    snakemake(finished_run, "--report", str(report))
    html = report.read_text(errors="replace")
    assert report.stat().st_size > 100_000
    assert "weighted retraining" in html.lower()


def test_lint_is_clean(tmp_path: Path) -> None:
    result = snakemake(tmp_path, "--lint")
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["experiments"]["vae_wr"].update(weighting={"type": "magic"}), "magic"),
        (lambda c: c["experiment_defaults"].update(budget=-5), "budget"),
        (lambda c: c["experiment_defaults"].update(retrain_every=0), "retrain_every"),
        (lambda c: c["datasets"]["tiny3"].update(source="idx", path="no/such/dir"), "no/such/dir"),
        (lambda c: c["experiments"]["vae_wr"].update(model="missing_model"), "missing_model"),
        (
            lambda c: c["experiments"]["vae16_dngo_lso"]["optimizer"].update(n_starts=4),
            "experiments.vae16_dngo_lso.optimizer: Additional properties are not allowed "
            "('n_starts' was unexpected)",
        ),
    ],
    ids=[
        "unknown-weighting",
        "negative-budget",
        "r-zero",
        "missing-data",
        "unknown-model",
        "foreign-optimizer-key",
    ],
)
def test_invalid_config_stops_before_any_job(tmp_path: Path, edit, message: str) -> None:
    result = snakemake(tmp_path, config=changed_config(tmp_path, edit), check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()


def _resume_config(tmp_path: Path) -> Path:
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["experiments"] = {"long": {"model": "tiny_vae", "budget": 45, "seeds": [1]}}
    config["comparisons"] = {}
    for section in ("classifier", "condgen"):
        config.pop(section)
    path = tmp_path / "resume.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_killed_optimisation_resumes_to_the_same_queries(tmp_path: Path) -> None:
    config = _resume_config(tmp_path)
    target = "results/opt/long/seed1/queries.csv"
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    reference_dir.mkdir(), killed_dir.mkdir()
    snakemake(reference_dir, target, config=config)

    snakemake(killed_dir, "results/models/tiny_vae/model.pt", config=config)
    state = killed_dir / "results" / "opt" / "long" / ".seed1.resume.pt"
    job = subprocess.Popen(
        [
            SNAKEMAKE,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(killed_dir),
            "--configfile",
            str(config),
            "--cores",
            "1",
            target,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, to kill it with its job
    )
    deadline = time.monotonic() + 120
    while not state.exists() and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.02)
    assert state.exists(), "the optimisation job never saved a resume state"
    os.killpg(job.pid, signal.SIGKILL)  # snakemake and its job, as a killed cluster job
    job.wait(timeout=60)
    assert job.returncode != 0
    assert not (killed_dir / target).exists() and state.exists()

    snakemake(killed_dir, "--unlock", config=config)  # as after any killed Snakemake
    snakemake(killed_dir, target, config=config)
    log = (killed_dir / "logs" / "optimize" / "long" / "seed1.log").read_text()
    assert "resuming from" in log
    reference = pd.read_csv(reference_dir / target).drop(columns="seconds")
    resumed = pd.read_csv(killed_dir / target).drop(columns="seconds")
    pd.testing.assert_frame_equal(reference, resumed)


def test_running_from_the_repository_root_uses_only_the_given_config() -> None:
    """Snakemake merges config files; this workflow replaces config.yaml by --configfile."""
    result = subprocess.run(
        [SNAKEMAKE, "--configfile", str(TEST_CONFIG), "--cores", "1", "--dry-run"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert "experiment=vae_wr" in result.stdout
    assert "vae_k1e-3_r5" not in result.stdout


def test_default_config_plans_every_experiment() -> None:
    """The default pipeline (config.yaml) is a valid DAG with every kind of job in it."""
    result = subprocess.run(
        [SNAKEMAKE, "--cores", "2", "--dry-run", "--forceall"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    for rule in ("optimize", "train_classifier", "train_joint", "condgen_bo", "evaluate_validity"):
        assert f"rule {rule}:" in result.stdout or f"localrule {rule}:" in result.stdout, rule
    for experiment in ("vae_k1e-3_r5", "vae16_gp_k1e-3_r5", "vae16_dngo_kinf_rinf"):
        assert f"experiment={experiment}" in result.stdout


def _dialog_config(tmp_path: Path, root: Path) -> Path:
    """The test config with its faces read from a CelebA-Dialog tree at ``root``."""

    def use_dialog(config):
        config["datasets"]["tiny_faces"] = {
            "source": "celeba_dialog",
            "path": str(root),
            "image_dir": str(root / "img_align_celeba"),
            "n_images": None,
            "workers": 1,
            "val_fraction": 0.2,
        }

    return changed_config(tmp_path, use_dialog)


def test_the_files_a_user_brings_are_inputs_of_their_preparation(tmp_path: Path) -> None:
    """Fixing a label file in place, or rewriting an image, reruns the preparation (and so
    everything after it); 200,000 images are one manifest, not 200,000 DAG inputs."""
    root = write_dialog_tree(tmp_path / "celeba_dialog", 40)
    config = _dialog_config(tmp_path, root)
    workdir = tmp_path / "work"
    target = "data/processed/tiny_faces.npz"
    snakemake(workdir, target, config=config)
    assert jobs_to_run(workdir, target, config=config) == set()
    labels = root / "combined_annotation.txt"
    lines = labels.read_bytes().split(b"\r\n")
    fields = lines[3].split(b" ")
    fields[4] = b"0" if fields[4] != b"0" else b"1"  # a corrected Smiling level
    lines[3] = b" ".join(fields)
    labels.write_bytes(b"\r\n".join(lines))
    assert jobs_to_run(workdir, target, config=config) == {"prepare_data"}
    snakemake(workdir, target, config=config)
    image = root / "img_align_celeba" / "000007.jpg"
    image.write_bytes(image.read_bytes())  # rewritten in place: a new modification time
    assert jobs_to_run(workdir, target, config=config) == {"list_images", "prepare_data"}
    planned = jobs_to_run(workdir, config=config)
    assert {"prepare_data", "pretrain", "train_predictor", "optimize"} <= planned


@pytest.mark.parametrize("section", ["validity", "face_evaluation"])
def test_a_missing_feature_network_stops_before_any_job(tmp_path: Path, section: str) -> None:
    config = changed_config(
        tmp_path, lambda c: c.setdefault(section, {}).update(feature_network="/nonexistent/net.pt")
    )
    result = snakemake(tmp_path, config=config, check=False)
    assert result.returncode != 0
    assert f"{section}.feature_network '/nonexistent/net.pt': no such file" in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()


def rules_handed_the_device(config: Path, workdir: Path) -> dict[str, bool]:
    """Rule name -> whether its params include ``device`` (read from the parsed workflow)."""
    return {rule: "device" in params for rule, params in rule_params(config, workdir).items()}


def rule_params(config: Path, workdir: Path) -> dict[str, set[str]]:
    """Rule name -> the names of its params (read from the parsed workflow)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
    )

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[config]),
            snakefile=REPO / "Snakefile",
            workdir=workdir,
        )
        parsed = workflow.dag(DAGSettings(forceall=True)).workflow_api._workflow
        return {rule.name: set(rule.params.keys()) for rule in parsed.rules}


def test_every_rule_handed_the_device_is_handed_the_precision(tmp_path: Path) -> None:
    """bf16 autocast applies wherever a network runs on the device (config precision)."""
    params = rule_params(TEST_CONFIG, tmp_path)
    assert {r for r, p in params.items() if "device" in p} == {
        r for r, p in params.items() if "precision" in p
    }


def gpu_requests(workdir: Path, config: Path) -> dict[str, set[int]]:
    """Rule name -> the ``gpu`` resource its jobs request in a dry run of the whole DAG."""
    out = snakemake(workdir, "--dry-run", "--forceall", config=config).stdout
    requests: dict[str, set[int]] = {}
    rule = None
    for line in out.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line)
        if match:
            rule = match.group(1)
            requests.setdefault(rule, set())
        elif line.strip().startswith("resources:") and rule is not None:
            gpu = re.search(r"\bgpu=(\d+)", line)
            requests[rule].add(int(gpu.group(1)) if gpu else 0)
    return requests


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_exactly_the_jobs_handed_the_device_ask_for_a_gpu(tmp_path: Path, device: str) -> None:
    """Derived from the rules, so a new rule cannot forget it: with a GPU device every rule
    that runs a network on the device requests one GPU and no other rule does; on the CPU no
    job requests one."""
    config = changed_config(tmp_path, lambda c: c.update(device=device))
    handed = rules_handed_the_device(config, tmp_path)
    requests = gpu_requests(tmp_path, config)
    assert set(requests) - {"all"} <= set(handed)
    for rule, values in requests.items():
        expected = int(handed.get(rule, False) and device != "cpu")
        assert values == {expected}, f"{rule} requests gpu={values}, expected {expected}"
    assert {"pretrain", "optimize", "evaluate_faces", "condgen_bo"} <= {
        rule for rule, on_device in handed.items() if on_device
    }
