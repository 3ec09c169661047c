"""A VAE trained jointly with a label predictor on its latent mean (Krasser 2018's blog).

Gómez-Bombarelli et al. train a property predictor on the latent code together with the
VAE so that the latent space becomes ordered by the property; the blog reproduces this on
MNIST with the digit label. The predictor reads the encoder *mean*, not a sample, so its
gradient shapes where the encoder puts each class.

Differences from the blog: encoder and decoder are the thesis's binary-MNIST VAE (four
convolutions to 64x7x7, see :mod:`lso.models.mnist`), not the blog's Keras layers, and the
log-variance is parametrised as twice a log standard deviation, as in that VAE.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lso.config.types import PREDICTORS
from lso.models.base import BernoulliImageModel
from lso.models.mnist import _decoder, _encoder_trunk, elbo_terms, gaussian_encode
from lso.utils import InputError

N_CLASSES = 10


class JointVAE(BernoulliImageModel):
    """VAE (Bernoulli likelihood, N(0, I) prior) plus a dense predictor on the latent mean.

    ``predictor`` is ``"off"`` (a plain VAE), ``"classifier"`` (10 softmax logits,
    cross-entropy) or ``"regressor"`` (one output, squared error on the digit value). The
    predictor has two hidden layers of ``hidden`` ReLU units, as in the blog. The loss is
    ``recon + beta * kl + predictor_weight * predictor loss``; the blog's Keras loss weights
    [1, 20] give ``beta = 1`` and ``predictor_weight = 20``.
    """

    kind = "joint_vae"
    image_shape = (28, 28)

    def __init__(
        self,
        latent_dim: int = 2,
        predictor: str = "classifier",
        predictor_weight: float = 20.0,
        beta: float = 1.0,
        hidden: int = 128,
    ) -> None:
        if predictor not in PREDICTORS:
            raise InputError(f"predictor must be one of {list(PREDICTORS)}, got {predictor!r}")
        super().__init__(
            latent_dim=latent_dim,
            predictor=predictor,
            predictor_weight=predictor_weight,
            beta=beta,
            hidden=hidden,
        )
        self.encoder = nn.Sequential(_encoder_trunk(), nn.Linear(32, 2 * latent_dim))
        self.decoder = _decoder(latent_dim)
        self.predictor = None if predictor == "off" else _predictor(latent_dim, hidden, predictor)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return gaussian_encode(self.encoder, x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """VAE terms, plus the weighted predictor loss of labels ``y`` when a predictor is on.

        ``y`` is optional only so that the ``"off"`` model fits the label-free interface of
        :class:`LatentModel`; the other modes need it.
        """
        mean, recon, kl = elbo_terms(self, x)
        terms = {"recon": recon, "kl": kl, "vae": recon + self.hparams["beta"] * kl}
        if self.predictor is None:
            return {"loss": terms["vae"], **terms}
        if y is None:
            raise InputError(f"JointVAE with predictor {self.hparams['predictor']!r} needs labels")
        terms.update(self._predictor_terms(self.predictor(mean), y))
        return {
            "loss": terms["vae"] + self.hparams["predictor_weight"] * terms["predictor"],
            **terms,
        }

    def _predictor_terms(self, output: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.hparams["predictor"] == "regressor":
            return {"predictor": F.mse_loss(output.squeeze(1), y.to(output.dtype))}
        accuracy = (output.argmax(dim=1) == y).to(output.dtype).mean()
        return {"predictor": F.cross_entropy(output, y.long()), "accuracy": accuracy}

    @torch.no_grad()
    def predict(self, t: torch.Tensor) -> torch.Tensor:
        """The predictor at latent points ``t`` (n, latent_dim).

        Returns class probabilities (n, 10) for the classifier and predicted digit values
        (n,) for the regressor; the ``"off"`` model has nothing to predict with.
        """
        if self.predictor is None:
            raise InputError("JointVAE with predictor 'off' has no predictor to query")
        output = self.predictor(t)
        if self.hparams["predictor"] == "regressor":
            return output.squeeze(1)
        return output.softmax(dim=1)


def _predictor(latent_dim: int, hidden: int, mode: str) -> nn.Sequential:
    """Two dense ReLU layers, then 10 logits (classifier) or one value (regressor)."""
    return nn.Sequential(
        nn.Linear(latent_dim, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, N_CLASSES if mode == "classifier" else 1),
    )
