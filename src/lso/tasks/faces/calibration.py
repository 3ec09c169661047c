"""Temperature scaling (Guo et al. 2017) and the calibration metrics of an attribute predictor.

The faces black box is the expected attribute level Σ c·p_c under a predictor's softmax. An
over-confident predictor makes that expectation jump between levels, so optimisation chases
the predictor's quirks; dividing the logits by one temperature T fitted on held-out data
(minimising their negative log-likelihood) keeps the predicted class and fixes the
confidence. Accuracy, NLL and the expected calibration error (torchmetrics) before and after
say how much it helped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassCalibrationError

from lso.utils import InputError


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, max_iter: int = 200) -> float:
    """The temperature T > 0 minimising the NLL of ``labels`` under ``softmax(logits / T)``.

    Optimised by L-BFGS over log T (so T stays positive), starting from T = 1.
    """
    logits, labels = _checked(logits, labels)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.5, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(log_t.detach().exp())


def calibration_metrics(
    logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0, n_bins: int = 15
) -> dict[str, float]:
    """Accuracy, NLL and expected calibration error (L1, ``n_bins`` equal-width bins)."""
    logits, labels = _checked(logits, labels)
    scaled = logits / temperature
    ece = MulticlassCalibrationError(num_classes=logits.shape[1], n_bins=n_bins, norm="l1")
    return {
        "accuracy": float((scaled.argmax(1) == labels).double().mean()),
        "nll": float(F.cross_entropy(scaled, labels)),
        "ece": float(ece(scaled.softmax(1), labels)),
    }


def expected_level(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Σ c·p_c over the classes c = 0 .. C-1 (the thesis's smile score, in [0, C-1])."""
    probabilities = (logits / temperature).softmax(dim=1)
    levels = torch.arange(logits.shape[1], dtype=probabilities.dtype, device=logits.device)
    return probabilities @ levels


def _checked(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if logits.ndim != 2 or labels.shape != (len(logits),) or len(logits) == 0:
        raise InputError(
            f"need logits (n, classes) and labels (n,), got {tuple(logits.shape)} and "
            f"{tuple(labels.shape)}"
        )
    return logits.detach().double(), labels.long()
