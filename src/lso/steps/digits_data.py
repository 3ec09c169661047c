"""Preparing a digit data set (raw MNIST -> one file; no torch), apart from the faces' so
that editing one family's preparation does not rerun the other's."""

from __future__ import annotations

import logging

from lso.config.types import DatasetSettings
from lso.tasks.digits.dataset import (
    first_images,
    prepare_all_digits,
    prepare_digit_dataset,
    save_dataset,
    save_labelled_dataset,
)
from lso.tasks.digits.mnist import load_mnist
from lso.utils import PathLike

logger = logging.getLogger(__name__)


def prepare(spec: DatasetSettings, output: PathLike) -> None:
    """Raw MNIST -> one digit data set: ``digit: null`` keeps every digit with its label (for
    the classifier and conditional generation); otherwise one digit with its thickness."""
    images, labels = first_images(*load_mnist(spec.source, spec.path), spec.digit, spec.n_images)
    if spec.digit is None:
        arrays = prepare_all_digits(
            images,
            labels,
            binarize_threshold=spec.binarize_threshold,
            val_fraction=spec.val_fraction,
            seed=spec.seed,
        )
        logger.info(
            "prepared %d training and %d validation digits of all classes",
            len(arrays["train_labels"]),
            len(arrays["val_labels"]),
        )
        save_labelled_dataset(output, arrays)
        return
    arrays = prepare_digit_dataset(
        images,
        labels,
        digit=spec.digit,
        binarize_threshold=spec.binarize_threshold,
        val_fraction=spec.val_fraction,
        holdout_top_fraction=spec.holdout_top_fraction,
        seed=spec.seed,
    )
    logger.info(
        "prepared %d training and %d validation images of digit %d (max thickness %.4f)",
        len(arrays["train_scores"]),
        len(arrays["val_scores"]),
        spec.digit,
        float(arrays["train_scores"].max()),
    )
    save_dataset(output, arrays)
