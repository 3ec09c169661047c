"""Conditional generation: labelled data, objectives, BoTorch BO, run summaries and figures."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from lso.condgen.bo import gp_landscape, run_bo, summarise_condgen, top_evaluations
from lso.condgen.objective import (
    decoded_images,
    decoded_objective,
    decoded_probabilities,
    landscape,
    landscapes_by_target,
    neg_log_prior,
    predicted_probabilities,
    predictor_objective,
)
from lso.figures.common import save_figure
from lso.figures.condgen import (
    plot_bo_run,
    plot_latent_spaces,
    plot_objective_landscapes,
    plot_top_images,
)
from lso.models.classifier import MnistClassifier
from lso.models.joint_vae import JointVAE
from lso.tasks.digits.dataset import (
    load_labelled_dataset,
    prepare_all_digits,
    save_labelled_dataset,
)
from lso.utils import InputError

OPTIMUM = (1.5, -2.0)


def shifted_quadratic(t: torch.Tensor) -> torch.Tensor:
    return (t - torch.tensor(OPTIMUM, dtype=t.dtype, device=t.device)).pow(2).sum(dim=1)


def constant_classifier(probability_of_target: float, target: int) -> MnistClassifier:
    """A classifier whose answer is fixed, so that objective values are known exactly."""
    classifier = MnistClassifier()
    probs = torch.full((10,), (1.0 - probability_of_target) / 9)
    probs[target] = probability_of_target

    def predict_proba(x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        return probs.expand(len(x), 10).clone()

    classifier.predict_proba = predict_proba  # type: ignore[method-assign]
    return classifier


@pytest.fixture(scope="module")
def quadratic_run():
    return run_bo(shifted_quadratic, seed=0, n_iterations=25)


def test_prepare_all_digits_keeps_labels_with_their_images(tmp_path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 28, 28)).astype(np.uint8)
    labels = np.arange(40) % 10
    images[:, 0, 0] = np.arange(40)  # a tag to find each image again
    data = prepare_all_digits(images, labels, binarize_threshold=None, val_fraction=0.25, seed=0)
    assert data["train_images"].shape == (30, 28, 28) and data["val_images"].shape == (10, 28, 28)
    assert data["train_images"].dtype == np.float32 and data["train_images"].max() <= 1.0
    for split in ("train", "val"):
        tags = np.rint(data[f"{split}_images"][:, 0, 0] * 255).astype(int)
        assert np.array_equal(data[f"{split}_labels"], labels[tags])
    binary = prepare_all_digits(images, labels, binarize_threshold=0, val_fraction=0.1, seed=0)
    assert set(np.unique(binary["train_images"])) <= {0.0, 1.0}
    path = tmp_path / "digits.npz"
    save_labelled_dataset(path, data)
    loaded = load_labelled_dataset(path)
    assert all(np.array_equal(loaded[key], data[key]) for key in data)
    np.savez(tmp_path / "bad.npz", train_images=data["train_images"])
    with pytest.raises(InputError, match="bad.npz.*train_labels"):
        load_labelled_dataset(tmp_path / "bad.npz")


def test_neg_log_prior_is_the_standard_normal_density() -> None:
    t = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    expected = torch.tensor([math.log(2 * math.pi), 2.5 + math.log(2 * math.pi)])
    assert torch.allclose(neg_log_prior(t), expected.double())


def test_decoded_objective_adds_the_prior_to_the_classifier_nll() -> None:
    t = torch.tensor([[0.0, 0.0], [3.0, 1.0], [-4.0, 4.0]])
    classifier = constant_classifier(0.25, target=4)
    f = decoded_objective(t, 4, JointVAE(predictor="off"), classifier, binarise=True)
    assert f.shape == (3,) and f.dtype == torch.float64
    assert torch.allclose(f, neg_log_prior(t) - math.log(0.25 + 1e-8))


def test_a_certain_miss_is_bounded_by_the_log_epsilon() -> None:
    t = torch.zeros(1, 2)
    classifier = constant_classifier(0.0, target=2)
    f = decoded_objective(t, 2, JointVAE(predictor="off"), classifier, binarise=False)
    assert torch.allclose(f, neg_log_prior(t) - math.log(1e-8))


def test_the_classifier_sees_binarised_decodes_when_asked() -> None:
    torch.manual_seed(0)
    t = torch.randn(6, 2)
    decoder = JointVAE(predictor="off")
    seen = []
    classifier = MnistClassifier()

    def record(x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        seen.append(x)
        return torch.full((len(x), 10), 0.1)

    classifier.predict_proba = record  # type: ignore[method-assign]
    means = decoder.decode(t)
    decoded_probabilities(t, decoder, classifier, binarise=False)
    decoded_probabilities(t, decoder, classifier, binarise=True)
    assert torch.equal(seen[0], means)
    assert torch.equal(seen[1], (means > 0.5).float())
    assert torch.equal(decoded_images(t, decoder, binarise=True), seen[1])


def test_objectives_of_untrained_models_are_finite() -> None:
    torch.manual_seed(0)
    t = torch.randn(7, 2) * 3
    joint = JointVAE(predictor="classifier")
    decoded = decoded_objective(t, 3, joint, MnistClassifier(), binarise=False)
    predicted = predictor_objective(t, 3, joint)
    expected = neg_log_prior(t) - torch.log(joint.predict(t)[:, 3].double() + 1e-8)
    assert torch.isfinite(decoded).all() and (decoded > 0).all()
    assert torch.allclose(predicted, expected)
    with pytest.raises(InputError, match="needs? a JointVAE with predictor 'classifier'"):
        predictor_objective(t, 3, JointVAE(predictor="regressor"))
    with pytest.raises(InputError, match="target must be a digit"):
        predictor_objective(t, 10, joint)
    with pytest.raises(InputError, match=r"shape \(n, 2\)"):
        predictor_objective(torch.zeros(3), 1, joint)


def test_landscape_puts_the_first_coordinate_on_the_first_axis() -> None:
    grid = landscape(lambda t: t[:, 0] + 10 * t[:, 1], bounds=1.0, grid_len=3)
    assert torch.allclose(grid.axis, torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64))
    assert torch.allclose(grid.values, grid.axis[:, None] + 10 * grid.axis[None, :])


def test_landscapes_by_target_match_one_landscape_per_target() -> None:
    torch.manual_seed(0)
    joint = JointVAE(predictor="classifier")
    classifier = MnistClassifier()
    probability_fn = functools.partial(
        decoded_probabilities, decoder_model=joint, classifier=classifier, binarise=True
    )
    maps = landscapes_by_target(probability_fn, (4, 9), grid_len=5)
    assert sorted(maps) == [4, 9]
    single = landscape(
        functools.partial(
            decoded_objective, target=9, decoder_model=joint, classifier=classifier, binarise=True
        ),
        grid_len=5,
    )
    assert torch.allclose(maps[9].values, single.values)
    predicted_fn = functools.partial(predicted_probabilities, joint_model=joint)
    predicted = landscapes_by_target(predicted_fn, (4,), grid_len=5)[4]
    by_predictor = landscape(functools.partial(predictor_objective, target=4, joint_model=joint))
    assert torch.allclose(predicted.values, by_predictor.values[::20, ::20])


def test_bo_finds_the_minimum_of_a_shifted_quadratic(quadratic_run) -> None:
    result = quadratic_run
    assert result.t.shape == (27, 2) and result.values.shape == (27,)
    assert (result.t.abs() <= 4.0).all()
    best = result.t[result.best_index]
    assert torch.dist(best, torch.tensor(OPTIMUM, dtype=best.dtype)) < 0.3
    assert torch.allclose(result.values, shifted_quadratic(result.t))


def test_bo_is_reproducible_and_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = run_bo(shifted_quadratic, seed=5, n_iterations=2)
    assert torch.equal(torch.rand(1), before)
    second = run_bo(shifted_quadratic, seed=5, n_iterations=2)
    assert torch.equal(first.t, second.t)
    random = run_bo(shifted_quadratic, seed=5, n_iterations=4, acquisition="random")
    assert torch.equal(random.t[:2], first.t[:2])  # same initial design
    assert len(random.values) == 6
    with pytest.raises(InputError, match="acquisition"):
        run_bo(shifted_quadratic, seed=0, acquisition="ucb")


def test_gp_landscape_and_top_evaluations(quadratic_run) -> None:
    maps = gp_landscape(quadratic_run, grid_len=9)
    assert all(maps[key].shape == (9, 9) for key in ("mean", "std", "log_ei"))
    assert all(torch.isfinite(maps[key]).all() for key in ("mean", "std"))
    centre = maps["mean"][6, 2]  # the grid point (1, -2) near the optimum
    assert centre < maps["mean"][0, 8]  # far corner (-4, 4)
    t, values = top_evaluations(quadratic_run, k=5)
    assert torch.all(values[1:] >= values[:-1]) and values[0] == quadratic_run.values.min()


def test_summary_counts_evaluations_until_the_classifier_is_confident() -> None:
    values = np.array([3.0, 2.5, 1.9, 2.2])
    p_target = np.array([0.2, 0.95, 0.97, 0.5])
    summary = summarise_condgen(values, p_target, target=7, probability=0.9)
    assert summary["evaluations_to_threshold"] == 2
    assert summary["best_objective"] == pytest.approx(1.9)
    assert summary["best_probability"] == pytest.approx(0.97)
    assert summary["evaluations"] == 4 and summary["target"] == 7
    never = summarise_condgen(values, p_target, target=7, probability=0.99)
    assert never["evaluations_to_threshold"] is None


def test_a_saved_run_gives_the_table_and_a_posterior_figure(tmp_path, quadratic_run) -> None:
    """The table applies any threshold to the saved p(target); the figure refits the GP."""
    from lso.steps.condgen import condgen_table
    from lso.steps.condgen_figures import plot_bo_run as draw_run

    path = tmp_path / "target3" / "seed1.npz"
    path.parent.mkdir()
    n = len(quadratic_run.values)
    np.savez(
        path,
        target=np.int64(3),
        seed=np.int64(1),
        t=quadratic_run.t.numpy(),
        values=quadratic_run.values.numpy(),
        p_target=np.linspace(0, 1, n),
        bounds=np.float64(quadratic_run.bounds),
        xi=np.float64(quadratic_run.xi),
    )
    condgen_table([path], 0.5, tmp_path / "condgen.csv")
    table = pd.read_csv(tmp_path / "condgen.csv")
    assert table.loc[0, "evaluations"] == n
    assert table.loc[0, "evaluations_to_threshold"] == int(np.ceil((n - 1) / 2)) + 1
    draw_run(path, 9, tmp_path / "run.png")
    assert (tmp_path / "run.png").stat().st_size > 1000


def test_figures(tmp_path, quadratic_run) -> None:
    rng = np.random.default_rng(0)
    labels = np.arange(50) % 10
    latents = {name: rng.normal(size=(50, 2)) for name in ("off", "classifier", "regressor")}
    fig = plot_latent_spaces(latents, labels)
    assert isinstance(fig, Figure) and len(fig.axes) == 4  # three panels and a colour bar
    save_figure(fig, tmp_path / "latent.png")
    grid = landscape(shifted_quadratic, grid_len=11)
    maps = {target: grid.values.numpy() + 1.0 for target in (4, 3)}
    fig = plot_objective_landscapes(grid.axis.numpy(), {"predictor": maps, "decode": maps})
    assert len(fig.axes) == 5
    gp = {key: value.numpy() for key, value in gp_landscape(quadratic_run, grid_len=11).items()}
    fig = plot_bo_run(
        gp["axis"], gp["mean"], gp["std"], gp["log_ei"], quadratic_run.t, quadratic_run.values
    )
    assert len(fig.axes) == 6
    images = {target: (rng.random((10, 28, 28)), np.arange(10.0)) for target in (4, 3, 2)}
    fig = plot_top_images(images)
    assert len(fig.axes) == 30
    save_figure(fig, tmp_path / "top.png")
    assert (tmp_path / "top.png").stat().st_size > 0
