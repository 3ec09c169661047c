"""Preparing a faces data set (generated, or read and cropped from CelebA; no torch), and
the manifest of a CelebA image folder, apart from the digits' so that editing one family's
preparation does not rerun the other's."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lso.config.types import DatasetSettings
from lso.tasks.faces.celeba import (
    LabelledImages,
    load_faces,
    read_celeba_attributes,
    read_dialog_labels,
    read_partition,
)
from lso.tasks.faces.dataset import assign_splits, save_face_dataset
from lso.tasks.faces.drawing import ATTRIBUTES, draw_faces
from lso.tasks.sources import (
    CELEBA_ATTRIBUTES,
    CELEBA_PARTITION,
    DIALOG_COMBINED,
    dialog_label_files,
    image_listing,
)
from lso.utils import PathLike, atomic_path

logger = logging.getLogger(__name__)


def prepare(spec: DatasetSettings, output: PathLike) -> None:
    """Labelled 64x64 faces (generated, or read and cropped from CelebA) -> one faces file."""
    images, levels, val = _face_source(spec)
    half, random_val = assign_splits(levels, spec.val_fraction, spec.seed)
    if val is not None and not val.any():
        # CelebA's partition holds out its last 40,000 images: the first n_images (a smoke
        # run's 400, say) may all be training faces, and the predictors need held-out ones.
        logger.warning(
            "the files' partition holds out none of the %d faces kept; holding out a random "
            "%.0f %% of them (val_fraction) instead",
            len(val),
            100 * spec.val_fraction,
        )
        val = None
    arrays = {
        "images": images,
        "levels": levels,
        "half": half,
        "val": random_val if val is None else val,
        "max_level": np.int64(spec.max_level),
    }
    save_face_dataset(output, arrays)
    counts = np.bincount(levels, minlength=int(levels.max()) + 1)
    logger.info(
        "prepared %d faces (%s levels %s); %d at %s <= %d train the generative model",
        len(levels),
        spec.attribute,
        counts.tolist(),
        int((levels <= spec.max_level).sum()),
        spec.attribute,
        spec.max_level,
    )


def _face_source(spec: DatasetSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Images, attribute levels, and CelebA's own validation flags where the files give them
    (``list_eval_partition.txt``, or else CelebA-Dialog's val and test lists)."""
    column = ATTRIBUTES.index(spec.attribute)
    if spec.source == "generated":
        images, labels = draw_faces(spec.n_images, spec.seed)
        return images, labels[:, column], None
    root = Path(spec.path)
    partition_file = root / CELEBA_PARTITION
    held_out = None
    if spec.source == "celeba":
        labelled = read_celeba_attributes(root / CELEBA_ATTRIBUTES)
        levels = (labelled.labels[:, labelled.attributes.index(spec.attribute)] > 0).astype(int)
    else:
        labelled, held_out = _dialog_labels(root)
        levels = labelled.labels[:, column]
    keep = slice(None) if spec.n_images is None else slice(0, spec.n_images)
    filenames = labelled.filenames[keep]
    logger.info(
        "keeping %d of %d labelled faces (%d unlabelled rows skipped)",
        len(filenames),
        len(labelled.filenames),
        len(labelled.unlabelled),
    )
    images = load_faces(spec.image_dir, filenames, workers=spec.workers)
    val = None if held_out is None else held_out[keep]
    if partition_file.is_file():
        partition = read_partition(partition_file)
        val = np.array([partition.get(name, 0) != 0 for name in filenames])
    return images, np.asarray(levels[keep], np.int64), val


def _dialog_labels(root: Path) -> tuple[LabelledImages, np.ndarray | None]:
    """CelebA-Dialog's labels: combined_annotation.txt, or the split lists joined (train, val,
    and test when present); with the split lists, the val and test faces are held out."""
    paths = dialog_label_files(root)
    parts = [read_dialog_labels(path) for path in paths]
    labelled = LabelledImages(
        [name for part in parts for name in part.filenames],
        parts[0].attributes,
        np.concatenate([part.labels for part in parts]),
        tuple(name for part in parts for name in part.unlabelled),
    )
    if paths[0].name == DIALOG_COMBINED:
        return labelled, None
    held_out = [np.full(len(part.filenames), index > 0) for index, part in enumerate(parts)]
    return labelled, np.concatenate(held_out)


def list_images(image_dir: PathLike, output: PathLike) -> None:
    """Write the manifest of an image directory (name, size, modification time per image):
    the prepare step's input that stands for the images (:mod:`lso.tasks.sources`)."""
    listing = image_listing(image_dir)
    with atomic_path(output) as tmp:
        tmp.write_text("".join(f"{name}\t{size}\t{mtime}\n" for name, size, mtime in listing))
    logger.info("listed %d images in %s", len(listing), image_dir)
