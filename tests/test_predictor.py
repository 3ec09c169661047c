"""The faces predictor end to end: training, calibration, checkpoint and the smile objective."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from lso.config.types import PredictorSettings
from lso.core.datafiles import save_arrays
from lso.models.attribute_classifier import resized
from lso.steps.figures import plot_reliability
from lso.steps.optimize import run_data
from lso.steps.predictors import train_predictor
from lso.steps.scores import score_data
from lso.tasks.faces.dataset import assign_splits, save_face_dataset
from lso.tasks.faces.drawing import ATTRIBUTES, draw_faces
from lso.tasks.faces.objective import SmileObjective
from lso.tasks.faces.reference import FaceReference
from lso.utils import InputError

SMILING = ATTRIBUTES.index("Smiling")


def faces_file(path: Path, n: int, seed: int = 0) -> Path:
    images, labels = draw_faces(n, seed=seed)
    levels = labels[:, SMILING].astype(np.int8)
    half, val = assign_splits(levels, val_fraction=0.2, seed=seed)
    arrays = {"images": images, "levels": levels, "half": half, "val": val}
    save_face_dataset(path, {**arrays, "max_level": np.array(2)})
    return path


def spec(epochs: float, role: str = "black_box") -> PredictorSettings:
    """The black box a ResNet, the judge a plain CNN with its own seed, as in config.yaml."""
    return PredictorSettings(
        architecture="resnet_classifier" if role == "black_box" else "conv_classifier",
        widths=(16, 32, 64, 128),
        blocks=(1, 1, 1, 1) if role == "black_box" else None,
        input_size=64,
        epochs=epochs,
        batch_size=32,
        lr=2e-3,
        seed=0 if role == "black_box" else 1,
        augmentation=None,
    )


def train(tmp_path: Path, dataset: Path, role: str, epochs: float) -> dict[str, Path]:
    files = {
        "checkpoint": tmp_path / role / "model.pt",
        "train_log": tmp_path / role / "train_log.csv",
        "metrics": tmp_path / role / "metrics.json",
        "calibration": tmp_path / role / "calibration.npz",
    }
    train_predictor(dataset, spec(epochs, role), role, device_name="cpu", **files)
    return files


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A black-box predictor fitted for 8 epochs on 600 generated faces (~45 s on one core)."""
    root = tmp_path_factory.mktemp("predictor")
    dataset = faces_file(root / "faces.npz", 1500)
    return dataset, train(root, dataset, "black_box", epochs=8)


def test_training_writes_checkpoint_log_metrics_and_figure(trained, tmp_path) -> None:
    _, files = trained
    assert all(path.stat().st_size > 0 for path in files.values())
    figure = tmp_path / "reliability.png"
    plot_reliability(files["calibration"], "black_box", figure)
    assert figure.stat().st_size > 1000
    metrics = json.loads(files["metrics"].read_text())
    assert metrics["role"] == "black_box" and metrics["n_classes"] == 6
    for name in ("accuracy", "nll", "ece"):
        assert 0 <= metrics[f"{name}_after"] and np.isfinite(metrics[f"{name}_before"])
    assert metrics["accuracy_after"] == metrics["accuracy_before"]  # one temperature
    assert metrics["nll_after"] <= metrics["nll_before"] + 1e-9  # fitted on these faces
    assert metrics["temperature"] > 0
    log = pd.read_csv(files["train_log"])
    val = log[log["split"] == "val"]
    assert len(val) >= 4 and val["loss"].iloc[-1] < val["loss"].iloc[0]


def test_the_checkpoint_carries_the_fitted_temperature(trained) -> None:
    _, files = trained
    metrics = json.loads(files["metrics"].read_text())
    objective = SmileObjective.load(files["checkpoint"], "cpu")
    assert float(objective.model.temperature) == pytest.approx(metrics["temperature"])
    assert metrics["temperature"] != 1.0


def test_the_mean_score_rises_with_the_drawn_smile_level(trained) -> None:
    """Unseen faces drawn at each level: the objective's mean rises with the level.

    Levels 0 and 1 (a slight frown, a flat mouth) are the subtlest pair for this small,
    briefly trained predictor, so they are compared as one group; the default config's
    predictor separates them too (README, "Results").
    """
    _, files = trained
    objective = SmileObjective.load(files["checkpoint"], "cpu")
    levels, scores = [], []
    for level in range(6):
        images, labels = draw_faces(40, seed=1000 + level, smile=level)
        assert (labels[:, SMILING] == level).all()
        levels += [level] * len(images)
        scores.append(objective(images.astype(np.float32) / 255))
    means = [float(np.mean(s)) for s in scores]
    grouped = [np.mean(np.concatenate(scores[:2])), *means[2:]]
    assert np.all(np.diff(grouped) > 0), means
    assert means[-1] - means[0] > 2.5, means
    assert spearmanr(levels, np.concatenate(scores)).statistic > 0.8


