"""The pretrain step: a generative model trained from scratch, its loss log and a figure."""

from __future__ import annotations

from typing import Any

import torch

from lso import plots
from lso.data.face_dataset import load_generative_data
from lso.models import build_model
from lso.optimizers.grid import latent_grid
from lso.settings import ModelSettings
from lso.training import FitSettings, fit_and_save
from lso.utils import PathLike, resolve_device, seed_everything


def pretrain(
    dataset_path: PathLike,
    spec: ModelSettings,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    figure: PathLike,
    device_name: str = "auto",
    feature_network: PathLike | None = None,
) -> None:
    """Train a model from scratch on the prepared data; write checkpoint, loss log, figure.

    A model with a monitor of its own (the GAN: samples and Fréchet distances during
    training, :meth:`LatentModel.pretraining_monitor`) draws its figure from it; the others
    show reconstructions and samples or, in 2-D, the decoded manifold.
    """
    device = resolve_device(device_name)
    seed_everything(spec.seed)
    data = load_generative_data(dataset_path)
    model = build_model(spec.type, {"latent_dim": spec.latent_dim, **spec.hparams})
    model.to(device)
    train = torch.as_tensor(data["train_images"], device=device)
    val = torch.as_tensor(data["val_images"], device=device)
    settings = FitSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        use_plateau_scheduler=True,
        lr_decay=spec.lr_decay,
    )
    snapshots = model.pretraining_monitor(train, feature_network)
    fit_and_save(
        model,
        train,
        settings,
        seed=spec.seed,
        checkpoint=checkpoint,
        train_log=train_log,
        val_images=val,
        description="pretrain",
        progress=snapshots,
    )
    if snapshots is None:
        plots.save_figure(_model_figure(model, val, device), figure)
    else:
        plots.save_figure(snapshots.figure(), figure)


@torch.no_grad()
def _model_figure(model: Any, val: torch.Tensor, device: torch.device) -> Any:
    """Reconstructions of validation images; for 2-D latents the decoded manifold, otherwise
    decodings of prior samples (what the optimiser's candidates look like)."""
    originals = val[:10]
    means, _ = model.encode(originals)
    reconstructions = model.decode(means).cpu().numpy()
    if model.latent_dim != 2:
        generator = torch.Generator().manual_seed(0)
        z = model.prior_sample(20, generator).to(device)
        samples = model.decode(z).cpu().numpy()
        return plots.plot_reconstructions(originals.cpu().numpy(), reconstructions, samples)
    grid = latent_grid(4.0, 20)
    decoded = model.decode(torch.as_tensor(grid, dtype=torch.float32, device=device))
    return plots.plot_model_overview(
        originals.cpu().numpy(), reconstructions, decoded.cpu().numpy(), grid_len=20, bounds=4.0
    )
