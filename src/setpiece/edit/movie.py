"""The preview movie: the cut played out as one H.264 + AAC MP4 to watch and share.

It is made from the same ``Cut`` the timeline exporters write, so what the editor
opens and what the director watches cannot disagree. Decisions:

* Time is integer frames. Output frame ``k`` of a clip shows the media frame whose
  time is the latest at or before the clip's ``k / fps``, found with integer
  arithmetic, so a 30 fps take conformed to 24000/1001 never drifts; a take
  shorter than its clip holds its last frame. The stream's rate is the cut's
  exact ``Fraction``.
* Pictures are built in one yuv420p buffer of the cut's size (odd sizes are
  rounded down to even, which 4:2:0 needs) and encoded frame by frame: nothing
  holds more than the frame on screen, so memory stays flat however long the cut.
  A take of another size is scaled to fit, aspect kept (square pixels assumed),
  centred on black. Stills and slates are drawn once per clip and repeated.
* Burn-ins sit in an opaque black band along the foot of the frame: scene, take
  and the PROVISIONAL / UNAPPROVED / NOT APPROVED tag on the left, record timecode
  on the right (``timebase.timecode``: the EDL's, drop frame at 29.97 and 59.94).
  The band is drawn once per clip; each frame only copies digit tiles, rendered
  once, into the timecode's cells. Its words go through ``setpiece.lettering``, so
  any name a script holds draws, cut to fit.
* Sound is 48 kHz stereo AAC: a take's own audio (resampled), silence elsewhere, with
  the dialogue placed and mixed by ``setpiece.edit.sound`` laid over it; where the two
  together would pass -1 dBFS the frame's sound is scaled down, so nothing clips.
  A clip ending at record frame ``f`` ends at audio sample
  ``floor(f * 48000 / fps)``, so the rounding never accumulates and the audio
  is exactly as long as the picture.
* The file is written to a temporary name next to the target and renamed on
  success; on any error or interrupt the temporary file is removed.

Media are read where ``MediaView.path`` says, from a local store's folder; a remote
store's (``s3://``) are read through the ``MediaStore`` given.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from setpiece.edit.sound import AUDIO_RATE, CEILING, DialogueBed, LinePlacement
from setpiece.edit.sound import sample_at as _sample_at
from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.enums import TakeKind
from setpiece.production.cut import Cut, CutClip
from setpiece.store.frames import (  # noqa: F401  re-exported for the cut's other writers
    check_target,
    media_source,
    open_media,
    read_still,
    temporary_file,
)
from setpiece.store.video import Encoding, MovieWriter, movie_codec, reason
from setpiece.timebase import timecode

if TYPE_CHECKING:
    from PIL import Image

    from setpiece.lettering import Typeface
    from setpiece.production.views import MediaView
    from setpiece.store.media import MediaStore

__all__ = ["AUDIO_RATE", "ENCODER", "MOVIE_SUFFIXES", "PreviewReport", "write_preview"]

AUDIO_BLOCK = 1024  # AAC's frame size
MOVIE_SUFFIXES = (".mp4", ".m4v", ".mov")
# x264 "veryfast": review copies are watched and passed around, so quality over speed
# here; bench/preview_encode.py measures it against "ultrafast".
ENCODER: dict[str, Any] = {"preset": "veryfast", "crf": 23, "keyint_seconds": 2}

BLACK_Y, NEUTRAL_C = 16, 128  # black in limited-range Y'CbCr
SLATE_BG = (18, 18, 22)
TAG_COLOURS = {
    "provisional": ((236, 170, 30), "PROVISIONAL"),
    "unapproved": ((214, 44, 38), "UNAPPROVED"),
    "slate": ((150, 150, 150), "NOT APPROVED"),
}
_TC_CHARS = "0123456789:;"  # ";" before the frames in drop frame


@dataclass(frozen=True)
class PreviewReport:
    """What ``write_preview`` wrote.

    Attributes:
        path: The movie.
        frames: Video frames written (the cut's duration).
        fps: Exact frame rate.
        width: Picture width (the cut's, rounded down to even).
        height: Picture height (likewise).
        codec: Video encoder: ``"libx264"``, or ``"mpeg4"`` where PyAV lacks x264.
        audio_samples: 48 kHz stereo samples written.
        clips: Clips played, slates included.
        burn_in: Whether burn-ins were drawn.
        lines: Lines of dialogue mixed in.
        warnings: Conform notes: rounded sizes, takes whose media ended early.
    """

    path: Path
    frames: int
    fps: Fraction
    width: int
    height: int
    codec: str
    audio_samples: int
    clips: int
    burn_in: bool
    lines: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> Fraction:
        """Seconds, exactly."""
        return Fraction(self.frames) / self.fps

    # Not jsonable's shape: adds the computed duration (6 places) and timecode.
    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "frames": self.frames,
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "duration": round(float(self.duration), 6),
            "timecode": timecode(self.frames, self.fps),
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "audio_samples": self.audio_samples,
            "clips": self.clips,
            "burn_in": self.burn_in,
            "lines": self.lines,
            "warnings": self.warnings,
        }


def write_preview(
    cut: Cut,
    path: str | os.PathLike[str],
    *,
    burn_in: bool = False,
    progress: Callable[[int, int], None] | None = None,
    store: MediaStore | None = None,
    deliver: Callable[[Path, Path], object] | None = None,
    dialogue: LinePlacement | None = None,
) -> PreviewReport:
    """Writes the cut as an MP4 (H.264 and AAC) at its own rate and size.

    Args:
        cut: The assembled cut (``setpiece.production.cut.assemble``).
        path: The movie to write (``.mp4``, ``.m4v`` or ``.mov``); replaced if it exists.
        burn_in: Draw scene, take, status tag and record timecode on every frame.
        progress: Called as ``(frames_done, frames_total)`` about once per second of
            film and once at the end.
        store: The project's media store (``production.store``); needed only when it is
            remote (``s3://...``), whose media are then read through it.
        deliver: Writes the delivered movie from the rendered one, ``deliver(raw, target)``
            (``setpiece.provenance.deliver.cut_deliverer``: watermark and signature).
        dialogue: The lines placed in this cut (``setpiece.edit.sound.place_lines``),
            mixed into the sound.

    Returns:
        What was written.

    Raises:
        InvalidInputError: The cut is empty, or ``path`` is a folder, names a folder that
            does not exist or cannot be written, or has another extension.
        InvalidMediaError: A take's media or a line's audio cannot be decoded.
        StorageError: A take's media or a line's audio is missing, or the movie cannot be written (disk full).
    """
    target = check_target(path, MOVIE_SUFFIXES, "preview movie")
    if deliver is not None and cut.clips:
        import dataclasses
        import tempfile

        with tempfile.TemporaryDirectory(prefix=".setpiece-cut-", dir=target.parent) as work:
            raw = Path(work) / f"rendered{target.suffix}"
            report = write_preview(
                cut, raw, burn_in=burn_in, progress=progress, store=store, dialogue=dialogue
            )
            deliver(raw, target)
        return dataclasses.replace(report, path=target)
    if not cut.clips:
        raise InvalidInputError(
            "the cut is empty: there are no shots to play; add shots (and takes) first"
        )
    if cut.fps <= 0:
        raise InvalidInputError(f"the cut's frame rate {cut.fps} is not positive")
    width, height = cut.width - cut.width % 2, cut.height - cut.height % 2
    if width < 2 or height < 2:
        raise InvalidInputError(f"the cut's size {cut.width}x{cut.height} is too small to encode")
    warnings: list[str] = []
    if (width, height) != (cut.width, cut.height):
        warnings.append(f"{cut.width}x{cut.height} rounded down to {width}x{height} for 4:2:0")

    total = cut.duration
    step = max(1, round(cut.fps))
    bed = DialogueBed(dialogue or LinePlacement(), cut.fps)
    with temporary_file(target) as temp:
        movie = _Movie(temp, width, height, cut.fps)
        try:
            canvas = _Canvas(width, height)
            band = _BurnIn(width, height) if burn_in else None
            done = 0
            for clip in cut.clips:
                stamp = band.prepare(clip) if band is not None else None
                with (
                    _clip_pictures(clip, canvas, cut.fps, warnings, store) as pictures,
                    _clip_sound(clip, store) as sound,
                ):
                    for k in range(clip.duration):
                        next(pictures)
                        if band is not None and stamp is not None:
                            band.apply(canvas, stamp, timecode(clip.record_in + k, cut.fps))
                        movie.picture(canvas.buffer)
                        frame = clip.record_in + k + 1
                        count = _sample_at(frame, cut.fps) - movie.queued
                        movie.sound(_mixed(sound.take(count), bed, movie.queued))
                        done += 1
                        if progress is not None and (done % step == 0 or done == total):
                            progress(done, total)
            movie.finish()
        except BaseException:
            movie.abandon()
            raise
    return PreviewReport(
        path=target,
        frames=movie.frames,
        fps=cut.fps,
        width=width,
        height=height,
        codec=movie.codec,
        audio_samples=movie.samples,
        clips=len(cut.clips),
        burn_in=burn_in,
        lines=len(dialogue.lines) if dialogue is not None else 0,
        warnings=warnings,
    )


def _mixed(take: np.ndarray, bed: DialogueBed, start: int) -> np.ndarray:
    """The take's sound with the dialogue over it, scaled down where the sum would clip."""
    if bed.empty:
        return take
    mix = take + bed.take(start, take.shape[1])
    peak = float(np.abs(mix).max()) if mix.size else 0.0
    if peak > CEILING:
        mix *= CEILING / peak
    return mix


# Output ---------------------------------------------------------------------------


class _Movie:
    """An MP4 with one video and one stereo AAC stream, fed frame by frame."""

    def __init__(self, path: str, width: int, height: int, fps: Fraction) -> None:
        import av

        self._av = av
        self.path = path
        self.rate = fps
        self.samples = 0
        self._pending: deque[np.ndarray] = deque()
        self._pending_count = 0
        self.codec = movie_codec()
        x264 = self.codec == "libx264"
        encoding = Encoding(
            self.codec,
            "yuv420p",
            {"preset": ENCODER["preset"], "crf": str(ENCODER["crf"])} if x264 else {},
            color_range=1,  # limited ("MPEG") range
            colour=(1, 1, 1),  # BT.709
            gop=max(1, round(fps * ENCODER["keyint_seconds"])),
            bit_rate=None if x264 else max(400_000, int(width * height * float(fps) * 0.15)),
        )
        self._movie = MovieWriter(path, width, height, fps, encoding, faststart=True)
        try:
            audio = self._movie.add_audio(AUDIO_RATE, "stereo")
            assert isinstance(audio, av.AudioStream)
            self._audio = audio
        except BaseException:
            self._movie.abandon()
            raise

    @property
    def frames(self) -> int:
        """Video frames encoded so far."""
        return self._movie.frames

    def picture(self, buffer: np.ndarray) -> None:
        self._movie.yuv420(buffer)

    @property
    def queued(self) -> int:
        """Audio samples handed in so far, encoded or waiting for a full block."""
        return self.samples + self._pending_count

    def sound(self, samples: np.ndarray) -> None:
        """Queues (2, n) float32 samples; encodes them in AAC-sized blocks."""
        if samples.shape[1]:
            self._pending.append(samples)
            self._pending_count += samples.shape[1]
        while self._pending_count >= AUDIO_BLOCK:
            self._encode_audio(self._pop(AUDIO_BLOCK))

    def _pop(self, count: int) -> np.ndarray:
        block = np.empty((2, count), np.float32)
        filled = 0
        while filled < count:
            head = self._pending[0]
            used = min(count - filled, head.shape[1])
            block[:, filled : filled + used] = head[:, :used]
            if used == head.shape[1]:
                self._pending.popleft()
            else:
                self._pending[0] = head[:, used:]
            filled += used
        self._pending_count -= count
        return block

    def _encode_audio(self, block: np.ndarray) -> None:
        frame = self._av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self.samples
        frame.time_base = Fraction(1, AUDIO_RATE)
        self._movie.mux(self._audio.encode(frame))
        self.samples += block.shape[1]

    def finish(self) -> None:
        if self._pending_count:
            self._encode_audio(self._pop(self._pending_count))
        self._movie.finish()
        self._movie.mux(self._audio.encode(None))
        self._movie.close()

    def abandon(self) -> None:
        self._movie.abandon()


# Pictures -------------------------------------------------------------------------


class _Canvas:
    """The frame being built: one yuv420p buffer and views of its three planes."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.buffer = np.empty((height * 3 // 2, width), np.uint8)
        self.y, self.u, self.v = planes_of(self.buffer, width, height)
        self.clear()

    def clear(self) -> None:
        self.y.fill(BLACK_Y)
        self.u.fill(NEUTRAL_C)
        self.v.fill(NEUTRAL_C)

    def paste(self, picture: np.ndarray, x: int, y: int, w: int, h: int) -> None:
        """Copies a (h * 3 / 2, w) yuv420p picture to (x, y); all even."""
        if (x, y, w, h) == (0, 0, self.width, self.height):
            self.buffer[:] = picture
            return
        py, pu, pv = planes_of(picture, w, h)
        self.y[y : y + h, x : x + w] = py
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = pu
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = pv


def planes_of(buffer: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Views of the Y, U and V planes of a packed (height * 3 / 2, width) yuv420p buffer."""
    flat = buffer.reshape(-1)
    size, quarter = width * height, (width // 2) * (height // 2)
    return (
        flat[:size].reshape(height, width),
        flat[size : size + quarter].reshape(height // 2, width // 2),
        flat[size + quarter : size + 2 * quarter].reshape(height // 2, width // 2),
    )


def fit(source: tuple[int, int], frame: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a picture scaled to fit ``frame`` with its aspect kept, centred; even."""
    sw, sh = source
    fw, fh = frame
    if sw * fh >= sh * fw:  # wider than the frame: full width, bars above and below
        w, h = fw, min(fh, max(2, round(sh * fw / sw / 2) * 2))
    else:
        w, h = min(fw, max(2, round(sw * fh / sh / 2) * 2)), fh
    return ((fw - w) // 4 * 2, (fh - h) // 4 * 2, w, h)


def rgb_to_yuv420p(image: Image.Image) -> np.ndarray:
    """A packed yuv420p buffer (BT.709, limited range) of an RGB picture of even size."""
    import av

    frame = av.VideoFrame.from_image(image.convert("RGB"))
    return frame.reformat(
        format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG"
    ).to_ndarray()


def _label(clip: CutClip) -> str:
    return clip.take_label or clip.shot


@contextlib.contextmanager
def _clip_pictures(
    clip: CutClip, canvas: _Canvas, fps: Fraction, warnings: list[str], store: MediaStore | None
) -> Iterator[Iterator[None]]:
    """An iterator that fills ``canvas`` with the clip's next frame at each step."""
    media = clip.media
    if clip.kind == "take" and media is not None and media.kind == TakeKind.VIDEO and media.fps:
        with open_media(media, _label(clip), store) as container:
            pictures = _video_pictures(clip, media, container, canvas, fps, warnings)
            try:
                yield pictures
            finally:
                pictures.close()
        return
    if clip.kind == "take" and media is not None:
        picture = read_still(media, _label(clip), store)
        x, y, w, h = fit(picture.size, (canvas.width, canvas.height))
        with_bars = _letterboxed(
            picture.resize((w, h), _bilinear(), reducing_gap=2.0), canvas, x, y
        )
    else:
        with_bars = slate_card(clip, canvas.width, canvas.height, fps)
    canvas.buffer[:] = rgb_to_yuv420p(with_bars)
    yield _hold(clip.duration)


def _hold(count: int) -> Iterator[None]:
    for _ in range(count):
        yield None


def _bilinear() -> Any:
    from PIL import Image

    return Image.Resampling.BILINEAR


def _letterboxed(picture: Image.Image, canvas: _Canvas, x: int, y: int) -> Image.Image:
    from PIL import Image

    framed = Image.new("RGB", (canvas.width, canvas.height), (0, 0, 0))
    framed.paste(picture, (x, y))
    return framed


def _video_pictures(
    clip: CutClip,
    media: MediaView,
    container: Any,
    canvas: _Canvas,
    fps: Fraction,
    warnings: list[str],
) -> Generator[None, None, None]:
    """The clip's frames, conformed to ``fps`` by rational time and to the canvas's size."""
    import av

    assert media.fps is not None
    label = _label(clip)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    decoded = container.decode(stream)
    # Output frame k is at media time k / fps after source_in: the media frame shown is
    # floor(k * media_fps / fps) frames after it, in integers.
    num = media.fps.numerator * fps.denominator
    den = media.fps.denominator * fps.numerator
    current: Any = None
    index = -1  # of ``current`` among the decoded frames
    shown = -1
    ended = held = False
    geometry: tuple[int, int, int, int] | None = None
    try:
        for k in range(clip.duration):
            wanted = clip.source_in + k * num // den
            while index < wanted and not ended:
                try:
                    current = next(decoded)
                    index += 1
                except StopIteration:
                    ended = True
            if current is None:
                raise InvalidMediaError(
                    f"take {label}: no frame of {media.path} decodes; re-import the take"
                )
            if ended and index < wanted and not held:
                held = True
                warnings.append(
                    f"{label}: its media ends after {index + 1} frames; the last one is held"
                )
            if index != shown:
                box = fit((current.width, current.height), (canvas.width, canvas.height))
                if box != geometry:
                    canvas.clear()
                    geometry = box
                x, y, w, h = box
                picture = current.reformat(width=w, height=h, format="yuv420p").to_ndarray()
                canvas.paste(picture, x, y, w, h)
                shown = index
            yield None
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMediaError(
            f"take {label}: {media.path} cannot be decoded ({reason(exc)}); "
            "re-import the take or run 'setpiece fsck'"
        ) from exc
    finally:
        decoded.close()


# Slates and burn-ins --------------------------------------------------------------


def _face() -> Typeface:
    from setpiece.lettering import typeface

    return typeface()


def slate_card(clip: CutClip, width: int, height: int, fps: Fraction) -> Image.Image:
    """The card that stands in for a shot with no take: its label large, heading, length."""
    from PIL import Image, ImageDraw

    face = _face()
    card = Image.new("RGB", (width, height), SLATE_BG)
    draw = ImageDraw.Draw(card)
    line = max(1, round(height / 200))
    inset = max(2, round(height * 0.05))
    draw.rectangle(
        (inset, inset, width - inset - 1, height - inset - 1), outline=(70, 70, 76), width=line
    )
    big = max(8, round(height * 0.11))
    small = max(6, round(height * 0.045))
    room = width - 4 * inset
    label = clip.label or f"{clip.shot}: NOT APPROVED"
    face.draw(
        draw,
        (width / 2, height * 0.5 + big * 0.35),
        label,
        big,
        (245, 245, 240),
        bold=True,
        anchor="ms",
        width=room,
    )
    heading = f"SC {clip.scene}  ·  {clip.scene_heading}".strip(" ·")
    face.draw(
        draw,
        (width / 2, height * 0.5 - big * 1.1),
        heading,
        small,
        (170, 170, 165),
        anchor="ms",
        width=room,
    )
    seconds = float(Fraction(clip.duration) / fps)
    face.draw(
        draw,
        (width / 2, height * 0.5 + big * 0.35 + small * 2.4),
        f"{clip.duration} frames  ·  {seconds:.2f} s",
        small,
        (170, 170, 165),
        anchor="ms",
        width=room,
    )
    return card


@dataclass(frozen=True)
class _Stamp:
    """A clip's band, drawn once: its Y, U and V rows."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray


class _BurnIn:
    """The band along the foot of the frame; only its timecode digits change per frame."""

    def __init__(self, width: int, height: int) -> None:
        from PIL import Image, ImageDraw

        self.width, self.height = width, height
        self.band = min(height, max(10, round(height * 0.06 / 2) * 2))
        self.top = height - self.band
        self.size = max(6, round(self.band * 0.62))
        self.pad = max(2, round(self.band * 0.3))
        face = self.face = _face()
        # Each character of the timecode, white on the band's black, as Y' tiles; digits
        # share one width so the timecode does not shift as it counts.
        digit = int(max(face.width(c, self.size, bold=True) for c in "0123456789")) + 2
        colon = int(max(face.width(c, self.size, bold=True) for c in ":;")) + 2
        self.glyphs: dict[str, np.ndarray] = {}
        for char in _TC_CHARS:
            cell = colon if char in ":;" else digit
            tile = Image.new("L", (cell, self.band), 0)
            face.draw(
                ImageDraw.Draw(tile),
                (cell / 2, self.band / 2 + self.size * 0.36),
                char,
                self.size,
                (255,),
                bold=True,
                anchor="ms",
            )
            alpha = np.asarray(tile, dtype=np.uint16)
            self.glyphs[char] = (BLACK_Y + (alpha * (235 - BLACK_Y) + 127) // 255).astype(np.uint8)
        self.tc_x = max(0, width - self.pad - digit * 8 - colon * 3)

    def prepare(self, clip: CutClip) -> _Stamp:
        """The band with the clip's scene, take and tag (no timecode)."""
        from PIL import Image, ImageDraw

        face, size = self.face, self.size
        strip = Image.new("RGB", (self.width, self.band), (0, 0, 0))
        draw = ImageDraw.Draw(strip)
        baseline = self.band / 2 + size * 0.36
        x = float(self.pad)
        room = self.tc_x - self.pad * 2
        text = f"SC {clip.scene}  {_label(clip)}"
        white = (255, 255, 255)
        x += face.draw(draw, (x, baseline), text, size, white, bold=True, width=max(0, room))
        x += self.pad
        key = "slate" if clip.kind == "slate" else clip.status or ""
        if key in TAG_COLOURS:
            colour, word = TAG_COLOURS[key]
            tag = face.fit(word, size, max(0, self.tc_x - x - self.pad * 3), bold=True)
            if tag:
                tag_w = face.width(tag, size, bold=True)
                draw.rectangle(
                    (round(x), 1, round(x + tag_w + self.pad * 2), self.band - 2), fill=colour
                )
                face.draw(draw, (x + self.pad, baseline), tag, size, (0, 0, 0), bold=True)
                x += tag_w + self.pad * 3
        rest = max(0.0, self.tc_x - x - self.pad)
        face.draw(draw, (x, baseline), clip.scene_heading, size, (170, 170, 165), width=rest)
        y, u, v = planes_of(rgb_to_yuv420p(strip), self.width, self.band)
        return _Stamp(y.copy(), u.copy(), v.copy())

    def apply(self, canvas: _Canvas, stamp: _Stamp, code: str) -> None:
        top = self.top
        canvas.y[top:] = stamp.y
        canvas.u[top // 2 :] = stamp.u
        canvas.v[top // 2 :] = stamp.v
        x = self.tc_x
        for char in code:
            glyph = self.glyphs[char]
            end = min(self.width, x + glyph.shape[1])
            canvas.y[top:, x:end] = glyph[:, : end - x]
            x = end


# Sound ----------------------------------------------------------------------------


class _Sound:
    """A clip's sound as 48 kHz stereo float planes, handed out in exact counts.

    Silence where the take has none, before its audio starts, or after it ends.
    """

    def __init__(self, chunks: Iterator[np.ndarray] | None) -> None:
        self._chunks = chunks
        self._held: deque[np.ndarray] = deque()

    def take(self, count: int) -> np.ndarray:
        out = np.zeros((2, max(0, count)), np.float32)
        filled = 0
        while filled < count:
            if not self._held:
                chunk = next(self._chunks, None) if self._chunks is not None else None
                if chunk is None:
                    self._chunks = None
                    break
                self._held.append(chunk)
                continue
            head = self._held[0]
            used = min(count - filled, head.shape[1])
            out[:, filled : filled + used] = head[:, :used]
            if used == head.shape[1]:
                self._held.popleft()
            else:
                self._held[0] = head[:, used:]
            filled += used
        return out


@contextlib.contextmanager
def _clip_sound(clip: CutClip, store: MediaStore | None) -> Iterator[_Sound]:
    media = clip.media
    if (
        clip.kind != "take"
        or media is None
        or media.kind != TakeKind.VIDEO
        or not media.audio_streams
    ):
        yield _Sound(None)
        return
    with open_media(media, _label(clip), store) as container:
        chunks = _audio_chunks(clip, media, container)
        try:
            yield _Sound(chunks)
        finally:
            chunks.close()


def _audio_chunks(
    clip: CutClip, media: MediaView, container: Any
) -> Generator[np.ndarray, None, None]:
    """The take's first audio stream from ``source_in``, resampled to 48 kHz stereo."""
    import av

    assert media.fps is not None
    audio = container.streams.audio[0]
    video = container.streams.video[0] if container.streams.video else None
    origin = Fraction(0)
    if video is not None and video.start_time is not None and video.time_base is not None:
        origin = video.start_time * video.time_base
    start = origin + Fraction(clip.source_in) / media.fps
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    skip: int | None = None
    try:
        for frame in container.decode(audio):
            if skip is None:
                at = (
                    frame.pts * frame.time_base
                    if frame.pts is not None and frame.time_base
                    else start
                )
                offset = round((at - start) * AUDIO_RATE)
                if offset > 0:  # the sound starts after the picture: silence first
                    yield np.zeros((2, offset), np.float32)
                skip = max(0, -offset)
            for out in resampler.resample(frame):
                samples = out.to_ndarray()
                if skip:
                    dropped = min(skip, samples.shape[1])
                    samples, skip = samples[:, dropped:], skip - dropped
                if samples.shape[1]:
                    yield samples
        for out in resampler.resample(None):
            yield out.to_ndarray()
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMediaError(
            f"take {_label(clip)}: the sound of {media.path} cannot be decoded "
            f"({reason(exc)}); re-import the take"
        ) from exc
