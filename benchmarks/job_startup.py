"""What one Snakemake job costs before its real work starts: imports, and Snakemake itself.

    python benchmarks/job_startup.py [--repeats 5] [--snakemake-jobs 10] [--csv PATH]

Every job of the pipeline is a fresh Python process that runs one ``workflow_scripts/*.py``.
For each script this times, in fresh subprocesses (median, min and max over ``--repeats``
after one untimed run), the import of the ``lso`` modules the script imports (read by
:func:`lso.code_inputs.imported_modules`, the same reading that makes them the rule's code
inputs), beside ``python -c pass``, and counts its code inputs (library files). It then times
a throwaway workflow of N trivial ``script:`` jobs against one with none, in fresh folders:
the difference divided by N is Snakemake's own cost per job.

Only the import of the modules a script names is timed: modules a step loads by name at run
time (a BO optimiser's BoTorch, through the registries) come on top for the jobs that choose
them. The numbers depend on the machine and its load; compare rows of one run.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lso.code_inputs import imported_modules, script_library_files

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow_scripts"


def wall_seconds(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - start


def timed(command: list[str], repeats: int, cwd: Path | None = None) -> list[float]:
    """Wall seconds of ``repeats`` runs of ``command``, after one untimed run (file cache)."""
    wall_seconds(command, cwd)
    return [wall_seconds(command, cwd) for _ in range(repeats)]


def step_modules(script: Path) -> list[str]:
    """The library modules a workflow script names (their packages load on the way)."""
    named = imported_modules(script.read_text())
    return sorted(m for m in named if not any(o.startswith(f"{m}.") for o in named))


def import_rows(repeats: int) -> list[dict[str, object]]:
    rows = [{"what": "python -c pass", "seconds": timed([sys.executable, "-c", "pass"], repeats)}]
    for script in sorted(SCRIPTS.glob("*.py")):
        modules = step_modules(script)
        code = "; ".join(f"import {module}" for module in modules)
        rows.append(
            {
                "what": script.name,
                "seconds": timed([sys.executable, "-c", code], repeats),
                "code_inputs": len(script_library_files(script)),
            }
        )
    return rows


SNAKEFILE = """
rule all:
    input: expand("done/{{i}}.txt", i=range({n}))

rule job:
    output: "done/{{i}}.txt"
    script: "job.py"
"""


def snakemake_seconds(n_jobs: int, repeats: int) -> list[float]:
    """Wall seconds of a workflow of ``n_jobs`` trivial script jobs (one core), fresh each time."""
    samples = []
    for _ in range(repeats + 1):
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            (work / "Snakefile").write_text(SNAKEFILE.format(n=n_jobs))
            (work / "job.py").write_text('open(snakemake.output[0], "w").close()\n')
            command = [str(Path(sys.executable).parent / "snakemake"), "--cores", "1", "--quiet"]
            samples.append(wall_seconds(command, work))
    return samples[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--snakemake-jobs", type=int, default=10)
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    rows = import_rows(args.repeats)
    with_jobs = snakemake_seconds(args.snakemake_jobs, args.repeats)
    without = snakemake_seconds(0, args.repeats)
    per_job = [(a - b) / args.snakemake_jobs for a, b in zip(with_jobs, without, strict=True)]
    rows.append({"what": "Snakemake's own cost per script job", "seconds": per_job})
    print(f"{'what':<40} {'median ms':>10} {'min':>8} {'max':>8} {'code inputs':>12}")
    for row in rows:
        seconds = row["seconds"]
        print(
            f"{row['what']:<40} {1000 * statistics.median(seconds):>10.0f} "
            f"{1000 * min(seconds):>8.0f} {1000 * max(seconds):>8.0f} "
            f"{row.get('code_inputs', ''):>12}"
        )
    if args.csv is not None:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["what", "median_ms", "min_ms", "max_ms", "code_inputs"])
            for row in rows:
                seconds = row["seconds"]
                writer.writerow(
                    [
                        row["what"],
                        round(1000 * statistics.median(seconds)),
                        round(1000 * min(seconds)),
                        round(1000 * max(seconds)),
                        row.get("code_inputs", ""),
                    ]
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
