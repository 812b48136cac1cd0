"""Video in and out through PyAV: the one place Setpiece opens a movie to read or write.

Every part that reads or writes video (the motion tools, the preview movie, previs
clips, generated takes, colour-matched takes, watermarked deliveries) goes through
here, so they agree on what a finishing house checks. What this module decides:

* Rates stay rational: the output rate is a ``Fraction`` (23.976 is 24000/1001), and
  frames are timed from their own timestamps, so a variable-frame-rate file is read
  by time, not by count.
* Rotation metadata (the display matrix) is *honoured* by :func:`decode`: pictures are
  turned upright when decoded, and the output carries no rotation, so every player
  shows it alike.
* Colour range (limited/full) and matrix are read from the source and written back by
  :func:`open_writer`; the pixel format is kept where the encoder has it (4:2:0,
  4:2:2, 4:4:4, 8 or 10 bits; ``yuvj*`` becomes the same layout flagged full range).
  Processing itself is 8-bit RGB: a 10-bit source keeps a 10-bit output format, but
  its two extra bits of precision are not carried through (optical flow and warping
  run on 8-bit pictures, 3 times faster than 16-bit ones).
* 4:2:0 and 4:2:2 need even sizes: :func:`open_writer` *pads* an odd picture
  (1919x1079) by repeating its last column/row to 1920x1080, so no source pixel is
  lost. :class:`MovieWriter`, the encoder under it, refuses an odd size for those
  formats in one line; its callers choose (the preview movie rounds the cut's size
  down, a generated take is refused, a colour match writes 4:4:4).
* Audio is remuxed packet for packet (no re-encode) when the container takes its
  codec, else re-encoded to AAC; it is interleaved with the picture as it goes.
* Output goes to a temporary file (or folder, for PNG sequences) beside the target,
  renamed on success: a failure leaves nothing under the target's name. A folder that
  cannot be written, and a disk that fails mid-way, are the environment
  (:class:`~setpiece.errors.StorageError`, exit 5); the temporary file is removed.
* :func:`decode_spans` decodes keyframe spans in parallel for small pictures; a span
  that fails or loses a frame is logged and left to :func:`decode`.
* :func:`reason` is how every media message says what went wrong, in one line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from setpiece.errors import InvalidInputError, InvalidMediaError, StorageError

__all__ = [
    "MOVIE_FORMATS",
    "DecodeStopped",
    "Encoding",
    "Frame",
    "MovieWriter",
    "VideoInfo",
    "VideoWriter",
    "check_paths",
    "decode",
    "decode_spans",
    "movie_codec",
    "open_container",
    "open_writer",
    "probe_video",
    "reason",
    "write_failed",
]

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Container by extension (PyAV needs it named: the temporary file ends in ".part").
MOVIE_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
# Audio codecs the MP4 muxer takes as they are; anything else is re-encoded to AAC.
_MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"})


def reason(exc: BaseException) -> str:
    """What went wrong reading or writing media, in one line.

    An OS error's own text (``strerror``, without its errno and file name), else the
    exception's message, else its type's name; runs of white space become one space.
    """
    strerror = getattr(exc, "strerror", None)
    text = strerror if isinstance(strerror, str) and strerror.strip() else str(exc).strip()
    return " ".join((text or type(exc).__name__).split())


@dataclass(frozen=True)
class Frame:
    """One decoded picture: its index (from 0), its time in seconds, and RGB pixels."""

    index: int
    time: Fraction
    rgb: np.ndarray  # (height, width, 3) uint8


class DecodeStopped(InvalidMediaError):
    """A video stopped decoding at ``frame``; the frames before it were delivered."""

    def __init__(self, message: str, frame: int) -> None:
        super().__init__(message)
        self.frame = frame


def write_failed(target: str | os.PathLike[str], exc: BaseException) -> StorageError:
    """The environment error for a file that could not be written (disk, permissions)."""
    return StorageError(
        f"cannot write {os.fspath(target)}: {reason(exc)}; check free space and permissions"
    )


def open_container(source: str | os.PathLike[str] | IO[bytes]) -> Any:
    """A file (or an open binary handle) opened with PyAV to read, metadata errors replaced.

    PyAV's own errors (``av.FFmpegError``, ``OSError``) pass through: each caller says
    in its own words which file could not be opened, with :func:`reason`.
    """
    import av

    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else source
    return av.open(name, metadata_errors="replace")


@dataclass(frozen=True)
class VideoInfo:
    """What a video file declares, read without decoding it all.

    Attributes:
        path: The file.
        width: Stored picture width (before rotation).
        height: Stored picture height.
        rate: Nominal frame rate, exactly (what frame numbers count at).
        average_rate: Frames over duration (differs from ``rate`` in a VFR file).
        frames: Frames the container declares (0 when it does not say).
        duration: Seconds the container declares, if any.
        pix_fmt: Stored pixel format, e.g. "yuv420p10le".
        color_range: "tv" (limited) or "pc" (full).
        bit_depth: Bits per component (8, 10...).
        codec: Video codec name.
        audio_codec: The first audio stream's codec, or None without audio.
        start: Seconds at which the picture starts in the file (audio is kept in
            sync relative to it).
    """

    path: Path
    width: int
    height: int
    rate: Fraction
    average_rate: Fraction
    frames: int
    duration: float | None
    pix_fmt: str
    color_range: str
    bit_depth: int
    codec: str
    audio_codec: str | None
    start: float = 0.0


def check_paths(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Refuses an output that would overwrite the input, before anything is opened.

    Returns:
        The absolute target path.

    Raises:
        InvalidInputError: The target is the source (or the same file by another name).
    """
    src, dst = Path(source).expanduser().absolute(), Path(target).expanduser().absolute()
    same = src.resolve() == dst.resolve()
    if not same and dst.exists() and src.exists():
        with contextlib.suppress(OSError):
            same = os.path.samefile(src, dst)
    if same:
        raise InvalidInputError(
            f"the output {dst} is the input: write to another file (the input is never overwritten)"
        )
    return dst


