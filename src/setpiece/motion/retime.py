"""Retiming by optical-flow frame interpolation: 12 fps generations played at 24.

Output frame k is shown at ``k / rate`` and samples the source at
``k / (rate * slow)`` seconds (``slow`` is 1 for ``--fps``, K for ``--factor K``
slow motion, which keeps the source's rate and lasts K times longer). Source frames
are placed by their timestamps, so variable-frame-rate input comes out evenly timed.
A sample between source frames a and b is interpolated from the flow of that pair
(computed once, reused for every sample in between, at the scale its motion asks for:
:class:`setpiece.motion.flow.Interpolator`); between two frames on either side of a
hard cut (found by the same detector as ``setpiece cuts``, or by the flow itself when
the two pictures share nothing: a cut every few frames escapes the detector) the
nearer frame is repeated instead, so no picture is ever a blend of two shots.

The work streams: a decoding thread, a pool computing flow pairs, a pool
interpolating, and the encoder in the calling thread, joined by bounded queues, so
memory holds a dozen frames whatever the length. A video that stops decoding
mid-way fails the whole retime (naming the frame) and leaves no output: a retimed
take missing its tail would pass for complete.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.motion.config import MotionSettings
from setpiece.timebase import format_rate

__all__ = ["RetimeReport", "output_plan", "retime"]


@dataclass(frozen=True)
class RetimeReport:
    """What :func:`retime` wrote."""

    path: Path
    frames: int
    fps: Fraction
    source_frames: int
    source_fps: Fraction
    interpolated: int
    held_at_cuts: int
    cuts: list[int]
    audio: str
    pix_fmt: str
    padded: bool
    codec: str

    # Not jsonable's shape: adds the computed duration (6 places).
    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "frames": self.frames,
            "fps": format_rate(self.fps),
            "duration": round(float(Fraction(self.frames) / self.fps), 6),
            "source_frames": self.source_frames,
            "source_fps": format_rate(self.source_fps),
            "interpolated": self.interpolated,
            "held_at_cuts": self.held_at_cuts,
            "cuts": self.cuts,
            "audio": self.audio,
            "pix_fmt": self.pix_fmt,
            "padded": self.padded,
            "codec": self.codec,
        }


def output_plan(
    source_rate: Fraction,
    *,
    fps: Fraction | None = None,
    factor: Fraction | None = None,
) -> tuple[Fraction, Fraction]:
    """The output rate and the slow-down factor for ``--fps`` or ``--factor``.

    Raises:
        InvalidInputError: Neither or both given, or a rate/factor that is not positive.
    """
    if (fps is None) == (factor is None):
        raise InvalidInputError("give either --fps (a new frame rate) or --factor (slow motion)")
    if fps is not None:
        if fps <= 0 or fps > 1000:
            raise InvalidInputError(f"--fps {fps} is not a frame rate: give one from 1 to 1000")
        return Fraction(fps), Fraction(1)
    assert factor is not None
    if factor <= 0 or factor > 64:
        raise InvalidInputError(
            f"--factor {factor} is out of range: give a slow-down above 0 and at most 64, e.g. 4"
        )
    return Fraction(source_rate), Fraction(factor)


def _prepared(
    source: Path, engine: Any, label: str, sink: queue.Queue[Any], stop: threading.Event
) -> None:
    """The decoding thread: (frame, small grey) pairs, then None, or the error."""
    from setpiece.store.video import decode

    try:
        for frame in decode(source, label=label):
            if stop.is_set():
                return
            sink.put((frame, engine.grey(frame.rgb)))
        sink.put(None)
    except BaseException as exc:  # handed to the consumer, which raises it
        sink.put(exc)


def _frames(sink: queue.Queue[Any]) -> Iterator[tuple[Any, np.ndarray]]:
    while True:
        item = sink.get()
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _interpolate(
    prepare: Callable[[np.ndarray], Any],
    engine: Any,
    a: np.ndarray,
    b: np.ndarray,
    pair: Future[Any],
    t: float,
) -> Any:
    """The picture at ``t``, converted for the writer in this thread (the writing thread
    only encodes)."""
    return prepare(engine.interpolate(a, b, pair.result(), t))


def retime(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    fps: Fraction | None = None,
    factor: Fraction | None = None,
    settings: MotionSettings | None = None,
    codec: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RetimeReport:
    """Writes ``source`` at a new frame rate (or slowed down) into ``target``.

    Args:
        source: The video to retime.
        target: .mp4/.mov/.mkv, or a folder path without extension for PNG frames.
        fps: The new frame rate (same duration, audio kept in sync).
        factor: Slow motion: K times as many frames at the source's rate (no audio).
        settings: Flow and encoder settings.
        codec: "h264" (default), "prores" (.mov) or "png".
        progress: Called with (frames written, frames planned).

    Returns:
        What was written.

    Raises:
        InvalidInputError: Bad rate or factor, output equal to input, bad output path.
        InvalidMediaError: Not a video, audio only, no frames.
        DecodeStopped: The source breaks mid-way (no output is left).
    """
    from setpiece.motion.cuts import detect_cuts
    from setpiece.motion.flow import Interpolator
    from setpiece.store.video import check_paths, open_writer, probe_video

    settings = settings or MotionSettings()
    out_path = check_paths(source, target)
    info = probe_video(source, "input")
    rate, slow = output_plan(info.rate, fps=fps, factor=factor)
    cuts = detect_cuts(source, settings, label="input")
    if cuts.frames == 0:
        raise InvalidMediaError(f"the input {source} has no frames")
    cut_indices = {cut.index for cut in cuts.cuts if cut.kind == "cut"}
    duration = cuts.end  # the last frame's time plus one frame: the source's length
    planned = max(1, round(duration * rate * slow))
    sample_rate = rate * slow
    stop = threading.Event()
    sink: queue.Queue[Any] = queue.Queue(maxsize=6)
    # Each flow pair, the frame number after it, and how many pictures it made.
    made: list[tuple[Future[Any], int, int]] = []
    flows = ThreadPoolExecutor(max_workers=2, thread_name_prefix="setpiece-flow")
    warps = ThreadPoolExecutor(max_workers=2, thread_name_prefix="setpiece-warp")
    interpolated = held = 0
    writer_info: dict[str, Any] = {}
    try:
        with open_writer(
            out_path,
            info,
            rate,
            codec=codec,
            audio=slow == 1,
            preset=settings.encoder_preset,
            crf=settings.crf,
        ) as writer:
            pending: deque[Future[Any]] = deque()

            def ready(picture: np.ndarray) -> Future[Any]:
                """A source picture as it is, converted for the writer in a thread."""
                return warps.submit(writer.prepare, picture)

            def drain(keep: int) -> None:
                while len(pending) > keep:
                    writer.write(pending.popleft().result())
                    if progress is not None:
                        progress(writer.frames, planned)

            k = 0
            previous: tuple[Any, np.ndarray] | None = None
            thread: threading.Thread | None = None
            # The decoding thread needs the flow size, known from the first frame: the
            # probe gives the stored size, rotation may swap it, so read it from a frame.
            from setpiece.store.video import decode

            with contextlib.closing(decode(source, label="input")) as frames:
                first = next(frames, None)
            if first is None:
                raise InvalidMediaError(f"the input {source} has no frames")
            h, w = first.rgb.shape[:2]
            engine = Interpolator(w, h, settings)
            del first
            thread = threading.Thread(
                target=_prepared,
                args=(Path(source), engine, "input", sink, stop),
                daemon=True,
                name="setpiece-decode",
            )
            thread.start()
            for current in _frames(sink):
                if previous is None:
                    previous = current
                    continue
                a, grey_a = previous
                b, grey_b = current
                span = b.time - a.time
                pair: Future[Any] | None = None
                while k < planned and Fraction(k) / sample_rate < b.time:
                    u = (Fraction(k) / sample_rate - a.time) / span
                    if u <= Fraction(1, 1000):
                        pending.append(ready(a.rgb))
                    elif u >= Fraction(999, 1000):
                        pending.append(ready(b.rgb))
                    elif b.index in cut_indices:
                        pending.append(ready(a.rgb if u < Fraction(1, 2) else b.rgb))
                        held += 1
                    else:
                        if pair is None:
                            pair = flows.submit(engine.flow, grey_a, grey_b)
                            made.append((pair, round(b.time * info.rate), 0))
                        pending.append(
                            warps.submit(
                                _interpolate, writer.prepare, engine, a.rgb, b.rgb, pair, float(u)
                            )
                        )
                        made[-1] = (pair, made[-1][1], made[-1][2] + 1)
                    k += 1
                    drain(8)
                previous = current
            if previous is not None:
                while k < planned:
                    pending.append(ready(previous[0].rgb))
                    k += 1
                    drain(8)
            drain(0)
            # Pairs the flow found to be two shots (a cut the detector missed) were held.
            missed = [(frame, count) for pair, frame, count in made if pair.result().cut]
            interpolated = sum(count for _, _, count in made)
            held += sum(count for _, count in missed)
            interpolated -= sum(count for _, count in missed)
            writer_info = {
                "audio": writer.audio,
                "frames": writer.frames,
                "pix_fmt": writer.pix_fmt,
                "padded": writer.padded,
                "codec": writer.codec,
            }
    finally:
        stop.set()
        while True:  # unblock the decoding thread if it waits on a full queue
            try:
                sink.get_nowait()
            except queue.Empty:
                break
        flows.shutdown(wait=True, cancel_futures=True)
        warps.shutdown(wait=True, cancel_futures=True)
    audio = writer_info["audio"]
    if audio == "dropped":
        audio = "dropped (slow motion)" if slow != 1 else "dropped (PNG sequence)"
    return RetimeReport(
        path=out_path,
        frames=writer_info["frames"],
        fps=rate,
        source_frames=cuts.frames,
        source_fps=info.rate,
        interpolated=interpolated,
        held_at_cuts=held,
        cuts=sorted([cut.frame for cut in cuts.cuts if cut.kind == "cut"] + [f for f, _ in missed]),
        audio=audio,
        pix_fmt=writer_info["pix_fmt"],
        padded=writer_info["padded"],
        codec=writer_info["codec"],
    )
