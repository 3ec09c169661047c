"""The VQ-VAE: index grids of any size, the straight-through gradient, dead-code restarts."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from lso.config.parse import run_settings_from
from lso.core.loop import WeightedRetrainingRun
from lso.core.state import state_path_for
from lso.core.training import fit
from lso.models.fitting import FitSettings
from lso.models.vqvae import VQVAE
from lso.utils import InputError


def small(widths=(8, 16, 32), **kwargs) -> VQVAE:
    torch.manual_seed(0)
    return VQVAE(widths=widths, embedding_dim=8, codebook_size=16, **kwargs)


@pytest.mark.parametrize(("widths", "side"), [((8, 16, 32), 8), ((16, 32), 16)])
def test_index_grids_round_trip_for_two_grid_sizes(widths, side):
    model = small(widths)
    images = torch.rand(3, 3, 64, 64)
    indices = model.encode_indices(images)
    assert indices.shape == (3, side, side) and indices.dtype == torch.int64
    assert model.latent_dim == side * side
    # a grid of codebook vectors quantises back to the same indices
    grid = torch.randint(0, 16, (2, side, side))
    assert torch.equal(model.nearest_codes(model.embed(grid)), grid)
    # decoding the flattened float latent equals decoding the integer grid
    flat = grid.flatten(1).float()
    assert torch.equal(model.decode(flat), model.decode_indices(grid))
    assert model.decode(flat).shape == (2, 3, 64, 64)


def test_a_grid_of_another_size_decodes_to_an_image_of_that_size():
    model = small()
    images = model.decode_indices(torch.zeros(1, 4, 12, dtype=torch.int64))
    assert images.shape == (1, 3, 32, 96)  # 8 pixels a cell for three stride-2 stages


def test_out_of_range_codes_and_wrong_latent_sizes_are_refused():
    model = small()
    with pytest.raises(InputError, match="0..15"):
        model.decode_indices(torch.full((1, 8, 8), 16))
    with pytest.raises(InputError, match="latent_dim 64"):
        VQVAE(latent_dim=16, widths=(8, 16, 32))


def test_the_straight_through_estimator_copies_the_decoder_gradient_to_the_encoder():
    """Quantisation has no gradient; the reconstruction term still reaches the encoder,
    with exactly the gradient the decoder's input received."""
    model = small()
    x = torch.rand(2, 3, 64, 64)
    seen: dict[str, torch.Tensor] = {}

    def keep(name: str, tensor: torch.Tensor) -> None:
        tensor.retain_grad()
        seen[name] = tensor

    model.encoder.register_forward_hook(lambda module, args, output: keep("z_e", output))
    model.decoder.register_forward_pre_hook(lambda module, args: keep("input", args[0]))
    model.loss(x)["recon"].backward()
    decoder_input, z_e = seen["input"], seen["z_e"]
    quantised = model.embed(model.nearest_codes(z_e.detach()))
    assert torch.allclose(decoder_input, quantised, atol=1e-6)  # forward: the codes
    assert torch.equal(z_e.grad, decoder_input.grad)  # backward: straight through
    assert z_e.grad.abs().sum() > 0


def test_the_loss_trains_encoder_decoder_and_codebook():
    model = small()
    terms = model.loss(torch.rand(2, 3, 64, 64))
    terms["loss"].backward()
    for part in (model.encoder, model.decoder, model.codebook):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    assert 1 <= terms["perplexity"] <= terms["codes_used"] <= 16


def test_dead_codes_are_restarted_from_encoder_outputs():
    """The uniform(-1/K, 1/K) codebook starts with nearly all inputs on a few codes; restarts
    bring unused codes back where the encoder's outputs are."""
    model = small(dead_after=2)
    images = torch.rand(32, 3, 64, 64)
    before = model.loss(images)["codes_used"].item()
    model.train()
    fit(model, images, FitSettings(epochs=3, batch_size=8, lr=1e-3), generator=torch.Generator())
    model.train()
    after = model.loss(images)["codes_used"].item()
    assert after > before
    assert int(model.steps_unused.max()) < 2 + 1  # no code stays unused past dead_after


def faces_data(n: int = 40) -> dict[str, np.ndarray]:
    from lso.tasks.faces.drawing import draw_faces

    images = draw_faces(n, seed=0)[0].astype(np.float32) / 255
    return {
        "train_images": images[:-8],
        "val_images": images[-8:],
        "train_scores": redness(images[:-8]),
    }


def redness(images: np.ndarray) -> np.ndarray:
    return (2 * images[:, 0] - images[:, 1] - images[:, 2]).mean(axis=(1, 2)).astype(np.float64)


VQ_SPEC = {
    "budget": 6,
    "retrain_every": 3,
    "retrain_epochs": 0.5,
    "initial_retrain_epochs": 0.5,
    "batch_size": 8,
    "lr": 1e-3,
    "weighting": {"type": "rank", "k": 1e-3},
    "constraint": {"type": "none"},
    "optimizer": {
        "type": "codes",
        "surrogate": {"type": "trees", "n_estimators": 30, "min_child_samples": 3},
        "n_candidates": 100,
        "n_starts": 2,
        "maxiter": 3,
    },
}


def vq_run(model, data, out, spec=VQ_SPEC):
    return WeightedRetrainingRun(
        model,
        data,
        run_settings_from(spec, latent_dim=model.latent_dim),
        redness,
        seed=4,
        device=torch.device("cpu"),
        state_path=state_path_for(out),
        fingerprint="vq",
    )


def test_a_killed_vq_vae_run_resumes_to_identical_code_grids(killed_and_resumed):
    data = faces_data()
    model = small()
    initial = copy.deepcopy(model.state_dict())

    def make_run(out):
        model.load_state_dict(initial)
        return vq_run(model, data, out)

    reference, arrays = killed_and_resumed(make_run, stop_at=3)
    assert len(reference) == 6
    assert arrays["latents"].dtype == np.int64 and arrays["latents"].shape == (6, 64)
    assert arrays["latents"].min() >= 0 and arrays["latents"].max() < 16


def test_each_retraining_records_the_codebook_usage(tmp_path):
    out = tmp_path / "usage"
    run = vq_run(small(), faces_data(), out)
    run.run()
    run.write_outputs(out, {"experiment": "usage", "seed": 4})
    diagnostics = pd.read_csv(out / "diagnostics.csv")
    assert diagnostics.codes_used.notna().sum() == 2  # one row per retraining (r = 3, B = 6)
    assert diagnostics.codes_used.dropna().between(1, 16).all()
    assert (diagnostics.perplexity.dropna() <= diagnostics.codes_used.dropna()).all()


def test_the_categorical_gp_proposes_new_grids_with_predictions(tmp_path):
    spec = {**VQ_SPEC, "budget": 2, "retrain_every": 2}
    spec["optimizer"] = {**VQ_SPEC["optimizer"], "surrogate": {"type": "categorical_gp"}}
    out = tmp_path / "gp"
    data = faces_data()
    run = vq_run(small(), data, out, spec)
    run.run()
    run.write_outputs(out, {"experiment": "gp", "seed": 4})
    arrays = np.load(out / "queries.npz")
    assert len(arrays["latents"]) == 2
    assert len({row.tobytes() for row in arrays["latents"]}) == 2
    diagnostics = pd.read_csv(out / "diagnostics.csv")
    assert diagnostics.predictive_log_likelihood.notna().all()  # the GP has a variance
