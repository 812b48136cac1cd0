"""Test media for the provenance tests: pictures with texture (the watermark needs some)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def textured(width: int = 320, height: int = 180, seed: int = 0) -> np.ndarray:
    """A smooth random landscape with grain: closer to a photograph than white noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((max(2, height // 16), max(2, width // 16), 3)) * 200 + 20
    picture = np.asarray(
        Image.fromarray(coarse.astype(np.uint8)).resize((width, height), Image.Resampling.BICUBIC),
        dtype=np.float64,
    )
    picture += rng.normal(0, 5, picture.shape)
    return np.clip(picture, 0, 255).astype(np.uint8)


def write_textured(
    path: str | os.PathLike[str], width: int = 320, height: int = 180, seed: int = 0
) -> Path:
    suffix = Path(path).suffix.lower()
    image = Image.fromarray(textured(width, height, seed))
    image.save(path, format="JPEG" if suffix in (".jpg", ".jpeg") else "PNG", quality=92)
    return Path(path)


def write_textured_mp4(
    path: str | os.PathLike[str],
    frames: int = 12,
    width: int = 320,
    height: int = 180,
    seed: int = 0,
) -> Path:
    base = textured(width, height, seed)
    with av.open(os.fspath(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(24))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18"}
        for index in range(frames):
            shifted = np.roll(base, index * 2, axis=1)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(shifted, format="rgb24")))
        out.mux(stream.encode(None))
    return Path(path)


def reencode(source: Path, target: Path, crf: int) -> Path:
    """H.264 at ``crf``: the attack a video platform makes."""
    with av.open(str(source)) as src, av.open(str(target), "w", format="mp4") as out:
        vin = src.streams.video[0]
        stream = out.add_stream("libx264", rate=vin.average_rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = vin.width, vin.height, "yuv420p"
        stream.options = {"crf": str(crf)}
        for frame in src.decode(vin):
            frame.pts = None
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return target
