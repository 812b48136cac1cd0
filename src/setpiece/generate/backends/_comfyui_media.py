"""A ComfyUI output file made into the take that was asked for: a video at the request's rate.

ComfyUI's core save nodes write video takes in four shapes, all listed under
``"images"`` with ``"animated": [true]`` (``shared/notes/comfyui-api.md``):

* **Animated WebP and APNG** (SaveAnimatedWEBP, SaveAnimatedPNG) carry per-frame
  delays in whole milliseconds, ``int(1000 / fps)`` (41 ms at 24 fps), and their
  writers merge identical consecutive frames into one with the delays summed; with
  every frame alike the file is a single still. FFmpeg cannot decode animated WebP,
  and reads APNG's rate from the delays (293/12 for 24 fps, 100000/1 once frames
  merge). So they are read with Pillow, each picture is repeated ``delay / unit``
  times (``unit`` the delay the node wrote at its rate), a lone picture without a
  delay becomes the request's frame count, and the frames are encoded as MP4 at the
  rate the workflow's save node was given (``_comfyui_workflow.workflow_fps``).
  Animated GIFs (VideoHelperSuite) are read the same way.
* **WEBM (VP9) and MP4 (H.264)** (SaveWEBM, SaveVideo) are kept as they are when
  their rate is the wanted one; the nodes store ``round(fps * 1000) / 1000``, so
  23.976 (24000/1001) comes back as 2997/125, and such a file is re-encoded at the
  exact rate through ``setpiece.store.video``, the project's one reader and writer.

A still take is left as it is. Every file is written under a temporary name and
renamed when complete; the downloaded original is removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.generate.base import RenderError, RenderRequest

if TYPE_CHECKING:
    import numpy as np

__all__ = ["as_take"]

_PILLOW_ANIMATIONS = ("WEBP", "PNG", "GIF")


def as_take(path: Path, request: RenderRequest, fps: Fraction, stem: str) -> Path:
    """The take's file made from ComfyUI's output ``path`` (in the work folder).

    Args:
        path: The downloaded output.
        request: The take asked for (its kind, and its frame count for a lone picture).
        fps: The rate the workflow's save node wrote at.
        stem: The name of the result in the same folder, without extension.

    Returns:
        ``path`` itself for a still or a video already at ``fps``; else a new MP4.

    Raises:
        RenderError: The output cannot be read or written.
    """
    if not request.is_video:
        return path
    pictures = _pillow_frames(path, fps, request.frames)
    if pictures is None:
        from setpiece.store.video import decode, probe_video

        try:
            info = probe_video(path, label="ComfyUI output")
        except Exception as exc:
            raise RenderError(
                f"ComfyUI's output {path.name} is not a video Setpiece can read ({exc})"
            ) from exc
        if Fraction(info.rate) == fps:
            return path
        pictures = (frame.rgb for frame in decode(path, label="ComfyUI output"))
    final = path.parent / f"{stem}.mp4"
    _write_mp4(pictures, fps, final)
    if final != path:
        path.unlink(missing_ok=True)
    return final


def _pillow_frames(path: Path, fps: Fraction, frames: int) -> Iterator[np.ndarray] | None:
    """The frames of an animated WebP, PNG or GIF with merged frames repeated; None for a
    file that is none of these."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path, formats=_PILLOW_ANIMATIONS):
            pass
    except UnidentifiedImageError:
        return None
    except OSError as exc:
        raise RenderError(f"ComfyUI's output {path.name} cannot be read ({exc})") from exc
    return _repeated(path, fps, frames)


def _repeated(path: Path, fps: Fraction, frames: int) -> Iterator[np.ndarray]:
    import numpy as np
    from PIL import Image, ImageSequence

    unit = max(1, int(1000 / fps))  # the delay ComfyUI's nodes write: int(1000.0 / fps)
    try:
        with Image.open(path, formats=_PILLOW_ANIMATIONS) as image:
            count = getattr(image, "n_frames", 1)
            for picture in ImageSequence.Iterator(image):
                picture.load()
                delay = picture.info.get("duration") or 0
                if count == 1 and not delay:
                    repeats = frames  # every frame alike: the writer kept one picture
                else:
                    repeats = max(1, round(float(delay) / unit)) if delay else 1
                rgb = np.asarray(picture.convert("RGB"))
                for _ in range(repeats):
                    yield rgb
    except (OSError, ValueError, EOFError) as exc:
        raise RenderError(f"ComfyUI's output {path.name} cannot be read ({exc})") from exc


def _write_mp4(pictures: Iterator[np.ndarray], fps: Fraction, final: Path) -> None:
    """Encodes RGB pictures at ``fps`` into ``final``, complete or not at all."""
    import numpy as np

    from setpiece.store.video import Encoding, MovieWriter, movie_codec

    fd, name = tempfile.mkstemp(dir=final.parent, prefix=".comfyui-", suffix=".mp4.part")
    os.close(fd)
    temp = Path(name)
    try:
        movie: MovieWriter | None = None
        with contextlib.ExitStack() as stack:
            for rgb in pictures:
                if movie is None:
                    height, width = rgb.shape[:2]
                    codec = movie_codec()
                    even = not (width % 2 or height % 2)
                    if not even and codec != "libx264":
                        raise RenderError(
                            f"ComfyUI's output is {width}x{height}: give an even width and height"
                        )
                    encoding = Encoding(
                        codec,
                        "yuv420p" if even else "yuv444p",
                        {"crf": "16"} if codec == "libx264" else {},
                    )
                    movie = stack.enter_context(
                        MovieWriter(temp, width, height, fps, encoding, container="mp4")
                    )
                movie.rgb(np.ascontiguousarray(rgb[..., :3]))
            if movie is None:
                raise RenderError(f"ComfyUI's output for {final.name} has no frames")
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