def _open(path: str | os.PathLike[str], label: str) -> Any:
    import av

    if not Path(path).exists():
        raise InvalidInputError(f"the {label} {path} does not exist")
    if Path(path).is_dir():
        raise InvalidInputError(f"the {label} {path} is a folder: give a video file")
    try:
        return open_container(path)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidMediaError(f"the {label} {path} cannot be opened ({reason(exc)})") from exc


def probe_video(path: str | os.PathLike[str], label: str = "video") -> VideoInfo:
    """Reads a video's declared properties.

    Raises:
        InvalidInputError: The file does not exist.
        InvalidMediaError: Not a video, or a file with sound but no picture.
    """
    with _open(path, label) as container:
        if not container.streams.video:
            what = "audio only" if container.streams.audio else "no picture"
            raise InvalidMediaError(
                f"the {label} {path} has no video stream ({what}): give a video file"
            )
        stream = container.streams.video[0]
        ctx = stream.codec_context
        # The nominal rate (r_frame_rate) names frames; the average one times them.
        average = stream.average_rate or stream.guessed_rate or stream.base_rate
        rate = stream.guessed_rate or stream.base_rate or average
        fmt = ctx.format
        bit_depth = max((c.bits for c in fmt.components), default=8) if fmt else 8
        pix_fmt = fmt.name if fmt else "yuv420p"
        full = pix_fmt.startswith("yuvj") or int(ctx.color_range or 0) == 2
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        return VideoInfo(
            path=Path(path),
            width=ctx.width,
            height=ctx.height,
            rate=Fraction(rate) if rate else Fraction(24),
            average_rate=Fraction(average) if average else Fraction(24),
            frames=int(stream.frames or 0),
            duration=duration,
            pix_fmt=pix_fmt,
            color_range="pc" if full else "tv",
            bit_depth=int(bit_depth),
            codec=ctx.name,
            audio_codec=audio,
            start=float(stream.start_time * stream.time_base)
            if stream.start_time is not None and stream.time_base
            else 0.0,
        )


def _upright(pixels: np.ndarray, rotation: int) -> np.ndarray:
    """Turns stored pixels the way the display matrix says (counter-clockwise degrees)."""
    import cv2

    turn = rotation % 360
    if turn == 90:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if turn == 180:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if turn == 270:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    return pixels


