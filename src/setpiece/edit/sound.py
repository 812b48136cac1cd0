"""Dialogue in the cut: where each line falls, and the scratch track mixed from the lines.

An editor cuts an animatic to its scratch track, so the lines (``model.dialogue.LineAudio``,
one chosen audio take per line, built by production) are placed here once and every
exporter reads the same placement: the preview movie mixes them, OTIO and FCP XML carry a
clip per line, the EDL its audio events. This module never reads the database.

The placement rule (:func:`place_lines`), in integer frames at the cut's rate:

- a shot's first line starts at the shot's in-point plus the pause
  (``[dialogue] pause``, 0.25 s, rounded to whole frames);
- each later line of the shot, in script order, starts a pause after the previous one
  ends (a line lasts its take's seconds, rounded up to whole frames);
- dual dialogue: the two lines of a pair (consecutive lines both marked ``dual``) start
  on the same frame, and the next line starts a pause after the longer of them ends;
- a line whose shot is not in the cut is left out, with a warning; a line that runs
  past its shot's out-point keeps playing (it is not cut off), with a warning.

Lines are given tracks greedily: track 1 unless a line still sounds there, then 2, and
so on; dual pairs therefore sit on 1 and 2, which is what a CMX 3600 EDL can carry.

The mix (:class:`DialogueBed`): each line is decoded to 48 kHz stereo and
loudness-normalised to ``LINE_LOUDNESS`` (-20 LUFS, ITU-R BS.1770-4 integrated loudness
as FFmpeg's EBU R128 meter measures it, ``store.loudness``), its gain lowered where
that would push its peak over ``CEILING`` (-1 dBFS). Lines that overlap are summed
together and scaled down as one if their sum peaks over the ceiling, so no sample of
the dialogue ever clips. Lines are decoded only while the movie passes them: memory
holds the lines that sound at the moment, not the film's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from setpiece.errors import InvalidMediaError, StorageError
from setpiece.model.dialogue import LineAudio
from setpiece.production.cut import Cut
from setpiece.production.dialogue import DialogueSettings
from setpiece.store.loudness import SILENCE_LUFS, integrated_loudness

__all__ = [
    "CEILING",
    "LINE_LOUDNESS",
    "PAUSE",
    "DialogueBed",
    "LinePlacement",
    "PlacedLine",
    "place_lines",
    "shot_overruns",
]

AUDIO_RATE = 48000  # the preview movie's (edit.movie.AUDIO_RATE)
LINE_LOUDNESS = -20.0  # LUFS: a scratch track heard over laptop speakers
CEILING = 10 ** (-1 / 20)  # -1 dBFS, sample peak
PAUSE = DialogueSettings().pause  # the [dialogue] default


@dataclass(frozen=True)
class PlacedLine:
    """A line where the cut plays it.

    Attributes:
        line: The line and its take.
        record_in: Project frame where it starts.
        frames: Project frames it lasts (its seconds rounded up).
        track: Its dialogue track, from 1; two lines sounding at once are on two tracks.
    """

    line: LineAudio
    record_in: int
    frames: int
    track: int

    @property
    def record_out(self) -> int:
        return self.record_in + self.frames

    @property
    def name(self) -> str:
        """``3/5 MARA``: what an editor sees on the clip."""
        return f"{self.line.line} {self.line.character}"

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line.line,
            "character": self.line.character,
            "shot": self.line.shot,
            "record_in": self.record_in,
            "frames": self.frames,
            "track": self.track,
            "dual": self.line.dual,
            "source": self.line.source,
            "voice": self.line.voice,
        }


@dataclass(frozen=True)
class LinePlacement:
    """Every placed line, in script order, and what could not be placed as the rule says."""

    lines: list[PlacedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def tracks(self) -> int:
        return max((p.track for p in self.lines), default=0)


def _frames(seconds: Fraction, fps: Fraction) -> int:
    return math.ceil(Fraction(seconds) * fps)


def place_lines(cut: Cut, lines: Sequence[LineAudio], *, pause: float = PAUSE) -> LinePlacement:
    """Places each line in the cut by the rule in the module docstring.

    Args:
        cut: The assembled cut.
        lines: Each line with its chosen take, in any order (script order is restored).
        pause: Seconds before a shot's first line and between lines
            (``[dialogue] pause``: ``production.dialogue.dialogue_settings(...).pause``).

    Returns:
        The placed lines in script order, and warnings.
    """
    fps = cut.fps
    gap = round(Fraction(pause).limit_denominator(10000) * fps)
    shots = {(clip.scene, clip.shot): clip for clip in cut.clips}
    order = {(clip.scene, clip.shot): clip.index for clip in cut.clips}
    warnings: list[str] = []
    by_shot: dict[tuple[str, str], list[LineAudio]] = {}
    for line in lines:
        key = (line.scene, line.shot)
        if key not in shots:
            warnings.append(
                f"line {line.line} ({line.character}): shot {line.shot} is not in the cut"
            )
            continue
        by_shot.setdefault(key, []).append(line)
    placed: list[PlacedLine] = []
    for key in sorted(by_shot, key=order.__getitem__):
        clip = shots[key]
        at = clip.record_in + gap
        partner: tuple[LineAudio, int, int] | None = None  # first of a dual pair: (line, in, out)
        for line in sorted(by_shot[key], key=lambda item: item.order):
            length = _frames(line.seconds, fps)
            if line.dual and partner is not None:
                start = partner[1]
                at = max(partner[2], start + length) + gap
                partner = None
            else:
                start = at
                at = start + length + gap
                partner = (line, start, start + length) if line.dual else None
            placed.append(PlacedLine(line, start, length, 0))
            if start + length > clip.record_out:
                over = Fraction(start + length - clip.record_out) / fps
                warnings.append(
                    f"line {line.line} ({line.character}) runs {float(over):.2f} s past the end "
                    f"of shot {line.shot}"
                )
    return LinePlacement(_assign_tracks(placed), warnings)


def shot_overruns(cut: Cut, placed: Sequence[PlacedLine]) -> list[str]:
    """One warning per shot whose placed lines run past its end in the cut (its picture
    is shorter than its lines: an older, shorter take circled, or a slate), in cut order."""
    clips = {(clip.scene, clip.shot): clip for clip in cut.clips}
    over: dict[tuple[str, str], int] = {}
    for item in placed:
        key = (item.line.scene, item.line.shot)
        clip = clips.get(key)
        if clip is not None and item.record_out > clip.record_out:
            over[key] = max(over.get(key, 0), item.record_out - clip.record_out)
    found = []
    for key in sorted(over, key=lambda k: clips[k].index):
        clip = clips[key]
        if clip.take_label is not None:
            picture = f"{clip.status or 'its'} take {clip.take_label} is {clip.duration} frames"
        else:
            picture = f"its slate is {clip.duration} frames"
        found.append(
            f"{clip.shot}: its lines run {over[key]} frames past its end ({picture}): "
            "render a longer take or `dialogue time`"
        )
    return found


def _assign_tracks(placed: list[PlacedLine]) -> list[PlacedLine]:
    ends: list[int] = []  # per track, the frame its last line ends
    out = []
    for item in sorted(placed, key=lambda p: (p.record_in, p.line.scene, p.line.order)):
        track = next((i for i, end in enumerate(ends) if end <= item.record_in), len(ends))
        if track == len(ends):
            ends.append(0)
        ends[track] = item.record_out
        out.append(PlacedLine(item.line, item.record_in, item.frames, track + 1))
    position = {id(p.line): i for i, p in enumerate(placed)}
    return sorted(out, key=lambda p: position[id(p.line)])


# Loudness ---------------------------------------------------------------------------


def _line_gain(samples: np.ndarray) -> float:
    """The gain that brings a line to ``LINE_LOUDNESS`` without its peak passing ``CEILING``."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak == 0:
        return 1.0
    loudness = integrated_loudness(samples, AUDIO_RATE)
    if loudness <= SILENCE_LUFS:  # shorter than a block, or all gated out: by its peak
        return CEILING / peak
    return min(10 ** ((LINE_LOUDNESS - loudness) / 20), CEILING / peak)


