"""Models: shapes, loss terms, the beta schedule and checkpoint I/O."""

from __future__ import annotations

import pytest
import torch

from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.utils import InputError


@pytest.mark.parametrize("kind", ["vae", "rae"])
@pytest.mark.parametrize("latent_dim", [2, 16])
def test_encode_decode_shapes_and_finite_losses(kind: str, latent_dim: int) -> None:
    model = build_model(kind, {"latent_dim": latent_dim})
    x = (torch.rand(5, 28, 28) > 0.5).float()
    mean, log_var = model.encode(x)
    assert mean.shape == (5, latent_dim)
    assert (log_var is None) == (kind == "rae")
    probs = model.decode(mean)
    assert probs.shape == (5, 28, 28)
    assert torch.all((probs >= 0) & (probs <= 1))
    terms = model.loss(x)
    assert all(torch.isfinite(v) for v in terms.values())
    terms["loss"].backward()


def test_vae_loss_is_recon_plus_beta_kl() -> None:
    torch.manual_seed(0)
    model = build_model("vae", {"latent_dim": 2, "beta_start": 0.5})
    terms = model.loss((torch.rand(4, 28, 28) > 0.5).float())
    assert torch.isclose(terms["loss"], terms["recon"] + 0.5 * terms["kl"])
    assert terms["kl"] >= 0


def test_rae_loss_includes_its_regularisers() -> None:
    model = build_model("rae", {"latent_dim": 2, "latent_weight": 2.0, "decoder_weight": 0.5})
    terms = model.loss((torch.rand(4, 28, 28) > 0.5).float())
    expected = terms["recon"] + 2.0 * terms["latent_norm"] + 0.5 * terms["decoder_norm"]
    assert torch.isclose(terms["loss"], expected)


def test_beta_schedule_warms_up_then_grows_geometrically_to_its_cap() -> None:
    model = build_model(
        "vae",
        {
            "latent_dim": 2,
            "beta_start": 1.0,
            "beta_final": 2.0,
            "beta_warmup_steps": 3,
            "beta_step_factor": 1.5,
            "beta_step_every": 2,
        },
    )
    betas = []
    for _ in range(12):
        model.on_train_step()
        betas.append(float(model.beta))
    # steps 1-3 warm-up; then x1.5 at steps 5, 7 (capped at 2.0)
    assert betas[:4] == [1.0] * 4
    assert betas[4] == pytest.approx(1.5)
    assert betas[6] == pytest.approx(2.0)
    assert betas[-1] == pytest.approx(2.0)
    model.beta.fill_(1.0)
    model.finish_schedules()
    assert float(model.beta) == 2.0


def test_checkpoint_round_trip_restores_weights_and_schedule(tmp_path) -> None:
    model = build_model("vae", {"latent_dim": 3, "beta_final": 4.0})
    model.on_train_step()
    path = tmp_path / "model.pt"
    save_checkpoint(model, path)
    loaded = load_checkpoint(path)
    assert type(loaded) is type(model)
    assert loaded.hparams == model.hparams
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_bad_checkpoints_fail_with_the_file_name(tmp_path) -> None:
    missing = tmp_path / "missing.pt"
    with pytest.raises(InputError, match="missing.pt"):
        load_checkpoint(missing)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="garbage.pt"):
        load_checkpoint(garbage)
    wrong = tmp_path / "wrong.pt"
    torch.save({"class": "vae", "hparams": {"latent_dim": 2}, "state_dict": {}}, wrong)
    with pytest.raises(InputError, match="wrong.pt"):
        load_checkpoint(wrong)


def test_unknown_model_type_is_named() -> None:
    with pytest.raises(InputError, match="'gan'"):
        build_model("gan", {"latent_dim": 2})
    with pytest.raises(InputError, match="'vae'"):
        build_model("vae", {"latent_dim": 2, "no_such_hparam": 1})
