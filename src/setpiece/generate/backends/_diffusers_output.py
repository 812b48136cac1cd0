"""Writing finished takes into the work folder: PNG stills, H.264 MP4 videos, atomically.

Each file is written under a hidden temporary name in the same folder, flushed
and ``fsync``-ed, then renamed onto its final name with ``os.replace``, so the
queue never sees half a file. Names carry the seed and a random part, so takes
rendered together, or twice with one seed, never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from setpiece.errors import StorageError
from setpiece.generate.base import RenderError
from setpiece.store.video import reason

__all__ = ["take_name", "to_uint8", "write_mp4", "write_png"]


def take_name(stem: str, seed: int, suffix: str) -> str:
    """``<stem>-s<seed>-<12 hex>.<suffix>``: unique in the work folder."""
    return f"{stem}-s{seed}-{uuid.uuid4().hex[:12]}{suffix}"


def to_uint8(frames: Any) -> np.ndarray:
    """Floats in 0..1 (diffusers' ``np`` output) to 8-bit, rounded as diffusers' own
    ``numpy_to_pil`` rounds; PIL images and 8-bit arrays pass through."""
    if isinstance(frames, Image.Image):
        return np.asarray(frames.convert("RGB"))
    if isinstance(frames, list | tuple):
        return np.stack([to_uint8(frame) for frame in frames])
    array = np.asarray(frames)
    if array.dtype == np.uint8:
        return array
    return (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)


def _atomic(final: Path, write: Callable[[Path], None]) -> Path:
    temp = final.with_name(f".{final.name}.part")
    try:
        write(temp)
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except (OSError, StorageError) as exc:  # StorageError: the video writer's, from an OSError
        temp.unlink(missing_ok=True)
        cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ else exc
        raise RenderError(f"cannot write {final}: {reason(cause)}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return final


def write_png(image: Any, workdir: Path, stem: str, seed: int) -> Path:
    """Writes one still (PIL image or H x W x C array) as a PNG into ``workdir``."""
    pixels = to_uint8(image)
    final = workdir / take_name(stem, seed, ".png")
    return _atomic(final, lambda temp: Image.fromarray(pixels).save(temp, format="PNG"))


def write_mp4(frames: Any, fps: Fraction, workdir: Path, stem: str, seed: int) -> Path:
    """Writes frames (F x H x W x C, or a list of images) as H.264 (yuv420p) in MP4.

    Raises:
        RenderError: The frames have an odd width or height, which yuv420p cannot hold.
    """
    pixels = to_uint8(frames)
    if pixels.ndim != 4 or pixels.shape[-1] not in (3, 4):
        raise RenderError(f"the pipeline returned video frames of shape {pixels.shape}")
    height, width = pixels.shape[1:3]
    if width % 2 or height % 2:
        raise RenderError(f"cannot encode {width}x{height} as H.264: give an even width and height")
    final = workdir / take_name(stem, seed, ".mp4")

    def write(temp: Path) -> None:
        from setpiece.store.video import Encoding, MovieWriter

        encoding = Encoding("libx264", "yuv420p", {"crf": "16"})
        with MovieWriter(temp, width, height, fps, encoding) as movie:
            for frame in pixels:
                movie.rgb(np.ascontiguousarray(frame[..., :3]))

    return _atomic(final, write)