def decode(
    path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    grey: bool = False,
    label: str = "video",
    rough: bool = False,
) -> Generator[Frame, None, None]:
    """Every frame of the first video stream, upright, as 8-bit RGB (or grey).

    Args:
        path: The video.
        size: Scale each picture to (width, height) of the *stored* orientation while
            decoding (swscale does it, far cheaper than decoding at full size first).
        grey: Deliver (h, w) luma instead of (h, w, 3) RGB.
        label: How messages name the file.
        rough: Skip H.264's deblocking filter: faster decoding, pictures blockier by
            a grey level or two; for small signatures (cut detection, deflicker
            analysis), never for pictures that are written out.

    Yields:
        Frames numbered from 0, timed in seconds from the first frame's timestamp.

    Raises:
        InvalidMediaError: Not a video, or no video stream.
        DecodeStopped: After yielding what decoded, when the stream breaks mid-way.
    """
    import av
    from av.video.reformatter import VideoReformatter

    container = _open(path, label)
    with container:
        if not container.streams.video:
            what = "audio only" if container.streams.audio else "no picture"
            raise InvalidMediaError(
                f"the {label} {path} has no video stream ({what}): give a video file"
            )
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if rough:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        clock = _Clock(stream.time_base or Fraction(1, 90000))
        rate = stream.average_rate or stream.guessed_rate or Fraction(24)
        reformatter = VideoReformatter()
        index = 0
        try:
            for frame in container.decode(stream):
                time = clock.time(frame.pts, Fraction(index) / Fraction(rate))
                yield Frame(index, time, _picture(reformatter, frame, size, grey))
                index += 1
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise DecodeStopped(
                f"the {label} {path} stops decoding at frame {index} ({reason(exc)})",
                frame=index,
            ) from exc


class _Clock:
    """Frame times in seconds from the first frame's timestamp, always moving on."""

    def __init__(self, base: Fraction) -> None:
        self.base = base
        self.origin: int | None = None
        self.last = Fraction(-1)

    def time(self, pts: int | None, fallback: Fraction) -> Fraction:
        """The time of a frame stamped ``pts`` (``fallback`` for an unstamped one)."""
        if pts is not None:
            if self.origin is None:
                self.origin = pts
            time = Fraction(pts - self.origin) * self.base
        else:
            time = fallback
        if time <= self.last:  # a repeated or out-of-order stamp: keep time moving on
            time = self.last + Fraction(1, 1000)
        self.last = time
        return time


def _picture(reformatter: Any, frame: Any, size: tuple[int, int] | None, grey: bool) -> np.ndarray:
    """A decoded frame as 8-bit RGB (or grey) pixels, scaled to ``size`` and upright."""
    import numpy as np

    width, height = size if size else (None, None)
    picture = reformatter.reformat(
        frame,
        width=width,
        height=height,
        format="gray" if grey else "rgb24",
        src_color_range=frame.color_range or None,
        dst_color_range="JPEG",
        interpolation="AREA" if size else None,
        # A small picture is cheaper in one thread than split into slices
        # (0.12 against 0.15 ms CPU a frame at 64x36 from 640x360).
        threads=1 if size else None,
    )
    pixels = picture.to_ndarray()
    rotation = int(getattr(frame, "rotation", 0) or 0)
    if rotation:
        pixels = _upright(pixels, rotation)
    return np.ascontiguousarray(pixels)


#: Frames a span of :func:`decode_spans` aims to hold at most (spans start at
#: keyframes, so a longer keyframe interval makes a longer span): with 4 workers and
#: one span queued, 5 spans of 64x36 signatures are 35 MB.
SPAN_FRAMES = 1000


@dataclass(frozen=True)
class _Span:
    """Frames with timestamps in [start, end) (None: unbounded), ``packets`` of them."""

    start: int | None
    end: int | None
    packets: int


