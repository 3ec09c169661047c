"""The SN-GAN: losses, spectral norm, weighted retraining on the data as it grows, the
discriminator constraint, generated surrogate data, stronger-NAS, and resuming."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from lso.config.parse import optimizer_from, run_settings_from
from lso.constraints.base import build_constraint
from lso.core.loop import WeightedRetrainingRun
from lso.core.state import state_path_for
from lso.core.training import fit
from lso.models.base import LatentModel
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.models.sngan_training import (
    discriminator_hinge_loss,
    generator_hinge_loss,
    generator_steps,
)
from lso.optimizers.base import SearchContext, build_optimizer
from lso.optimizers.local import density_constraint_functions

TINY = {"latent_dim": 4, "generator_width": 32, "discriminator_width": 16, "n_dis": 2}
SEED = 3


def tiny_gan(seed: int = 0):
    """A small untrained SN-GAN whose spectral-norm power iterations have converged (right
    after construction their vectors are random and the logits absurdly large)."""
    torch.manual_seed(seed)
    model = build_model("sn_gan", TINY)
    with torch.no_grad():
        for _ in range(20):
            model.discriminate(torch.rand(2, 3, 64, 64))
    model.eval()
    return model


def brightness(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float64).mean(axis=(1, 2, 3))


def grey_data(n: int = 24, level: float = 0.25) -> dict[str, np.ndarray]:
    images = np.full((n, 3, 64, 64), level, dtype=np.float32)
    images += np.linspace(0, 0.2, n, dtype=np.float32)[:, None, None, None]
    return {
        "train_images": images[:-4],
        "val_images": images[-4:],
        "train_scores": brightness(images[:-4]),
    }


GAN_SPEC = {
    "budget": 6,
    "retrain_every": 3,
    "retrain_epochs": 0.5,
    "initial_retrain_epochs": 0.5,
    "batch_size": 8,
    "lr": 1e-4,
    "keep_optimizer_state": True,
    "weighting": {"type": "rank", "k": 1e-3},
    "constraint": {"type": "discriminator", "quantile": 0.5, "n_samples": 64},
    "optimizer": {
        "type": "sampling",
        "surrogate": {"type": "gp"},
        "n_candidates": 64,
        "candidate_distribution": "normal",
        "generated_samples": 16,
    },
}


def gan_run(model, data, out, spec=GAN_SPEC, objective=brightness):
    return WeightedRetrainingRun(
        model,
        data,
        run_settings_from(spec, latent_dim=TINY["latent_dim"]),
        objective,
        seed=SEED,
        device=torch.device("cpu"),
        state_path=state_path_for(out),
        fingerprint="gan",
    )


def first_context(objective, constraint, model, seed: int) -> SearchContext:
    """What a GAN-like model's optimiser sees before any query: no latent points to learn
    from but the generated samples it draws itself."""
    return SearchContext(
        objective=objective,
        constraint=constraint,
        known=set(),
        device=torch.device("cpu"),
        data_images=torch.zeros(0, *model.image_shape),
        data_scores=np.zeros(0),
        seed=seed,
        query_latents=np.zeros((0, model.latent_dim)),
        query_scores=np.zeros(0),
    )


def test_hinge_losses():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    # relu(1 - 2) = 0, relu(1 - 0.5) = 0.5 -> 0.25; relu(1 - 2) = 0, relu(1 + 0) = 1 -> 0.5
    assert discriminator_hinge_loss(real, fake).item() == pytest.approx(0.75)
    assert generator_hinge_loss(fake).item() == pytest.approx(1.0)


def test_shapes_range_and_no_encoder():
    model = tiny_gan()
    with torch.no_grad(), model.evaluating():
        images = model.decode(torch.randn(5, 4))
        logits = model.discriminate(images)
    assert images.shape == (5, 3, 64, 64) and logits.shape == (5,)
    assert images.min() >= 0 and images.max() <= 1  # the thesis's sigmoid output
    assert not model.has_encoder
    with pytest.raises(NotImplementedError, match="no encoder"):
        model.encode(images)


def test_spectral_norm_keeps_every_discriminator_layer_at_unit_norm():
    model = tiny_gan()  # one power iteration per forward pass, as Mimicry runs it
    layers = [m for m in model.discriminator.modules() if hasattr(m, "parametrizations")]
    assert len(layers) == 3 * 5 + 1  # three convolutions per block, one linear layer
    for layer in layers:
        weight = layer.weight.detach()
        sigma = torch.linalg.matrix_norm(weight.reshape(len(weight), -1), ord=2)
        assert sigma.item() == pytest.approx(1.0, abs=0.05)


def test_training_lowers_the_discriminator_loss_and_counts_generator_steps():
    model = tiny_gan()
    images = torch.as_tensor(grey_data(40)["train_images"])
    settings = FitSettings(epochs=4, batch_size=4, lr=2e-4, lr_decay="linear")
    log = fit(model, images, settings, generator=torch.Generator().manual_seed(0))
    assert len(log) == generator_steps(len(images), settings, n_dis=2) == 18
    assert log["lr"].iloc[-1] == pytest.approx(0.0, abs=1e-12)  # linear decay to 0
    assert log["d_loss"].tail(5).mean() < log["d_loss"].head(5).mean()


def test_retraining_sees_the_appended_queries_and_their_weights(tmp_path):
    """The thesis's GAN loader was built once; here each retraining draws real batches from
    the data as it stands, with the rank weights of the moment."""
    model = tiny_gan()
    run = gan_run(model, grey_data(), tmp_path / "run")
    real_batches: list[torch.Tensor] = []
    model.discriminator.register_forward_pre_hook(
        lambda module, args: real_batches.append(args[0].detach().clone())
    )
    run._retrain(0.5, 0)
    queried = np.ones((1, 3, 64, 64), np.float32)  # brighter than every training image
    run._append(queried, np.array([10.0]))
    real_batches.clear()
    run._retrain(2.0, 1)
    images = torch.cat(real_batches)
    real = images.flatten(1).std(dim=1) == 0  # data images are flat greys; samples are not
    share = torch.all(images[real] == 1.0, dim=(1, 2, 3)).float().mean().item()
    # rank weights with k = 1e-3 give the best of 21 points 93 % of the mass
    assert real.sum() == 2 * generator_steps(21, FitSettings(2.0, 8, 1e-4), n_dis=2) * 8
    assert 0.85 < share < 0.99


def test_the_discriminator_constraint_sets_its_threshold_at_the_prior_quantile():
    model = tiny_gan()
    constraint = build_constraint("discriminator", model, None, quantile=0.3, n_samples=400)
    prior = torch.as_tensor(np.random.default_rng(1).standard_normal((2000, 4)))
    with torch.no_grad():
        accepted = (constraint.log_density(prior) >= constraint.threshold).float().mean()
    assert accepted.item() == pytest.approx(0.7, abs=0.05)


def test_the_discriminator_constraint_gradient_matches_finite_differences():
    model = tiny_gan()
    constraint = build_constraint("discriminator", model, None, quantile=0.5, n_samples=100)
    value, jacobian = density_constraint_functions(constraint, torch.device("cpu"))
    z = np.random.default_rng(2).standard_normal(4)
    eps = 1e-2
    numeric = np.array([(value(z + eps * e) - value(z - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(jacobian(z), numeric, rtol=0.05, atol=1e-3)


@pytest.mark.parametrize("kind", ["local", "sampling"])
def test_gan_optimisers_never_return_a_point_the_discriminator_rejects(kind):
    model = tiny_gan()
    constraint = build_constraint("discriminator", model, None, quantile=0.5, n_samples=200)
    settings = optimizer_from(
        {
            "type": kind,
            "surrogate": {"type": "gp"},
            "n_candidates": 100,
            "candidate_distribution": "normal",
            "generated_samples": 30,
            **({"n_starts": 3, "maxiter": 20} if kind == "local" else {}),
        }
    )
    context = first_context(brightness, constraint, model, seed=5)
    proposal = build_optimizer(settings).propose(model, 4, context)
    assert len(proposal.latents) == 4
    assert proposal.oracle_evaluations == 30  # the generated samples, counted
    assert np.all(proposal.log_density >= constraint.threshold)


class ToyGenerator(LatentModel):
    """A generator without an encoder whose best latent point is known: the image is a
    constant grey at sigmoid(z_1 + z_2), so brightness 0.7 sits on the line z_1 + z_2 =
    logit(0.7)."""

    kind = "toy_generator"
    image_shape = (3, 8, 8)
    has_encoder = False

    def __init__(self) -> None:
        super().__init__(latent_dim=2)
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        level = torch.sigmoid(z.float().sum(dim=1))
        return level[:, None, None, None].expand(len(z), *self.image_shape).contiguous()

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        raise AssertionError("not trained in this test")


def closeness_to_07(images: np.ndarray) -> np.ndarray:
    return -((brightness(images) - 0.7) ** 2)


@pytest.mark.parametrize("kind", ["local", "sampling", "stronger_nas"])
def test_each_optimiser_finds_the_known_optimum_of_a_toy_generator(kind):
    extra = {"local": {"n_starts": 3}, "sampling": {}, "stronger_nas": {}}[kind]
    settings = optimizer_from(
        {
            "type": kind,
            "surrogate": {"type": "gp"}
            if kind != "stronger_nas"
            else {"type": "gp", "exact_max": 1, "n_inducing": 20},
            "n_candidates": 500,
            "candidate_distribution": "normal",
            "generated_samples": 60,
            **extra,
        }
    )
    optimizer = build_optimizer(settings)
    generator = ToyGenerator()
    context = first_context(closeness_to_07, None, generator, seed=11)
    proposal = optimizer.propose(generator, 3, context)
    best = closeness_to_07(proposal.images).max()
    generated_best = optimizer.state_dict()["generated"]["scores"].max().item()
    assert best > -(0.01**2)  # within 0.01 brightness of the optimum
    assert best >= generated_best - 1e-3  # at least as good as the best scored sample


def test_stronger_nas_spends_the_budget_exactly_in_rounds_of_m(tmp_path):
    spec = {
        **GAN_SPEC,
        "budget": 10,
        "retrain_every": 4,
        "optimizer": {
            "type": "stronger_nas",
            "batch_size": 2,
            "generated_samples": 12,
            "n_candidates": 40,
            "surrogate": {"type": "gp", "exact_max": 1, "n_inducing": 8},
        },
    }
    out = tmp_path / "nas"
    run = gan_run(tiny_gan(), grey_data(), out, spec)
    run.run()
    run.write_outputs(out, {"experiment": "nas", "seed": SEED})
    queries = pd.read_csv(out / "queries.csv")
    diagnostics = pd.read_csv(out / "diagnostics.csv")
    assert len(queries) == 10  # 4 + 4 + 2: the last iteration is cut at the budget
    assert len(diagnostics) == 5  # one surrogate refit per round of M = 2
    assert list(queries.groupby("iteration").size()) == [4, 4, 2]
    # M0 = 12 scored samples once per retraining (3 retrainings), never per round
    assert diagnostics["oracle_evaluations"].tolist() == [12, 0, 12, 0, 12]
    info = pd.read_json(out / "run.json", typ="series")
    assert info["oracle_evaluations"] == 36


def test_the_discriminator_constraint_is_fitted_once_per_model_version(tmp_path, monkeypatch):
    """It reads the GAN alone, so rounds between two retrainings share one fit."""
    fits = []

    def counting(*args, **kwargs):
        fits.append(kwargs["seed"])
        return build_constraint(*args, **kwargs)

    monkeypatch.setattr("lso.core.loop.build_constraint", counting)
    spec = {
        **GAN_SPEC,
        "budget": 8,
        "retrain_every": 4,
        "constraint": {"type": "discriminator", "quantile": 0.5, "n_samples": 20},
        "optimizer": {**GAN_SPEC["optimizer"], "batch_size": 2},
    }
    run = gan_run(tiny_gan(), grey_data(), tmp_path / "run", spec)
    run.run()
    assert len(run.state.rows) == 8
    assert len(fits) == 2 and fits[0] != fits[1]  # 4 rounds, 2 model versions


def test_a_killed_gan_run_resumes_to_identical_queries(killed_and_resumed):
    """Parameters, kept Adam states, generated samples and random streams all resume."""
    data = grey_data()
    model = tiny_gan()
    initial = copy.deepcopy(model.state_dict())

    def make_run(out):
        model.load_state_dict(initial)
        return gan_run(model, data, out)

    reference, _ = killed_and_resumed(make_run, stop_at=3)
    assert len(reference) == 6
    assert model.optimiser_state  # the kept Adam states were part of the saved state
