"""The smoke overlay: every size capped, every kind of thing kept, the run marked as a smoke run.

The overlay going through the real snakemake, on the thesis's config and data layout, is
``tests/test_thesis.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from lso.config.parse import apply_defaults, parse_config
from lso.config.schema import load_schema, validated
from lso.config.smoke import shrink
from lso.utils import InputError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_schema()


def config(path: str = ".test/config.yaml", smoke: dict | None = None) -> dict:
    raw = yaml.safe_load((REPO / path).read_text())
    if smoke is not None:
        raw["smoke"] = smoke
    return raw


def filled(raw: dict) -> dict:
    apply_defaults(raw)
    return validated(raw, SCHEMA)


def smoke_defaults(**overrides) -> dict:
    return validated(overrides, SCHEMA, "smoke")


def thesis_spec() -> dict:
    """configs/thesis.yaml with every default filled (its data paths are not checked here)."""
    return filled(yaml.safe_load((REPO / "configs" / "thesis.yaml").read_text()))


def test_the_overlay_file_is_one_section_of_defaults() -> None:
    overlay = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())
    assert overlay == {"smoke": {}}
    assert smoke_defaults()["budget"] == 4 and smoke_defaults()["gmm_threshold"] == -1e9
    with pytest.raises(InputError, match="Additional properties"):
        smoke_defaults(budgets=3)


def test_every_size_is_capped_and_every_kind_is_kept() -> None:
    spec = thesis_spec()
    small = validated(shrink(spec, smoke_defaults()), SCHEMA)
    for name, model in small["models"].items():
        before = spec["models"][name]
        assert (model["type"], model["latent_dim"]) == (before["type"], before["latent_dim"])
        assert model["epochs"] <= 1 and model["batch_size"] <= 32
    assert small["models"]["celeba_vae"]["hparams"]["widths"] == [4, 4, 4, 8, 16]
    assert small["models"]["celeba_vqvae"]["hparams"]["widths"] == [4, 4, 8]
    assert small["models"]["celeba_vqvae"]["hparams"]["embedding_dim"] == 4
    assert small["models"]["celeba_vqvae"]["hparams"]["codebook_size"] == 256  # the code format
    # the two SN-GANs share their hparams through a YAML anchor: divided once, to a multiple
    # of 16
    for gan in ("celeba_sngan_z64", "celeba_sngan_z128"):
        assert small["models"][gan]["hparams"]["generator_width"] == 32
    for name, experiment in small["experiments"].items():
        before = spec["experiments"][name]
        for section in ("optimizer", "constraint", "weighting"):
            assert experiment[section]["type"] == before[section]["type"], (name, section)
        surrogate = experiment["optimizer"].get("surrogate")
        if surrogate:
            assert surrogate["type"] == before["optimizer"]["surrogate"]["type"]
        assert experiment["objective"] == before["objective"]
        assert experiment["budget"] == 4 and experiment["seeds"] == before["seeds"][:1]
        assert experiment["retrain_epochs"] <= 0.1 and experiment["initial_retrain_epochs"] <= 0.1
        assert math.isinf(experiment["retrain_every"]) == math.isinf(before["retrain_every"])
        for key in ("n_candidates", "generated_samples", "n_best", "n_random"):
            value = experiment["optimizer"].get(key)
            assert value is None or value <= min(200, before["optimizer"][key]), (name, key)
    gan = small["experiments"]["celeba_sngan_sampling"]
    assert gan["optimizer"]["generated_samples"] == 16 and gan["constraint"]["n_samples"] == 64
    assert gan["constraint"]["quantile"] == 0.5  # a rank, valid for any model: kept
    assert small["experiments"]["vae16_gp"]["constraint"]["threshold"] == -1e9
    assert small["datasets"]["celeba_dialog"]["n_images"] == 400  # null (all) capped
    assert small["datasets"]["mnist3_full"]["n_images"] == 400
    assert small["datasets"]["celeba_dialog"]["path"] == spec["datasets"]["celeba_dialog"]["path"]
    black_box, judge = small["predictor"]["black_box"], small["predictor"]["judge"]
    assert black_box["widths"] == [4, 4, 8, 16] and black_box["blocks"] == [1, 1, 1, 1]
    assert black_box["input_size"] == 64 and black_box["epochs"] == 1
    assert judge["architecture"] == "conv_classifier" and "blocks" not in judge
    assert judge["widths"] == [4, 4, 8, 16] and judge["epochs"] == 1


def test_nothing_grows_and_small_configs_stay_as_they_are() -> None:
    spec = filled(config())
    small = shrink(spec, smoke_defaults(budget=1000, n_images=100000, epochs=50, seeds=9))
    for name, model in small["models"].items():
        assert model["epochs"] == spec["models"][name]["epochs"]
        for key in ("widths", "generator_width", "discriminator_width", "embedding_dim"):
            before, after = spec["models"][name]["hparams"].get(key), model["hparams"].get(key)
            if before is not None:
                after, before = np.atleast_1d(after), np.atleast_1d(before)
                assert (after <= before).all() and (after >= 1).all(), (name, key)
    for name, experiment in small["experiments"].items():
        assert experiment["budget"] == spec["experiments"][name]["budget"]
        assert experiment["seeds"] == spec["experiments"][name]["seeds"]
    assert small["datasets"]["tiny_faces"]["n_images"] == 240


def test_a_smoke_run_is_marked_and_a_real_one_is_not() -> None:
    real = parse_config(config())
    smoke = parse_config(config(smoke={"budget": 2, "gmm_threshold": None}))
    assert not real.smoke and smoke.smoke
    for name, experiment in smoke.experiments.items():
        assert experiment.run.smoke and not real.experiments[name].run.smoke
        assert experiment.run.budget == 2
        assert (
            experiment.run.constraint.threshold == real.experiments[name].run.constraint.threshold
        )
    assert "smoke=True" in repr(smoke.experiments["vae_wr"].run)  # params: a rerun, not a reuse
    assert smoke.condgen.targets == (3,) and smoke.condgen.search.n_iterations == 2


def test_precision_is_a_validated_top_level_key() -> None:
    assert parse_config(config()).precision == "fp32"
    assert parse_config({**config(), "precision": "bf16"}).precision == "bf16"
    with pytest.raises(InputError, match="precision"):
        parse_config({**config(), "precision": "fp16"})