def _spans(
    path: str | os.PathLike[str], label: str, workers: int
) -> tuple[list[_Span], Fraction] | None:
    """The file cut at keyframes into spans for parallel decoding, and its video time
    base, or None where it cannot be (one keyframe, packets without timestamps, a first
    packet that is not a keyframe, a demuxing error): those are decoded in one piece."""
    import av
    import numpy as np

    try:
        with _open(path, label) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 90000)
            stamps: list[int] = []
            keys: list[int] = []
            for packet in container.demux(stream):
                if packet.size == 0 and packet.pts is None:
                    continue  # the demuxer's flush packet
                if packet.is_discard:
                    continue  # before an edit list's start: decoded, never shown
                if packet.pts is None:
                    return None
                if packet.is_keyframe:
                    keys.append(packet.pts)
                elif not stamps:
                    return None
                stamps.append(packet.pts)
    except (av.FFmpegError, OSError, ValueError) as exc:
        log.info(
            "the %s %s cannot be cut into spans (%s): decoding it in one piece",
            label,
            os.fspath(path),
            reason(exc),
        )
        return None
    keys = sorted(set(keys))
    if len(keys) < 2 or len(stamps) < 2 * workers:
        return None
    order = np.sort(np.asarray(stamps, dtype=np.int64))
    # Frames before each keyframe (in presentation order): where spans may start.
    before = np.searchsorted(order, np.asarray(keys, dtype=np.int64))
    total = len(stamps)
    best: tuple[float, list[int]] = (float("inf"), [0])
    least = -(-total // SPAN_FRAMES)  # spans needed to hold at most SPAN_FRAMES each
    for count in sorted({max(least, workers * m) for m in (1, 2, 3, 4)}):
        # Cut at the keyframes closest to even shares, then keep the count of spans
        # whose in-order run on ``workers`` threads would end first.
        cuts = sorted(
            {int(np.abs(before - total * j / count).argmin()) for j in range(count)} | {0}
        )
        sizes = np.diff([*before[cuts].tolist(), total])
        finish = _makespan(sizes.tolist(), workers)
        if finish < best[0]:
            best = (finish, cuts)
    cuts = best[1]
    if len(cuts) < 2:
        return None
    spans = []
    for k, cut in enumerate(cuts):
        start = None if k == 0 else keys[cut]
        end = keys[cuts[k + 1]] if k + 1 < len(cuts) else None
        low = 0 if start is None else int(np.searchsorted(order, start))
        high = len(order) if end is None else int(np.searchsorted(order, end))
        spans.append(_Span(start, end, high - low))
    return spans, base


def _makespan(sizes: list[int], workers: int, overhead: int = 8) -> float:
    """When spans of these frame counts, taken in order by the first free of
    ``workers`` threads, are all decoded (in frames; a span costs ``overhead`` more)."""
    free = [0.0] * workers
    for size in sizes:
        slot = free.index(min(free))
        free[slot] += size + overhead
    return max(free)


def _decode_span(
    path: str, span: _Span, size: tuple[int, int] | None, grey: bool, rough: bool
) -> list[tuple[int, np.ndarray]]:
    """The (timestamp, pixels) of the frames in ``span``, decoded in this thread alone."""
    from av.video.reformatter import VideoReformatter

    out: list[tuple[int, np.ndarray]] = []
    with open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        if rough:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        if span.start is not None:
            container.seek(span.start, backward=True, any_frame=False, stream=stream)
        reformatter = VideoReformatter()
        for frame in container.decode(stream):
            if frame.pts is None:
                raise ValueError("a frame without a timestamp")
            if span.start is not None and frame.pts < span.start:
                continue  # decoded on the way from the keyframe the seek found
            if span.end is not None and frame.pts >= span.end:
                break
            out.append((frame.pts, _picture(reformatter, frame, size, grey)))
    return out


def decode_spans(
    path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    grey: bool = False,
    label: str = "video",
    rough: bool = False,
    workers: int | None = None,
) -> Generator[Frame, None, None]:
    """:func:`decode`'s frames, the same pictures, numbers and times, decoded in parallel.

    For small pictures read fast (cut detection): the file is cut at keyframes into
    spans of about :data:`SPAN_FRAMES` frames at most, each decoded by a single-threaded
    decoder in its own thread (PyAV releases the GIL), and handed on in order. On the
    2-core development machine FFmpeg's own frame threading decoded 720p H.264 1.18
    times as fast as one thread, and two single-threaded decoders side by side 1.92
    times; spans made ``cuts`` 1.1 to 1.7 times faster per file on the videos of
    bench/motion_cuts.py (short files gain least). ``workers`` defaults to the cores,
    at most 4. A span whose frame count differs from its packet count, or that fails,
    is logged (INFO for a count that differs, WARNING for a failure) and left to
    :func:`decode`, which carries on from the first frame not yet handed on, so errors
    read as they do there.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    workers = workers or min(4, os.cpu_count() or 1)
    planned = _spans(path, label, workers) if workers > 1 else None
    if planned is None:
        yield from decode(path, size=size, grey=grey, label=label, rough=rough)
        return
    spans, base = planned
    clock = _Clock(base)
    handed = 0
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="setpiece-span")
    pending: list[Future[list[tuple[int, np.ndarray]]]] = []
    queued = iter(spans)

    def submit() -> None:
        span = next(queued, None)
        if span is not None:
            pending.append(pool.submit(_decode_span, os.fspath(path), span, size, grey, rough))

    try:
        for _ in range(workers + 1):  # each worker busy, and one span ready behind them
            submit()
        for span in spans:
            try:
                frames = pending.pop(0).result()
            except Exception as exc:  # any failure: decode() below reads it and says why
                log.warning(
                    "the %s %s: the span from frame %d failed to decode (%s: %s); "
                    "decoding on from there in one piece",
                    label,
                    os.fspath(path),
                    handed,
                    type(exc).__name__,
                    reason(exc),
                )
                break
            if len(frames) != span.packets:
                log.info(
                    "the %s %s: the span from frame %d gave %d frames for %d packets; "
                    "decoding on from there in one piece",
                    label,
                    os.fspath(path),
                    handed,
                    len(frames),
                    span.packets,
                )
                break  # left to decode(), below
            submit()
            for pts, pixels in frames:
                yield Frame(handed, clock.time(pts, Fraction(0)), pixels)
                handed += 1
        else:
            return
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    for frame in decode(path, size=size, grey=grey, label=label, rough=rough):
        if frame.index >= handed:
            yield frame


# Output ------------------------------------------------------------------------------


def movie_codec() -> str:
    """H.264 where this PyAV build has libx264, else MPEG-4 part 2 (every build has it)."""
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


@dataclass(frozen=True)
class Encoding:
    """How :class:`MovieWriter` encodes the picture.

    Attributes:
        codec: The encoder ("libx264", "mpeg4", "prores_ks"...).
        pix_fmt: The stored pixel format; 4:2:0 needs an even width and height,
            4:2:2 an even width.
        options: The encoder's private options (x264's preset and crf...).
        color_range: FFmpeg's code to tag (1 limited, 2 full); None leaves it unset.
        colour: Matrix, primaries and transfer codes to tag ((1, 1, 1) is BT.709);
            None leaves them unset.
        gop: Frames between keyframes; None is the encoder's default.
        bit_rate: Bits a second, for encoders without a quality scale (mpeg4).
        threads: Encoder threads; None is FFmpeg's choice.
        time_base: The stream's time base; None leaves it to PyAV and the muxer.
    """

    codec: str
    pix_fmt: str = "yuv420p"
    options: dict[str, str] = field(default_factory=dict)
    color_range: int | None = None
    colour: tuple[int, int, int] | None = None
    gop: int | None = None
    bit_rate: int | None = None
    threads: int | None = None
    time_base: Fraction | None = None


def _check_size(width: int, height: int, pix_fmt: str) -> None:
    """Refuses a size the pixel format cannot hold (chroma subsampled by two)."""
    if width < 1 or height < 1:
        raise InvalidInputError(
            f"cannot encode {width}x{height}: give a width and height of 1 or more"
        )
    if "420" in pix_fmt and (width % 2 or height % 2):
        need = "an even width and height"
    elif "422" in pix_fmt and width % 2:
        need = "an even width"
    else:
        return
    raise InvalidInputError(f"cannot encode {width}x{height} as {pix_fmt}: it needs {need}")


class MovieWriter:
    """A movie file with one video stream, fed picture by picture: the one PyAV writer.

    It writes to ``path`` as given (the callers that name a target write to a
    temporary file beside it: :func:`open_writer`, ``temporary_file``). Sound is added
    with :meth:`add_audio` or :meth:`copy_stream` and muxed through :meth:`mux`, so a full
    disk reads the same whichever stream hit it.

    Raises:
        InvalidInputError: A size the pixel format cannot hold (odd, for 4:2:0).
        StorageError: The file cannot be created or written (exit 5).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        rate: Fraction,
        encoding: Encoding,
        *,
        container: str = "mp4",
        faststart: bool = False,
    ) -> None:
        import av

        _check_size(width, height, encoding.pix_fmt)
        self._av = av
        self.path = os.fspath(path)
        self.rate = Fraction(rate)
        self.encoding = encoding
        self.frames = 0
        options = {"movflags": "+faststart"} if faststart else {}
        try:
            self.container: Any = av.open(self.path, mode="w", format=container, options=options)
        except OSError as exc:
            raise write_failed(self.path, exc) from exc
        try:
            stream: Any = self.container.add_stream(encoding.codec, rate=self.rate)
            stream.width, stream.height = width, height
            stream.pix_fmt = encoding.pix_fmt
            if encoding.time_base is not None:
                stream.time_base = encoding.time_base
            context = stream.codec_context
            if encoding.threads is not None:
                context.thread_count = encoding.threads
            if encoding.gop is not None:
                context.gop_size = encoding.gop
            if encoding.colour is not None:
                context.colorspace, context.color_primaries, context.color_trc = encoding.colour
            if encoding.color_range is not None:
                context.color_range = encoding.color_range
            if encoding.bit_rate is not None:
                context.bit_rate = encoding.bit_rate
            if encoding.options:
                stream.options = dict(encoding.options)
            self.stream = stream
        except BaseException:
            self.container.close()
            raise
        self._base = Fraction(1) / self.rate
        self._flushed = False

    def picture(self, frame: Any, pts: int | None = None) -> None:
        """Encodes one ``av.VideoFrame``, stamped ``pts`` (the next frame's number if None,
        in frames of the rate; else in the frame's own ``time_base``)."""
        if pts is None:
            frame.pts, frame.time_base = self.frames, self._base
        else:
            frame.pts = pts
        if self.encoding.colour is not None:
            frame.colorspace = self.encoding.colour[0]
        if self.encoding.color_range is not None:
            frame.color_range = self.encoding.color_range
        self.mux(self.stream.encode(frame))
        self.frames += 1

    def rgb(self, pixels: np.ndarray) -> None:
        """Encodes one (h, w, 3) uint8 RGB picture (converted to the stored format)."""
        self.picture(self._av.VideoFrame.from_ndarray(pixels, format="rgb24"))

    def yuv420(self, buffer: np.ndarray) -> None:
        """Encodes one yuv420p buffer ((h * 3 / 2, w) uint8: Y, then U, then V)."""
        self.picture(self._av.VideoFrame.from_ndarray(buffer, format="yuv420p"))

    def add_audio(self, rate: int, layout: str = "stereo") -> Any:
        """An AAC stream beside the picture: the caller encodes, :meth:`mux` writes."""
        return self.container.add_stream("aac", rate=rate, layout=layout)

    def copy_stream(self, template: Any) -> Any:
        """A stream for ``template``'s packets as they are (sound copied, not re-encoded)."""
        return self.container.add_stream_from_template(template)

    def mux(self, packets: Any) -> None:
        """Writes packets (of any stream of this file)."""
        try:
            self.container.mux(packets)
        except OSError as exc:
            raise write_failed(self.path, exc) from exc

    def finish(self) -> None:
        """Flushes the video encoder, once (other streams flush their own before
        :meth:`close`)."""
        if not self._flushed:
            self._flushed = True
            self.mux(self.stream.encode(None))

    def close(self) -> None:
        """Writes the container's index and closes the file."""
        try:
            self.container.close()
        except OSError as exc:
            raise write_failed(self.path, exc) from exc

    def abandon(self) -> None:
        """Closes the file after a failure, quietly (the caller removes it)."""
        with contextlib.suppress(Exception):
            self.container.close()

    def __enter__(self) -> MovieWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is not None:
            self.abandon()
            return
        try:
            self.finish()
        except BaseException:
            self.abandon()
            raise
        self.close()


