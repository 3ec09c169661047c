"""Which library files a job runs, derived from the import statements of its code.

Snakemake reruns a job when one of its input files is newer than its outputs. The rules list
as code inputs exactly the ``lso`` modules their script imports, directly or through other
``lso`` modules (imports inside functions included, and every parent package's
``__init__.py``, which Python runs first). Nothing is listed by hand, so the list cannot
drift: editing a module reruns the jobs that import it and no others.

Modules chosen at run time by name (an optimiser type, through ``importlib``) are not seen
by this reading; the rules add them explicitly from the same registry the code uses
(:data:`lso.optimizers.OPTIMIZERS`).

Only the standard library is used: the Snakefile calls this while it parses the workflow.
"""

from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path

PACKAGE = "lso"
PACKAGE_DIR = Path(__file__).resolve().parent


def module_file(module: str) -> Path | None:
    """The source file of ``module`` (a dotted name inside the package), or None."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(module: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: importing a module runs its packages first."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported_modules(source: str) -> set[str]:
    """The package modules named by the import statements anywhere in ``source``.

    ``from lso.x import y`` names ``lso.x`` and, when ``y`` is itself a module, ``lso.x.y``.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == PACKAGE and module_file(name) is not None:
                found.update(_with_parents(name))
    return found


@cache
def _closure(module: str) -> frozenset[str]:
    """``module`` and every package module it imports, transitively."""
    seen: set[str] = set()
    pending = [*_with_parents(module)]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path is not None:
            pending.extend(imported_modules(path.read_text()) - seen)
    return frozenset(seen)


def library_files(*modules: str) -> list[str]:
    """Source files of ``modules`` and of everything they import in the package, sorted."""
    names = set().union(*(_closure(module) for module in modules)) if modules else set()
    return sorted(str(module_file(name)) for name in names if module_file(name) is not None)


def script_library_files(script: str | os.PathLike, *extra_modules: str) -> list[str]:
    """Library files a workflow script runs: its imports' closure, plus ``extra_modules``
    (modules it loads by name at run time)."""
    roots = imported_modules(Path(script).read_text())
    return library_files(*sorted(roots), *extra_modules)
