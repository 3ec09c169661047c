"""TuRBO's trust region: its state, its update rules and its box of candidates, as pure functions.

Facts from BoTorch's TuRBO-1 tutorial (Eriksson et al. 2019) and LOL-BO's code (Maus et al.
2022), every constant a key of ``optimizer`` (``schemas/config.schema.yaml``):

* the region is a box in the unit cube of the search space ``[-bounds, bounds]^d`` around the
  best point, of side ``length`` scaled per dimension by the GP's ARD lengthscales, normalised
  to geometric mean 1 (a dimension the objective varies slowly along gets a wider side), and
  clipped to the cube, i.e. to the latent bounds;
* a round is a success when its best score beats the best so far by
  ``improvement_threshold`` x |best|; ``success_tolerance`` successes in a row double the
  length (up to ``length_max``), ``failure_tolerance`` failures in a row halve it, and below
  ``length_min`` the region restarts at ``length_init``. The tutorial's failure tolerance is
  ceil(max(4/q, d/q)) for q points a round;
* candidates are scrambled Sobol points in the box, each dimension taking the Sobol value with
  probability min(``perturbation_dims``/d, 1) (at least one per candidate) and keeping the
  centre's otherwise: in 64-D most candidates change a third of the coordinates, which keeps
  them near the centre where the GP knows most.

A restart keeps the data and re-centres on the best point, as LOL-BO does: the tutorial's
restart draws a fresh design because it has nothing else, whereas here every datum is an
encoded training image worth keeping.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
from torch.quasirandom import SobolEngine


@dataclass(frozen=True)
class TrustRegionRules:
    """The update constants of one run (the settings, with the failure tolerance resolved)."""

    length_init: float
    length_min: float
    length_max: float
    success_tolerance: int
    failure_tolerance: int
    improvement_threshold: float


@dataclass(frozen=True)
class TrustRegionState:
    """Where the region stands: its side, the streaks that change it, the best score so far and
    how often it restarted. Saved with the optimiser's state every round."""

    length: float
    best_value: float
    successes: int = 0
    failures: int = 0
    restarts: int = 0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, float]) -> TrustRegionState:
        return cls(
            length=float(state["length"]),
            best_value=float(state["best_value"]),
            successes=int(state["successes"]),
            failures=int(state["failures"]),
            restarts=int(state["restarts"]),
        )


def tutorial_failure_tolerance(batch_size: int, dim: int) -> int:
    """The tutorial's failure tolerance, ceil(max(4/q, d/q)): a 16-D search with q = 5 halves
    its region after 4 failed rounds, i.e. after about as many points as it has dimensions."""
    return math.ceil(max(4.0 / batch_size, dim / batch_size))


def update_state(
    state: TrustRegionState, rules: TrustRegionRules, batch_best: float
) -> TrustRegionState:
    """The state after a round whose best score is ``batch_best``.

    Streaks: a success resets the failures and vice versa; a full streak changes the length
    and starts counting again. A length below the minimum restarts the region.
    """
    improved = batch_best > state.best_value + rules.improvement_threshold * abs(state.best_value)
    successes, failures = (state.successes + 1, 0) if improved else (0, state.failures + 1)
    length = state.length
    if successes == rules.success_tolerance:
        length, successes = min(2.0 * length, rules.length_max), 0
    elif failures == rules.failure_tolerance:
        length, failures = length / 2.0, 0
    updated = replace(
        state,
        length=length,
        best_value=max(state.best_value, batch_best),
        successes=successes,
        failures=failures,
    )
    if length < rules.length_min:
        return restarted(updated, rules)
    return updated


def restarted(state: TrustRegionState, rules: TrustRegionRules) -> TrustRegionState:
    """A fresh region of the initial length; the best score and the restart count carry on."""
    return replace(
        state, length=rules.length_init, successes=0, failures=0, restarts=state.restarts + 1
    )


def to_unit(latents: torch.Tensor, bounds: float) -> torch.Tensor:
    """Latent points in the unit-cube coordinates of ``[-bounds, bounds]^d``."""
    return (latents + bounds) / (2.0 * bounds)


def from_unit(points: torch.Tensor, bounds: float) -> torch.Tensor:
    """The inverse of :func:`to_unit`."""
    return points * (2.0 * bounds) - bounds


def box(
    center: torch.Tensor, lengthscales: torch.Tensor, length: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper corners of the region around ``center`` (unit cube, shape (d,)).

    The side along dimension i is ``length`` x lengthscale_i / (geometric mean of the
    lengthscales), clipped to [0, 1]: the latent bounds.
    """
    weights = lengthscales / torch.exp(torch.log(lengthscales).mean())
    center = center.clamp(0.0, 1.0)
    lower = (center - weights * length / 2.0).clamp(0.0, 1.0)
    upper = (center + weights * length / 2.0).clamp(0.0, 1.0)
    return lower, upper


def box_candidates(
    center: torch.Tensor,
    lower: torch.Tensor,
    upper: torch.Tensor,
    n: int,
    perturbation_dims: float,
    seed: int,
) -> torch.Tensor:
    """``n`` candidates (unit cube, float64): scrambled Sobol points of the box where a random
    mask says so (each dimension with probability min(perturbation_dims/d, 1), at least one
    per candidate), the centre's coordinates elsewhere."""
    d = len(center)
    sobol = SobolEngine(d, scramble=True, seed=seed).draw(n).to(torch.float64)
    sobol = lower + (upper - lower) * sobol
    generator = torch.Generator().manual_seed(seed)
    mask = torch.rand(n, d, generator=generator, dtype=torch.float64) <= min(
        perturbation_dims / d, 1.0
    )
    unchanged = torch.nonzero(~mask.any(dim=1)).reshape(-1)
    mask[unchanged, torch.randint(0, d, (len(unchanged),), generator=generator)] = True
    candidates = center.clamp(0.0, 1.0).expand(n, d).clone()
    candidates[mask] = sobol[mask]
    return candidates
