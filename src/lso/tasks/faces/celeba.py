"""Readers for the CelebA files a user brings, and the 64×64 crop the face models train on.

Two label formats name the same ``img_align_celeba/*.jpg`` images:

* CelebA-Dialog's fine-grained labels, one line per image: ``000001.jpg 2 0 5 3 4``, the levels
  0–5 of Bangs, Eyeglasses, No_Beard, Smiling and Young (in its captions No_Beard 0 is no
  beard and 5 a full one, Young 0 a child and 5 someone in their seventies).
  ``combined_annotation.txt`` starts with a header line naming them; ``train_attr_list.txt``,
  ``val_attr_list.txt`` and ``test_attr_list.txt`` do not. The combined file lists 202,599
  images of which 21 are unlabelled, in a form that is not public. The policy here
  (:func:`unlabelled_row`): a line that is an image file name alone, or an image file name
  followed by five "missing" markers (``-1``, ``NA``, ``NaN``, ``None``, ``null``, ``-``), is
  an unlabelled row: skipped, counted and logged. Any other malformed line (too few or too
  many fields, a level outside 0–5, a marker beside real levels) stops the run with the file
  and the line number.
* The original CelebA's ``list_attr_celeba.txt``: a count line, a line of the 40 attribute
  names, then ``000001.jpg -1 1 ...`` with ±1 values; ``list_eval_partition.txt`` assigns each
  image to train (0), validation (1) or test (2).

Every malformed line fails with the file and line number; a missing or corrupt image names the
file. :func:`load_face` crops the central square of an aligned image (for CelebA's 178×218,
rows 20 to 198: the face and hair, without the neck) and resizes it to 64×64 with Lanczos
filtering.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from lso.tasks.faces.drawing import ATTRIBUTES
from lso.utils import InputError, PathLike

logger = logging.getLogger(__name__)
CELEBA_ATTRIBUTE_COUNT = 40
# Tokens that stand for "no level" in an unlabelled CelebA-Dialog row (compared lower-case).
MISSING_LEVELS = frozenset({"-1", "na", "nan", "none", "null", "-"})
IMAGE_NAME_SUFFIXES = (".jpg", ".jpeg", ".png")


class LabelledImages(NamedTuple):
    """Image file names and one row of integer labels per image; ``unlabelled`` names the
    rows that were skipped because they carry no labels (they are not among ``filenames``)."""

    filenames: list[str]
    attributes: tuple[str, ...]
    labels: np.ndarray  # (n, len(attributes)) int64
    unlabelled: tuple[str, ...] = ()


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, tokens) of each non-empty line; a missing file names itself."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path) as handle:
        for number, line in enumerate(handle, start=1):
            tokens = line.split()
            if tokens:
                yield number, tokens


def _integers(path: Path, number: int, tokens: list[str], allowed: set[int]) -> list[int]:
    try:
        values = [int(token) for token in tokens]
    except ValueError:
        values = []
    if len(values) != len(tokens) or not set(values) <= allowed:
        raise InputError(
            f"{path}, line {number}: expected integers in {sorted(allowed)}, got {tokens}"
        )
    return values


def unlabelled_row(tokens: list[str], n_levels: int = len(ATTRIBUTES)) -> bool:
    """Whether a label line is "an image file name with no labels": the name alone, or the
    name followed by ``n_levels`` missing markers (:data:`MISSING_LEVELS`)."""
    if not tokens[0].lower().endswith(IMAGE_NAME_SUFFIXES):
        return False
    levels = tokens[1:]
    return not levels or (
        len(levels) == n_levels and all(t.lower() in MISSING_LEVELS for t in levels)
    )


def read_dialog_labels(path: PathLike) -> LabelledImages:
    """CelebA-Dialog's fine-grained labels, with or without the header line.

    Unlabelled rows (:func:`unlabelled_row`) are skipped and counted in the log; they are not
    among the images, so ``n_images`` keeps the first n *labelled* ones.
    """
    path = Path(path)
    filenames, rows, unlabelled = [], [], []
    for number, tokens in _lines(path):
        if number == 1 and tokens[-len(ATTRIBUTES) :] == list(ATTRIBUTES):
            continue  # the header of combined_annotation.txt
        if unlabelled_row(tokens):
            unlabelled.append(tokens[0])
            continue
        if len(tokens) != 1 + len(ATTRIBUTES):
            raise InputError(
                f"{path}, line {number}: expected a file name and {len(ATTRIBUTES)} levels "
                f"({', '.join(ATTRIBUTES)}), got {len(tokens)} fields"
            )
        filenames.append(tokens[0])
        rows.append(_integers(path, number, tokens[1:], set(range(6))))
    if unlabelled:
        logger.warning(
            "%s: skipped %d unlabelled rows (a file name without levels), e.g. %s; "
            "%d labelled images remain",
            path,
            len(unlabelled),
            ", ".join(unlabelled[:5]),
            len(filenames),
        )
    labels = np.asarray(rows, np.int64).reshape(-1, len(ATTRIBUTES))
    return LabelledImages(filenames, ATTRIBUTES, labels, tuple(unlabelled))


def read_celeba_attributes(path: PathLike) -> LabelledImages:
    """The original CelebA's ``list_attr_celeba.txt`` (labels ±1)."""
    path = Path(path)
    lines = _lines(path)
    count_line = next(lines, None)
    names_line = next(lines, None)
    if count_line is None or names_line is None:
        raise InputError(f"{path}: expected a count line and a line of attribute names")
    (number, count) = count_line
    if len(count) != 1 or not count[0].isdigit():
        raise InputError(f"{path}, line {number}: expected the number of images, got {count}")
    names = tuple(names_line[1])
    if len(names) != CELEBA_ATTRIBUTE_COUNT:
        raise InputError(
            f"{path}, line {names_line[0]}: expected {CELEBA_ATTRIBUTE_COUNT} attribute names, "
            f"got {len(names)}"
        )
    filenames, rows = [], []
    for number, tokens in lines:
        if len(tokens) != 1 + len(names):
            raise InputError(
                f"{path}, line {number}: expected a file name and {len(names)} values, "
                f"got {len(tokens)} fields"
            )
        filenames.append(tokens[0])
        rows.append(_integers(path, number, tokens[1:], {-1, 1}))
    if len(filenames) != int(count[0]):
        raise InputError(f"{path}: the count line says {count[0]} images, found {len(filenames)}")
    return LabelledImages(filenames, names, np.asarray(rows, np.int64).reshape(-1, len(names)))


