"""The headline figure step: training faces at the cap level beside a faces experiment's best
queries, titled with both predictors' scores. It reads scores computed by other steps
(``score_faces``, ``evaluate_faces``) and loads no network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lso.core.datafiles import read_training_scores
from lso.core.runfiles import load_run_arrays
from lso.figures.common import save_figure
from lso.figures.images import best_unique, plot_side_by_side
from lso.tasks.faces.dataset import at_cap, generative_split, load_face_dataset
from lso.tasks.faces.reference import FaceReference
from lso.utils import InputError, PathLike

HEADLINE_TILES = 9  # 3 x 3 faces each side, as the thesis's figure


def plot_headline(
    run_dirs: list[PathLike],
    dataset_path: PathLike,
    reference_path: PathLike,
    scores_path: PathLike,
    title: str,
    output: PathLike,
) -> None:
    """The thesis's headline figure: training faces at the cap level beside the best queries.

    Left, the 9 training faces at the cap level (the best the model was shown) that the black
    box scores highest; right, the 9 best distinct queries over all seeds. Each face is titled
    with the black box's score and, after the slash, the judge's: the training faces' from
    ``score_data`` and ``score_faces``, the queries' from each run's ``judge.csv``
    (``evaluate_faces``).
    """
    reference = FaceReference.load(reference_path)
    data = load_face_dataset(dataset_path)
    training = generative_split(data, compact=True)["train_images"]
    if len(training) != len(reference.training_judge):
        raise InputError(
            f"{reference_path}: scores {len(reference.training_judge)} training faces, "
            f"but {dataset_path} has {len(training)}: score_faces ran on another data set"
        )
    objective = read_training_scores(scores_path, len(training), dataset_path)
    capped = np.flatnonzero(at_cap(data))
    cap_best = capped[np.argsort(-objective[capped], kind="stable")][:HEADLINE_TILES]
    runs = [load_run_arrays(run_dir) for run_dir in run_dirs]
    queries = np.concatenate([run.images for run in runs])
    scores = np.concatenate([run.scores for run in runs])
    judged = np.concatenate(
        [_judge_scores(folder, len(run.scores)) for folder, run in zip(run_dirs, runs, strict=True)]
    )
    chosen = best_unique(queries, scores, HEADLINE_TILES)
    fig = plot_side_by_side(
        (
            training[cap_best].astype(np.float32) / 255.0,
            _titles(objective[cap_best], reference.training_judge[cap_best]),
        ),
        (queries[chosen], _titles(scores[chosen], judged[chosen])),
        (f"training faces at level {int(data['max_level'])}", "best queries"),
        title,
    )
    save_figure(fig, Path(output))


def _judge_scores(run_dir: PathLike, n_queries: int) -> np.ndarray:
    """The judge's score of each query of a run, in query order, from its ``judge.csv``."""
    path = Path(run_dir) / "judge.csv"
    judged = pd.read_csv(path)["judge"].to_numpy()
    if len(judged) != n_queries:
        raise InputError(f"{path}: {len(judged)} judged queries, but the run has {n_queries}")
    return judged


def _titles(objective: np.ndarray, judge: np.ndarray) -> list[str]:
    return [f"{o:.2f} / {j:.2f}" for o, j in zip(objective, judge, strict=True)]
