"""Probe a media file and refuse it at the door if it is not fully usable.

A take or a plate enters the media store once and is then trusted by every
later step (continuity, the cut, exports), so this module validates fully
rather than reading headers: a still is structure-checked with Pillow's
``verify()`` and then decoded completely; a video has every frame decoded (one
at a time, so memory stays constant) and the count compared with what the
container declares. Files are classified by their content, never by their
extension.

Decisions:

* Stills are PNG, JPEG, WebP, TIFF, BMP and GIF, read with Pillow. An
  animated GIF or APNG is a video (FFmpeg decodes them with their frame rate);
  an animated WebP is refused, because FFmpeg cannot decode it and Pillow
  would keep only its first frame. A multi-page TIFF is a still of its first page.
* Everything else goes to PyAV (FFmpeg). Single pictures that only FFmpeg can
  read (EXR, DPX, PSD, ...) are refused rather than stored as one-frame videos.
* A refusal names what the file really is, sniffed from its first bytes, never
  what its name says: an HTML page or a text file named ``.png`` is "an HTML
  document" or "a text file", an SVG is "an SVG drawing" (FFmpeg picks a
  decoder by the extension alone when no content matches, so its guess is not
  repeated). Text, markup, PDF and archives are refused before Pillow or
  FFmpeg see them (FFmpeg would "play" a text file as ANSI art).
* Pillow's decompression-bomb *warning* counts as an error, like its error.
* Corruption inside a video is found when the decoder reports it or when fewer
  frames decode than the container declares (MP4/MOV index, or the per-track
  duration FFmpeg writes into Matroska/WebM). A codec that silently conceals
  damage cannot be caught; nothing short of a reference hash can do that.

PyAV and Pillow are imported inside the functions: ``setpiece --help`` must
not pay for them.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from setpiece.errors import InvalidInputError, InvalidMediaError, SetpieceError
from setpiece.store.video import open_container, reason

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

__all__ = ["HEAD_BYTES", "MediaInfo", "document_kind", "probe"]

# Pillow format name -> (container, codec, extension). Codec names follow FFmpeg's.
# Pillow opens MPO (multi-picture JPEG from cameras) through its JPEG opener.
_STILL_FORMATS: dict[str, tuple[str, str, str]] = {
    "PNG": ("png", "png", ".png"),
    "JPEG": ("jpeg", "mjpeg", ".jpg"),
    "MPO": ("jpeg", "mjpeg", ".jpg"),
    "WEBP": ("webp", "webp", ".webp"),
    "TIFF": ("tiff", "tiff", ".tif"),
    "BMP": ("bmp", "bmp", ".bmp"),
    "GIF": ("gif", "gif", ".gif"),
}
# Animated stills that are handed to FFmpeg as videos.
_ANIMATED_AS_VIDEO = {"GIF", "PNG"}

# FFmpeg demuxer short name -> (container, extension), after the special cases below.
_VIDEO_CONTAINERS: dict[str, tuple[str, str]] = {
    "avi": ("avi", ".avi"),
    "gif": ("gif", ".gif"),
    "apng": ("apng", ".png"),
    "mpegts": ("mpegts", ".ts"),
    "mpeg": ("mpeg", ".mpg"),
    "mxf": ("mxf", ".mxf"),
    "flv": ("flv", ".flv"),
    "ogg": ("ogg", ".ogv"),
    "asf": ("asf", ".wmv"),
    "yuv4mpegpipe": ("y4m", ".y4m"),
    "h264": ("h264", ".h264"),
    "hevc": ("hevc", ".h265"),
    "ivf": ("ivf", ".ivf"),
}
# Demuxers and codecs FFmpeg uses to "play" text files as pictures.
_TEXT_DEMUXERS = {"tty", "bin", "idf", "adf", "xbin"}
_TEXT_CODECS = {"ansi", "bintext", "xbin", "idf"}

# Leading bytes of formats we recognise even when they are too damaged to open,
# so that a broken export is reported as broken rather than as an unknown file.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (8, b"WEBP", "a WebP image"),
    (8, b"AVI ", "an AVI video"),
    (4, b"ftyp", "an MP4/MOV video"),
    (4, b"moov", "an MP4/MOV video"),
    (4, b"mdat", "an MP4/MOV video"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
)
# Documents people save under a picture's name by mistake, by their leading bytes.
_DOCUMENTS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a document saved as one, such as .docx)"),
    (b"\xd0\xcf\x11\xe0", "an Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
)
HEAD_BYTES = 4096  # enough to see past an XML prolog to the root element

_REEXPORT = "copy or export it again"
_USE = "use PNG, JPEG, WebP, TIFF or a video such as MP4, MOV, MKV or WebM"
_UNREADABLE = f"is not an image or a video that Setpiece can read; {_USE}"
_NOT_MEDIA = f"not an image or a video Setpiece can read; {_USE}"


@dataclass(frozen=True)
class MediaInfo:
    """What a probed file is, as the media store and the timeline need it.

    Attributes:
        kind: ``"image"`` for a still, ``"video"`` for moving pictures.
        container: Short format name: ``"mp4"``, ``"mov"``, ``"matroska"``,
            ``"webm"``, ``"png"``, ``"jpeg"``, ``"webp"``, ...
        codec: FFmpeg's name for the picture codec: ``"h264"``, ``"png"``, ``"mjpeg"``, ...
        width: Picture width in pixels.
        height: Picture height in pixels.
        fps: Exact frame rate (``Fraction(24000, 1001)``); None for stills.
        frames: Number of decoded video frames; 1 for stills.
        duration: ``frames / fps`` in seconds, exactly; None for stills.
        audio_streams: Number of audio streams in the file.
        ext: Canonical extension, with its dot, for storing the file: ``".mp4"``, ``".jpg"``, ...
    """

    kind: Literal["image", "video"]
    container: str
    codec: str
    width: int
    height: int
    fps: Fraction | None
    frames: int
    duration: Fraction | None
    audio_streams: int
    ext: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: ``fps`` as ``"num/den"``, ``duration`` as float seconds (6 places)."""
        return {
            "kind": self.kind,
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "fps": None if self.fps is None else f"{self.fps.numerator}/{self.fps.denominator}",
            "frames": self.frames,
            "duration": None if self.duration is None else round(float(self.duration), 6),
            "audio_streams": self.audio_streams,
            "ext": self.ext,
        }


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Identify a still or a video by its content and check that all of it decodes.

    Args:
        path: The file to probe.

    Returns:
        The file's kind, format, size, frame rate and frame count.

    Raises:
        InvalidInputError: The file does not exist or cannot be read.
        InvalidMediaError: It is a folder, empty, not an image or a video, corrupt,
            truncated, without a video stream, or a decompression bomb.
    """
    name = os.fspath(path)
    head = _read_head(name)
    document = document_kind(head)
    if document == "an SVG drawing":
        raise InvalidMediaError(
            f"{name} is an SVG drawing, which Setpiece cannot read: export it as PNG first"
        )
    if document is not None:
        raise InvalidMediaError(f"{name} is {document}, {_NOT_MEDIA}")
    info = _probe_still(name)
    if info is not None:
        return info
    return _probe_video(name, head)


def _read_head(name: str) -> bytes:
    """Check that ``name`` is a non-empty readable file and return its first bytes."""
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise InvalidInputError(f"no such file: {name}") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InvalidMediaError(f"{name} is a folder, not a media file; give the path of a file")
    if not stat.S_ISREG(st.st_mode):
        raise InvalidMediaError(f"{name} is not a regular file; give the path of a media file")
    if st.st_size == 0:
        raise InvalidMediaError(f"{name} is empty (0 bytes); {_REEXPORT}")
    try:
        with open(name, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {name}: {exc.strerror or exc}; check its permissions"
        ) from exc


def _looks_like(head: bytes) -> str | None:
    """The format that ``head`` announces, e.g. ``"a PNG image"``, if it is one we know."""
    for offset, magic, label in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return label
    return None


def document_kind(head: bytes) -> str | None:
    """What ``head`` is when it is a document rather than media ("an HTML document"), or None.

    Markup is told by its first element after any byte-order mark, white space, XML
    prolog and comments; anything else that decodes as UTF-8 without
    control characters other than white space is "a text file".
    """
    for magic, label in _DOCUMENTS:
        if head.startswith(magic):
            return label
    if _looks_like(head) is not None or head.startswith(b"YUV4MPEG2"):
        return None
    text = _as_text(head)
    if text is None:
        return None
    prolog = re.match(r"(?:<\?.*?\?>|<!--.*?-->|\s)*", text.lstrip("\ufeff"), re.DOTALL)
    assert prolog is not None  # the pattern matches the empty string
    first = prolog.string[prolog.end() : prolog.end() + 200].lower()
    if re.match(r"<svg[\s>/]|<!doctype svg", first):
        return "an SVG drawing"
    if re.match(r"<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]", first):
        return "an HTML document"
    if first.startswith("<") and prolog.end() > 0 and "<?xml" in text[:100]:
        return "an XML document"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    """``head`` as text if it looks like text (a cut multi-byte character at the end allowed)."""
    data = head.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 3:
            return None
        text = data[: exc.start].decode("utf-8")
    if any((ord(c) < 32 and c not in "\t\n\r\f") or ord(c) == 127 for c in text):
        return None
    return text if text.strip() else None


@contextmanager
def _pillow_guard() -> Iterator[None]:
    """Silence Pillow's warnings, except the decompression-bomb one, which becomes an error."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _probe_still(name: str) -> MediaInfo | None:
    """Validate ``name`` as a still with Pillow; None if Pillow does not take it for one."""
    from PIL import Image, UnidentifiedImageError

    formats = tuple(fmt for fmt in _STILL_FORMATS if fmt != "MPO")
    try:
        with _pillow_guard():
            try:
                with Image.open(name, formats=formats) as image:
                    fmt = image.format or ""
                    animated = bool(getattr(image, "is_animated", False))
                    width, height = image.size
                    limit = Image.MAX_IMAGE_PIXELS
                    if limit and width * height > limit:
                        # Pillow only warns here; check again in case another thread
                        # reset the warning filters (catch_warnings is process-wide).
                        raise InvalidMediaError(_bomb_message(name, width * height))
                    if animated and fmt in _ANIMATED_AS_VIDEO:
                        return None
                    if animated and fmt == "WEBP":
                        raise InvalidMediaError(
                            f"{name} is an animated WebP, which Setpiece cannot read; "
                            "convert it to MP4 (or to a single still)"
                        )
                    image.verify()
            except UnidentifiedImageError:
                return None
            with Image.open(name, formats=formats) as image:
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        match = re.search(r"\((\d+) pixels\)", str(exc))
        raise InvalidMediaError(
            _bomb_message(name, int(match.group(1)) if match else None)
        ) from exc
    except SetpieceError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error...
        raise InvalidMediaError(
            f"{name} is a corrupt or truncated image ({reason(exc)}); {_REEXPORT}"
        ) from exc
    container, codec, ext = _STILL_FORMATS[fmt]
    return MediaInfo(
        kind="image",
        container=container,
        codec=codec,
        width=width,
        height=height,
        fps=None,
        frames=1,
        duration=None,
        audio_streams=0,
        ext=ext,
    )


