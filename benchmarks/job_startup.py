"""What one Snakemake job costs before its real work starts: interpreter, imports, Snakemake.

Usage (from the repository root):

    python benchmarks/job_startup.py [--repeats N] [--csv PATH] [--importtime SCRIPT ...]
                                     [--deferred] [--no-snakemake] [--no-pipeline]

Every job of the pipeline is a fresh Python process that runs one ``workflow_scripts/*.py``
behind Snakemake's script preamble. This measures, each in fresh subprocesses (wall time and
the CPU time of the process tree, median/min/max over ``--repeats``):

1. **Imports of each workflow script.** The scripts are discovered (``workflow_scripts/*.py``);
   each is parsed with ``ast`` and its module-level ``import``/``from ... import`` statements
   (except any that would bind the name ``snakemake``, which Snakemake injects) are executed
   by ``python -c "<those lines>"``, with ``src/`` of this checkout first on ``PYTHONPATH`` (so
   the ``lso`` measured is this checkout's) and the scripts' folder appended, as Snakemake
   appends the script's folder. The baseline is ``python -c pass``. Each timed process also
   writes the names in ``sys.modules`` to its stdout (well under a millisecond), so that scripts
   whose imports load exactly the same modules form one *group*: they do the same work, so
   their samples are pooled and a group is timed ``--repeats`` times in all, its scripts in
   turn (every script at least once). ``--no-group`` times every script ``--repeats`` times.
   One untimed run first warms the file cache.

   Imports deferred into functions escape this. ``--deferred`` adds, for each script whose
   step function (``from lso.x import step``, defined in ``src/lso/x.py``) has imports in its
   body or in the bodies of the module's top-level functions it calls, a row timing the
   module-level imports plus those: roughly what the job imports before its real work. Imports
   deferred deeper (into other modules' functions) are still not counted.
2. **Snakemake's own cost per job.** A throwaway workflow in a temporary folder with N
   (``--sm-jobs``) jobs of a trivial rule whose ``script:`` is an empty file, and the same
   with ``shell: "true"``, each run as ``snakemake --cores C`` (``--sm-cores``) in a fresh
   folder; minus the same workflow with no jobs but ``all``, divided by N, gives the cost of
   one job (scheduling, bookkeeping, and for ``script:`` writing the script, a fresh Python and
   the preamble). The preamble alone is timed too: a script Snakemake generated (kept with
   ``--skip-script-cleanup``) run by ``python``.
3. **Where a script's import time goes** (``--importtime SCRIPT``, repeatable, a name such as
   ``optimize`` or a path): one run under ``python -X importtime`` of the same import lines;
   the ``--top`` modules by cumulative time (each with the chain of modules that imported it
   first), the self time summed by top-level package, and for each ``lso`` module the time of
   what it imports itself (its cumulative time minus that of the ``lso`` modules below it).
   ``-X importtime`` itself adds some overhead; compare its numbers with one another.

If ``snakemake -n -F`` of the pipeline in this checkout works (``--no-pipeline`` skips it), the
jobs of the default pipeline per script are counted from its job statistics (rule -> script
from the ``script:`` directives in the Snakefile and ``rules/*.smk``), and the start-up time of
the whole pipeline is estimated as the sum over jobs of (imports + preamble).

The numbers depend on the machine and its load: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import ast
import csv
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO / "workflow_scripts"
PYTHON = sys.executable
# Appended to each timed import process: one module name a line on stdout, for grouping.
MODULE_DUMP = 'import sys as _s; _s.stdout.write("\\n".join(_s.modules))'


# ----------------------------------------------------------------------------- measuring


@dataclass
class Samples:
    """Wall and CPU seconds of repeated runs of one thing."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)

    @property
    def n(self) -> int:
        return len(self.wall)

    def median(self) -> float:
        return statistics.median(self.wall)

    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def run_timed(cmd: list[str], *, env: dict[str, str], cwd: Path | str) -> tuple[float, float, str]:
    """Run ``cmd`` to completion; its wall seconds, CPU seconds (children included), stdout."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-20:])
        raise RuntimeError(f"{' '.join(cmd)[:200]} failed ({proc.returncode}):\n{tail}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, proc.stdout


def child_env(extra_path: list[Path] | None = None) -> dict[str, str]:
    """The environment of the timed processes: this checkout's ``src`` first on the path."""
    env = dict(os.environ)
    parts = [str(REPO / "src")]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    parts += [str(p) for p in extra_path or []]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.pop("SNAKEMAKE_PROFILE", None)
    return env


