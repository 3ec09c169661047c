"""The faces predictors' speed in each memory layout: NCHW vs channels-last weights.

    python benchmarks/predictor_layout.py [--config config.yaml] [--threads 1] [--repeats 5]

Builds the black box and the judge exactly as ``config.yaml``'s ``predictor`` section
describes them (untrained: speed does not depend on the weights) and times, per layout, one
training step (forward and backward) and one scoring pass (evaluation mode, no gradients) of
a batch of faces at the predictors' batch size. The median of ``--repeats`` after one
untimed warm-up; compare the rows of one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import yaml

from lso.config.parse import parse_config
from lso.models.build import build_model
from lso.tasks.faces.predictor import predictor_hparams


def _median_seconds(step, repeats: int) -> float:
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _timings(model: torch.nn.Module, faces: torch.Tensor, repeats: int) -> tuple[float, float]:
    def train_step() -> None:
        model.train()
        model.zero_grad()
        model(faces).sum().backward()

    def score() -> None:
        model.eval()
        with torch.no_grad():
            model(faces)

    return _median_seconds(train_step, repeats), _median_seconds(score, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.config) as handle:
        spec = parse_config(yaml.safe_load(handle)).predictor
    print("| predictor | layout | training step | scoring pass |")
    print("|---|---|---|---|")
    for role in ("black_box", "judge"):
        settings = spec.role(role)
        shape = (settings.batch_size, 3, 64, 64)
        faces = torch.rand(shape, generator=torch.Generator().manual_seed(0))
        model = build_model(settings.architecture, predictor_hparams(settings, 6))
        for layout in (torch.contiguous_format, torch.channels_last):
            model = model.to(memory_format=layout)
            train, score = _timings(model, faces, args.repeats)
            name = "channels-last" if layout is torch.channels_last else "NCHW"
            print(f"| {role} | {name} | {1000 * train:.0f} ms | {1000 * score:.0f} ms |")


if __name__ == "__main__":
    main()
