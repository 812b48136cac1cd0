"""Animatic clips: the painted set, moved by the camera, written as H.264 in MP4.

The set is painted once; each frame is then only a crop-and-scale of it. To keep
that cheap the set is converted once to the encoder's own pixel format (Y'CbCr
4:2:0, BT.709, limited range) and each frame scales the three planes with Pillow's
separable resampler, which is about three times faster than an affine warp and
needs no colour conversion per frame (measured in bench/previs_fps.py). Camera
rolls (dutch angles) are constant over a shot and are painted into the set.

Encoder settings are fixed and single-threaded, so a request always gives the same
bytes: x264's one-thread output depends only on its input and options.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from PIL import Image

from setpiece.generate.backends._previs_panel import Layout
from setpiece.generate.backends._previs_plan import View

__all__ = [
    "ENCODER",
    "ClipWriter",
    "Planes",
    "encoder_settings",
    "frame_buffers",
    "to_planes",
    "write_clip",
]

# BT.709 in limited range: Y' = 16 + 219 * (Kr R + Kg G + Kb B) / 255, Cb and Cr around 128.
_Y = (0.2126 * 219 / 255, 0.7152 * 219 / 255, 0.0722 * 219 / 255)
_CB = (-0.2126 / 1.8556 * 224 / 255, -0.7152 / 1.8556 * 224 / 255, 0.5 * 224 / 255)
_CR = (0.5 * 224 / 255, -0.7152 / 1.5748 * 224 / 255, -0.0722 / 1.5748 * 224 / 255)

# x264's fastest preset: at 1080p "superfast" takes twice as long per frame for files 40%
# smaller, which would leave the renderer barely above 20 fps (bench/previs_fps.py).
ENCODER: dict[str, Any] = {"preset": "ultrafast", "crf": 20, "keyint_seconds": 2}


def encoder_settings() -> dict[str, Any]:
    """The codec this PyAV has (H.264 when it can) and the fixed settings used with it."""
    from setpiece.store.video import movie_codec

    codec = movie_codec()
    if codec == "libx264":
        return {"codec": codec, "preset": ENCODER["preset"], "crf": ENCODER["crf"], "threads": 1}
    return {"codec": codec, "qscale": 3, "threads": 1}


@dataclass(frozen=True)
class Planes:
    """An RGB picture as three 8-bit planes; chroma at half size in both directions."""

    y: Image.Image
    cb: Image.Image
    cr: Image.Image


def to_planes(image: Image.Image) -> Planes:
    """Converts an RGB image into Y'CbCr 4:2:0 planes (odd sizes are padded by the edge).

    One matrix pass in Pillow, then chroma as the mean of each 2x2 block (the conversion is
    linear, so that is the chroma of the block's mean colour).
    """
    rgb = image.convert("RGB")
    if rgb.width % 2 or rgb.height % 2:
        padded = Image.new("RGB", (rgb.width + rgb.width % 2, rgb.height + rgb.height % 2))
        padded.paste(rgb.resize(padded.size, Image.Resampling.NEAREST))
        padded.paste(rgb, (0, 0))
        rgb = padded
    matrix = (*_Y, 16.0, *_CB, 128.0, *_CR, 128.0)
    y, cb, cr = rgb.convert("RGB", matrix=matrix).split()
    return Planes(y, cb.reduce(2), cr.reduce(2))


def _planes_of(
    buffer: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flat = buffer.reshape(-1)
    quarter = (width // 2) * (height // 2)
    y = flat[: width * height].reshape(height, width)
    cb = flat[width * height : width * height + quarter].reshape(height // 2, width // 2)
    cr = flat[width * height + quarter :].reshape(height // 2, width // 2)
    return y, cb, cr


class _Overlay:
    """A translucent RGBA overlay blended into Y'CbCr planes, rows that it covers only."""

    def __init__(self, overlay: Image.Image) -> None:
        rgba = overlay.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        rows = np.nonzero(alpha.max(axis=1))[0]
        top = int(rows[0]) // 2 * 2 if rows.size else 0
        bottom = min(alpha.shape[0], (int(rows[-1]) + 2) // 2 * 2) if rows.size else 0
        self.top, self.bottom = top, bottom
        colours = to_planes(rgba.convert("RGB").crop((0, top, rgba.width, bottom)))
        a = alpha[top:bottom].astype(np.uint32)
        a2 = (a.reshape(a.shape[0] // 2, 2, -1, 2).sum(axis=(1, 3)) + 2) // 4
        self.parts = []
        for colour, weight in ((colours.y, a), (colours.cb, a2), (colours.cr, a2)):
            c = np.asarray(colour).astype(np.uint32)
            self.parts.append((255 - weight, c * weight))

    def blend(self, planes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        for index, (plane, (keep, add)) in enumerate(zip(planes, self.parts, strict=True)):
            scale = 1 if index == 0 else 2
            region = plane[self.top // scale : self.bottom // scale]
            region[:] = ((region * keep + add + 127) // 255).astype(np.uint8)


def frame_buffers(
    layer: Planes,
    origin: tuple[float, float],
    scale: float,
    views: Sequence[View],
    lay: Layout,
    vignette: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Each frame as one yuv420p buffer (the same array, refilled: use it before the next).

    Args:
        layer: The painted set, as planes.
        origin: World coordinates of the layer's top-left pixel.
        scale: Layer pixels per world unit.
        views: The camera's view of each frame, in world units.
        lay: The frame layout: where the picture goes, the static chrome, an overlay.
        vignette: A darkening factor per picture pixel (lens falloff), applied to luma.
    """
    width, height = lay.width, lay.height
    px, py, pw, ph = lay.picture
    buffer = np.empty((height * 3 // 2, width), np.uint8)
    planes = _planes_of(buffer, width, height)
    if lay.chrome is not None:
        chrome = to_planes(lay.chrome)
        for plane, source in zip(planes, (chrome.y, chrome.cb, chrome.cr), strict=True):
            plane[:] = np.asarray(source)
    overlay = _Overlay(lay.overlay) if lay.overlay is not None else None
    gain = offset = None
    if vignette is not None:  # Y' = 16 + (Y' - 16) * factor, in 8.8 fixed point
        gain = np.round(vignette * 256.0).astype(np.uint16)
        offset = (16 * (256 - gain)).astype(np.uint16)
    ox, oy = origin
    lw, lh = layer.y.size
    cw, ch = layer.cb.size
    for view in views:
        box = (
            min(max((view.x0 - ox) * scale, 0.0), lw),
            min(max((view.y0 - oy) * scale, 0.0), lh),
            min(max((view.x1 - ox) * scale, 0.0), lw),
            min(max((view.y1 - oy) * scale, 0.0), lh),
        )
        half = (box[0] / 2, box[1] / 2, min(box[2] / 2, cw), min(box[3] / 2, ch))
        luma = np.asarray(layer.y.resize((pw, ph), Image.Resampling.BILINEAR, box=box))
        if gain is not None and offset is not None:
            luma = ((luma * gain + offset) >> 8).astype(np.uint8)
        planes[0][py : py + ph, px : px + pw] = luma
        for plane, source in ((planes[1], layer.cb), (planes[2], layer.cr)):
            plane[py // 2 : (py + ph) // 2, px // 2 : (px + pw) // 2] = np.asarray(
                source.resize((pw // 2, ph // 2), Image.Resampling.BILINEAR, box=half)
            )
        if overlay is not None:
            overlay.blend(planes)
        yield buffer


class ClipWriter:
    """An MP4 with one video stream and the fixed encoder settings; feed it yuv420p buffers.

    The encoding itself is ``setpiece.store.video.MovieWriter``'s; this fixes its settings.
    """

    def __init__(
        self, path: str | os.PathLike[str], width: int, height: int, fps: Fraction
    ) -> None:
        from setpiece.store.video import Encoding, MovieWriter

        self.settings = encoder_settings()
        self.rate = Fraction(fps)
        x264 = self.settings["codec"] == "libx264"
        if x264:
            options = {"preset": self.settings["preset"], "crf": str(self.settings["crf"])}
        else:
            options = {"qmin": "2", "qmax": str(self.settings["qscale"] + 8)}
        encoding = Encoding(
            self.settings["codec"],
            "yuv420p",
            options,
            color_range=1,  # limited ("MPEG") range
            colour=(1, 1, 1),  # BT.709
            gop=max(1, round(float(self.rate) * ENCODER["keyint_seconds"])),
            bit_rate=None if x264 else max(200_000, int(width * height * float(self.rate) * 0.12)),
            threads=1,
        )
        self._movie = MovieWriter(path, width, height, self.rate, encoding, faststart=True)

    def write(self, buffer: np.ndarray) -> None:
        self._movie.yuv420(buffer)

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self._movie.__exit__(kind)


def write_clip(
    path: str | os.PathLike[str],
    layer: Planes,
    origin: tuple[float, float],
    scale: float,
    views: Sequence[View],
    lay: Layout,
    fps: Fraction,
    progress: Callable[[float], None] | None = None,
    progress_from: float = 0.0,
    vignette: np.ndarray | None = None,
) -> dict[str, Any]:
    """Encodes one frame per view into an MP4 at ``path``; returns the encoder settings used.

    Args:
        path: Where to write (any name: the container is given explicitly).
        layer, origin, scale, views, lay, vignette: As for :func:`frame_buffers`.
        fps: Exact frame rate.
        progress: Called with the fraction done, from ``progress_from`` to 1.
        progress_from: The fraction already done before the first frame.
    """
    total = len(views)
    with ClipWriter(path, lay.width, lay.height, fps) as writer:
        frames = frame_buffers(layer, origin, scale, views, lay, vignette)
        for index, buffer in enumerate(frames):
            writer.write(buffer)
            if progress is not None and (index % 4 == 3 or index == total - 1):
                progress(progress_from + (1.0 - progress_from) * (index + 1) / total)
    return writer.settings
