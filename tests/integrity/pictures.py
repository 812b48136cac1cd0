"""Structured test pictures for the integrity tests: shapes on gradients, from a seed.

Noise would not survive a resize, so these look like (very simple) photographs:
a graded background, ellipses, rectangles and lines, different for every seed.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from mediafactory import video_codec

__all__ = ["copy_of", "lookalike_of", "previs_panel", "scene", "write_scene_video"]


def scene(seed: int, w: int = 160, h: int = 120) -> Image.Image:
    """A picture of a few shapes on a gradient; every seed gives another picture."""
    rng = np.random.default_rng(seed)
    top, bottom = rng.integers(0, 256, size=(2, 3))
    ramp = np.linspace(0, 1, h)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
    image = Image.fromarray(np.repeat(pixels, w, axis=1), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(7):
        x0, x1 = sorted(rng.integers(0, w, size=2))
        y0, y1 = sorted(rng.integers(0, h, size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1 + 8, y1 + 8), fill=colour)
        else:
            draw.rectangle((x0, y0, x1 + 8, y1 + 8), fill=colour)
    for _ in range(3):
        points = [tuple(int(v) for v in rng.integers(0, max(w, h), size=2)) for _ in range(2)]
        draw.line(points, fill=(255, 255, 255), width=3)
    return image


def copy_of(image: Image.Image) -> Image.Image:
    """What a generator regurgitating ``image`` might give: cropped, mirrored, re-graded,
    resized and captioned."""
    w, h = image.size
    copy = image.crop((round(w * 0.12), round(h * 0.04), w - round(w * 0.04), h - round(h * 0.1)))
    copy = ImageOps.mirror(copy).resize((round(w * 1.5), round(h * 1.5)))
    copy = ImageEnhance.Color(ImageEnhance.Contrast(copy).enhance(1.3)).enhance(0.6)
    ImageDraw.Draw(copy).text((10, 10), "PREVIEW", fill=(255, 255, 255))
    return copy


def lookalike_of(rgb: np.ndarray) -> Image.Image:
    """A reference a take copies, made as the demo makes its lookalike: wider by 10 %
    reflect padding (so the take is a crop of it), mirrored, warmer, captioned."""
    pixels = rgb.astype(np.float32)
    h, w = pixels.shape[:2]
    wider = np.pad(pixels, ((h // 10, h // 10), (w // 10, w // 10), (0, 0)), mode="reflect")
    graded = np.clip(wider * np.array([1.12, 1.0, 0.86]) + 10.0, 0, 255).astype(np.uint8)
    image = ImageOps.mirror(Image.fromarray(graded))
    ImageDraw.Draw(image).text((12, 8), "ARCHIVE 1954", fill=(255, 255, 255))
    return image


def write_scene_video(
    path: str | os.PathLike[str], seeds: list[int], frames_each: int = 6, w: int = 160, h: int = 120
) -> Path:
    """An MP4 of shots: ``frames_each`` frames of each seed's picture, drifting slightly."""
    with av.open(os.fspath(path), mode="w") as output:
        codec = video_codec()
        stream = output.add_stream(codec, rate=Fraction(24))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "23"}
        index = 0
        for seed in seeds:
            picture = np.asarray(scene(seed, w + 8, h))
            for step in range(frames_each):
                frame = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(picture[:, step : step + w]), format="rgb24"
                )
                frame.pts = index
                output.mux(stream.encode(frame))
                index += 1
        output.mux(stream.encode(None))
    return Path(path)


def previs_panel(
    folder: Path,
    code: str,
    heading: str,
    size: str,
    cast: dict[str, tuple[int, int, int]],
    *,
    seed: int,
    width: int,
    height: int,
    angle: str | None = None,
    lens_mm: float | None = None,
) -> Path:
    """A storyboard panel from the previs renderer: ``cast`` (names and colours, left to
    right; one is centred) in ``heading``'s setting at shot ``size``."""
    from setpiece.generate.backends.previs import PrevisGenerator
    from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief

    int_ext, rest = heading.split(". ", 1)
    location, time_of_day = rest.split(" - ")
    sides = ("left", "right") if len(cast) == 2 else ("centre",)
    brief = ShotBrief(
        code=code,
        scene=code[0],
        heading=heading,
        description="They wait in silence.",
        size=size,
        angle=angle,
        lens_mm=lens_mm,
        camera_move="static",
        int_ext=int_ext,
        location=location,
        time_of_day=time_of_day,
        subjects=tuple(
            SubjectBrief(name, "character", side=side, color=colour)
            for (name, colour), side in zip(cast.items(), sides, strict=True)
        ),
    )
    request = RenderRequest(
        mode=Mode.TEXT_TO_IMAGE, prompt=heading, seed=seed, width=width, height=height, brief=brief
    )
    return PrevisGenerator().render(request, folder).path
