"""profiles/slurm for real: part of the .test DAG on a single-node SLURM cluster on this machine.

tests/slurm/start_local_cluster.sh starts the cluster (root and Debian's slurm-wlm and munge
needed; the module is skipped without them or without snakemake-executor-plugin-slurm). The
same targets then run locally and through ``--workflow-profile profiles/slurm`` in two
directories; the results must be equal, apart from wall times, and every job must have gone
through SLURM with the profile's resources.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import run_command, snakemake_command
from lso.resources import memory_mb, npz_megabytes, prepared_megabytes

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
TEST_CONFIG = REPO / ".test" / "config.yaml"
PROFILE = REPO / "profiles" / "slurm"
START = REPO / "tests" / "slurm" / "start_local_cluster.sh"
STOP = REPO / "tests" / "slurm" / "stop_local_cluster.sh"
PARTITION = "debug"  # the partition start_local_cluster.sh creates
JOBNAME_PREFIX = "lso_slurm_test"
TARGET = "results/tables/summary.csv"
EXPECTED_JOBS = {"prepare_data": 1, "pretrain": 2, "optimize": 2, "summarise": 1}
# Seconds: the whole DAG takes about two minutes through SLURM on 2 cores.
RUN_TIMEOUT = 900
SLURM_COMMAND_TIMEOUT = 30


@pytest.fixture(scope="module")
def slurm_cluster():
    """Start the local cluster (idempotent); stop it afterwards if this fixture started it."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed")
    try:
        started = subprocess.run(
            ["bash", str(START)], capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{START} did not finish in 120 s:\n{error.stdout}\n{error.stderr}")
    if started.returncode == 3:  # not root, binaries missing, a foreign slurm.conf
        pytest.skip(f"no local SLURM cluster: {started.stderr.strip()}")
    if started.returncode != 0:
        pytest.fail(f"{START} failed:\n{started.stdout}\n{started.stderr}")
    yield
    _cancel_test_jobs()
    if "starting slurmctld" in started.stdout:
        subprocess.run(["bash", str(STOP)], capture_output=True, timeout=60, check=False)


def _slurm(*command: str) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=SLURM_COMMAND_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)} failed: {result.stderr}"
    return result.stdout


def _cancel_test_jobs() -> None:
    """Cancel this module's jobs left queued or running (after a timeout, say)."""
    listing = subprocess.run(
        ["squeue", "--noheader", "--format=%i %j"],
        capture_output=True,
        text=True,
        timeout=SLURM_COMMAND_TIMEOUT,
        check=False,
    ).stdout
    ids = [
        job_id
        for job_id, name in (line.split(maxsplit=1) for line in listing.splitlines() if line)
        if name.startswith(JOBNAME_PREFIX)
    ]
    if ids:
        subprocess.run(["scancel", *ids], timeout=SLURM_COMMAND_TIMEOUT, check=False)


def _reduced_config(directory: Path, device: str = "cpu") -> Path:
    """Two experiments of one seed each and no classifier: 6 jobs, 4 in a chain."""
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["device"] = device
    config["experiments"] = {
        "vae_wr": {**config["experiments"]["vae_wr"], "seeds": [1]},
        "rae_wr": config["experiments"]["rae_wr"],
    }
    config["comparisons"] = {}
    for section in ("classifier", "condgen"):
        config.pop(section)
    path = directory / f"slurm_{device}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _profile() -> dict:
    return yaml.safe_load((PROFILE / "config.yaml").read_text())


def _resource(name: str, value) -> str:
    return f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"


def _resource_overrides() -> list[str]:
    """The profile's resources with this cluster's partition and no account.

    A --default-resources or --set-resources on the command line replaces the profile's
    whole section, so the profile's other entries are repeated here.
    """
    profile = _profile()
    defaults = {**profile["default-resources"], "slurm_partition": PARTITION}
    defaults.pop("slurm_account")  # the test cluster has no accounting, hence no accounts
    # .test/config.yaml says device: cpu, so no rule asks for a GPU this cluster lacks
    per_rule = {rule: dict(values) for rule, values in profile.get("set-resources", {}).items()}
    for values in per_rule.values():  # a GPU job's CPUs must fit this node
        if "cpus_per_gpu" in values:
            values["cpus_per_gpu"] = min(values["cpus_per_gpu"], os.cpu_count() or 1)
    return [
        "--default-resources",
        *(_resource(name, value) for name, value in defaults.items()),
        "--set-resources",
        *(
            f"{rule}:{_resource(name, value)}"
            for rule, values in per_rule.items()
            for name, value in values.items()
        ),
    ]