def _bomb_message(name: str, pixels: int | None) -> str:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS or 0
    count = f"{pixels:,} pixels" if pixels else "more pixels"
    return (
        f"{name} has {count}, over the decompression-bomb limit of {limit:,} pixels; "
        "scale it down before importing it"
    )


def _probe_video(name: str, head: bytes) -> MediaInfo:
    """Validate ``name`` with PyAV by decoding every video frame."""

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                container = open_container(name)
            except Exception as exc:
                label = _looks_like(head)
                if label is None:
                    raise InvalidMediaError(f"{name} {_UNREADABLE}") from exc
                raise InvalidMediaError(
                    f"{name} looks like {label} but cannot be opened ({reason(exc)}): "
                    f"it is corrupt or truncated; {_REEXPORT}"
                ) from exc
            with container:
                return _inspect_container(name, head, container)
    except SetpieceError:
        raise
    except Exception as exc:  # anything else from FFmpeg or PyAV
        raise InvalidMediaError(
            f"{name} cannot be read as a video ({reason(exc)}); {_REEXPORT}"
        ) from exc


def _inspect_container(name: str, head: bytes, container: InputContainer) -> MediaInfo:
    """Classify an opened container and decode its first video stream to the end."""
    demuxer = container.format.name
    first = demuxer.split(",")[0]
    videos = list(container.streams.video)
    audio_streams = len(container.streams.audio)
    if videos and videos[0].codec_context is None:  # FFmpeg knows no decoder for it
        label = _looks_like(head)
        if label is None:
            raise InvalidMediaError(f"{name} {_UNREADABLE}")
        raise InvalidMediaError(f"{name} looks like {label} but cannot be read; {_REEXPORT}")
    if first in _TEXT_DEMUXERS or (videos and videos[0].codec_context.name in _TEXT_CODECS):
        raise InvalidMediaError(f"{name} {_UNREADABLE}")
    if first == "image2":
        # FFmpeg chose a picture decoder by the file's extension alone: no content matched.
        label = _looks_like(head)
        if label is None:
            raise InvalidMediaError(f"{name} {_UNREADABLE}")
        raise InvalidMediaError(f"{name} looks like {label} but cannot be read; {_REEXPORT}")
    if first.endswith("_pipe") or first == "image2pipe":
        kind = videos[0].codec_context.name.upper() if videos else first.removesuffix("_pipe")
        raise InvalidMediaError(
            f"{name} is a {kind} image, which Setpiece cannot read; "
            "convert it to PNG, TIFF, JPEG or WebP"
        )
    if not videos:
        if audio_streams:
            raise InvalidMediaError(
                f"{name} has no video stream, only audio; import a picture or a video"
            )
        raise InvalidMediaError(f"{name} {_UNREADABLE}")

    stream = videos[0]
    codec = stream.codec_context.name
    fps = stream.average_rate or stream.guessed_rate
    if not fps:
        raise InvalidMediaError(f"{name} declares no frame rate; re-export it at a constant rate")
    fps = Fraction(fps)
    frames = _decode_all(name, container, stream, fps)
    width = stream.codec_context.width
    height = stream.codec_context.height
    if width <= 0 or height <= 0:
        raise InvalidMediaError(f"{name} has no picture size; {_REEXPORT}")
    short, ext = _container_name(demuxer, container, head)
    return MediaInfo(
        kind="video",
        container=short,
        codec=codec,
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        duration=frames / fps,
        audio_streams=audio_streams,
        ext=ext,
    )


