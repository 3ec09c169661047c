"""The shipped configs validate against the schema, and the README documents every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lso.config.parse import apply_defaults, parse_config
from lso.config.schema import load_schema, validated
from lso.utils import InputError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_schema()


def properties(schema: dict) -> set[str]:
    """Keys a section may hold: its own properties and those of every per-type branch."""
    keys = set(schema.get("properties", {}))
    for branch in schema.get("allOf", []):
        keys |= set(branch.get("then", {}).get("properties", {}))
    return keys


def schema_keys() -> set[str]:
    """Dotted config keys as the README's reference writes them."""
    keys = set(SCHEMA["properties"])
    for section in ("datasets", "models"):
        item = SCHEMA["properties"][section]["additionalProperties"]
        keys |= {f"{section}.<name>.{k}" for k in item["properties"]}
    experiment = SCHEMA["$defs"]["experiment"]["properties"]
    for key, spec in experiment.items():
        ref = spec.get("$ref", "").rsplit("/", 1)[-1]
        nested = properties(SCHEMA["$defs"][ref]) if ref else {None: None}
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
    apply_defaults(config)
    return config


@pytest.mark.parametrize("path", ["config.yaml", ".test/config.yaml", "configs/faces.yaml"])
def test_shipped_configs_parse(path: str) -> None:
    settings = parse_config(yaml.safe_load((REPO / path).read_text()))
    assert settings.experiments and settings.models


def test_the_thesis_config_is_schema_valid_and_asks_for_its_data() -> None:
    """It needs the full MNIST files, which only a user can bring."""
    validated(load("configs/thesis.yaml"), SCHEMA)
    with pytest.raises(InputError, match="datasets.mnist3_full.path"):
        parse_config(yaml.safe_load((REPO / "configs" / "thesis.yaml").read_text()))


def test_defaults_come_from_the_schema_per_type() -> None:
    config = load(".test/config.yaml")
    settings = parse_config(config)
    gp = settings.experiments["vae16_gp"].run.optimizer
    assert gp.surrogate.exact_max == 1000 and gp.surrogate.epochs is None
    dngo = settings.experiments["vae16_dngo_lso"].run.optimizer
    assert dngo.n_starts is None and dngo.surrogate.kernel is None
    assert dngo.surrogate.batch_size == 128
    assert settings.models["tiny_rae"].hparams["plateau_patience"] == 5
    assert "beta_start" not in settings.models["tiny_rae"].hparams
    assert settings.experiments["vae16_gp"].run.snapshot is None  # 16-D: no snapshots
    assert settings.experiments["vae_wr"].run.snapshot.grid_len == 5


def test_key_order_does_not_change_the_settings() -> None:
    config = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    shuffled = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    shuffled["experiments"]["vae16_gp"]["optimizer"] = dict(
        reversed(list(shuffled["experiments"]["vae16_gp"]["optimizer"].items()))
    )
    shuffled["models"]["tiny_vae"]["hparams"] = dict(
        reversed(list(shuffled["models"]["tiny_vae"]["hparams"].items()))
    )
    first, second = parse_config(config), parse_config(shuffled)
    assert repr(first.experiments["vae16_gp"].run) == repr(second.experiments["vae16_gp"].run)
    assert repr(first.models["tiny_vae"]) == repr(second.models["tiny_vae"])


