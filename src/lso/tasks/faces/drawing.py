"""Procedurally drawn 64×64 colour faces with a graded smile: an offline stand-in for CelebA.

The faces family of experiments (maximise how much a face smiles) needs face images with
smile labels, and CelebA cannot be downloaded at run time. :func:`draw_faces` draws varied
faces (face shape, skin and hair colour, pose, background, glasses, bangs, beard, age) with a
smile level 0–5 like CelebA-Dialog's ``Smiling`` (0: mouth turned down and closed, 5: a wide,
open smile). It exercises the whole method offline; it is not CelebA, and numbers measured on
it say nothing about real faces.

Every face is a deterministic function of ``(seed, index)``: drawing faces 100–199 gives the
same images whether or not faces 0–99 were drawn first.

The drawn smile is continuous: a face labelled level c is drawn with an intensity uniform in
[c - 0.5, c + 0.5), as an annotator rounds what she sees. Faces near a boundary are therefore
genuinely ambiguous, so a predictor cannot be 100 % right and temperature scaling has
something to calibrate (with one drawing per level, a small ResNet separated the levels
perfectly and its "expected level" collapsed to integer steps). Labels stay 0–5.

Faces are drawn at 4× resolution with Pillow and downsampled (Lanczos), so edges are
anti-aliased like photographs, not pixel art.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from lso.utils import InputError

ATTRIBUTES = ("Bangs", "Eyeglasses", "No_Beard", "Smiling", "Young")  # CelebA-Dialog's order
LEVELS = 6  # labels 0..5
SIZE = 64
SCALE = 4  # drawn at SIZE * SCALE, then downsampled
SKIN = np.array([[255, 224, 196], [241, 194, 155], [224, 172, 105], [198, 134, 66], [141, 85, 36]])
HAIR = np.array([[20, 20, 20], [80, 50, 20], [150, 100, 50], [220, 190, 120], [170, 60, 30]])


class FaceTraits(NamedTuple):
    """What one drawn face looks like; ``smile`` and the attribute levels are its labels."""

    smile: int  # 0..5, the label
    smile_intensity: float  # what is drawn: uniform in [smile - 0.5, smile + 0.5)
    bangs: int  # 0 or 5 (none / full fringe)
    glasses: bool
    beard: bool
    age: int  # 0..5 on CelebA-Dialog's Young scale (0 a child, 5 in their seventies); 4-5 go grey
    face_width: float  # fraction of the image
    face_height: float
    tilt: float  # horizontal offset of the face centre, fraction of the image
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    background: tuple[int, int, int]

    def labels(self) -> np.ndarray:
        """Levels 0–5 in :data:`ATTRIBUTES` order, in CelebA-Dialog's directions: its captions
        give No_Beard 0 for no beard and 5 for a full beard, Young 0 for a child and 5 for
        someone in their seventies (the names read the other way round)."""
        return np.array(
            [self.bangs, 5 if self.glasses else 0, 5 if self.beard else 0, self.smile, self.age]
        )


def random_traits(rng: np.random.Generator, smile: int | None = None) -> FaceTraits:
    """Draw the traits of one face; ``smile`` fixes the smile level instead of drawing it."""
    age = LEVELS - 1 - int(rng.integers(0, LEVELS))
    hair = HAIR[rng.integers(len(HAIR))].astype(float)
    if age >= LEVELS - 2:  # older faces go grey
        hair = 0.4 * hair + 0.6 * np.array([190.0, 190.0, 190.0])
    skin = SKIN[rng.integers(len(SKIN))] + rng.normal(0, 6, 3)
    level = int(rng.integers(0, LEVELS)) if smile is None else int(smile)
    return FaceTraits(
        smile=level,
        smile_intensity=level + float(rng.uniform(-0.5, 0.5)),
        bangs=5 if rng.random() < 0.3 else 0,
        glasses=bool(rng.random() < 0.25),
        beard=bool(rng.random() < 0.2),
        age=age,
        face_width=float(rng.uniform(0.46, 0.58)),
        face_height=float(rng.uniform(0.60, 0.72)),
        tilt=float(rng.uniform(-0.06, 0.06)),
        skin=_colour(skin),
        hair=_colour(hair),
        background=_colour(rng.uniform(40, 230, 3)),
    )


def draw_faces(
    n: int, seed: int, start: int = 0, smile: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Faces ``start`` .. ``start + n - 1`` of the stream ``seed``.

    Returns uint8 images (n, 3, 64, 64) and int64 labels (n, 5) in :data:`ATTRIBUTES` order.
    ``smile`` draws every face at that smile level (the other traits still vary).
    """
    if n < 0 or start < 0:
        raise InputError(f"need n >= 0 and start >= 0, got n={n}, start={start}")
    if smile is not None and not 0 <= smile < LEVELS:
        raise InputError(f"smile must be a level 0-{LEVELS - 1}, got {smile}")
    images = np.zeros((n, 3, SIZE, SIZE), np.uint8)
    labels = np.zeros((n, len(ATTRIBUTES)), np.int64)
    for i in range(n):
        traits = random_traits(np.random.default_rng([seed, start + i]), smile)
        images[i] = draw_face(traits)
        labels[i] = traits.labels()
    return images, labels


