"""Compare two pipeline result folders: are the numbers the same, to the last bit?

    python benchmarks/compare_results.py BEFORE_DIR AFTER_DIR

Each directory is a Snakemake working directory (holding ``results/``). Compared, file by
file, where both exist: every run's ``queries.csv`` (all columns but the wall-clock ones),
``queries.npz`` (every array), the summary tables (all columns but timings), ``condgen.csv``,
every evaluation JSON, and the predictors' metrics. It prints one line per difference and
exits 1 if there is any, 0 if everything compared is identical, 2 if nothing could be
compared. Timings differ between any two runs and are never compared.

Use it on the same machine: CPU float paths differ between machines, so two machines' runs
of the same config can differ in the last bits, and a search that branches on them diverges.
This is how the restructure of the library was checked (README, "Architecture").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

TIMING_COLUMNS = {"seconds", "wall_seconds"}
TIMING_KEYS = {"wall_seconds", "device"}


def compared_files(root: Path) -> Iterator[Path]:
    """The result files whose numbers must not change, relative to ``root``."""
    results = root / "results"
    patterns = (
        "opt/*/seed*/queries.csv",
        "opt/*/seed*/queries.npz",
        "opt/*/seed*/validity.csv",
        "opt/*/seed*/judge.csv",
        "opt/*/seed*/evaluation.json",
        "tables/*.csv",
        "condgen/target*/seed*.npz",
        "predictors/*/metrics.json",
        "models/classifier/metrics.json",
    )
    for pattern in patterns:
        for path in sorted(results.glob(pattern)):
            yield path.relative_to(root)


def differences(before: Path, after: Path) -> list[str]:
    """Human-readable differences between two copies of one result file."""
    if before.suffix == ".csv":
        return _csv_differences(before, after)
    if before.suffix == ".npz":
        return _npz_differences(before, after)
    return _json_differences(before, after)


def _csv_differences(before: Path, after: Path) -> list[str]:
    a, b = pd.read_csv(before), pd.read_csv(after)
    columns = [c for c in a.columns if c not in TIMING_COLUMNS and "seconds" not in c]
    missing = [c for c in columns if c not in b.columns]
    if missing or len(a) != len(b):
        return [f"columns {missing} missing or {len(a)} vs {len(b)} rows"]
    found = []
    for column in columns:
        if not a[column].equals(b[column]):
            first = int(np.flatnonzero(a[column].to_numpy() != b[column].to_numpy())[0])
            found.append(
                f"column {column!r} differs from row {first}: "
                f"{a[column].iloc[first]!r} vs {b[column].iloc[first]!r}"
            )
    return found


def _npz_differences(before: Path, after: Path) -> list[str]:
    with np.load(before) as a, np.load(after) as b:
        keys = sorted(set(a.files) | set(b.files))
        return [
            f"array {key!r} differs"
            for key in keys
            if key not in a.files or key not in b.files or not np.array_equal(a[key], b[key])
        ]


def _json_differences(before: Path, after: Path) -> list[str]:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    keys = sorted((set(a) | set(b)) - TIMING_KEYS)
    return [
        f"key {key!r}: {a.get(key)!r} vs {b.get(key)!r}" for key in keys if a.get(key) != b.get(key)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    compared, different = 0, 0
    for relative in compared_files(args.before):
        after = args.after / relative
        if not after.is_file():
            print(f"{relative}: missing in {args.after}")
            different += 1
            continue
        compared += 1
        for line in differences(args.before / relative, after):
            print(f"{relative}: {line}")
            different += 1
    print(f"compared {compared} files: {different} differences")
    if compared == 0:
        return 2
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
