"""Helpers shared by several test modules (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class Interrupt(Exception):
    """Stands in for a killed job."""


def run_command(
    command: list[str], timeout: float, check: bool = True
) -> subprocess.CompletedProcess:
    """Run ``command`` (output captured); an AssertionError with its output when it fails
    (``check``) or does not finish in ``timeout`` seconds."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"{' '.join(command)} did not finish in {timeout} s:\n{error.stderr}"
        ) from error
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def snakemake_command(
    workdir: Path, configs: list[Path], *args: str, targets: tuple[str, ...] = ()
) -> list[str]:
    """The snakemake binary on the repository's Snakefile in ``workdir``, with ``configs``
    (the targets first: --default-resources and --set-resources take every word after them)."""
    return [
        str(Path(sys.executable).parent / "snakemake"),
        *targets,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        *map(str, configs),
        *args,
    ]
