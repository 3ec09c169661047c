"""Face data: the procedural generator and the readers of the CelebA files a user brings."""

from __future__ import annotations

import re
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from celeba_tree import write_dialog_tree
from lso.config.types import DatasetSettings
from lso.steps.data import prepare_data
from lso.tasks.faces.celeba import (
    load_face,
    load_faces,
    read_celeba_attributes,
    read_dialog_labels,
    read_partition,
    select_by_level,
)
from lso.tasks.faces.dataset import load_face_dataset
from lso.tasks.faces.drawing import ATTRIBUTES, draw_faces, random_traits
from lso.utils import InputError


def test_faces_are_a_deterministic_stream() -> None:
    images, labels = draw_faces(12, seed=5)
    again, again_labels = draw_faces(12, seed=5)
    assert images.shape == (12, 3, 64, 64) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, again_labels)
    tail, tail_labels = draw_faces(4, seed=5, start=8)  # face i depends on (seed, i) only
    np.testing.assert_array_equal(tail, images[8:])
    np.testing.assert_array_equal(tail_labels, labels[8:])
    other, _ = draw_faces(12, seed=6)
    assert not np.array_equal(other, images)


def test_faces_vary_and_carry_labels_like_celeba_dialog() -> None:
    images, labels = draw_faces(200, seed=0)
    assert labels.shape == (200, len(ATTRIBUTES)) and labels.min() >= 0 and labels.max() <= 5
    smiling = labels[:, ATTRIBUTES.index("Smiling")]
    assert set(smiling) == set(range(6))
    assert len({image.tobytes() for image in images}) == 200
    assert images.reshape(200, 3, -1).std(axis=2).mean() > 20  # not flat colour fields


def mouth_pixels(images: np.ndarray) -> float:
    """Lip and open-mouth pixels in the lower face: a smile grows wider and opens."""
    r, g, b = (images[:, c].astype(float) for c in range(3))
    lips = (r > 2.5 * g) & (r > 2.5 * b)
    dark_mouth = (r + g + b < 150) & (r > g)
    return float((lips | dark_mouth)[:, 40:, :].sum(axis=(1, 2)).mean())


def test_the_drawn_smile_grows_with_its_level() -> None:
    amounts = [mouth_pixels(draw_faces(30, seed=1, smile=level)[0]) for level in range(6)]
    assert all(a < b for a, b in zip(amounts, amounts[1:], strict=False)), amounts
    _, labels = draw_faces(10, seed=1, smile=4)
    assert set(labels[:, ATTRIBUTES.index("Smiling")]) == {4}
    with pytest.raises(InputError, match="smile"):
        draw_faces(1, seed=0, smile=6)


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """Three aligned-size (178×218) JPEGs and one corrupt file."""
    folder = tmp_path / "img_align_celeba"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(1, 4):
        pixels = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
        pixels[:20] = pixels[198:] = 0  # the rows the crop drops are black
        Image.fromarray(pixels).save(folder / f"{index:06d}.jpg", quality=95)
    (folder / "000004.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    return folder


def test_dialog_labels_with_and_without_header(tmp_path: Path) -> None:
    combined = tmp_path / "combined_annotation.txt"
    combined.write_text(
        "File_Name Bangs Eyeglasses No_Beard Smiling Young\n000001.jpg 2 0 5 3 4\n"
        "000002.jpg 0 0 5 1 2\n"
    )
    split = tmp_path / "train_attr_list.txt"
    split.write_text("000001.jpg 2 0 5 3 4\n000002.jpg 0 0 5 1 2\n\n")
    for path in (combined, split):
        labels = read_dialog_labels(path)
        assert labels.filenames == ["000001.jpg", "000002.jpg"]
        assert labels.attributes == ATTRIBUTES
        np.testing.assert_array_equal(labels.labels[:, 3], [3, 1])
    assert list(select_by_level(labels, "Smiling", 0, 2)) == [1]
    assert list(select_by_level(labels, "Smiling", 3, 5)) == [0]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("000003.jpg 2 0 5 3", "line 3: expected a file name and 5 levels"),
        ("000003.jpg 2 0 5 9 4", "line 3: expected integers in [0, 1, 2, 3, 4, 5]"),
        ("000003.jpg 2 0 x 3 4", "line 3: expected integers"),
    ],
)
def test_a_malformed_dialog_line_names_file_and_line(tmp_path: Path, line: str, message) -> None:
    path = tmp_path / "val_attr_list.txt"
    path.write_text(f"000001.jpg 2 0 5 3 4\n000002.jpg 0 0 5 1 2\n{line}\n")
    with pytest.raises(InputError, match=re.escape(f"{path}, {message}")):
        read_dialog_labels(path)