def test_experiment_defaults_merge_deeply() -> None:
    config = {
        "experiment_defaults": {"budget": 5, "constraint": {"type": "gmm_fit", "threshold": -4}},
        "experiments": {"a": {"constraint": {"threshold": -6}}, "b": {"budget": 7}},
    }
    apply_defaults(config)
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
    apply_defaults(config)
    assert config["experiments"]["a"]["optimizer"] == {"type": "local", "n_starts": 4}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["models"]["tiny_vae"].update(dataset="nope"), "models.tiny_vae.dataset"),
        (
            lambda c: c["experiments"]["vae_wr"].update(retrain_every=2.5),
            "experiments.vae_wr.retrain_every",
        ),
        (
            lambda c: c["experiments"]["vae16_dngo_lso"]["optimizer"].update(n_starts=3),
            "experiments.vae16_dngo_lso.optimizer: Additional properties are not allowed "
            "('n_starts' was unexpected)",
        ),
        (
            lambda c: c["experiments"]["vae16_gp"]["optimizer"]["surrogate"].update(epochs=3),
            "experiments.vae16_gp.optimizer.surrogate: Additional properties are not allowed "
            "('epochs' was unexpected)",
        ),
        (lambda c: c["models"]["tiny_rae"].update(hparams={"beta_final": 2}), "'beta_final'"),
        (lambda c: c["condgen"].update(plot_target=7), "condgen.plot_target"),
        (
            lambda c: c["experiments"]["faces_wr"].update(constraint={"type": "none"}),
            "experiments.faces_wr.optimizer.candidate_distribution 'constraint'",
        ),
        (lambda c: c["models"]["tiny_vae"].update(latent_dim=16), "experiments.vae_wr.optimizer"),
        (
            lambda c: c["experiments"]["rae_wr"].update(
                constraint={"type": "gmm_full", "threshold": -5.0}
            ),
            "experiments.rae_wr.constraint",
        ),
        (lambda c: c["comparisons"]["ablation"].update(experiments=["ghost"]), "ghost"),
        (lambda c: c["datasets"]["tiny3"].update(source="npz", path="missing.npz"), "missing.npz"),
        (lambda c: c["datasets"]["tiny_all"].update(digit=3), "classifier.dataset"),
        (lambda c: c.pop("classifier"), "condgen needs a classifier"),
        (lambda c: c["models"].update(classifier=c["models"]["tiny_vae"]), "models.classifier"),
        (
            lambda c: c["experiments"]["faces_wr"].update(constraint={"type": "discriminator"}),
            "experiments.faces_wr.constraint.type 'discriminator' needs a model with "
            "discriminator; model 'tiny_face_vae' (a face_vae) has none",
        ),
        (
            lambda c: c["experiments"]["gan_nas"].update(
                constraint={"type": "gmm_fit", "threshold": -5.0}
            ),
            "experiments.gan_nas.constraint.type 'gmm_fit' needs a model with encoder",
        ),
        (
            lambda c: c["experiments"]["faces_wr"].update(keep_optimizer_state=True),
            "experiments.faces_wr.keep_optimizer_state: model 'tiny_face_vae' (a face_vae) starts "
            "a fresh optimiser",
        ),
        (
            lambda c: c["experiments"]["gan_nas"].update(
                optimizer={"type": "sampling", "n_candidates": 50}
            ),
            "experiments.gan_nas.optimizer.generated_samples must be at least 1",
        ),
        (
            lambda c: c["models"]["tiny_face_gan"]["hparams"].update(generator_width=40),
            "models.tiny_face_gan.hparams.generator_width",
        ),
        (
            lambda c: c["experiments"]["vq_trees"].update(optimizer={"type": "sampling"}),
            "experiments.vq_trees.optimizer.type 'sampling' searches continuous latent vectors; "
            "model 'tiny_face_vq' (a vq_vae) has grids of categorical codes",
        ),
        (
            lambda c: c["experiments"]["faces_wr"].update(optimizer={"type": "codes"}),
            "experiments.faces_wr.optimizer.type 'codes'",
        ),
        (
            lambda c: c["experiments"]["vq_trees"].update(
                constraint={"type": "gmm_fit", "threshold": -5.0}
            ),
            "experiments.vq_trees.constraint.type 'gmm_fit' describes continuous latent vectors",
        ),
        (
            lambda c: c["models"]["tiny_face_vq"].update(latent_dim=16),
            "models.tiny_face_vq.latent_dim must be the number of grid cells",
        ),
    ],
)
def test_cross_key_errors_name_the_key(edit, message: str) -> None:
    config = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    edit(config)
    with pytest.raises(InputError, match=re.escape(message)):
        parse_config(config)
