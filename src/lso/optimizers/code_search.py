"""Maximising an acquisition over grids of categorical codes (the VQ-VAE's latent points).

No gradient exists, and 64 positions x 256 codes is far too many combinations to enumerate,
so the search has two stages:

1. **A pool**: the data's own code grids with a few positions changed at random (most good
   grids are near known ones), and grids drawn from the per-position code frequencies of the
   data (new combinations of codes the decoder knows), all ranked by the acquisition;
2. **Local search** from the best ``n_starts`` of the pool: repeatedly evaluate every grid
   that differs from the current one in one position (d x K candidates) and move to the best
   while it improves, up to ``max_steps`` moves.

It returns ``n`` distinct grids, best first, none of which is in ``exclude`` (the data and
everything queried), so a run never pays for the same grid twice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Acquisition = Callable[[np.ndarray], np.ndarray]


def code_pool(
    data: np.ndarray, n_categories: int, size: int, n_mutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Half mutated data grids (``n_mutations`` random positions each), half grids drawn
    position by position from the data's code frequencies."""
    data = np.asarray(data, dtype=np.int64)
    n_mutated = size // 2
    mutated = data[rng.integers(len(data), size=n_mutated)].copy()
    rows = np.repeat(np.arange(n_mutated), n_mutations)
    positions = rng.integers(data.shape[1], size=n_mutated * n_mutations)
    mutated[rows, positions] = rng.integers(n_categories, size=n_mutated * n_mutations)
    drawn = np.stack(
        [data[rng.integers(len(data), size=size - n_mutated), j] for j in range(data.shape[1])],
        axis=1,
    )
    return np.concatenate([mutated, drawn])


def single_changes(grid: np.ndarray, n_categories: int) -> np.ndarray:
    """Every grid that differs from ``grid`` in exactly one position (d * (K - 1), d)."""
    d = len(grid)
    neighbours = np.repeat(grid[None], d * n_categories, axis=0)
    neighbours[np.arange(d * n_categories), np.repeat(np.arange(d), n_categories)] = np.tile(
        np.arange(n_categories), d
    )
    return neighbours[(neighbours != grid).any(axis=1)]


def local_search(
    start: np.ndarray, acquisition: Acquisition, n_categories: int, max_steps: int
) -> tuple[np.ndarray, float]:
    """Best-improvement hill climbing over single-position changes."""
    current = np.asarray(start, dtype=np.int64)
    value = float(acquisition(current[None])[0])
    for _ in range(max_steps):
        neighbours = single_changes(current, n_categories)
        values = acquisition(neighbours)
        best = int(np.argmax(values))
        if values[best] <= value:
            break
        current, value = neighbours[best], float(values[best])
    return current, value


def optimise_codes(
    acquisition: Acquisition,
    data: np.ndarray,
    n: int,
    n_categories: int,
    rng: np.random.Generator,
    *,
    exclude: set[bytes] | None = None,
    pool_size: int = 10_000,
    n_mutations: int = 2,
    n_starts: int = 10,
    max_steps: int = 20,
) -> np.ndarray:
    """``n`` distinct new grids (n, d) with high acquisition, best first (see the module)."""
    exclude = set(exclude or ()) | {row.tobytes() for row in np.asarray(data, np.int64)}
    pool = code_pool(data, n_categories, pool_size, n_mutations, rng)
    pool_values = acquisition(pool)
    order = np.argsort(-pool_values, kind="stable")
    found = [local_search(pool[i], acquisition, n_categories, max_steps) for i in order[:n_starts]]
    candidates = [grid for grid, _ in sorted(found, key=lambda item: -item[1])]
    candidates += [pool[i] for i in order]
    chosen: list[np.ndarray] = []
    for grid in candidates:
        key = grid.tobytes()
        if key not in exclude:
            chosen.append(grid)
            exclude.add(key)
            if len(chosen) == n:
                break
    return np.stack(chosen) if chosen else np.zeros((0, data.shape[1]), np.int64)