def _decode_all(name: str, container: InputContainer, stream: VideoStream, fps: Fraction) -> int:
    """Decode every frame of ``stream``, keeping none, and return how many there are."""
    declared = stream.frames
    declared_end = _declared_seconds(stream)
    stream.codec_context.thread_type = "AUTO"
    count = 0
    end = Fraction(0)
    try:
        for frame in container.decode(stream):
            count += 1
            if frame.pts is not None and frame.time_base is not None:
                length = (frame.duration or 0) * frame.time_base or 1 / fps
                end = max(end, frame.pts * frame.time_base + length)
    except Exception as exc:
        of = f" of {declared}" if declared else ""
        raise InvalidMediaError(
            f"{name} is corrupt or truncated: decoding failed after frame {count}{of} "
            f"({reason(exc)}); {_REEXPORT}"
        ) from exc
    if count == 0:
        raise InvalidMediaError(f"{name} has a video stream but no frame decodes; {_REEXPORT}")
    if declared and count < declared:
        raise InvalidMediaError(
            f"{name} is truncated: it declares {declared} frames but only {count} decode; "
            f"{_REEXPORT}"
        )
    if not declared and declared_end is not None and end and end + 2 / fps < declared_end:
        raise InvalidMediaError(
            f"{name} is truncated: it declares {float(declared_end):.3f} s of video but "
            f"only {float(end):.3f} s decode; {_REEXPORT}"
        )
    return count


