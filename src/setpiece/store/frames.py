"""Reading pictures out of media, and writing files atomically: what every check shares.

Continuity, integrity, motion and the cut all look at the frames of takes and write
files for people; they read and write through here so they agree on the details:

* A still is honoured as a viewer shows it: EXIF orientation applied, CMYK, 16-bit,
  greyscale, palette and alpha pictures turned into 8-bit RGB (alpha composited on
  black, the way a player shows an unpremultiplied frame on an empty canvas).
* Video frames are numbered from 0 in decode order and timed from their own
  timestamps, so a variable-frame-rate file is sampled by time, not by count.
* A video that stops decoding half-way raises :class:`DecodeStopped` *after* the
  frames before the damage were yielded: a check keeps what it found and reports
  the frame where reading stopped.
* A take's media are read where its ``path`` says (:class:`StoredMedia`: anything with a
  path, a kind and a hash, such as production's ``MediaView``), from a local store's
  folder; a remote store's (``s3://``) through the ``MediaStore`` given.
* Output goes to a temporary file beside the target, renamed on success and removed
  on any error or interrupt, so no half-written file is ever left under the name.

Video containers are opened through ``setpiece.store.video`` (which also defines
:class:`Frame`, :class:`DecodeStopped` and the one ``reason()``; they are offered here
too, for the checks that read takes).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import numpy as np

from setpiece.errors import InvalidInputError, InvalidMediaError, NotFoundError, StorageError
from setpiece.model.enums import TakeKind
from setpiece.store.probe import HEAD_BYTES, document_kind
from setpiece.store.video import DecodeStopped, Frame, open_container, reason, write_failed

if TYPE_CHECKING:
    from PIL import Image

    from setpiece.store.media import MediaStore

__all__ = [
    "DecodeStopped",
    "Frame",
    "StoredMedia",
    "check_target",
    "iter_frames",
    "iter_take_frames",
    "load_rgb",
    "media_source",
    "open_media",
    "read_still",
    "take_pictures",
    "temporary_file",
    "to_rgb",
]


class StoredMedia(Protocol):
    """What reading a take's media needs to know of it: where it is, what it is, its hash.

    The store sits below production, so it reads any object with these three (production's
    ``MediaView`` is one) rather than importing production's views.
    """

    @property
    def path(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def sha256(self) -> str: ...


# Stills ---------------------------------------------------------------------------


def to_rgb(image: Image.Image) -> np.ndarray:
    """A Pillow picture as 8-bit RGB pixels, shown the way a viewer shows it.

    EXIF orientation is applied; 16-bit and 32-bit greyscale are scaled to 8 bits by
    their range (I;16 holds 0-65535); CMYK goes through Pillow's conversion; alpha is
    composited on black.
    """
    from PIL import Image as PILImage
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image) or image
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        wide = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or wide.max(initial=0) > 255 else 255.0
        grey = np.clip(np.rint(wide * (255.0 / top)), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "F":
        grey = np.clip(np.rint(np.asarray(image, dtype=np.float64) * 255.0), 0, 255)
        return np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = PILImage.new("RGBA", rgba.size, (0, 0, 0, 255))
        canvas.alpha_composite(rgba)
        image = canvas
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def load_rgb(source: str | os.PathLike[str] | IO[bytes], what: str = "picture") -> np.ndarray:
    """A still image file as 8-bit RGB pixels (see :func:`to_rgb`).

    Raises:
        InvalidMediaError: The file is not a picture Pillow can read.
    """
    from PIL import Image as PILImage

    name = getattr(source, "name", source)
    try:
        with PILImage.open(source) as image:
            image.load()
            return to_rgb(image)
    except FileNotFoundError as exc:
        raise InvalidInputError(f"the {what} {name} does not exist") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError...
        kind = _document_kind(source)
        if kind is not None:  # say what it is, not what Pillow could not find in it
            raise InvalidMediaError(
                f"the {what} {name} is {kind}, not a picture Setpiece can read; use PNG, "
                "JPEG, WebP or TIFF"
            ) from exc
        raise InvalidMediaError(f"the {what} {name} cannot be read ({reason(exc)})") from exc


def _document_kind(source: str | os.PathLike[str] | IO[bytes]) -> str | None:
    """What a picture that Pillow refused really is ("an HTML document"), if it is a document."""
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as handle:
                head = handle.read(HEAD_BYTES)
        else:
            source.seek(0)
            head = source.read(HEAD_BYTES)
    except (OSError, ValueError):
        return None
    return document_kind(head)


# Video ----------------------------------------------------------------------------


def iter_frames(
    container: Any, *, every: int = 1, label: str = "video", start: int = 0
) -> Iterator[Frame]:
    """Every ``every``-th frame of the first video stream of an open PyAV container.

    Frames count from 0 in decode order; ``time`` comes from the frame's timestamp
    (relative to the stream's start), or from its index and the average rate when a
    frame has none. Rotation metadata is not applied (PyAV delivers stored pixels).

    Raises:
        DecodeStopped: After yielding what decoded, when the stream breaks mid-way.
        InvalidMediaError: The file has no video stream.
    """
    import av

    if every < 1:
        raise InvalidInputError(f"the frame stride must be 1 or more, not {every}")
    if not container.streams.video:
        raise InvalidMediaError(f"{label} has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    base = stream.time_base or Fraction(1, 90000)
    origin = stream.start_time
    rate = stream.average_rate or stream.guessed_rate or Fraction(24)
    index = 0
    try:
        for decoded in container.decode(stream):
            if index >= start and (index - start) % every == 0:
                if decoded.pts is not None:
                    first = origin if origin is not None else decoded.pts
                    if origin is None:
                        origin = decoded.pts
                    time = Fraction(decoded.pts - first) * base
                else:
                    time = Fraction(index) / Fraction(rate)
                yield Frame(index, time, decoded.to_ndarray(format="rgb24"))
            index += 1
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DecodeStopped(
            f"{label} stops decoding at frame {index} ({reason(exc)})", frame=index
        ) from exc


# A take's media -------------------------------------------------------------------


def _missing(label: str, path: str) -> StorageError:
    return StorageError(
        f"take {label}: its media {path} is missing from the media store; run 'setpiece fsck'"
    )


@contextlib.contextmanager
def media_source(
    media: StoredMedia, label: str, store: MediaStore | None
) -> Iterator[str | BinaryIO]:
    """Where to read a take's media: its path in a local store, or a file opened through a
    remote one (found by its hash and extension, as the store names it)."""
    if "://" not in media.path:
        yield media.path
        return
    if store is None:
        raise StorageError(
            f"take {label}: its media {media.path} is in a remote media store; "
            "pass the project's store (store=production.store) to read it"
        )
    from setpiece.store.media import MediaStore

    suffix = PurePosixPath(urlsplit(media.path).path).suffix.lower()
    try:
        handle = store.open(MediaStore.key_for(media.sha256, suffix))
    except NotFoundError as exc:
        raise _missing(label, media.path) from exc
    with handle:
        yield handle


@contextlib.contextmanager
def open_media(media: StoredMedia, label: str, store: MediaStore | None = None) -> Iterator[Any]:
    """The take's media opened with PyAV, read errors turned into Setpiece errors."""
    import av

    with media_source(media, label, store) as source:
        try:
            container = open_container(source)
        except FileNotFoundError as exc:
            raise _missing(label, media.path) from exc
        except (av.FFmpegError, OSError) as exc:
            raise InvalidMediaError(
                f"take {label}: {media.path} cannot be opened ({reason(exc)}); run 'setpiece fsck'"
            ) from exc
        with container:
            yield container


def read_still(media: StoredMedia, label: str, store: MediaStore | None = None) -> Image.Image:
    """A still take's picture, in RGB."""
    from PIL import Image

    with media_source(media, label, store) as source:
        try:
            with Image.open(source) as image:
                image.load()
                return image.convert("RGB")
        except FileNotFoundError as exc:
            raise _missing(label, media.path) from exc
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError...
            raise InvalidMediaError(
                f"take {label}: {media.path} cannot be read ({reason(exc)}); run 'setpiece fsck'"
            ) from exc


def iter_take_frames(
    media: StoredMedia, label: str, store: MediaStore | None = None, *, every: int = 1
) -> Iterator[Frame]:
    """A take's pictures as RGB frames: a still is one frame 0 (EXIF honoured); a video
    yields every ``every``-th frame, raising :class:`DecodeStopped` if it breaks mid-way."""
    if media.kind == TakeKind.IMAGE:
        from PIL import Image

        with media_source(media, label, store) as source:
            try:
                with Image.open(source) as image:
                    image.load()
                    pixels = to_rgb(image)
            except FileNotFoundError as exc:
                raise _missing(label, media.path) from exc
            except Exception as exc:
                raise InvalidMediaError(
                    f"take {label}: {media.path} cannot be read ({reason(exc)}); "
                    "run 'setpiece fsck'"
                ) from exc
        yield Frame(0, Fraction(0), pixels)
        return
    with open_media(media, label, store) as container:
        yield from iter_frames(container, every=every, label=f"take {label}")


def take_pictures(
    media: StoredMedia, label: str, store: MediaStore | None = None, *, every: int = 1
) -> tuple[list[Frame], DecodeStopped | None]:
    """All sampled frames of a take in memory, with the error that stopped decoding, if any.

    For checks that look at a handful of frames; streaming work uses
    :func:`iter_take_frames`.
    """
    frames: list[Frame] = []
    try:
        for frame in iter_take_frames(media, label, store, every=every):
            frames.append(frame)
    except DecodeStopped as stopped:
        return frames, stopped
    return frames, None


# Output ---------------------------------------------------------------------------


def check_target(path: str | os.PathLike[str], suffixes: tuple[str, ...], what: str) -> Path:
    """The absolute target path, refused if it cannot be written there.

    Raises:
        InvalidInputError: The wrong extension, a folder, or a folder that does not exist.
        StorageError: The folder is not writable (the environment, exit 5, as the video
            writer says).
    """
    target = Path(path).expanduser().absolute()
    if target.suffix.lower() not in suffixes:
        raise InvalidInputError(
            f"the {what} {target.name!r} needs the extension {' or '.join(suffixes)}"
        )
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give a file name for the {what}")
    folder = target.parent
    if not folder.is_dir():
        raise InvalidInputError(
            f"cannot write the {what} {target}: the folder {folder} does not exist; "
            "create it or choose another path"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(
            f"cannot write the {what} {target}: the folder {folder} is not writable; "
            "check its permissions or choose another folder"
        )
    return target


@contextlib.contextmanager
def temporary_file(target: Path) -> Iterator[str]:
    """A temporary file next to ``target``, renamed onto it on success, removed otherwise.

    Raises:
        StorageError: The folder takes no new file (exit 5).
    """
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise write_failed(target, exc) from exc
    os.close(fd)
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
