"""The library's layers hold: imports point one way, modules stay small, registries are true.

The import graph is the rerun graph (a job's code inputs are what its step imports), so these
checks are about caching as much as about taste: a figure module imported by a model module
would make every run depend on figure code.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from lso.code_inputs import PACKAGE_DIR, imported_modules, library_files
from lso.models.registry import MODELS

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
# What each layer may import (besides itself and the utilities: lso.utils, lso.registry,
# lso.code_inputs, lso.config and every package's stdlib-only ``registry`` module).
ALLOWED = {
    "models": set(),
    "constraints": {"models"},
    "surrogates": set(),
    "optimizers": {"models", "constraints", "surrogates"},
    "core": {"models", "constraints", "optimizers"},
    "figures": {"core"},
    "condgen": {"models", "core"},
    "tasks": {"models", "core"},
    "steps": {
        "models",
        "constraints",
        "surrogates",
        "optimizers",
        "core",
        "figures",
        "condgen",
        "tasks",
    },
}
UTILITIES = {
    "lso",
    "lso.utils",
    "lso.runtime",
    "lso.resources",
    "lso.registry",
    "lso.code_inputs",
    "lso.tasks.sources",
}
HEAVY = ("torch", "gpytorch", "botorch", "sklearn", "lightgbm")


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def is_utility(module: str) -> bool:
    return (
        module in UTILITIES
        or module.startswith("lso.config")
        or module.endswith(".registry")
        or module.count(".") == 1
        and MODULES[module].name == "__init__.py"
    )


def layer(module: str) -> str:
    return module.split(".")[1]


def direct_imports(module: str) -> set[str]:
    """The package modules ``module`` names in any import statement (type-only included),
    without the parent packages Python runs on the way (docstring-only ``__init__``s)."""
    named = imported_modules(MODULES[module].read_text())
    return {m for m in named if MODULES[m].name != "__init__.py"} - {module}


def test_no_import_cycle_not_even_a_type_only_one() -> None:
    graph = {module: direct_imports(module) for module in MODULES}
    visiting, done = set(), set()

    def visit(module: str, path: list[str]) -> None:
        if module in done:
            return
        assert module not in visiting, " -> ".join([*path, module])
        visiting.add(module)
        for other in sorted(graph[module]):
            visit(other, [*path, module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_imports_point_one_way() -> None:
    wrong = []
    for module in MODULES:
        if is_utility(module):
            assert all(is_utility(m) for m in direct_imports(module)), module
            continue
        own = layer(module)
        for other in direct_imports(module):
            if is_utility(other) or layer(other) == own and own != "steps":
                continue
            if layer(other) not in ALLOWED[own]:
                wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_task_families_do_not_import_each_other() -> None:
    for module in MODULES:
        if module.startswith("lso.tasks.digits"):
            assert not any(m.startswith("lso.tasks.faces") for m in direct_imports(module))
        if module.startswith("lso.tasks.faces"):
            assert not any(m.startswith("lso.tasks.digits") for m in direct_imports(module))


def test_only_workflow_scripts_import_a_step() -> None:
    """A step imported by another module would make that module's jobs depend on it."""
    for module in MODULES:
        if module == "lso.steps.job":
            continue
        importers = [m for m in MODULES if module in direct_imports(m)]
        if module.startswith("lso.steps."):
            assert importers == [], f"{module} is imported by {importers}"


def _imports_heavy(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name.split(".")[0] in HEAVY for name in names):
            return True
    return False


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("lso.figures.")])
def test_figure_code_loads_no_network_library(module: str) -> None:
    """Figure jobs start fast and depend on no model code: nothing they run imports torch."""
    heavy = [f for f in library_files(module) if _imports_heavy(Path(f))]
    assert not heavy, heavy


def test_modules_and_functions_stay_small() -> None:
    long_modules, long_functions = [], []
    for module, path in MODULES.items():
        source = path.read_text()
        if len(source.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{module}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{module}.{node.name}: {length} lines")
    assert not long_modules and not long_functions, long_modules + long_functions


@pytest.mark.parametrize("kind", list(MODELS))
def test_every_model_class_agrees_with_its_registry_traits(kind: str) -> None:
    entry = MODELS[kind]
    cls = getattr(importlib.import_module(entry.module), entry.attribute)
    assert cls.kind == kind
    if entry.traits.configurable:
        assert cls.has_encoder == entry.traits.encoder
        assert cls.latent_kind == entry.traits.latent
        assert hasattr(cls, "discriminate") == entry.traits.discriminator
