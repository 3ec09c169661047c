"""The contract of a run folder ``results/opt/<experiment>/seed<N>/``, for writer and readers.

:mod:`lso.loop` writes these files and :mod:`lso.results` reads them; both take the names from
here, so a column added to one cannot be missed by the other. The module is deliberately
tiny: editing how runs are summarised must not look like a change to the runs themselves.
"""

from __future__ import annotations

# queries.csv: one row per black-box query, in query order.
QUERY_COLUMNS = (
    "query",
    "iteration",
    "score",
    "best_so_far",
    "model_version",
    "seconds",
    "log_density",
)
# run.json: what the run was and what it cost.
RUN_INFO_KEYS = (
    "experiment",
    "seed",
    "wall_seconds",
    "n_queries",
    "n_retrainings",
    "oracle_evaluations",
    "device",
    "settings",
)
# queries.npz: the queried images and latent points, and (2-D runs) the latent snapshots.
ARRAY_KEYS = ("images", "latents", "scores", "iterations")
SNAPSHOT_KEYS = ("snapshot_grid", "snapshot_images", "snapshot_iterations")
