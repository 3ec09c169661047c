"""Small data trees in the real layouts a user brings: CelebA-Dialog and gzipped full MNIST.

The real files are not in the repository (nor downloadable here), so the tests make their own
with the facts of the real ones: CelebA-Dialog's ``combined_annotation.txt`` has one header
line, then single-space ``000001.jpg 2 0 5 3 4`` lines, possibly with a trailing space (written
here with Windows line ends too); the split lists have no header; ``list_eval_partition.txt``
maps each image to 0/1/2; the images are 178x218 aligned JPEGs in ``img_align_celeba/``.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from lso.tasks.faces.drawing import ATTRIBUTES, draw_faces

WIDTH, HEIGHT = 178, 218  # CelebA's aligned images
SPLITS = ("train", "val", "test")


def write_dialog_tree(
    root: Path,
    n: int,
    seed: int = 0,
    *,
    unlabelled: dict[int, str] | None = None,
    listed: int | None = None,
    image_dir: Path | None = None,
) -> Path:
    """``n`` drawn faces as a CelebA-Dialog tree under ``root``; returns ``root``.

    Every face is drawn, upscaled into the central 178x178 square of a 178x218 canvas (where
    the reader's crop looks) and saved as a JPEG; the split is 80 / 10 / 10 % in file order.
    ``unlabelled`` maps row indices to what follows the file name on their line of
    ``combined_annotation.txt`` instead of levels (``""`` or ``"-1 -1 -1 -1 -1"``); those
    rows are left out of the split lists (where the real ones go is not public). ``listed``
    rows in all (at least ``n``; the real files list 202,599): the rows after the first
    ``n`` get random levels and no image, as a smoke run reads only the first ones. The images
    go to ``image_dir`` (default ``root / "img_align_celeba"``).
    """
    unlabelled = unlabelled or {}
    total = max(n, listed or n)
    images, labels = draw_faces(n, seed)
    rng = np.random.default_rng(seed)
    labels = np.concatenate([labels, rng.integers(0, 6, (total - n, len(ATTRIBUTES)))])
    root.mkdir(parents=True, exist_ok=True)
    image_dir = image_dir or root / "img_align_celeba"
    image_dir.mkdir(parents=True, exist_ok=True)
    names = [f"{index + 1:06d}.jpg" for index in range(total)]
    for name, image in zip(names, images, strict=False):
        write_aligned_jpeg(image_dir / name, image)
    lines = [
        f"{name} {unlabelled[i]}" if i in unlabelled else f"{name} {' '.join(map(str, row))} "
        for i, (name, row) in enumerate(zip(names, labels, strict=True))
    ]
    header = "img_name " + " ".join(ATTRIBUTES)
    (root / "combined_annotation.txt").write_bytes(
        ("\r\n".join([header, *lines]) + "\r\n").encode()
    )
    split = np.minimum((np.arange(total) * 10) // total - 7, 2).clip(0)  # 0 for 80 %, 1, 2
    for index, part in enumerate(SPLITS):
        chosen = [
            line
            for i, (line, s) in enumerate(zip(lines, split, strict=True))
            if s == index and i not in unlabelled
        ]
        (root / f"{part}_attr_list.txt").write_text("\n".join(chosen) + "\n")
    partition = "".join(f"{name} {s}\n" for name, s in zip(names, split, strict=True))
    (root / "list_eval_partition.txt").write_text(partition)
    return root


def write_aligned_jpeg(path: Path, face: np.ndarray) -> None:
    """A (3, 64, 64) uint8 face as a 178x218 JPEG whose central square holds it."""
    square = Image.fromarray(face.transpose(1, 2, 0)).resize((WIDTH, WIDTH), Image.BICUBIC)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), tuple(int(v) for v in face[:, 0, 0]))
    canvas.paste(square, (0, (HEIGHT - WIDTH) // 2))
    canvas.save(path, quality=92)


def write_mnist_idx(
    directory: Path, images: np.ndarray, labels: np.ndarray, n_train: int | None = None
) -> Path:
    """The four gzipped IDX files of full MNIST: the first ``n_train`` digits (default half)
    as train, the rest as t10k."""
    directory.mkdir(parents=True, exist_ok=True)
    split = len(images) // 2 if n_train is None else n_train
    parts = {"train": slice(0, split), "t10k": slice(split, None)}
    for prefix, rows in parts.items():
        block = np.asarray(images[rows], np.uint8)
        header = struct.pack(">IIII", 0x00000803, len(block), 28, 28)
        _gzip(directory / f"{prefix}-images-idx3-ubyte.gz", header + block.tobytes())
        values = np.asarray(labels[rows], np.uint8)
        _gzip(
            directory / f"{prefix}-labels-idx1-ubyte.gz",
            struct.pack(">II", 0x801, len(values)) + values.tobytes(),
        )
    return directory


def _gzip(path: Path, payload: bytes) -> None:
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(payload)
