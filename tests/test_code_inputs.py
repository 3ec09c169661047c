"""Code inputs derived from imports: every module a job runs, and nothing it does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lso.code_inputs import imported_modules, library_files, script_library_files
from lso.optimizers.registry import OPTIMIZERS
from lso.surrogates.registry import SURROGATES

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow_scripts"


def names(files: list[str]) -> set[str]:
    """Library-relative paths, e.g. ``surrogates/gp.py``."""
    return {Path(f).relative_to(REPO / "src" / "lso").as_posix() for f in files}


def test_imports_anywhere_in_a_module_are_found_with_their_packages() -> None:
    source = (
        "import os\n"
        "from lso.optimizers.grid import GridOptimizer\n"
        "from lso.figures import common\n"
        "def later():\n"
        "    from lso.surrogates import gp\n"
    )
    assert imported_modules(source) == {
        "lso",
        "lso.optimizers",
        "lso.optimizers.grid",
        "lso.figures",
        "lso.figures.common",
        "lso.surrogates",
        "lso.surrogates.gp",
    }


def test_the_closure_follows_imports_through_the_library() -> None:
    files = names(library_files("lso.optimizers.local"))
    assert {"optimizers/bayesopt.py", "optimizers/acquisition.py", "constraints/base.py"} <= files
    assert {"__init__.py", "optimizers/__init__.py", "surrogates/__init__.py"} <= files
    assert not any(f.startswith("figures/") for f in files)


def test_a_bayesian_optimiser_depends_on_no_surrogate_until_one_is_chosen() -> None:
    """The surrogate is chosen by name: editing the GP reruns no DNGO or tree-ensemble run."""
    bayes = names(library_files("lso.optimizers.bayesopt"))
    codes = names(library_files("lso.optimizers.codes"))
    surrogate_files = {
        f"surrogates/{name}.py" for name in ("gp", "dngo", "trees", "categorical_gp")
    }
    assert not (bayes | codes) & surrogate_files
    gp = names(script_library_files(SCRIPTS / "optimize.py", SURROGATES.module("gp")))
    assert {"surrogates/gp.py", "surrogates/gp_numerics.py"} <= gp
    assert "surrogates/dngo.py" not in gp


def test_each_step_depends_on_what_it_imports_only() -> None:
    optimize = names(script_library_files(SCRIPTS / "optimize.py"))
    assert {"core/loop.py", "steps/optimize.py", "core/weighting.py"} <= optimize
    # no matplotlib, and no task family's code until the run's objective chooses one
    assert not any(f.startswith(("figures/", "tasks/digits/", "tasks/faces/")) for f in optimize)
    assert "surrogates/gp.py" not in optimize  # the BO module comes only with a BO optimiser
    bayes = names(script_library_files(SCRIPTS / "optimize.py", OPTIMIZERS.module("local")))
    assert "optimizers/local.py" in bayes and "surrogates/gp.py" not in bayes
    condgen = names(script_library_files(SCRIPTS / "condgen_bo.py"))
    assert "condgen/bo.py" in condgen
    assert not condgen & {"figures/condgen.py", "figures/common.py", "core/loop.py"}
    table = names(script_library_files(SCRIPTS / "summarise.py"))
    assert "core/summary.py" in table and not table & {"core/loop.py", "models/base.py"}
    for script in ("pretrain.py", "train_predictor.py", "train_classifier.py", "train_joint.py"):
        trained = names(script_library_files(SCRIPTS / script))
        assert not any(f.startswith("figures/") for f in trained), script


def test_what_is_derived_is_what_python_really_imports() -> None:
    """For every module a workflow script imports its step from, the derived list covers the
    lso modules that importing it loads in a fresh interpreter."""
    imported = set().union(*(imported_modules(p.read_text()) for p in SCRIPTS.glob("*.py")))
    # the packages on the way (lso, lso.steps) are loaded by their modules anyway
    step_modules = sorted(m for m in imported if not any(o.startswith(f"{m}.") for o in imported))
    probe = (
        "import importlib, sys\n"
        "importlib.import_module(sys.argv[1])\n"
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
        " if n == 'lso' or n.startswith('lso.')))"
    )
    for module in step_modules:
        loaded = subprocess.run(
            [sys.executable, "-c", probe, module], capture_output=True, text=True, check=True
        ).stdout.split()
        assert names(loaded) <= names(library_files(module)), module