def _output_format(info: VideoInfo, codec: str) -> str:
    """The pixel format to write: the source's where the encoder has it."""
    import av

    ten = info.bit_depth > 8
    name = info.pix_fmt.replace("yuvj", "yuv")
    if codec == "prores_ks":
        return "yuv444p10le" if name.startswith("yuv444") else "yuv422p10le"
    supported = {f.name for f in av.codec.Codec(codec, "w").video_formats or []}
    if name in supported:
        return name
    fallback = "yuv420p10le" if ten else "yuv420p"
    return fallback if fallback in supported else "yuv420p"


class _Audio:
    """The source's first audio stream, remuxed (or re-encoded to AAC) beside the picture."""

    def __init__(
        self, source: Path, output: MovieWriter, container_format: str, offset: float
    ) -> None:
        import av

        self._input = open_container(source)
        self._in = self._input.streams.audio[0]
        self._offset = offset  # the video's start in the source: audio keeps sync to it
        self._output = output
        codec = self._in.codec_context.name
        self.remux = container_format != "mp4" or codec in _MP4_AUDIO
        if self.remux:
            self._out = output.copy_stream(self._in)
        else:
            self._out = output.container.add_stream(
                "aac", rate=self._in.codec_context.sample_rate or 48000
            )
            self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=self._out.rate)
            self._out.layout = "stereo"
        self._packets = self._input.demux(self._in)
        self._done = False

    def feed(self, until: float | None) -> None:
        """Writes audio up to ``until`` seconds of the output (all of it for None)."""
        import av

        if self._done:
            return
        base = self._in.time_base or Fraction(1, 90000)
        shift = round(self._offset / base) if base else 0
        for packet in self._packets:
            if packet.dts is None and packet.pts is None:
                continue  # the demuxer's final flush packet
            stamp = int(packet.pts if packet.pts is not None else packet.dts or 0)
            if stamp - shift < 0 and self.remux:
                continue
            if self.remux:
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
                packet.stream = self._out
                self._output.mux(packet)
            else:
                try:
                    for frame in packet.decode():
                        frame.pts = None
                        for block in self._resampler.resample(frame):
                            self._output.mux(self._out.encode(block))
                except av.FFmpegError:
                    continue  # a damaged audio packet: skip it, the picture decides
            if until is not None and float((stamp - shift) * base) > until:
                return
        self._done = True
        if not self.remux:
            for block in self._resampler.resample(None):
                self._output.mux(self._out.encode(block))
            self._output.mux(self._out.encode(None))

    def close(self) -> None:
        self._input.close()