def read_line(path: Path, label: str) -> np.ndarray:
    """A line's take decoded to 48 kHz stereo float32, shape (2, n).

    Raises:
        StorageError: The file is missing.
        InvalidMediaError: It holds no audio, or cannot be decoded.
    """
    import av

    if not path.is_file():
        raise StorageError(f"line {label}: its audio {path} is missing; run 'setpiece fsck'")
    chunks: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InvalidMediaError(
                    f"line {label}: {path} holds no audio; record the line again"
                )
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMediaError(
            f"line {label}: {path} cannot be decoded ({exc}); record the line again"
        ) from exc
    if not chunks:
        return np.zeros((2, 0), np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32)


# The mix ----------------------------------------------------------------------------


def sample_at(frame: int, fps: Fraction) -> int:
    """The audio sample where project frame ``frame`` starts: floor(frame / fps * 48000)."""
    return frame * AUDIO_RATE * fps.denominator // fps.numerator


@dataclass
class _Group:
    """Lines that overlap, summed and levelled as one."""

    start: int  # sample
    end: int
    lines: list[PlacedLine]
    mix: np.ndarray | None = None


class DialogueBed:
    """The dialogue as one track of 48 kHz stereo samples, read forward in any slices.

    Args:
        placement: The placed lines.
        fps: The cut's rate.
    """

    def __init__(self, placement: LinePlacement, fps: Fraction) -> None:
        self._fps = fps
        self._groups = _groups(placement.lines, fps)
        self._next = 0  # first group not yet dropped

    @property
    def empty(self) -> bool:
        return not self._groups

    def take(self, start: int, count: int) -> np.ndarray:
        """Samples ``start`` to ``start + count`` (silence where no line sounds).

        Calls must move forward: a group is dropped once a call starts past its end.
        """
        out = np.zeros((2, count), np.float32)
        end = start + count
        while self._next < len(self._groups) and self._groups[self._next].end <= start:
            self._groups[self._next].mix = None
            self._next += 1
        for group in self._groups[self._next :]:
            if group.start >= end:
                break
            if group.mix is None:
                group.mix = self._mix(group)
            lo, hi = max(start, group.start), min(end, group.end)
            out[:, lo - start : hi - start] = group.mix[:, lo - group.start : hi - group.start]
        return out

    def _mix(self, group: _Group) -> np.ndarray:
        mix = np.zeros((2, group.end - group.start), np.float32)
        for item in group.lines:
            samples = read_line(item.line.audio, item.line.line)
            samples *= _line_gain(samples)
            at = sample_at(item.record_in, self._fps) - group.start
            used = min(samples.shape[1], mix.shape[1] - at)
            mix[:, at : at + used] += samples[:, :used]
        peak = float(np.abs(mix).max()) if mix.size else 0.0
        if peak > CEILING:
            mix *= CEILING / peak
        return mix


def _groups(placed: Iterable[PlacedLine], fps: Fraction) -> list[_Group]:
    groups: list[_Group] = []
    for item in sorted(placed, key=lambda p: p.record_in):
        start = sample_at(item.record_in, fps)
        # The take's own length in samples, a little over its frames never: frames round up.
        end = start + math.ceil(Fraction(item.line.seconds) * AUDIO_RATE)
        if groups and start < groups[-1].end:
            groups[-1].end = max(groups[-1].end, end)
            groups[-1].lines.append(item)
        else:
            groups.append(_Group(start, end, [item]))
    return groups
