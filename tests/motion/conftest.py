"""Videos with known motion, cuts, fades and flicker, made by the tests themselves."""

from __future__ import annotations

import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mediafactory import _write_silence


def texture(w: int, h: int, seed: int = 1) -> np.ndarray:
    """A smooth random texture, wide enough to slide a (h, w) window across."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h // 16 + 4, w // 16 + 18, 3), dtype=np.uint8)
    return cv2.resize(base, (w + 240, h + 24), interpolation=cv2.INTER_CUBIC)


def write_frames(
    path: str | os.PathLike[str],
    pictures: list[np.ndarray] | Callable[[int], np.ndarray],
    count: int | None = None,
    *,
    fps: Fraction | int = 12,
    audio: bool = False,
    pix_fmt: str = "yuv420p",
    crf: int = 10,
    pts: list[int] | None = None,
    codec: str = "libx264",
    container: str = "mp4",
) -> Path:
    """Writes RGB pictures as an H.264 MP4 (optionally with silent AAC).

    ``pts`` (in frames of ``fps``) makes a variable-frame-rate file; ``codec="png"``
    with ``container="matroska"`` takes odd sizes.
    """
    rate = Fraction(fps)
    n = len(pictures) if isinstance(pictures, list) else int(count or 0)
    first = pictures[0] if isinstance(pictures, list) else pictures(0)
    h, w = first.shape[:2]
    with av.open(os.fspath(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "ultrafast"}
        sound = out.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for i in range(n):
            rgb = pictures[i] if isinstance(pictures, list) else pictures(i)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = (pts[i] if pts else i), 1 / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            _write_silence(out, sound, float(n / rate))
    return Path(path)


def sliding(w: int = 160, h: int = 96, step: int = 6, seed: int = 1) -> Callable[[int], np.ndarray]:
    """Frame i: the texture window moved ``step`` pixels right per frame (known motion)."""
    tex = texture(w, h, seed)

    def frame(i: int) -> np.ndarray:
        x = i * step
        return np.ascontiguousarray(tex[12 : 12 + h, x : x + w])

    return frame