_SCALERS = threading.local()  # each thread's converter for VideoWriter.prepare


class VideoWriter:
    """Writes RGB frames at an exact rate into a movie or a PNG sequence.

    Made by :func:`open_writer`; the encoder opens on the first frame, whose (upright)
    size decides the output's.
    """

    def __init__(
        self,
        temp: str,
        info: VideoInfo,
        rate: Fraction,
        *,
        kind: str,
        codec: str,
        audio: bool,
        preset: str,
        crf: int,
        suffix: str = ".mp4",
    ) -> None:
        self.temp = temp
        self.suffix = suffix
        self.info = info
        self.rate = rate
        self.kind = kind  # "movie" or "png"
        self.codec = codec
        self.preset = preset
        self.crf = crf
        self.frames = 0
        self.padded = False
        self.pix_fmt = "rgb24"
        self._audio_wanted = audio
        self._movie: MovieWriter | None = None
        self._audio: _Audio | None = None
        self._format: str | None = None  # the output's pixel format, once known

    def _start(self, width: int, height: int) -> None:
        if self.kind == "png":
            return
        fmt = MOVIE_FORMATS[self.suffix]
        self.pix_fmt = _output_format(self.info, self.codec)
        options: dict[str, str] = {}
        if self.codec == "libx264":
            options = {"preset": self.preset, "crf": str(self.crf)}
        elif self.codec == "prores_ks":
            options = {"profile": "3" if "444" not in self.pix_fmt else "4"}
        encoding = Encoding(
            self.codec,
            self.pix_fmt,
            options,
            color_range=2 if self.info.color_range == "pc" else 1,
            time_base=1 / self.rate,
        )
        self._movie = MovieWriter(self.temp, width, height, self.rate, encoding, container=fmt)
        if self._audio_wanted and self.info.audio_codec:
            self._audio = _Audio(self.info.path, self._movie, fmt, offset=self.info.start)

    @property
    def audio(self) -> str:
        """What became of the source's sound: none, copied, re-encoded (AAC) or dropped."""
        if self.info.audio_codec is None:
            return "none"
        if self._audio is None:
            return "dropped"
        return "copied" if self._audio.remux else "re-encoded (AAC)"

    def _even(self, rgb: np.ndarray, fmt: str) -> np.ndarray:
        """``rgb`` padded to the even size the pixel format ``fmt`` needs."""
        import cv2

        if fmt.startswith("yuv444"):
            return rgb
        h, w = rgb.shape[:2]
        pad_w = w % 2
        pad_h = h % 2 if "420" in fmt else 0
        if not (pad_w or pad_h):
            return rgb
        self.padded = True
        return cv2.copyMakeBorder(rgb, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)

    def prepare(self, rgb: np.ndarray) -> Any:
        """An (h, w, 3) uint8 RGB picture converted to what :meth:`write` encodes (an
        ``av.VideoFrame`` in the output's pixel format; the picture itself for PNG frames).

        Thread-safe, and PyAV converts without holding the GIL, so a caller that makes its
        pictures in threads converts them there and the writing thread only encodes: at
        1080p the conversion is 25 ms of a frame in one thread, and two threads convert at
        10.5 ms a frame (retime, ``bench/motion_retime_speed.py``).
        """
        if self.kind == "png":
            return rgb
        import av
        from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

        fmt = self._format
        if fmt is None:
            fmt = self._format = _output_format(self.info, self.codec)
        scaler = getattr(_SCALERS, "scaler", None)
        if scaler is None:
            scaler = _SCALERS.scaler = VideoReformatter()
        rgb = self._even(rgb, fmt)
        full = self.info.color_range == "pc"
        return scaler.reformat(
            av.VideoFrame.from_ndarray(rgb, format="rgb24"),
            format=fmt,
            dst_colorspace=Colorspace.ITU709 if rgb.shape[0] >= 720 else Colorspace.ITU601,
            src_color_range=ColorRange.JPEG,
            dst_color_range=ColorRange.JPEG if full else ColorRange.MPEG,
        )

    def write(self, picture: Any) -> None:
        """Appends one picture: (h, w, 3) uint8 RGB, or what :meth:`prepare` made of one."""
        import cv2
        import numpy as np

        if self.kind == "png":
            name = os.path.join(self.temp, f"frame_{self.frames:06d}.png")
            if not cv2.imwrite(name, cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
                raise InvalidInputError(f"cannot write {name}")
            self.frames += 1
            return
        frame = self.prepare(picture) if isinstance(picture, np.ndarray) else picture
        if self._movie is None:
            self._start(frame.width, frame.height)
        assert self._movie is not None
        self._movie.picture(frame)
        self.frames += 1
        if self._audio is not None:
            self._audio.feed(float(Fraction(self.frames) / self.rate))

    def finish(self) -> None:
        """Flushes the encoder and the remaining audio."""
        if self.kind == "png" or self._movie is None:
            return
        self._movie.finish()
        if self._audio is not None:
            self._audio.feed(float(Fraction(self.frames) / self.rate))

    def close(self) -> None:
        if self._audio is not None:
            self._audio.close()
        if self._movie is not None:
            self._movie.close()


def _movie_codec(suffix: str, codec: str | None) -> str:
    import av

    wanted = (codec or "h264").lower()
    if wanted in ("h264", "libx264", "avc"):
        if "libx264" not in av.codecs_available:
            raise InvalidInputError("this PyAV build has no libx264: choose --codec prores")
        return "libx264"
    if wanted == "prores":
        if suffix != ".mov":
            raise InvalidInputError("ProRes goes into a QuickTime file: name the output .mov")
        return "prores_ks"
    raise InvalidInputError(f"codec {codec!r} is not offered: choose h264 or prores")


@contextlib.contextmanager
def open_writer(
    target: Path,
    info: VideoInfo,
    rate: Fraction,
    *,
    codec: str | None = None,
    audio: bool = True,
    preset: str,
    crf: int,
) -> Iterator[VideoWriter]:
    """A writer whose output appears at ``target`` only if the block succeeds.

    ``target`` ending in .mp4/.m4v/.mov/.mkv is a movie (H.264, or ProRes in .mov);
    a path with no extension (or ``codec="png"``) is a folder of PNG frames
    ``frame_000000.png``... (no audio: a PNG sequence has none). An odd picture is
    padded to even for 4:2:0 and 4:2:2 (see the module's docstring).

    Args:
        target: The movie file or PNG folder to make.
        info: The source's properties (colour range, pixel format, audio).
        rate: The output's exact frame rate.
        codec: "h264" (default), "prores" (.mov only) or "png".
        audio: Carry the source's sound over.
        preset: x264's preset (the caller's settings).
        crf: x264's constant rate factor (the caller's settings).

    Raises:
        InvalidInputError: An unknown extension or codec, a folder that does not
            exist, or a PNG sequence folder that exists already and is not empty.
        StorageError: The folder cannot be written in, or the disk fails while
            writing (exit 5); nothing is left behind, not even the temporary file.
    """
    suffix = target.suffix.lower()
    png = (codec or "").lower() == "png" or suffix == ""
    folder = target.parent
    if not folder.is_dir():
        raise InvalidInputError(
            f"cannot write {target}: the folder {folder} does not exist; create it first"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(
            f"cannot write {target}: the folder {folder} is not writable; "
            "check its permissions or choose another folder"
        )
    if png:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise InvalidInputError(
                f"the PNG sequence folder {target} exists and is not empty: choose a new folder"
            )
        try:
            temp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        except OSError as exc:
            raise write_failed(target, exc) from exc
        writer = VideoWriter(
            temp, info, rate, kind="png", codec="png", audio=False, preset=preset, crf=crf
        )
        try:
            yield writer
            if target.exists():
                target.rmdir()
            os.replace(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return
    if suffix not in MOVIE_FORMATS:
        raise InvalidInputError(
            f"the output {target.name!r} needs the extension .mp4, .mov or .mkv "
            "(or no extension for a folder of PNG frames)"
        )
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give a file name for the output")
    chosen = _movie_codec(suffix, codec)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise write_failed(target, exc) from exc
    os.close(fd)
    writer = VideoWriter(
        temp,
        info,
        rate,
        kind="movie",
        codec=chosen,
        audio=audio,
        preset=preset,
        crf=crf,
        suffix=suffix,
    )
    try:
        try:
            yield writer
            writer.finish()
        finally:
            writer.close()
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
