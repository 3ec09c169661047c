"""The VQ-VAE: index grids of any size, the straight-through gradient, dead-code restarts."""

from __future__ import annotations

import pytest
import torch

from lso.models.vqvae import VQVAE
from lso.training import FitSettings, fit
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