def test_scores_lie_in_the_level_range_and_ignore_their_batch(trained) -> None:
    _, files = trained
    objective = SmileObjective.load(files["checkpoint"], "cpu")
    images = draw_faces(10, seed=3)[0].astype(np.float32) / 255
    scores = objective(images)
    assert scores.shape == (10,) and scores.dtype == np.float64
    assert ((0 <= scores) & (scores <= 5)).all()
    np.testing.assert_allclose(objective(images[3:4]), scores[3:4], rtol=1e-5)
    assert objective.features(images).shape == (10, 128)
    assert objective(np.zeros((0, 3, 64, 64), np.float32)).shape == (0,)
    with pytest.raises(InputError, match="float images"):
        objective((images * 255).astype(np.uint8))


def test_the_judge_learns_from_the_other_half_with_its_own_seed(trained, tmp_path) -> None:
    dataset, black_box = trained
    judge = train(tmp_path, dataset, "judge", epochs=0.25)
    metrics = json.loads(judge["metrics"].read_text())
    assert metrics["role"] == "judge"
    first = SmileObjective.load(black_box["checkpoint"], "cpu").model
    second = SmileObjective.load(judge["checkpoint"], "cpu").model
    assert (first.kind, second.kind) == ("resnet_classifier", "conv_classifier")
    assert not torch.equal(first.head.weight, second.head.weight)


def test_a_half_without_validation_faces_is_refused(tmp_path) -> None:
    images, labels = draw_faces(20, seed=0)
    arrays = {
        "images": images,
        "levels": labels[:, SMILING].astype(np.int8),
        "half": np.zeros(20, np.int8),
        "val": np.zeros(20, bool),
        "max_level": np.array(2),
    }
    save_face_dataset(tmp_path / "faces.npz", arrays)
    with pytest.raises(InputError, match="validation"):
        train(tmp_path, tmp_path / "faces.npz", "black_box", epochs=0.1)


def test_a_shrunk_face_is_low_passed_so_detail_below_its_pixels_cannot_alias() -> None:
    """Stripes of period 2.5 px are finer than a 32-px view can hold: sampling them (plain
    bicubic at the new pixel centres) folds them into a coarse pattern the black box would
    read but no person sees in the face; the antialiased resize removes them instead."""
    stripes = torch.sin(2 * torch.pi * torch.arange(64.0) / 2.5)
    images = (0.5 + 0.25 * stripes).expand(1, 3, 64, 64)
    plain = F.interpolate(images, size=(32, 32), mode="bicubic", align_corners=False)
    assert plain.std() > 0.08
    shrunk = resized(images, 32)
    assert shrunk.shape == (1, 3, 32, 32)
    assert shrunk.std() < 0.15 * plain.std()
    assert abs(float(shrunk.mean()) - 0.5) < 0.01  # the mean survives
    assert resized(images, 64) is images


def test_a_run_reads_the_black_box_scores_scored_once_and_refuses_another_data_sets(
    trained, tmp_path
) -> None:
    """score_data scores the training faces once for every run: the run takes them from the
    file, as the black box would score them, and a file of another data set fails, named."""
    dataset, files = trained
    scores = tmp_path / "scores.npz"
    score_data(dataset, "expected_level", files["checkpoint"], output=scores, device_name="cpu")
    objective = SmileObjective.load(files["checkpoint"], torch.device("cpu"))
    computed = run_data(dataset, "expected_level", objective)["train_scores"]
    stored = run_data(dataset, "expected_level", objective, scores)["train_scores"]
    np.testing.assert_array_equal(stored, computed)
    other = tmp_path / "other.npz"
    save_arrays(other, {"train_scores": np.zeros(len(stored) + 1)})
    with pytest.raises(InputError, match="other.npz"):
        run_data(dataset, "expected_level", objective, other)


def test_the_faces_reference_names_a_file_that_is_not_one(tmp_path) -> None:
    wrong = tmp_path / "reference.npz"
    save_arrays(wrong, {"training_objective": np.zeros(3)})
    with pytest.raises(InputError, match="reference.npz.*missing"):
        FaceReference.load(wrong)