def read_partition(path: PathLike) -> dict[str, int]:
    """``list_eval_partition.txt``: file name -> 0 (train), 1 (validation) or 2 (test)."""
    path = Path(path)
    partition = {}
    for number, tokens in _lines(path):
        if len(tokens) != 2:
            raise InputError(f"{path}, line {number}: expected a file name and a partition")
        partition[tokens[0]] = _integers(path, number, tokens[1:], {0, 1, 2})[0]
    return partition


def load_face(path: PathLike, size: int = 64) -> np.ndarray:
    """One aligned face image as uint8 (3, size, size): central square, Lanczos resize."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: image not found")
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            width, height = image.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            face = image.crop((left, top, left + side, top + side))
            face = face.resize((size, size), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"{path}: not a readable image ({error})") from error
    return np.asarray(face, dtype=np.uint8).transpose(2, 0, 1).copy()


def load_faces(
    image_dir: PathLike, filenames: list[str], size: int = 64, workers: int = 1
) -> np.ndarray:
    """The images ``filenames`` of ``image_dir`` as uint8 (n, 3, size, size), in that order.

    Decoding and resizing run in ``workers`` threads (Pillow releases the GIL while it does
    both), with a progress bar.
    """
    image_dir = Path(image_dir)
    paths = [image_dir / name for name in filenames]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        faces = list(
            tqdm(
                pool.map(lambda p: load_face(p, size), paths),
                total=len(paths),
                desc="faces",
                unit="img",
            )
        )
    return np.stack(faces) if faces else np.zeros((0, 3, size, size), np.uint8)


def select_by_level(labels: LabelledImages, attribute: str, low: int, high: int) -> np.ndarray:
    """Indices of the images whose ``attribute`` level is in [low, high] (e.g. Smiling <= 2
    for the thesis's training set, 3–5 for its reference set)."""
    if attribute not in labels.attributes:
        raise InputError(f"attribute {attribute!r} is not one of {list(labels.attributes)}")
    column = labels.labels[:, labels.attributes.index(attribute)]
    return np.flatnonzero((column >= low) & (column <= high))
