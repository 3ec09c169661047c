"""Memory requests sized from the data: a CelebA-size job asks for more than 4 GB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lso.resources import (
    FACE_BYTES,
    count_lines,
    memory_mb,
    npz_megabytes,
    prepared_megabytes,
)


def test_the_size_of_a_prepared_data_set_is_its_uncompressed_arrays(tmp_path: Path) -> None:
    path = tmp_path / "faces.npz"
    images = np.zeros((500, 3, 64, 64), np.uint8)  # compresses to almost nothing
    np.savez_compressed(path, images=images, levels=np.zeros(500, np.int64))
    assert path.stat().st_size < 100_000
    megabytes = npz_megabytes(path)
    assert images.nbytes / 2**20 < megabytes < (images.nbytes + 10_000) / 2**20
    with pytest.raises(FileNotFoundError):  # Snakemake: "not known yet" (<TBD>)
        npz_megabytes(tmp_path / "missing.npz")


def test_celeba_size_jobs_ask_for_more_than_the_old_fixed_4_gb() -> None:
    celeba = prepared_megabytes("faces", None, 202_599)
    assert celeba == pytest.approx(202_599 * FACE_BYTES / 2**20)  # about 2.4 GiB
    assert memory_mb(celeba, 3, 4000) > 11_000  # pretraining
    assert memory_mb(celeba, 5, 4000) > 15_000  # a predictor: its faces as float32
    assert memory_mb(prepared_megabytes("faces", 3000, None), 3, 4000) < 4200  # generated
    assert prepared_megabytes("faces", 400, 202_599) == 400 * FACE_BYTES / 2**20  # a smoke run
    assert prepared_megabytes("digits", None, None) < 250  # all of MNIST as float32


def test_a_manifest_counts_its_images(tmp_path: Path) -> None:
    path = tmp_path / "faces.tsv"
    path.write_text("".join(f"{i:06d}.jpg\t1000\t1\n" for i in range(2345)))
    assert count_lines(path) == 2345