@pytest.mark.parametrize("missing", ["", " ", "-1 -1 -1 -1 -1", "NA na None null -"])
def test_an_unlabelled_row_is_skipped_and_counted(tmp_path: Path, caplog, missing: str) -> None:
    """CelebA-Dialog lists 21 images without labels; how they are written is not public, so a
    file name alone or followed by five missing markers is skipped (and logged), not fatal."""
    path = tmp_path / "combined_annotation.txt"
    lines = ["img_name Bangs Eyeglasses No_Beard Smiling Young", "000001.jpg 2 0 5 3 4 "]
    lines += [f"000002.jpg {missing}", "000003.jpg 0 0 5 1 2 ", f"000004.jpg {missing}"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    with caplog.at_level("WARNING"):
        labels = read_dialog_labels(path)
    assert labels.filenames == ["000001.jpg", "000003.jpg"]  # the count excludes them
    assert labels.unlabelled == ("000002.jpg", "000004.jpg")
    np.testing.assert_array_equal(labels.labels[:, 3], [3, 1])
    assert "skipped 2 unlabelled rows" in caplog.text and "2 labelled images" in caplog.text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("000003.jpg -1 0 5 3 4", "line 3: expected integers in [0, 1, 2, 3, 4, 5]"),
        ("000003.jpg -1 -1 -1", "line 3: expected a file name and 5 levels"),
        ("000003.jpg -1 -1 -1 -1 -1 -1", "line 3: expected a file name and 5 levels"),
        ("header_without_levels", "line 3: expected a file name and 5 levels"),
        ("000003.jpg 2 0 5 3 4 1", "line 3: expected a file name and 5 levels"),
    ],
    ids=["marker-beside-levels", "too-few-markers", "too-many", "no-image-name", "six-levels"],
)
def test_a_row_that_is_not_simply_unlabelled_still_fails(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "train_attr_list.txt"
    path.write_text(f"000001.jpg 2 0 5 3 4\n000002.jpg\n{line}\n")
    with pytest.raises(InputError, match=re.escape(f"{path}, {message}")):
        read_dialog_labels(path)


def test_generated_labels_follow_celeba_dialog_directions_and_images_did_not_change() -> None:
    """No_Beard and Young are read as CelebA-Dialog's captions read them (0: no beard, a
    child; 5: a full beard, in their seventies): bearded and grey-haired faces score high.
    Only the labels changed: the images are byte-identical to those drawn before the fix."""
    images, labels = draw_faces(300, seed=0)
    beard, young = labels[:, ATTRIBUTES.index("No_Beard")], labels[:, ATTRIBUTES.index("Young")]
    assert set(beard) == {0, 5} and set(young) == set(range(6))
    rng_traits = [random_traits(np.random.default_rng([0, i])) for i in range(300)]
    assert [5 * t.beard for t in rng_traits] == list(beard)
    grey = np.array([t.age >= 4 for t in rng_traits])  # drawn with grey hair and wrinkles
    assert grey.any() and (young[grey] >= 4).all() and (young[~grey] <= 3).all()
    before = _drawing_before_the_label_fix()
    if before is None:
        pytest.skip("not a git checkout with commit 6dfcdbf")
    old_images, old_labels = before.draw_faces(300, 0)
    np.testing.assert_array_equal(images, old_images)
    np.testing.assert_array_equal(beard, 5 - old_labels[:, ATTRIBUTES.index("No_Beard")])
    np.testing.assert_array_equal(young, 5 - old_labels[:, ATTRIBUTES.index("Young")])
    others = [ATTRIBUTES.index(a) for a in ("Bangs", "Eyeglasses", "Smiling")]
    np.testing.assert_array_equal(labels[:, others], old_labels[:, others])


def _drawing_before_the_label_fix():
    """``lso.tasks.faces.drawing`` as it was before No_Beard and Young were flipped."""
    repo = Path(__file__).resolve().parents[1]
    shown = subprocess.run(
        ["git", "-C", str(repo), "show", "6dfcdbf:src/lso/tasks/faces/drawing.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        return None
    module = types.ModuleType("drawing_before_the_label_fix")
    exec(compile(shown.stdout, "drawing@6dfcdbf", "exec"), module.__dict__)  # noqa: S102
    return module


def test_original_celeba_attributes_and_partition(tmp_path: Path) -> None:
    names = [f"Attr{i}" for i in range(39)] + ["Smiling"]
    rows = ["000001.jpg " + " ".join(["1"] * 40), "000002.jpg " + " ".join(["-1"] * 40)]
    attributes = tmp_path / "list_attr_celeba.txt"
    attributes.write_text("2\n" + " ".join(names) + "\n" + "\n".join(rows) + "\n")
    labels = read_celeba_attributes(attributes)
    assert labels.filenames == ["000001.jpg", "000002.jpg"]
    assert labels.attributes[-1] == "Smiling" and labels.labels.shape == (2, 40)
    assert list(select_by_level(labels, "Smiling", 1, 1)) == [0]
    attributes.write_text("3\n" + " ".join(names) + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="count line says 3 images, found 2"):
        read_celeba_attributes(attributes)
    attributes.write_text("2\n" + " ".join(names) + "\n" + rows[0] + "\n000002.jpg 1 0\n")
    with pytest.raises(InputError, match=re.escape(f"{attributes}, line 4: expected a file name")):
        read_celeba_attributes(attributes)
    partition = tmp_path / "list_eval_partition.txt"
    partition.write_text("000001.jpg 0\n000002.jpg 2\n")
    assert read_partition(partition) == {"000001.jpg": 0, "000002.jpg": 2}
    partition.write_text("000001.jpg 0\n000002.jpg 7\n")
    with pytest.raises(InputError, match="line 2"):
        read_partition(partition)


def test_faces_are_cropped_to_the_central_square_and_resized(image_dir: Path) -> None:
    faces = load_faces(image_dir, ["000002.jpg", "000001.jpg"], size=64, workers=2)
    assert faces.shape == (2, 3, 64, 64) and faces.dtype == np.uint8
    np.testing.assert_array_equal(faces[1], load_face(image_dir / "000001.jpg"))
    assert faces[:, :, [0, -1]].mean() > 60  # the black bands lie outside the crop


def test_a_corrupt_or_missing_image_names_the_file(image_dir: Path) -> None:
    with pytest.raises(InputError, match=re.escape(f"{image_dir / '000004.jpg'}: not a readable")):
        load_faces(image_dir, ["000001.jpg", "000004.jpg"])
    with pytest.raises(InputError, match="000009.jpg: image not found"):
        load_face(image_dir / "000009.jpg")


def _dialog_spec(root: Path, n_images: int | None) -> DatasetSettings:
    return DatasetSettings(
        source="celeba_dialog",
        path=str(root),
        digit=None,
        binarize_threshold=None,
        val_fraction=0.2,
        holdout_top_fraction=None,
        seed=0,
        image_dir=str(root / "img_align_celeba"),
        attribute="Smiling",
        max_level=2,
        n_images=n_images,
        workers=1,
    )


def test_preparing_keeps_the_first_labelled_faces(tmp_path: Path, caplog) -> None:
    """``n_images`` counts labelled rows: the unlabelled ones are neither kept nor counted.
    CelebA's partition holds out its last images; when it holds out none of those kept (a
    smoke run's first 400), a random ``val_fraction`` is held out instead."""
    root = write_dialog_tree(tmp_path / "dialog", 16, unlabelled={3: "", 5: "-1 -1 -1 -1 -1"})
    _, labels = draw_faces(16, 0)
    partition = (np.arange(16) * 10) // 16 >= 8  # list_eval_partition: the last 20 % held out
    for n_images, rows in (
        (10, [0, 1, 2, 4, 6, 7, 8, 9, 10, 11]),
        (None, [0, 1, 2, 4, *range(6, 16)]),
    ):
        caplog.clear()
        with caplog.at_level("INFO"):
            prepare_data(_dialog_spec(root, n_images), tmp_path / "faces.npz")
        data = load_face_dataset(tmp_path / "faces.npz")
        np.testing.assert_array_equal(data["levels"], labels[rows, ATTRIBUTES.index("Smiling")])
        kept = f"keeping {len(rows)} of 14 labelled faces (2 unlabelled rows skipped)"
        assert kept in caplog.text
        if n_images is None:
            np.testing.assert_array_equal(data["val"], partition[rows])
        else:
            assert "holds out none of the 10 faces kept" in caplog.text
            assert data["val"].sum() == 2  # val_fraction 0.2


def test_preparing_from_the_split_lists_reads_the_test_list(tmp_path: Path) -> None:
    """Without combined_annotation.txt the three lists are read, the test list included, and
    (without list_eval_partition.txt) their val and test faces are the held-out ones."""
    root = write_dialog_tree(tmp_path / "dialog", 20)
    (root / "combined_annotation.txt").unlink()
    (root / "list_eval_partition.txt").unlink()
    prepare_data(_dialog_spec(root, None), tmp_path / "faces.npz")
    data = load_face_dataset(tmp_path / "faces.npz")
    _, labels = draw_faces(20, 0)
    np.testing.assert_array_equal(data["levels"], labels[:, ATTRIBUTES.index("Smiling")])
    np.testing.assert_array_equal(data["val"], np.arange(20) >= 16)  # val 16-17, test 18-19
