"""What every run of one faces data set is judged against, computed once (``score_faces``).

Only NumPy and the archive helpers: the headline figure reads it without loading a network,
so editing the predictors' or the models' code does not redraw it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from lso.core.datafiles import read_npz, save_arrays
from lso.utils import InputError, PathLike


@dataclass(frozen=True)
class FaceReference:
    """What the judge makes of one faces data set, once for all its runs: its scores of the
    generative model's training faces, and the features of the faces above the cap in its
    (or a user's) feature network. The black box's scores of the same faces are
    ``score_data``'s."""

    training_judge: np.ndarray
    reference_features: np.ndarray

    def save(self, path: PathLike) -> None:
        save_arrays(path, asdict(self))

    @classmethod
    def load(cls, path: PathLike) -> FaceReference:
        arrays = read_npz(path)
        missing = [field.name for field in fields(cls) if field.name not in arrays]
        if missing:
            raise InputError(f"{path}: not a faces reference file (missing {missing})")
        return cls(**{field.name: arrays[field.name] for field in fields(cls)})
