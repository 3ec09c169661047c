"""The faces attribute predictor: its calibrated training, and the smile objective it defines.

The faces black box is the expected smile level Σ c·p_c under a ResNet's softmax (the
thesis's ResNet-50 on CelebA-Dialog's Smiling levels). Two predictors share one recipe: the
black box learns from one half of the labelled faces and the judge, which scores the runs'
best queries, from the other, so the judge never saw what the black box was fitted to.

After training, one temperature is fitted on the held-out faces (:mod:`lso.calibration`) and
stored in the checkpoint, so every job that loads the predictor scores with the same
calibrated probabilities. Calibration matters here because the optimiser maximises an
expectation: an over-confident predictor makes it jump between levels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from lso import plots
from lso.calibration import calibration_metrics, expected_level, fit_temperature
from lso.data.face_dataset import ROLES, load_face_dataset, n_levels, predictor_split
from lso.evaluation import write_json
from lso.models import build_model, load_checkpoint
from lso.models.checkpoint import save_checkpoint
from lso.models.resnet import ResNetClassifier
from lso.settings import PredictorSettings
from lso.training import FitSettings, fit
from lso.utils import InputError, PathLike, atomic_path, resolve_device, seed_everything

if TYPE_CHECKING:
    from matplotlib.figure import Figure

N_BINS = 15  # calibration bins, as torchmetrics' default and Guo et al.


def train_predictor(
    dataset_path: PathLike,
    spec: PredictorSettings,
    role: str,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    metrics: PathLike,
    figure: PathLike,
    device_name: str = "auto",
) -> None:
    """Train the ``role`` predictor (``black_box`` or ``judge``), calibrate it and save it all.

    The judge trains with ``spec.seed + 1`` (the black box with ``spec.seed``): with its own
    half of the faces and its own initialisation and batch order, its errors are as
    independent of the black box's as one recipe allows.
    """
    data = load_face_dataset(dataset_path)
    split = predictor_split(data, role)
    if len(split.train_levels) == 0 or len(split.val_levels) == 0:
        raise InputError(
            f"{dataset_path}: the {role} half needs training and validation faces (to fit the "
            f"temperature), got {len(split.train_levels)} and {len(split.val_levels)}"
        )
    device = resolve_device(device_name)
    seed = spec.seed + ROLES.index(role)
    seed_everything(seed)
    model = build_model("resnet_classifier", _hparams(spec, n_levels(data))).to(device)
    train, train_levels, val, val_levels = (torch.as_tensor(a, device=device) for a in split)
    log = fit(
        model,
        train,
        FitSettings(spec.epochs, spec.batch_size, spec.lr, lr_decay="cosine"),
        generator=torch.Generator().manual_seed(seed),
        val_images=val,
        targets=train_levels,
        val_targets=val_levels,
        description=f"predictor {role}",
    )
    logits, labels = model.predict_logits(val).cpu(), val_levels.cpu()
    model.temperature.fill_(fit_temperature(logits, labels))
    save_checkpoint(model, checkpoint)
    with atomic_path(train_log) as tmp:
        log.to_csv(tmp, index=False)
    temperature = float(model.temperature)  # as stored, so the metrics describe the checkpoint
    write_json(metrics, _metrics(logits, labels, temperature, role, len(train)))
    plots.save_figure(_reliability_figure(logits, labels, temperature, role), figure)


def _hparams(spec: PredictorSettings, n_classes: int) -> dict[str, object]:
    return {
        "n_classes": n_classes,
        "widths": list(spec.widths),
        "blocks": list(spec.blocks),
        "input_size": spec.input_size,
    }


def _metrics(
    logits: torch.Tensor, labels: torch.Tensor, temperature: float, role: str, n_train: int
) -> dict[str, object]:
    """Accuracy, NLL and ECE on the validation faces before and after temperature scaling."""
    before = calibration_metrics(logits, labels, n_bins=N_BINS)
    after = calibration_metrics(logits, labels, temperature, n_bins=N_BINS)
    return {
        "role": role,
        **{f"{name}_before": value for name, value in before.items()},
        **{f"{name}_after": value for name, value in after.items()},
        "temperature": temperature,
        "n_classes": logits.shape[1],
        "n_train": n_train,
        "n_val": len(labels),
    }


def _reliability_figure(
    logits: torch.Tensor, labels: torch.Tensor, temperature: float, role: str
) -> Figure:
    panels = {}
    for name, scale in (("before scaling", 1.0), (f"after (T = {temperature:.2f})", temperature)):
        ece = calibration_metrics(logits, labels, scale, n_bins=N_BINS)["ece"]
        panels[f"{name}, ECE {ece:.3f}"] = (logits.double() / scale).softmax(1).numpy()
    return plots.plot_reliability(
        panels,
        labels.numpy(),
        N_BINS,
        title=f"{role} predictor on its {len(labels)} validation faces",
    )


class SmileObjective:
    """The black box of the faces runs: a predictor's calibrated expected attribute level.

    Called on colour images (n, 3, H, W) in [0, 1] it returns Σ c·p_c under the
    temperature-scaled softmax, in [0, n_classes - 1] (0–5 for the smile levels). It always
    evaluates in evaluation mode and in fixed-size batches, so a face's score does not depend
    on the faces scored with it.
    """

    def __init__(self, model: ResNetClassifier, batch_size: int = 256) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = next(model.parameters()).device

    @classmethod
    def load(cls, path: PathLike, device: torch.device | str) -> SmileObjective:
        """The objective of the predictor checkpoint at ``path``, on ``device``."""
        return cls(load_checkpoint(path, device, expected=ResNetClassifier))

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Expected level of every image, float64 (n,)."""
        temperature = float(self.model.temperature)
        return self._batched(images, lambda x: expected_level(self.model(x), temperature))

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate (globally pooled) activations (n, F), for Fréchet distances."""
        return self._batched(images, self.model.features)

    def _batched(
        self, images: np.ndarray, function: Callable[[torch.Tensor], torch.Tensor]
    ) -> np.ndarray:
        """``function`` of the images, batch by batch (an empty input is one empty batch)."""
        images = _checked_images(images)
        outputs = []
        with torch.no_grad(), self.model.evaluating():
            for start in range(0, max(len(images), 1), self.batch_size):
                batch = torch.as_tensor(images[start : start + self.batch_size], device=self.device)
                outputs.append(function(batch.float()).cpu().double().numpy())
        return np.concatenate(outputs)


def _checked_images(images: np.ndarray) -> np.ndarray:
    """Float colour images (n, 3, H, W); 8-bit ones are refused, as 0–255 would be misread."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != 3 or not np.issubdtype(images.dtype, np.floating):
        raise InputError(
            "the smile objective needs float images in [0, 1] of shape (n, 3, H, W), e.g. "
            f"(n, 3, 64, 64); got {images.dtype} {images.shape}"
        )
    return images
