"""How much memory a job asks for (its ``mem_mb``), from the size of the data it loads.

A fixed 4 GB per job is plenty for the embedded digits and a few thousand generated faces, and
far too little for CelebA: 200,000 faces are 2.5 GB as 8 bits, and a predictor's training
faces are four times that as float32. On a cluster a job over its ``--mem`` is killed, so each
rule asks for a floor (its old fixed value: small configs ask for what they always did) plus
a multiple of the uncompressed size of the prepared data set it loads
(``data/processed/<dataset>.npz``), the multiple counting the copies the job makes of it.
Snakemake evaluates these functions once the data set exists (a dry run shows ``<TBD>``); the
preparation itself is sized from the number of images it will keep.

Standard library only: the Snakefile calls these while it parses the workflow.
"""

from __future__ import annotations

import math
import os
import zipfile

FACE_BYTES = 3 * 64 * 64  # one prepared face, uint8
DIGIT_BYTES = 28 * 28 * 4  # one prepared digit, float32
ALL_MNIST = 70_000


def npz_megabytes(path: str | os.PathLike) -> float:
    """The uncompressed size of a ``.npz`` archive's arrays in MiB (from its directory; a
    missing file raises FileNotFoundError, which Snakemake reads as "not known yet")."""
    with zipfile.ZipFile(path) as archive:
        return sum(member.file_size for member in archive.infolist()) / 2**20


def memory_mb(data_megabytes: float, factor: float, floor: int) -> int:
    """``floor`` MB plus ``factor`` times the data."""
    return int(math.ceil(floor + factor * data_megabytes))


def prepared_megabytes(family: str, n_images: int | None, listed_images: int | None) -> float:
    """The prepared data set's size before it exists: faces as 8 bits, ``n_images`` of them,
    at most the ``listed_images`` of their image directory (all of those when ``n_images``
    is None; None for generated faces); digits as float32, all 70,000 at most."""
    if family != "faces":
        return min(n_images or ALL_MNIST, ALL_MNIST) * DIGIT_BYTES / 2**20
    counts = [n for n in (n_images, listed_images) if n is not None]
    return min(counts, default=0) * FACE_BYTES / 2**20


def count_lines(path: str | os.PathLike) -> int:
    """Lines of a text file (an image manifest: one line per image)."""
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
