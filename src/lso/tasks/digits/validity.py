"""The MNIST classifier as a judge of a thickness run's queries: validity and distance.

Thickness rewards ink, so a run can "improve" by drawing blobs. The classifier (the thesis's
CNN) says whether a queried image is still the digit, and the Fréchet distance between its
features of the queries and of the training digits says how far the queries moved from the
data. Conditional generation uses the same classifier as its black box.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from lso.config.types import ValiditySettings
from lso.core import metrics
from lso.core.features import FeatureFunction
from lso.models.classifier import MnistClassifier


def judge_digits(
    classifier: MnistClassifier,
    features: FeatureFunction,
    queried: torch.Tensor,
    training: torch.Tensor,
    spec: ValiditySettings,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per query: p(digit), valid, the running valid fraction; per run: validity and FD."""
    probabilities = classifier.predict_proba(queried).cpu().numpy()
    valid = metrics.valid_images(probabilities, spec.digit, spec.threshold)
    counts = np.arange(1, len(valid) + 1)
    table = pd.DataFrame(
        {
            "query": counts,
            "p_digit": probabilities[:, spec.digit],
            "valid": valid,
            "valid_fraction_so_far": np.cumsum(valid) / counts,
        }
    )
    distance = metrics.frechet_distance_between(
        features(queried).cpu().numpy(), features(training).cpu().numpy()
    )
    summary = {
        "validity": float(valid.mean()),
        "frechet_distance": float(distance),
        "digit": spec.digit,
        "threshold": spec.threshold,
    }
    return table, summary
