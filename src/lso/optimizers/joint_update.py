"""LOL-BO's joint update (Maus et al. 2022): fine-tune the generative model and the surrogate
together, then recentre.

After ``e2e_freq`` rounds without a new best, LOL-BO trains the VAE and its approximate GP on
one loss, the VAE's own loss plus the GP's negative predictive log likelihood of the scores at
the encodings, over the newest batch and the ``top_k`` best points. The encoder thus learns to
put good images where the GP expects good scores, keeping local moves local in image space.
The latent space has then moved, so the points are *recentred*: re-encoded with the new
encoder, decoded by the new decoder and scored, because the new decode of an old image is a
new image. Those scores are oracle calls; here only decodes that are new images are scored
(a black box is deterministic, so a known image's score is known), best source first, and no
more than the budget has left. The constraint is not asked: the recentred points are
re-encodings of the data, where the constraint's density comes from.
"""

from __future__ import annotations

import numpy as np
import torch

from lso.constraints.base import encode_dataset
from lso.models.base import LatentModel, decode_queries
from lso.optimizers.base import Evaluated, SearchContext, image_keys
from lso.optimizers.trust_region import to_unit
from lso.runtime import unit_batch
from lso.surrogates.turbo_gp import ApproximateGP


def update_sources(
    newest_images: torch.Tensor,
    newest_scores: np.ndarray,
    context: SearchContext,
    top_k: int,
) -> tuple[torch.Tensor, np.ndarray]:
    """The points LOL-BO fine-tunes and recentres on: the newest batch and the ``top_k`` best
    of everything scored so far (the data of the round, which holds the earlier queries, and
    the newest batch), best first, each once."""
    n_new = len(newest_scores)
    scores = np.concatenate([newest_scores, context.data_scores])
    best = np.argsort(-scores, kind="stable")[:top_k]
    chosen = np.union1d(np.arange(n_new), best)
    new_rows, data_rows = chosen[chosen < n_new], chosen[chosen >= n_new] - n_new
    # the data are 8-bit levels held once: only the chosen ones become float images
    images = torch.cat(
        [
            torch.as_tensor(newest_images, dtype=torch.float32, device=context.device)[new_rows],
            unit_batch(context.data_images, torch.as_tensor(data_rows), context.device),
        ]
    )
    order = np.argsort(-scores[chosen], kind="stable")
    return images[torch.as_tensor(order, device=images.device)], scores[chosen][order]


def fine_tune_jointly(
    model: LatentModel,
    surrogate: ApproximateGP,
    images: torch.Tensor,
    targets: torch.Tensor,
    *,
    bounds: float,
    epochs: int,
    batch_size: int,
    lr: float,
    max_grad_norm: float,
    generator: torch.Generator,
) -> None:
    """Adam on ``model.loss(x) + surrogate loss at the encoder means of x`` for ``epochs``
    passes over ``images`` with standardised scores ``targets``; the model's gradients are
    clipped to ``max_grad_norm`` as in LOL-BO. Batches hold at least ``batch_size`` images
    (the last one absorbs the remainder), so batch norm never sees a batch of one."""
    model.train()
    surrogate.model.train()
    optimiser = torch.optim.Adam([*model.parameters(), *surrogate.parameters()], lr=lr)
    n_batches = max(1, len(images) // batch_size)
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator).to(images.device)
        for batch in torch.tensor_split(order, n_batches):
            x = images[batch]
            means, _ = model.encode(x)
            unit = to_unit(means.double(), bounds)
            loss = model.loss(x)["loss"] + surrogate.loss(
                unit, targets[batch].to(unit), num_data=len(images)
            )
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_grad_norm)
            optimiser.step()
    model.eval()
    surrogate.model.eval()


def recenter(
    model: LatentModel,
    images: torch.Tensor,
    context: SearchContext,
    max_evaluations: int,
) -> Evaluated:
    """Re-encode ``images`` (best first), decode them with the fine-tuned model and score the
    decodes that are new images, at most ``max_evaluations`` of them."""
    means, _ = encode_dataset(model, images)
    latents = means.double().cpu().numpy()
    decoded = decode_queries(model, latents, context.device)
    seen = set(context.known)
    keep = []
    for index, key in enumerate(image_keys(decoded)):
        if len(keep) < max_evaluations and key not in seen:
            keep.append(index)
            seen.add(key)
    if not keep:
        return Evaluated(latents[:0], decoded[:0], np.zeros(0))
    scores = np.asarray(context.objective(decoded[keep]), dtype=np.float64)
    return Evaluated(latents[keep], decoded[keep], scores)