def draw_face(traits: FaceTraits) -> np.ndarray:
    """One face as uint8 (3, 64, 64)."""
    side = SIZE * SCALE
    image = Image.new("RGB", (side, side), traits.background)
    draw = ImageDraw.Draw(image)
    cx = side * (0.5 + traits.tilt)
    cy = side * 0.55
    half_w, half_h = side * traits.face_width / 2, side * traits.face_height / 2
    face = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    # hair behind the face, the face, then the features on it
    draw.ellipse(
        (face[0] - 0.08 * side, face[1] - 0.08 * side, face[2] + 0.08 * side, cy + 0.1 * side),
        fill=traits.hair,
    )
    draw.ellipse(face, fill=traits.skin)
    if traits.bangs:
        draw.chord(
            (face[0], face[1] - 0.02 * side, face[2], cy - 0.05 * side), 180, 360, fill=traits.hair
        )
    if traits.beard:
        draw.chord((face[0], cy - 0.05 * side, face[2], face[3]), 20, 160, fill=traits.hair)
    _draw_eyes(draw, traits, cx, cy, half_w, half_h)
    _draw_mouth(draw, traits.smile_intensity, cx, cy + 0.55 * half_h, half_w)
    if traits.age >= LEVELS - 2:  # wrinkles
        for k in (0, 1):
            y = cy - half_h * (0.55 + 0.1 * k)
            draw.line(
                (cx - 0.4 * half_w, y, cx + 0.4 * half_w, y), fill=_darker(traits.skin), width=SCALE
            )
    small = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.uint8).transpose(2, 0, 1).copy()


def _draw_eyes(
    draw, traits: FaceTraits, cx: float, cy: float, half_w: float, half_h: float
) -> None:
    eye_y, eye_dx, radius = cy - 0.2 * half_h, 0.42 * half_w, 0.09 * half_w
    for sign in (-1, 1):
        x = cx + sign * eye_dx
        draw.ellipse((x - radius, eye_y - radius, x + radius, eye_y + radius), fill=(250, 250, 250))
        pupil = radius * 0.5
        draw.ellipse((x - pupil, eye_y - pupil, x + pupil, eye_y + pupil), fill=(30, 30, 40))
        if traits.glasses:
            frame = radius * 2.0
            box = (x - frame, eye_y - frame * 0.8, x + frame, eye_y + frame * 0.8)
            draw.rectangle(box, outline=(20, 20, 20), width=2 * SCALE)
    if traits.glasses:
        bridge = eye_dx - 0.18 * half_w
        draw.line((cx - bridge, eye_y, cx + bridge, eye_y), fill=(20, 20, 20), width=2 * SCALE)


def _draw_mouth(draw, smile: float, cx: float, cy: float, half_w: float) -> None:
    """The graded smile: corners rise and the mouth widens and opens with the intensity.

    Intensity 0 curves down (a frown), 1 is flat, above it the mouth curves up ever more;
    above 2 the lips part and teeth show, most at 5.5.
    """
    width = half_w * (0.55 + 0.07 * smile)
    curve = half_w * 0.08 * (smile - 1)  # > 0: corners above the centre
    openness = half_w * 0.06 * max(0, smile - 2)
    lip = (150, 40, 50)
    xs = np.linspace(-1, 1, 33)
    upper = [(cx + width * x, cy - curve * (x**2) + curve * 0.5) for x in xs]
    lower = [
        (cx + width * x, y + openness * (1 - x**2)) for (_, y), x in zip(upper, xs, strict=True)
    ]
    if openness > 0:
        draw.polygon(upper + lower[::-1], fill=(60, 10, 20))
        teeth = [(x, y + 0.3 * openness * (1 - ((x - cx) / width) ** 2)) for x, y in upper]
        draw.polygon(upper + teeth[::-1], fill=(245, 245, 240))
    draw.line(upper, fill=lip, width=2 * SCALE)
    if openness > 0:
        draw.line(lower, fill=lip, width=2 * SCALE)


def _colour(values: np.ndarray) -> tuple[int, int, int]:
    clipped = np.clip(np.rint(values), 0, 255).astype(int)
    return int(clipped[0]), int(clipped[1]), int(clipped[2])


def _darker(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    return _colour(np.array(colour) * 0.75)
