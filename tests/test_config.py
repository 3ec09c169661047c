"""The shipped configs validate against the schema, and the README documents every key."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from lso.config import apply_experiment_defaults, check_config
from lso.utils import InputError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())


def schema_keys() -> set[str]:
    """Dotted config keys as the README's reference writes them."""
    keys = set(SCHEMA["properties"])
    for section in ("datasets", "models"):
        item = SCHEMA["properties"][section]["additionalProperties"]
        keys |= {f"{section}.<name>.{k}" for k in item["properties"]}
    experiment = SCHEMA["$defs"]["experiment"]["properties"]
    for key, spec in experiment.items():
        ref = spec.get("$ref", "").rsplit("/", 1)[-1]
        nested = SCHEMA["$defs"][ref]["properties"] if ref else {None: None}
        keys |= {f"experiments.<name>.{key}" + (f".{k}" if k else "") for k in nested}
    comparison = SCHEMA["properties"]["comparisons"]["additionalProperties"]["properties"]
    keys |= {f"comparisons.<name>.{k}" for k in comparison}
    keys |= {f"plots.{k}" for k in SCHEMA["properties"]["plots"]["properties"]}
    return keys - {"datasets", "models", "experiments", "comparisons", "plots"}


def test_readme_documents_every_config_key() -> None:
    readme = (REPO / "README.md").read_text()
    missing = sorted(key for key in schema_keys() if f"`{key}`" not in readme)
    assert not missing, f"README config reference lacks {missing}"


def load(path: str) -> dict:
    config = yaml.safe_load((REPO / path).read_text())
    apply_experiment_defaults(config)
    return config


@pytest.mark.parametrize("path", ["config.yaml", ".test/config.yaml", "configs/thesis.yaml"])
def test_shipped_configs_validate(path: str) -> None:
    config = load(path)
    jsonschema.Draft202012Validator(SCHEMA).validate(config)
    if path != "configs/thesis.yaml":  # the thesis config needs full MNIST files
        check_config(config)


def test_experiment_defaults_merge_deeply() -> None:
    config = {
        "experiment_defaults": {"budget": 5, "constraint": {"type": "gmm_fit", "threshold": -4}},
        "experiments": {"a": {"constraint": {"threshold": -6}}, "b": {"budget": 7}},
    }
    apply_experiment_defaults(config)
    assert config["experiments"]["a"] == {
        "budget": 5,
        "constraint": {"type": "gmm_fit", "threshold": -6},
    }
    assert config["experiments"]["b"]["budget"] == 7


def test_a_section_of_another_type_replaces_the_default() -> None:
    config = {
        "experiment_defaults": {"optimizer": {"type": "grid", "grid_len": 50, "bounds": 3}},
        "experiments": {"a": {"optimizer": {"type": "local", "n_starts": 4}}},
    }
    apply_experiment_defaults(config)
    assert config["experiments"]["a"]["optimizer"] == {"type": "local", "n_starts": 4}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["models"]["tiny_vae"].update(dataset="nope"), "models.tiny_vae.dataset"),
        (
            lambda c: c["experiments"]["vae_wr"].update(retrain_every=2.5),
            "experiments.vae_wr.retrain_every",
        ),
        (lambda c: c["models"]["tiny_vae"].update(latent_dim=16), "experiments.vae_wr.optimizer"),
        (
            lambda c: c["experiments"]["rae_wr"]["constraint"].update(type="gmm_full"),
            "experiments.rae_wr.constraint",
        ),
        (lambda c: c["comparisons"]["ablation"].update(experiments=["ghost"]), "ghost"),
        (lambda c: c["datasets"]["tiny3"].update(source="npz", path="missing.npz"), "missing.npz"),
        (lambda c: c["datasets"]["tiny_all"].update(digit=3), "classifier.dataset"),
        (lambda c: c.pop("classifier"), "condgen needs a classifier"),
        (lambda c: c["models"].update(classifier=c["models"]["tiny_vae"]), "models.classifier"),
    ],
)
def test_cross_key_errors_name_the_key(edit, message: str) -> None:
    config = load(".test/config.yaml")
    edit(config)
    with pytest.raises(InputError, match=re.escape(message)):
        check_config(config)