def _run(
    workdir: Path, config: Path, *args: str, targets: tuple[str, ...] = (TARGET,), check=True
) -> subprocess.CompletedProcess:
    command = snakemake_command(workdir, [config], *args, targets=targets)
    return run_command(command, RUN_TIMEOUT, check)


def _slurm_args() -> list[str]:
    return [
        "--workflow-profile",
        str(PROFILE),
        *_resource_overrides(),
        "--slurm-jobname-prefix",
        JOBNAME_PREFIX,
        # The plugin polls after this many seconds, then 10 s longer each time no job ended
        # (default 40 s): faster on short test jobs.
        "--slurm-init-seconds-before-status-checks",
        "2",
    ]


@pytest.fixture(scope="module")
def runs(slurm_cluster, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("slurm")
    config = _reduced_config(base)
    local, slurm = base / "local", base / "slurm"
    local.mkdir(), slurm.mkdir()
    _run(local, config, "--cores", "2")
    submitted = _run(slurm, config, *_slurm_args())
    return {"local": local, "slurm": slurm, "log": submitted.stdout + submitted.stderr}


def _without_timings(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path)
    return table.drop(columns=[column for column in table.columns if "seconds" in column])


def test_slurm_results_equal_local_results(runs: dict) -> None:
    local, slurm = runs["local"] / "results", runs["slurm"] / "results"
    tables = sorted(path.relative_to(local) for path in local.rglob("*.csv"))
    assert tables == sorted(path.relative_to(slurm) for path in slurm.rglob("*.csv"))
    assert Path("tables/summary.csv") in tables
    assert len([t for t in tables if t.name == "queries.csv"]) == 2
    for table in tables:
        pd.testing.assert_frame_equal(
            _without_timings(local / table),
            _without_timings(slurm / table),
            check_exact=True,
            obj=str(table),
        )
    summary = pd.read_csv(slurm / "tables" / "summary.csv")
    assert sorted(summary.experiment) == ["rae_wr", "vae_wr"]


def _slurm_minutes(minutes: int) -> str:
    days, rest = divmod(int(minutes), 24 * 60)
    hours, minutes = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:00"
    return f"{days}-{clock}" if days else clock


def _job(job_id: str) -> dict[str, str]:
    """``scontrol show job -d`` of one job as fields (JOB_GRES: the GPUs it was allocated)."""
    shown = _slurm("scontrol", "show", "job", "--details", "--oneliner", job_id)
    return dict(re.findall(r"(\w+)=(\S*)", shown))


def _rule(fields: dict[str, str]) -> str:
    return re.fullmatch(r"rule_(\w+?)(?:_wildcards_.*)?", fields["Comment"]).group(1)


def _asks_for_a_gpu(fields: dict[str, str]) -> bool:
    """Whether a job asked for (TresPerJob) or was given (JOB_GRES) a GPU."""
    return "gpu" in fields.get("TresPerJob", "") or fields.get("JOB_GRES", "(null)") != "(null)"


def _megabytes(memory: str) -> int:
    """SLURM's 4011M or 4G as megabytes."""
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([MGT])", memory).groups()
    return round(float(number) * {"M": 1, "G": 1024, "T": 1024**2}[unit])


def _requested_memory(log: str) -> dict[str, int]:
    """The mem_mb snakemake gave each submitted job: SLURM job id -> MB (a job's "jobid:"
    and "resources:" lines come before its submission line, not always right before it)."""
    memory: dict[str, int] = {}
    job = None
    by_job: dict[str, int] = {}
    for line in log.splitlines():
        if found := re.match(r"\s+jobid: (\d+)$", line):
            job = found.group(1)
        elif (found := re.search(r"resources: .*\bmem_mb=(\d+)", line)) and job is not None:
            by_job[job] = int(found.group(1))
        elif found := re.search(r"Job (\d+) has been submitted with SLURM jobid (\d+)", line):
            memory[found.group(2)] = by_job[found.group(1)]
    return memory


def test_every_job_ran_through_slurm_with_the_profile_resources(runs: dict) -> None:
    log = runs["log"]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    assert run_id.startswith(JOBNAME_PREFIX)
    job_ids = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", log)
    assert len(job_ids) == sum(EXPECTED_JOBS.values()), log

    # What the plugin's status query sees.
    listed = _slurm("squeue", "--noheader", "--states=all", "--name", run_id, "--format=%i|%T")
    states = dict(line.split("|") for line in listed.split())
    assert states == {job_id: "COMPLETED" for job_id in job_ids}

    profile = _profile()
    set_resources = profile.get("set-resources", {})
    default_runtime = profile["default-resources"]["runtime"]
    requested = _requested_memory(log)
    rules = {}
    for job_id in job_ids:
        fields = _job(job_id)
        rule = _rule(fields)
        rules[rule] = rules.get(rule, 0) + 1
        runtime = set_resources.get(rule, {}).get("runtime", default_runtime)
        assert fields["JobName"] == run_id
        assert fields["JobState"] == "COMPLETED" and fields["ExitCode"] == "0:0"
        assert fields["Partition"] == PARTITION
        assert fields["TimeLimit"] == _slurm_minutes(runtime), (rule, fields["TimeLimit"])
        # device: cpu - no job asks for a GPU; every job's --mem is its rule's mem_mb
        assert not _asks_for_a_gpu(fields), rule
        assert _megabytes(fields["MinMemoryNode"]) == requested[job_id], rule
    assert rules == EXPECTED_JOBS
    data = npz_megabytes(runs["slurm"] / "data" / "processed" / "tiny3.npz")
    pretrain = [j for j in job_ids if _rule(_job(j)) == "pretrain"]
    assert {requested[j] for j in pretrain} == {memory_mb(data, 3, 4000)}  # sized from the data


GPU_TARGETS = (
    "data/processed/tiny3.npz",  # prepare_data: CPU
    "results/figures/datasets/tiny3/weight_distribution.png",  # a figure: CPU
    "results/models/tiny_vae/model.pt",  # pretrain: a GPU rule
)


@pytest.fixture(scope="module")
def gpu_submissions(slurm_cluster, tmp_path_factory) -> dict:
    """A device: cuda DAG submitted to the cluster, whose node offers a gres "gpu" that stands
    for no device (tests/slurm/start_local_cluster.sh): its GPU rule is scheduled on it and
    fails in its own code, as there is no CUDA; its CPU rules complete."""
    node = _slurm("scontrol", "show", "node", "--oneliner")
    if "Gres=gpu:" not in node:
        pytest.fail(
            "the running local cluster offers no gres gpu (started by an older "
            f"{START.name}?): stop it with {STOP} and rerun"
        )
    base = tmp_path_factory.mktemp("slurm_gpu")
    config = _reduced_config(base, device="cuda")
    result = _run(base, config, *_slurm_args(), "--keep-going", targets=GPU_TARGETS, check=False)
    return {"workdir": base, "log": result.stdout + result.stderr, "returncode": result.returncode}


def test_gpu_rules_are_submitted_with_a_gpu_and_cpu_rules_without(gpu_submissions: dict) -> None:
    """What sbatch was asked for, as SLURM recorded it: --gpus=1 (TresPerJob gres:gpu:1) and an
    allocated GPU (JOB_GRES) for the rule that runs a network on the device, neither for the
    others; --mem as each rule's data-sized mem_mb."""
    log = gpu_submissions["log"]
    assert gpu_submissions["returncode"] != 0  # the GPU job cannot find CUDA here
    job_ids = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", log)
    requested = _requested_memory(log)
    jobs = {_rule(fields): fields for fields in map(_job, job_ids)}
    assert set(jobs) == {"prepare_data", "plot_weight_distribution", "pretrain"}, log
    gpu = jobs["pretrain"]
    assert gpu["TresPerJob"] == "gres:gpu:1" and gpu["JOB_GRES"] == "gpu:1"
    assert gpu["JobState"] == "FAILED"
    failure = (gpu_submissions["workdir"] / "logs" / "pretrain" / "tiny_vae.log").read_text()
    assert "'cuda' but no CUDA device is available" in failure
    for rule in ("prepare_data", "plot_weight_distribution"):
        fields = jobs[rule]
        assert not _asks_for_a_gpu(fields), rule
        assert fields["JobState"] == "COMPLETED", rule
    for job_id in job_ids:
        assert _megabytes(_job(job_id)["MinMemoryNode"]) == requested[job_id]
    digits = prepared_megabytes("digits", None, None)  # the .test data set reads all digits
    prepare = jobs["prepare_data"]
    assert _megabytes(prepare["MinMemoryNode"]) == memory_mb(digits, 3, 2000)