def _declared_seconds(stream: VideoStream) -> Fraction | None:
    """The video stream's own declared length, when the container states one.

    Used only where no frame count is declared. Matroska and WebM written by
    FFmpeg carry it as a per-track ``DURATION`` tag ("HH:MM:SS.nnnnnnnnn").
    """
    if stream.duration and stream.time_base:
        return stream.duration * stream.time_base
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    match = re.fullmatch(r"(\d+):(\d{2}):(\d{2})(?:\.(\d{1,9}))?", (tag or "").strip())
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    digits = fraction or "0"
    return (
        int(hours) * 3600
        + int(minutes) * 60
        + int(seconds)
        + Fraction(int(digits), 10 ** len(digits))
    )


def _container_name(demuxer: str, container: InputContainer, head: bytes) -> tuple[str, str]:
    """Short container name and storage extension for an FFmpeg demuxer."""
    if demuxer.startswith("mov,mp4"):
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        if brand == "qt":
            return "mov", ".mov"
        if brand.startswith("3g2"):
            return "3g2", ".3g2"
        if brand.startswith("3gp"):
            return "3gp", ".3gp"
        return "mp4", ".mp4"
    if demuxer.startswith("matroska"):
        # EBML DocType element (ID 0x4282) in the file header says "webm" or "matroska".
        at = head.find(b"\x42\x82")
        if at >= 0 and head[at + 3 : at + 7] == b"webm":
            return "webm", ".webm"
        return "matroska", ".mkv"
    first = demuxer.split(",")[0]
    if first in _VIDEO_CONTAINERS:
        return _VIDEO_CONTAINERS[first]
    return first, "." + re.sub(r"[^a-z0-9]", "", first.lower())[:8]