# ------------------------------------------------------------------ 1. imports of scripts


def import_lines(script: Path) -> list[str]:
    """The script's module-level import statements, without any binding ``snakemake``."""
    tree = ast.parse(script.read_text(), filename=str(script))
    lines = []
    for node in tree.body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        kept = [
            alias
            for alias in node.names
            if (alias.asname or alias.name.split(".")[0]) != "snakemake"
        ]
        if not kept:
            continue
        node.names = kept
        lines.append(ast.unparse(node))
    return lines


def module_source(module: str) -> tuple[Path, bool] | None:
    """The source file of ``module`` in this checkout's ``src`` (and whether it is a package)."""
    base = REPO / "src" / Path(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py"), False
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    return None


def deferred_lines(lines: list[str]) -> list[str]:
    """Import statements inside the functions a script imports from this checkout's ``src``.

    For ``from pkg.mod import step`` with ``step`` a function defined in ``src/pkg/mod.py``,
    the imports anywhere in ``step``'s body, and in the bodies of the module's top-level
    functions it calls by name (transitively), made absolute. Imports deferred deeper (into
    other modules' functions or methods) are not followed.
    """
    found: list[str] = []
    for line in lines:
        stmt = ast.parse(line).body[0]
        if not isinstance(stmt, ast.ImportFrom) or stmt.level or not stmt.module:
            continue
        source = module_source(stmt.module)
        if source is None:
            continue
        path, is_package = source
        tree = ast.parse(path.read_text(), filename=str(path))
        functions = {
            node.name: node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        package = stmt.module if is_package else stmt.module.rpartition(".")[0]
        todo = [alias.name for alias in stmt.names if alias.name in functions]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for node in ast.walk(functions[name]):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    if node.func.id in functions:
                        todo.append(node.func.id)
                elif isinstance(node, ast.Import):
                    found.append(ast.unparse(node))
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        parts = package.split(".")
                        parts = parts[: len(parts) - (node.level - 1)]
                        module = ".".join([*parts, *([node.module] if node.module else [])])
                        node = ast.ImportFrom(module=module, names=node.names, level=0)
                    found.append(ast.unparse(node))
    return list(dict.fromkeys(found))


@dataclass
class ScriptInfo:
    name: str
    path: Path
    lines: list[str]
    samples: Samples = field(default_factory=Samples)
    modules: frozenset[str] = frozenset()
    group: int = 0
    jobs: int | None = None
    deferred: int = 0  # import lines added from the step function's body

    @property
    def label(self) -> str:
        return f"`{self.path.name}`" + (" + its step's deferred imports" if self.deferred else "")


def discover_scripts(deferred: bool = False) -> list[ScriptInfo]:
    """One entry per workflow script; with ``deferred``, one more for each script whose step
    function has imports of its own (named ``<script>+deferred``)."""
    found = []
    for path in sorted(SCRIPTS_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        lines = import_lines(path)
        found.append(ScriptInfo(path.stem, path, lines))
        extra = [line for line in deferred_lines(lines) if line not in lines] if deferred else []
        if extra:
            found.append(
                ScriptInfo(f"{path.stem}+deferred", path, lines + extra, deferred=len(extra))
            )
    return found


def script_command(info: ScriptInfo, dump_modules: bool = True) -> list[str]:
    code = "\n".join(info.lines + ([MODULE_DUMP] if dump_modules else []))
    return [PYTHON, "-c", code]


def measure_imports(
    scripts: list[ScriptInfo], repeats: int, group: bool, log
) -> tuple[Samples, dict[int, Samples]]:
    """Time the baseline and every script's imports; group scripts by the modules loaded."""
    env = child_env([SCRIPTS_DIR])
    if scripts:  # warm the file cache (torch and friends), untimed
        run_timed(script_command(scripts[0]), env=env, cwd=REPO)
    baseline = Samples()
    for _ in range(repeats):
        baseline.add(*run_timed([PYTHON, "-c", "pass"], env=env, cwd=REPO)[:2])
    log(f"baseline: {baseline.median() * 1e3:.0f} ms")

    def once(info: ScriptInfo) -> None:
        wall, cpu, out = run_timed(script_command(info), env=env, cwd=REPO)
        info.samples.add(wall, cpu)
        modules = frozenset(out.split("\n"))
        if not info.modules:
            info.modules = modules

    for info in scripts:
        once(info)
        log(f"{info.name}: {info.samples.wall[-1]:.2f} s, {len(info.modules)} modules")

    ids: dict[frozenset[str], int] = {}
    for info in scripts:
        info.group = ids.setdefault(info.modules if group else frozenset({info.name}), len(ids) + 1)
    members: dict[int, list[ScriptInfo]] = {}
    for info in scripts:
        members.setdefault(info.group, []).append(info)
    pooled: dict[int, Samples] = {}
    for gid, infos in members.items():
        turn = 0
        while sum(i.samples.n for i in infos) < repeats:
            once(infos[turn % len(infos)])
            turn += 1
        pooled[gid] = Samples(
            [w for i in infos for w in i.samples.wall], [c for i in infos for c in i.samples.cpu]
        )
    return baseline, pooled


# ----------------------------------------------------------------- 2. Snakemake per job

SNAKEFILE = """\
rule all:
    input: expand("out/{{i}}.done", i=range({n}))

rule job:
    output: touch("out/{{i}}.done")
    {action}
"""
ACTIONS = {"script": 'script: "noop.py"', "shell": 'shell: "true"'}


def snakemake_run(
    root: Path, variant: str, n: int, cores: int, keep_scripts: bool = False
) -> tuple[float, float, Path]:
    """One snakemake run of the throwaway workflow in a fresh folder under ``root``."""
    folder = Path(tempfile.mkdtemp(prefix=f"{variant}{n}-", dir=root))
    (folder / "Snakefile").write_text(SNAKEFILE.format(n=n, action=ACTIONS[variant]))
    (folder / "noop.py").write_text("")
    cmd = [PYTHON, "-m", "snakemake", "--cores", str(cores), "--quiet", "all"]  # quiet: all
    cmd += ["--workflow-profile", "none", "--nolock"]
    if keep_scripts:
        cmd.append("--skip-script-cleanup")
    wall, cpu, _ = run_timed(cmd, env=child_env(), cwd=folder)
    done = len(list((folder / "out").glob("*.done"))) if n else 0
    if done != n:
        raise RuntimeError(f"snakemake made {done} of {n} outputs in {folder}")
    return wall, cpu, folder


@dataclass
class SnakemakeResult:
    n: int
    cores: int
    runs: dict[str, Samples]  # "empty", "script", "shell"
    preamble: Samples


def measure_snakemake(n: int, cores: int, repeats: int, log) -> SnakemakeResult:
    root = Path(tempfile.mkdtemp(prefix="job_startup-"))
    try:
        # Untimed warm-up, keeping one generated script (preamble + the empty noop.py).
        *_, folder = snakemake_run(root, "script", 1, cores, keep_scripts=True)
        generated = sorted((folder / ".snakemake" / "scripts").glob("*.py"))
        if not generated:
            raise RuntimeError("snakemake kept no generated script (--skip-script-cleanup)")
        preamble_file = root / "preamble.py"
        shutil.copy(generated[0], preamble_file)
        runs = {key: Samples() for key in ("empty", "script", "shell")}
        for _ in range(repeats):  # interleaved, so drifting load hits all three alike
            for key in runs:
                wall, cpu, folder = snakemake_run(
                    root, "shell" if key == "empty" else key, 0 if key == "empty" else n, cores
                )
                runs[key].add(wall, cpu)
                shutil.rmtree(folder, ignore_errors=True)
        log("snakemake: " + ", ".join(f"{k} {s.median():.2f} s" for k, s in runs.items()))
        preamble = Samples()
        for _ in range(repeats):
            preamble.add(*run_timed([PYTHON, str(preamble_file)], env=child_env(), cwd=root)[:2])
        return SnakemakeResult(n, cores, runs, preamble)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------- jobs per script in the pipeline


def rule_scripts() -> dict[str, str]:
    """Rule name -> workflow script stem, from the ``script:`` directives."""
    mapping = {}
    for smk in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        if not smk.exists():
            continue
        text = smk.read_text()
        heads = list(re.finditer(r"^\s*(?:rule|checkpoint)\s+(\w+)\s*:", text, re.M))
        for k, head in enumerate(heads):
            end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
            body = text[head.end() : end]
            found = re.search(r"\bscript:\s*[\"']([^\"']+\.py)[\"']", body)
            if found:
                mapping[head.group(1)] = Path(found.group(1)).stem
    return mapping


def pipeline_jobs(log) -> dict[str, int] | None:
    """Jobs per workflow script in ``snakemake -n -F`` of this checkout, or None."""
    cmd = [PYTHON, "-m", "snakemake", "-n", "-F", "--quiet", "rules", "--nolock"]
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        log("pipeline dry run timed out; skipping job counts")
        return None
    text = proc.stdout + proc.stderr
    if proc.returncode != 0 or "Job stats" not in text:
        log(f"pipeline dry run failed ({proc.returncode}); skipping job counts")
        return None
    stats = text.split("Job stats", 1)[1]
    scripts = rule_scripts()
    jobs: dict[str, int] = {}
    for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", stats, re.M):
        if rule == "total":
            break
        script = scripts.get(rule)
        if script:
            jobs[script] = jobs.get(script, 0) + int(count)
    return jobs


# ------------------------------------------------------------------- 3. -X importtime


@dataclass
class ImportNode:
    name: str
    self_us: int
    cum_us: int
    level: int
    parent: ImportNode | None = None
    children: list[ImportNode] = field(default_factory=list)

    def chain(self) -> str:
        names, node = [], self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " <- ".join(names) if names else "(script)"


def parse_importtime(stderr: str) -> list[ImportNode]:
    """The ``-X importtime`` lines as nodes with parents (the lines come children first)."""
    nodes: list[ImportNode] = []
    pending: list[ImportNode] = []
    pattern = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$")
    for line in stderr.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        node = ImportNode(
            match.group(4), int(match.group(1)), int(match.group(2)), len(match.group(3)) // 2
        )
        while pending and pending[-1].level > node.level:
            child = pending.pop()
            child.parent = node
            node.children.append(child)
        pending.append(node)
        nodes.append(node)
    return nodes


def own_imports_us(node: ImportNode, prefix: str = "lso") -> int:
    """Cumulative time of ``node`` minus that of the nearest ``lso`` modules below it."""

    def lso_below(n: ImportNode) -> int:
        total = 0
        for child in n.children:
            if child.name == prefix or child.name.startswith(prefix + "."):
                total += child.cum_us
            else:
                total += lso_below(child)
        return total

    return node.cum_us - lso_below(node)


def resolve_script(arg: str, scripts: list[ScriptInfo]) -> ScriptInfo:
    stem = Path(arg).stem
    for info in scripts:
        if info.name == stem:
            return info
    path = Path(arg)
    if path.exists():
        return ScriptInfo(path.stem, path, import_lines(path))
    raise SystemExit(f"--importtime {arg}: no such workflow script")


def importtime_report(info: ScriptInfo, top: int) -> tuple[list[str], list[dict]]:
    env = child_env([info.path.parent])
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "\n".join(info.lines)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"-X importtime of {info.name} failed:\n{proc.stderr[-2000:]}")
    nodes = parse_importtime(proc.stderr)
    total_us = sum(n.self_us for n in nodes)
    out = [
        f"### `-X importtime` of {info.label} ({len(nodes)} modules, "
        f"{total_us / 1e3:,.0f} ms of import in all)",
        "",
        f"Top {top} modules by cumulative time (the time a module's first import took, "
        "its not-yet-loaded imports included):",
        "",
        "| module | cumulative (ms) | self (ms) | first imported by |",
        "|---|---:|---:|---|",
    ]
    rows = []
    for node in sorted(nodes, key=lambda n: n.cum_us, reverse=True)[:top]:
        out.append(
            f"| `{node.name}` | {node.cum_us / 1e3:,.0f} | {node.self_us / 1e3:,.0f} | "
            f"{node.chain()} |"
        )
        rows.append(
            {
                "section": "importtime",
                "name": f"{info.name}:{node.name}",
                "median_s": node.cum_us / 1e6,
                "cpu_median_s": "",
                "detail": f"self_s={node.self_us / 1e6:.4f}; by={node.chain()}",
            }
        )
    by_package: dict[str, list[int]] = {}
    for node in nodes:
        entry = by_package.setdefault(node.name.split(".")[0], [0, 0])
        entry[0] += node.self_us
        entry[1] += 1
    out += [
        "",
        "Self time by top-level package:",
        "",
        "| package | self (ms) | share | modules |",
        "|---|---:|---:|---:|",
    ]
    for package, (self_us, count) in sorted(by_package.items(), key=lambda kv: -kv[1][0])[:top]:
        out.append(f"| `{package}` | {self_us / 1e3:,.0f} | {self_us / total_us:.0%} | {count} |")
    lso_nodes = [n for n in nodes if n.name == "lso" or n.name.startswith("lso.")]
    if lso_nodes:
        out += [
            "",
            "`lso` modules by the time of their own imports (cumulative minus `lso` modules "
            "below; what deferring that module's imports could save at most, if nothing "
            "else loads them):",
            "",
            "| module | own imports (ms) | cumulative (ms) | first imported by |",
            "|---|---:|---:|---|",
        ]
        for node in sorted(lso_nodes, key=own_imports_us, reverse=True)[:top]:
            out.append(
                f"| `{node.name}` | {own_imports_us(node) / 1e3:,.0f} | "
                f"{node.cum_us / 1e3:,.0f} | {node.chain()} |"
            )
    return out, rows


# ----------------------------------------------------------------------------- report


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f}"


def short_imports(lines: list[str]) -> str:
    """The imported names, e.g. ``lso.pipeline.optimise, lso.workflow.start_job``."""
    names = []
    for line in lines:
        node = ast.parse(line).body[0]
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names += [f"{module}.{a.name}" for a in node.names]
        else:
            names += [a.name for a in node.names]
    return ", ".join(f"`{n}`" for n in names if not n.startswith(("pathlib", "__future__")))


def imports_text(info: ScriptInfo) -> str:
    module_level = info.lines[: len(info.lines) - info.deferred]
    text = short_imports(module_level) or "–"
    return text + (f" + {info.deferred} deferred" if info.deferred else "")


def versions() -> str:
    found = []
    for dist in ("torch", "botorch", "gpytorch", "scikit-learn", "matplotlib", "snakemake"):
        try:
            found.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per item (5)")
    parser.add_argument("--csv", type=Path, help="also write every number to this CSV file")
    parser.add_argument(
        "--importtime",
        action="append",
        default=[],
        metavar="SCRIPT",
        help="also break down the imports of this workflow script (repeatable)",
    )
    parser.add_argument("--top", type=int, default=15, help="rows of the -X importtime tables")
    parser.add_argument("--sm-jobs", type=int, default=10, help="jobs of the toy workflow (10)")
    parser.add_argument("--sm-cores", type=int, default=1, help="snakemake --cores (1)")
    parser.add_argument("--no-group", action="store_true", help="time every script --repeats times")
    parser.add_argument(
        "--deferred",
        action="store_true",
        help="also time each script's imports plus those inside its step function",
    )
    parser.add_argument("--no-snakemake", action="store_true", help="skip part 2")
    parser.add_argument("--no-pipeline", action="store_true", help="skip counting jobs")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.sm_jobs < 1:
        parser.error("--repeats and --sm-jobs must be positive")

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[job_startup] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = loadavg()
    scripts = discover_scripts(args.deferred)
    if not scripts:
        raise SystemExit(f"no workflow scripts in {SCRIPTS_DIR}")
    lso_file = subprocess.run(
        [PYTHON, "-c", "import lso; print(lso.__file__)"],
        env=child_env(),
        capture_output=True,
        text=True,
    ).stdout.strip()

    baseline, pooled = measure_imports(scripts, args.repeats, not args.no_group, log)
    jobs = None if args.no_pipeline else pipeline_jobs(log)
    if jobs is not None:
        for info in scripts:
            info.jobs = jobs.get(info.path.stem, 0)
    sm = (
        None
        if args.no_snakemake
        else measure_snakemake(args.sm_jobs, args.sm_cores, args.repeats, log)
    )
    extra_out, extra_rows = [], []
    for arg in args.importtime:
        info = resolve_script(arg, scripts)
        log(f"-X importtime {info.name}")
        lines, rows = importtime_report(info, args.top)
        extra_out += ["", *lines]
        extra_rows += rows
    load_after = loadavg()

    base = baseline.median()
    out = [
        f"## Job start-up, {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"Python {platform.python_version()} ({PYTHON}), {versions()}; {os.cpu_count()} CPUs; "
        f"load average before {load_before}, after {load_after}; `lso` from {lso_file}; "
        f"{args.repeats} repeats" + ("" if args.no_group else " per group of scripts") + ".",
        "",
        "### 1. Module-level imports of each workflow script (fresh `python -c`)",
        "",
        "| script | imports | modules | group | n | median (ms) | min (ms) | max (ms) | "
        "CPU median (ms) | median − baseline (ms) |" + (" jobs |" if jobs is not None else ""),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if jobs else ""),
        f"| *baseline* `python -c pass` | – | – | – | {baseline.n} | {fmt_ms(base)} | "
        f"{fmt_ms(min(baseline.wall))} | {fmt_ms(max(baseline.wall))} | "
        f"{fmt_ms(baseline.cpu_median())} | 0 |" + (" – |" if jobs is not None else ""),
    ]
    rows = [
        {
            "section": "imports",
            "name": "baseline",
            "n": baseline.n,
            "median_s": base,
            "min_s": min(baseline.wall),
            "max_s": max(baseline.wall),
            "cpu_median_s": baseline.cpu_median(),
            "detail": "python -c pass",
        }
    ]
    heaviest: dict[str, float] = {}
    for info in scripts:  # a script's rows together, the heaviest scripts first
        heaviest[info.path.stem] = max(
            heaviest.get(info.path.stem, 0.0), pooled[info.group].median()
        )
    order = sorted(scripts, key=lambda i: (-heaviest[i.path.stem], i.path.stem, i.deferred))
    for info in order:
        s = pooled[info.group]
        out.append(
            f"| {info.label} | {imports_text(info)} | {len(info.modules)} | "
            f"{info.group} | {s.n} | {fmt_ms(s.median())} | {fmt_ms(min(s.wall))} | "
            f"{fmt_ms(max(s.wall))} | {fmt_ms(s.cpu_median())} | {fmt_ms(s.median() - base)} |"
            + (f" {info.jobs} |" if jobs is not None else "")
        )
        rows.append(
            {
                "section": "imports",
                "name": info.name,
                "n": s.n,
                "median_s": s.median(),
                "min_s": min(s.wall),
                "max_s": max(s.wall),
                "cpu_median_s": s.cpu_median(),
                "group": info.group,
                "modules": len(info.modules),
                "jobs": info.jobs if info.jobs is not None else "",
                "detail": " ; ".join(info.lines),
            }
        )
    if not args.no_group:
        out += [
            "",
            "Scripts of one group load exactly the same modules; their samples are pooled "
            "(each group timed n times in all, its scripts in turn).",
        ]

    if sm is not None:
        empty = sm.runs["empty"]
        out += [
            "",
            f"### 2. Snakemake's cost per job (toy workflow, {sm.n} jobs, `--cores {sm.cores}`)",
            "",
            "| run | n | median (s) | min (s) | max (s) | CPU median (s) | "
            "per job (ms) | CPU per job (ms) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        labels = {
            "empty": "no jobs but `all` (fixed cost)",
            "script": f"{sm.n} × `script:` (empty script)",
            "shell": f'{sm.n} × `shell: "true"`',
        }
        for key, s in sm.runs.items():
            per = (s.median() - empty.median()) / sm.n if key != "empty" else None
            cpu_per = (s.cpu_median() - empty.cpu_median()) / sm.n if key != "empty" else None
            out.append(
                f"| {labels[key]} | {s.n} | {s.median():.2f} | {min(s.wall):.2f} | "
                f"{max(s.wall):.2f} | {s.cpu_median():.2f} | "
                f"{fmt_ms(per) if per is not None else '–'} | "
                f"{fmt_ms(cpu_per) if cpu_per is not None else '–'} |"
            )
            rows.append(
                {
                    "section": "snakemake",
                    "name": key,
                    "n": s.n,
                    "median_s": s.median(),
                    "min_s": min(s.wall),
                    "max_s": max(s.wall),
                    "cpu_median_s": s.cpu_median(),
                    "jobs": sm.n if key != "empty" else 0,
                    "detail": f"per_job_s={per}" if per is not None else "fixed",
                }
            )
        p = sm.preamble
        out.append(
            f"| `python` on a generated script (preamble only) | {p.n} | {p.median():.3f} | "
            f"{min(p.wall):.3f} | {max(p.wall):.3f} | {p.cpu_median():.3f} | "
            f"{fmt_ms(p.median() - base)} over baseline | "
            f"{fmt_ms(p.cpu_median() - baseline.cpu_median())} over baseline |"
        )
        rows.append(
            {
                "section": "snakemake",
                "name": "preamble",
                "n": p.n,
                "median_s": p.median(),
                "min_s": min(p.wall),
                "max_s": max(p.wall),
                "cpu_median_s": p.cpu_median(),
                "detail": "python <generated script with empty body>",
            }
        )
        script_per = (sm.runs["script"].median() - empty.median()) / sm.n
        shell_per = (sm.runs["shell"].median() - empty.median()) / sm.n
        out += [
            "",
            f"A `script:` job costs Snakemake {fmt_ms(script_per)} ms before the script's own "
            f"imports, a `shell:` job {fmt_ms(shell_per)} ms; the difference "
            f"({fmt_ms(script_per - shell_per)} ms) is writing the script, a fresh Python and "
            f"the preamble (alone: {fmt_ms(p.median() - base)} ms over `python -c pass`).",
        ]

    if jobs is not None:
        # One entry per script: the one with its step's deferred imports where timed.
        per_script = {info.path.stem: info for info in scripts}.values()
        total_jobs = sum(i.jobs or 0 for i in per_script)
        imports_s = sum((i.jobs or 0) * (pooled[i.group].median() - base) for i in per_script)
        imports_cpu = sum(
            (i.jobs or 0) * (pooled[i.group].cpu_median() - baseline.cpu_median())
            for i in per_script
        )
        sm_s = sm_cpu = 0.0
        if sm is not None:
            empty, script = sm.runs["empty"], sm.runs["script"]
            sm_s = total_jobs * (script.median() - empty.median()) / sm.n
            sm_cpu = total_jobs * (script.cpu_median() - empty.cpu_median()) / sm.n
        out += [
            "",
            f"Default pipeline (`snakemake -n -F`): {total_jobs} script jobs. Their imports "
            f"take {imports_s:,.0f} s wall ({imports_cpu:,.0f} s CPU) over the baseline"
            + (
                f", Snakemake's per-job cost {sm_s:,.0f} s wall ({sm_cpu:,.0f} s CPU) more: "
                f"about {(imports_s + sm_s) / 60:.1f} min wall "
                f"({(imports_cpu + sm_cpu) / 60:.1f} min CPU) of start-up in all."
                if sm is not None
                else "."
            ),
        ]
        rows.append(
            {
                "section": "pipeline",
                "name": "startup_total",
                "n": total_jobs,
                "median_s": imports_s + sm_s,
                "cpu_median_s": imports_cpu + sm_cpu,
                "detail": f"imports_s={imports_s:.1f}; snakemake_s={sm_s:.1f}; "
                f"imports_cpu_s={imports_cpu:.1f}; snakemake_cpu_s={sm_cpu:.1f}",
            }
        )

    out += extra_out
    rows += extra_rows
    out += ["", f"(benchmark took {time.perf_counter() - started:.0f} s)"]
    print("\n".join(out))
    if args.csv:
        columns = [
            "section", "name", "n", "median_s", "min_s", "max_s", "cpu_median_s",
            "group", "modules", "jobs", "detail",
        ]  # fmt: skip
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
