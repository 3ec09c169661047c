"""The workflow's own files are formatted as snakefmt writes them (Snakemake's style)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_snakefmt_check_is_clean() -> None:
    snakefmt = str(Path(sys.executable).parent / "snakefmt")
    result = subprocess.run(
        [snakefmt, "--check", "Snakefile", "rules"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
