"""profiles/slurm for real: part of the .test DAG on a single-node SLURM cluster on this machine.

tests/slurm/start_local_cluster.sh starts the cluster (root and Debian's slurm-wlm and munge
needed; the module is skipped without them or without snakemake-executor-plugin-slurm). The
same targets then run locally and through ``--workflow-profile profiles/slurm`` in two
directories; the results must be equal, apart from wall times, and every job must have gone
through SLURM with the profile's resources.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
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


def _reduced_config(directory: Path) -> Path:
    """Two experiments of one seed each and no classifier: 6 jobs, 4 in a chain."""
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["experiments"] = {
        "vae_wr": {**config["experiments"]["vae_wr"], "seeds": [1]},
        "rae_wr": config["experiments"]["rae_wr"],
    }
    config["comparisons"] = {}
    for section in ("classifier", "condgen"):
        config.pop(section)
    path = directory / "slurm.yaml"
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


def _run(workdir: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    # The target comes first: --default-resources and --set-resources take every word after them.
    command = [
        SNAKEMAKE,
        TARGET,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        *args,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"{' '.join(command)} did not finish in {RUN_TIMEOUT} s:\n{error.stderr}"
        ) from error
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def runs(slurm_cluster, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("slurm")
    config = _reduced_config(base)
    local, slurm = base / "local", base / "slurm"
    local.mkdir(), slurm.mkdir()
    _run(local, config, "--cores", "2")
    submitted = _run(
        slurm,
        config,
        "--workflow-profile",
        str(PROFILE),
        *_resource_overrides(),
        "--slurm-jobname-prefix",
        JOBNAME_PREFIX,
        # The plugin polls after this many seconds, then 10 s longer each time no job ended
        # (default 40 s): faster on short test jobs.
        "--slurm-init-seconds-before-status-checks",
        "2",
    )
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
    rules = {}
    for job_id in job_ids:
        fields = dict(
            re.findall(r"(\w+)=(\S*)", _slurm("scontrol", "show", "job", "--oneliner", job_id))
        )
        rule = re.fullmatch(r"rule_(\w+?)(?:_wildcards_.*)?", fields["Comment"]).group(1)
        rules[rule] = rules.get(rule, 0) + 1
        runtime = set_resources.get(rule, {}).get("runtime", default_runtime)
        assert fields["JobName"] == run_id
        assert fields["JobState"] == "COMPLETED" and fields["ExitCode"] == "0:0"
        assert fields["Partition"] == PARTITION
        assert fields["TimeLimit"] == _slurm_minutes(runtime), (rule, fields["TimeLimit"])
    assert rules == EXPECTED_JOBS
