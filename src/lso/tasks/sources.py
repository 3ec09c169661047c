"""The raw files each data source reads: the prepare step's inputs, and what its readers open.

Files a user brings are inputs of the step that reads them, so fixing a label file in place
reruns the preparation and what depends on it. One list serves the Snakefile (which makes
them rule inputs) and the readers (which open exactly these), so the two cannot drift.
Images are different: CelebA has 202,599 of them, too many to be DAG inputs, so the image
directory is summarised by a digest of every file's name, size and modification time
(:func:`image_listing_digest`); the ``list_images`` rule writes the listing to a manifest
whenever the digest changes, and the manifest is the prepare step's input.

Standard library only: the Snakefile calls these while it parses the workflow.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from lso.utils import InputError

IDX_SPLITS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)
DIALOG_COMBINED = "combined_annotation.txt"
DIALOG_SPLITS = ("train_attr_list.txt", "val_attr_list.txt", "test_attr_list.txt")
CELEBA_ATTRIBUTES = "list_attr_celeba.txt"
CELEBA_PARTITION = "list_eval_partition.txt"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def find_idx(directory: Path, name: str) -> Path:
    """The raw or gzipped IDX file called ``name``, preferring the raw one."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise InputError(f"{directory / name}: missing IDX file (expected {name} or {name}.gz)")


def dialog_label_files(root: Path) -> list[Path]:
    """CelebA-Dialog's label files: ``combined_annotation.txt``, or else the split lists
    (train and val required, test read when present)."""
    combined = root / DIALOG_COMBINED
    if combined.is_file():
        return [combined]
    required = [root / name for name in DIALOG_SPLITS[:2]]
    missing = [str(path) for path in required if not path.is_file()]
    if missing:
        raise InputError(
            f"{root}: neither {DIALOG_COMBINED} nor the split lists {missing} were found"
        )
    optional = root / DIALOG_SPLITS[2]
    return [*required, *([optional] if optional.is_file() else [])]


def label_files(source: str, path: str | os.PathLike) -> list[Path]:
    """Every raw file a data source with ``source`` and ``path`` reads, images aside."""
    root = Path(path)
    if source == "idx":
        return [find_idx(root, name) for split in IDX_SPLITS for name in split]
    if source == "npz":
        return [root]
    if source == "celeba_dialog":
        partition = root / CELEBA_PARTITION
        return [*dialog_label_files(root), *([partition] if partition.is_file() else [])]
    if source == "celeba":
        partition = root / CELEBA_PARTITION
        return [root / CELEBA_ATTRIBUTES, *([partition] if partition.is_file() else [])]
    return []  # embedded and generated data come with the package


def image_files(image_dir: str | os.PathLike) -> list[os.DirEntry]:
    """The image files of a directory, sorted by name."""
    with os.scandir(image_dir) as entries:
        found = [
            entry
            for entry in entries
            if entry.is_file() and entry.name.lower().endswith(IMAGE_SUFFIXES)
        ]
    return sorted(found, key=lambda entry: entry.name)


def image_listing(image_dir: str | os.PathLike) -> list[tuple[str, int, int]]:
    """(name, size in bytes, modification time in ns) of every image in ``image_dir``."""
    listing = []
    for entry in image_files(image_dir):
        stat = entry.stat()
        listing.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return listing


def image_listing_digest(image_dir: str | os.PathLike) -> str:
    """SHA-256 of :func:`image_listing`: changes when any image is added, removed or rewritten."""
    digest = hashlib.sha256()
    for name, size, mtime in image_listing(image_dir):
        digest.update(f"{name}\t{size}\t{mtime}\n".encode())
    return digest.hexdigest()
