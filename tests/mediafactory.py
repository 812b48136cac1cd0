"""Tiny real media files for the test suite, written in a few milliseconds each.

Tests use real PNGs, JPEGs and H.264 MP4s rather than mocks, so that probing,
storing and later conforming run the same code paths as on a set. Every
factory writes one file and returns its path; pixels come from a seed, so two
calls with different seeds give files with different hashes.

The broken files (truncated, corrupt, decompression bomb) are built from real
good ones, or byte by byte with ``zlib`` and ``struct`` where a real encoder
would be too slow (the bomb has hundreds of millions of pixels but weighs a
few tens of kilobytes).
"""

from __future__ import annotations

import os
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

__all__ = [
    "corrupt_bytes",
    "truncate",
    "video_codec",
    "write_animated",
    "write_audio_mp4",
    "write_bomb_png",
    "write_corrupt_mp4",
    "write_corrupt_png",
    "write_jpeg",
    "write_mp4",
    "write_png",
    "write_truncated_mp4",
    "write_video",
    "write_wav",
]

Color = tuple[int, int, int]


def _pixels(w: int, h: int, color: Color | None, seed: int) -> np.ndarray:
    """An RGB picture: a flat colour, or seeded noise with a bright square."""
    if color is not None:
        return np.full((h, w, 3), color, dtype=np.uint8)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    pixels[h // 4 : h // 2, w // 4 : w // 2] = 255
    return pixels


def write_png(
    path: str | os.PathLike[str],
    w: int = 64,
    h: int = 48,
    color: Color | None = None,
    seed: int = 0,
) -> Path:
    """Write an RGB PNG: flat ``color`` if given, else noise from ``seed``."""
    Image.fromarray(_pixels(w, h, color, seed), "RGB").save(path, format="PNG")
    return Path(path)


def write_jpeg(
    path: str | os.PathLike[str],
    w: int = 64,
    h: int = 48,
    color: Color | None = None,
    seed: int = 0,
    quality: int = 90,
) -> Path:
    """Write a baseline RGB JPEG: flat ``color`` if given, else noise from ``seed``."""
    Image.fromarray(_pixels(w, h, color, seed), "RGB").save(path, format="JPEG", quality=quality)
    return Path(path)


def write_animated(
    path: str | os.PathLike[str], fmt: str = "GIF", frames: int = 5, w: int = 32, h: int = 24
) -> Path:
    """Write an animated GIF, APNG (``fmt="PNG"``) or WebP with Pillow, 100 ms per frame."""
    pictures = [Image.fromarray(_video_frame(i, w, h, 0), "RGB") for i in range(frames)]
    pictures[0].save(
        path, format=fmt, save_all=True, append_images=pictures[1:], duration=100, loop=0
    )
    return Path(path)


def video_codec() -> str:
    """The H.264 encoder when this PyAV build has one, else MPEG-4 Part 2."""
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def _video_frame(index: int, w: int, h: int, seed: int) -> np.ndarray:
    """Frame ``index``: a seeded background colour with a square that moves each frame."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 200, size=3, dtype=np.uint8)
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = background
    side = max(4, min(w, h) // 4)
    x = (index * 5) % max(1, w - side)
    y = (index * 3) % max(1, h - side)
    pixels[y : y + side, x : x + side] = (255, 255 - (index * 17) % 256, (index * 29) % 256)
    return pixels


def write_video(
    path: str | os.PathLike[str],
    frames: int = 12,
    fps: Fraction | int = Fraction(24),
    w: int = 64,
    h: int = 48,
    audio: bool = False,
    seed: int = 0,
    container: str = "mp4",
    codec: str | None = None,
    faststart: bool = False,
) -> Path:
    """Write a video of ``frames`` visibly different yuv420p frames at a constant ``fps``.

    Args:
        path: Where to write; ``container`` decides the format, whatever the extension.
        frames: How many video frames.
        fps: Exact frame rate, e.g. ``Fraction(24000, 1001)``.
        w: Width in pixels (even).
        h: Height in pixels (even).
        audio: Add a stereo AAC track of silence as long as the picture.
        seed: Changes the colours, so different seeds give different files.
        container: FFmpeg muxer: ``"mp4"``, ``"mov"``, ``"matroska"``, ``"webm"``...
        codec: Video encoder; H.264 (or MPEG-4 Part 2) by default.
        faststart: MP4/MOV only: put the ``moov`` index before the media data.

    Returns:
        The path written.
    """
    rate = Fraction(fps)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(os.fspath(path), mode="w", format=container, options=options) as output:
        encoder = codec or video_codec()
        stream = output.add_stream(encoder, rate=rate)
        stream.width = w
        stream.height = h
        stream.pix_fmt = "yuv420p"
        if encoder == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "30"}
        sound = output.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(_video_frame(index, w, h, seed), format="rgb24")
            frame.pts = index
            frame.time_base = 1 / rate
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
        if sound is not None:
            _write_silence(output, sound, float(frames / rate))
    return Path(path)


def write_mp4(
    path: str | os.PathLike[str],
    frames: int = 12,
    fps: Fraction | int = Fraction(24),
    w: int = 64,
    h: int = 48,
    audio: bool = False,
    seed: int = 0,
    faststart: bool = False,
) -> Path:
    """Write an H.264 MP4 (MPEG-4 Part 2 without libx264); see :func:`write_video`."""
    return write_video(
        path, frames=frames, fps=fps, w=w, h=h, audio=audio, seed=seed, faststart=faststart
    )


def _write_silence(
    output: av.container.OutputContainer, sound: av.AudioStream, seconds: float
) -> None:
    samples = int(48000 * seconds)
    for start in range(0, samples, 1024):
        size = min(1024, samples - start)
        block = av.AudioFrame.from_ndarray(
            np.zeros((2, size), dtype=np.float32), format="fltp", layout="stereo"
        )
        block.sample_rate = 48000
        block.pts = start
        output.mux(sound.encode(block))
    output.mux(sound.encode(None))


def write_audio_mp4(path: str | os.PathLike[str], seconds: float = 0.5) -> Path:
    """Write an MP4 holding only an AAC track (an .m4a in all but name): no picture."""
    with av.open(os.fspath(path), mode="w", format="mp4") as output:
        sound = output.add_stream("aac", rate=48000, layout="stereo")
        _write_silence(output, sound, seconds)
    return Path(path)


def write_wav(path: str | os.PathLike[str], seconds: float = 0.5) -> Path:
    """Write a mono 16-bit WAV of silence: a media file with no picture at all."""
    rate = 8000
    data = b"\x00\x00" * int(rate * seconds)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        rate,
        rate * 2,
        2,
        16,
        b"data",
        len(data),
    )
    Path(path).write_bytes(header + data)
    return Path(path)


def truncate(path: str | os.PathLike[str], keep: float = 0.5) -> Path:
    """Cut a file to the first ``keep`` fraction of its bytes, as an interrupted copy does."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def corrupt_bytes(path: str | os.PathLike[str], at: float = 0.6, count: int = 64) -> Path:
    """Overwrite ``count`` bytes from the ``at`` fraction of the file with a fixed garbage pattern."""
    data = bytearray(Path(path).read_bytes())
    start = int(len(data) * at)
    for offset in range(start, min(len(data), start + count)):
        data[offset] ^= 0xA5
    Path(path).write_bytes(bytes(data))
    return Path(path)


def write_truncated_mp4(
    path: str | os.PathLike[str], keep: float = 0.5, faststart: bool = True, frames: int = 48
) -> Path:
    """Write a real MP4 and cut it at ``keep`` of its length.

    With ``faststart`` (the default) the index survives the cut, so the file
    opens and declares more frames than it holds; without it the index, which
    the muxer writes last, is lost and the file does not open at all.
    """
    write_mp4(path, frames=frames, faststart=faststart, w=128, h=96)
    return truncate(path, keep)


def write_corrupt_mp4(path: str | os.PathLike[str]) -> Path:
    """Write a real MP4 (index first) and overwrite a run of bytes in the middle of its frames.

    The damage is large enough that the H.264 decoder reports it rather than
    concealing it; small flips can be concealed silently (see ``probe``).
    """
    write_mp4(path, frames=48, faststart=True, w=128, h=96)
    return corrupt_bytes(path, at=0.5, count=512)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def write_bomb_png(path: str | os.PathLike[str], over: float = 2.2) -> Path:
    """Write a valid 1-bit black PNG of ``over`` times Pillow's ``MAX_IMAGE_PIXELS``.

    Above 2x Pillow raises ``DecompressionBombError`` on open; between 1x and 2x
    it only warns. The pixels are zeros, so the file stays a few tens of
    kilobytes however large the picture claims to be.
    """
    limit = Image.MAX_IMAGE_PIXELS or 89_478_485
    width = 16_000
    height = int(limit * over) // width + 1
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "None", then packed bits
    compressor = zlib.compressobj(1)
    rows_per_block = 256
    block = row * rows_per_block
    parts = [compressor.compress(block) for _ in range(height // rows_per_block)]
    parts.append(compressor.compress(row * (height % rows_per_block)))
    parts.append(compressor.flush())
    Path(path).write_bytes(_png(width, height, 1, 0, b"".join(parts)))
    return Path(path)


def write_corrupt_png(path: str | os.PathLike[str], w: int = 64, h: int = 48) -> Path:
    """Write a PNG whose chunks and checksums are intact but whose pixel data is garbage.

    ``Image.verify()`` checks only the structure and passes it; decoding fails.
    """
    raw = (b"\x00" + b"\x7f" * (w * 3)) * h
    idat = bytearray(zlib.compress(raw))
    for offset in range(2, len(idat) - 4):  # keep the zlib header, break the deflate stream
        idat[offset] ^= 0x5A
    Path(path).write_bytes(_png(w, h, 8, 2, bytes(idat)))
    return Path(path)
