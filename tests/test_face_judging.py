"""Faces that mean something: augmentation, an independent judge, distances, the constraint's
quantile threshold, and paired comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

from lso.config.parse import parse_config
from lso.constraints.base import build_constraint
from lso.core.metrics import frechet_distance_between, kernel_inception_distance
from lso.core.paired import paired_comparison
from lso.core.training import fit
from lso.models.base import LatentModel, TrainableModule
from lso.models.fitting import FitSettings
from lso.tasks.faces.augment import Augmentation, augmenter, gaussian_blur
from lso.tasks.faces.dataset import assign_splits

REPO = Path(__file__).resolve().parents[1]


def test_blur_keeps_the_image_mean_and_zero_sigma_changes_nothing() -> None:
    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(gaussian_blur(images, 0.0), images)
    blurred = gaussian_blur(images, torch.tensor([0.0, 0.5, 1.5, 3.0]))
    assert torch.equal(blurred[0], images[0])
    assert torch.allclose(blurred.mean(dim=(2, 3)), images.mean(dim=(2, 3)), atol=0.02)
    assert blurred[3].std() < blurred[2].std() < blurred[1].std() < images[1].std()


class LinearProbe(TrainableModule):
    """A logistic regression on pixels: what a predictor learns is visible in its weights."""

    channels_last = False

    def __init__(self, side: int) -> None:
        super().__init__(side=side)
        self.linear = nn.Linear(3 * side * side, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": F.cross_entropy(self(x), y)}

    def probability(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self(x).softmax(1)[:, 1]


def _line_data(n: int, side: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Label 1: a one-pixel-wide bright line somewhere in the middle rows (the cue); label 0:
    none. A sharp cue, like a drawn mouth."""
    generator = torch.Generator().manual_seed(seed)
    labels = (torch.rand(n, generator=generator) < 0.5).long()
    images = 0.2 + 0.05 * torch.rand(n, 3, side, side, generator=generator)
    rows = torch.randint(side // 2 - 2, side // 2 + 3, (n,), generator=generator)
    for i in torch.nonzero(labels).flatten().tolist():
        images[i, :, rows[i], 3 : side - 3] = 0.9
    return images, labels


def _trained(augmentation: Augmentation | None) -> LinearProbe:
    torch.manual_seed(0)
    images, labels = _line_data(512, 16, seed=0)
    model = LinearProbe(16)
    fit(
        model,
        images,
        FitSettings(epochs=20, batch_size=64, lr=0.05),
        generator=torch.Generator().manual_seed(0),
        targets=labels,
        transform=augmenter(augmentation, seed=1),
    )
    return model.eval()


def test_blur_augmentation_makes_a_predictor_read_the_cue_not_its_sharpness(single_thread) -> None:
    """Trained on sharp lines only, a predictor's score of a blurred line collapses; trained
    with blur augmentation, it barely moves (mean |Δ p| at σ = 1.5 px)."""
    blur = Augmentation(
        probability=0.7,
        blur_sigma=2.5,
        noise_std=0,
        gain=0,
        offset=0,
        contrast=0,
        shift=0,
        scale=0,
    )
    images, labels = _line_data(256, 16, seed=1)
    with_line = images[labels == 1]
    changes = {}
    for name, augmentation in (("plain", None), ("augmented", blur)):
        model = _trained(augmentation)
        clean, blurred = (
            model.probability(with_line),
            model.probability(gaussian_blur(with_line, 1.5)),
        )
        assert (clean > 0.5).float().mean() > 0.95, name  # both learned the clean task
        changes[name] = float((clean - blurred).abs().mean())
    assert changes["augmented"] < 0.1
    assert changes["plain"] > 3 * changes["augmented"]


def test_the_judge_differs_from_the_black_box_as_the_readme_says() -> None:
    """Its own half of the faces, its own architecture, seed and augmentation draws, and
    every pixel where the black box sees half the resolution."""
    settings = parse_config(yaml.safe_load((REPO / "config.yaml").read_text())).predictor
    black_box, judge = settings.black_box, settings.judge
    assert judge.architecture != black_box.architecture
    assert (black_box.input_size, judge.input_size) == (32, 64)
    assert judge.seed != black_box.seed
    assert judge.augmentation is not None and black_box.augmentation is not None
    draws = [augmenter(Augmentation(*s.augmentation), s.seed) for s in (black_box, judge)]
    images = torch.full((8, 3, 8, 8), 0.5)
    assert not torch.equal(draws[0](images), draws[1](images))
    half, _ = assign_splits(np.repeat(np.arange(6), 50), val_fraction=0.1, seed=0)
    assert {0, 1} == set(half) and abs(half.mean() - 0.5) < 0.01


def test_kid_is_unbiased_at_small_sizes_where_fd_is_not() -> None:
    rng = np.random.default_rng(0)
    population = lambda n: rng.normal(size=(n, 32))  # noqa: E731
    small_fd = frechet_distance_between(population(30), population(30))
    large_fd = frechet_distance_between(population(500), population(500))
    kids = [kernel_inception_distance(population(30), population(30)) for _ in range(20)]
    assert small_fd > 10 * large_fd  # FD of one distribution against itself grows as n shrinks
    assert abs(np.mean(kids)) < 3 * np.std(kids) / np.sqrt(len(kids))  # KID's mean is 0
    shifted = kernel_inception_distance(population(30), population(30) + 0.5)
    assert shifted > np.mean(kids) + 5 * np.std(kids)


class Codes(LatentModel):
    """A 'model' whose codes are its inputs: a constraint's fit sees exactly these points."""

    image_shape = (2,)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return x, None

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": x.sum()}


def test_the_quantile_threshold_admits_its_share_and_tracks_a_retrained_model() -> None:
    model = Codes(latent_dim=2)
    codes = torch.as_tensor(np.random.default_rng(0).normal(size=(400, 2)))
    fitted = build_constraint("gmm_fit", model, codes, quantile=0.2, n_components=3, seed=0)
    admitted = fitted.is_valid(codes).double().mean()
    assert 0.79 <= float(admitted) <= 0.81
    spread = 3 * codes  # a retrained model whose codes spread out
    refitted = build_constraint("gmm_fit", model, spread, quantile=0.2, n_components=3, seed=0)
    assert 0.79 <= float(refitted.is_valid(spread).double().mean()) <= 0.81
    assert refitted.threshold < fitted.threshold - 1.0
    fixed = build_constraint("gmm_fit", model, spread, threshold=fitted.threshold, n_components=3)
    assert float(fixed.is_valid(spread).double().mean()) < 0.5  # an absolute one starves
    full = build_constraint("gmm_full", _VarianceCodes(latent_dim=2), codes, quantile=0.1)
    assert 0.89 <= float(full.is_valid(codes).double().mean()) <= 0.91


class _VarianceCodes(Codes):
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, torch.full_like(x, -2.0)


def test_a_gmm_constraint_needs_exactly_one_threshold() -> None:
    spec = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    spec["experiments"]["faces_wr"]["constraint"] = {
        "type": "gmm_fit",
        "threshold": -5.0,
        "quantile": 0.1,
    }
    with pytest.raises(Exception, match="faces_wr.constraint"):
        parse_config(spec)


def test_the_paired_table_pairs_seeds() -> None:
    summary = pd.DataFrame(
        {
            "experiment": ["wr"] * 3 + ["lso"] * 3,
            "seed": [1, 2, 3, 1, 2, 3],
            "final_top1": [3.0, 2.5, 4.0, 2.0, 2.5, 3.0],
        }
    )
    table = paired_comparison(summary, "lso", ["wr"], metrics=("final_top1",))
    row = table.iloc[0]
    assert (row.experiment, row.baseline, row.seeds, row.wins) == ("wr", "lso", 3, 2)
    assert row.mean_difference == pytest.approx(2 / 3)
    assert row.differences == "1:+1.000 2:+0.000 3:+1.000"
    assert 0 < row.p_value < 1
