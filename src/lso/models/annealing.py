"""The KL-weight schedule the thesis's VAEs share (digits and faces).

β stays at ``beta_start`` for ``beta_warmup_steps`` optimiser steps, then grows by
``beta_step_factor`` every ``beta_step_every`` steps until it reaches ``beta_final``. β and the
step count are buffers, so a checkpoint resumes the schedule where it stopped, and retraining
during optimisation starts at ``beta_final`` (:meth:`finish_schedules`).
"""

from __future__ import annotations

import torch

from lso.models.base import TrainableModule


class AnnealedBeta(TrainableModule):
    """Mixed in before the model's base class; the model's ``hparams`` hold the β keys."""

    def register_beta(self, beta_start: float) -> None:
        self.register_buffer("beta", torch.tensor(float(beta_start), dtype=torch.float64))
        self.register_buffer("step", torch.tensor(0, dtype=torch.int64))

    def weighted_elbo(self, recon: torch.Tensor, kl: torch.Tensor) -> dict[str, torch.Tensor]:
        """The loss terms: reconstruction + β KL, with each part for the log."""
        beta = self.beta.to(kl.dtype)
        return {"loss": recon + beta * kl, "recon": recon, "kl": kl, "beta": beta}

    def on_train_step(self) -> None:
        self.step += 1
        hp = self.hparams
        past_warmup = int(self.step) - hp["beta_warmup_steps"]
        if past_warmup > 0 and past_warmup % hp["beta_step_every"] == 0:
            self.beta.fill_(min(hp["beta_final"], float(self.beta) * hp["beta_step_factor"]))

    def finish_schedules(self) -> None:
        self.beta.fill_(self.hparams["beta_final"])
