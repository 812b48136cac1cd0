"""Rational time: frame rates are fractions, positions are integer frames.

Float frame rates drift over a feature-length cut (PySceneDetect and OTIO both
carry issues from it), so every rate in Setpiece is a ``Fraction`` and is
written in JSON as ``"num/den"`` ("24000/1001", "24/1").

Timecode has one owner, ``timecode``, and it is OpenTimelineIO's ``opentime``: the
EDL and FCP XML writers are OTIO's adapters, which call ``opentime.to_timecode``,
so the burn-ins, slates and reports that call ``timecode`` show what the editor's
lists say, to the frame. (A hand-written non-drop count once disagreed with the
EDL at 29.97 fps by 3.6 s an hour.) A call costs about 4 µs, a microsecond more
than that hand count: nothing next to encoding the frame it is burnt into.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from setpiece.config import load_section, setting
from setpiece.errors import InvalidInputError

__all__ = [
    "FrameCount",
    "ProjectSettings",
    "format_rate",
    "frame_count",
    "frames_to_seconds",
    "parse_rate",
    "parse_resolution",
    "seconds_to_frames",
    "timecode",
]

# The NTSC family written as decimals by people and by some tools.
_NTSC = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.952": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
    "119.88": Fraction(120000, 1001),
}
_RATE = re.compile(r"^\s*(\d+)(?:\s*/\s*(\d+))?\s*$")
_DECIMAL = re.compile(r"^\s*\d+\.\d+\s*$")


def parse_rate(text: str | int | Fraction) -> Fraction:
    """Parses a frame rate written as "24", "24000/1001", "23.976" or "25.0".

    Args:
        text: The rate as the user wrote it.

    Returns:
        The exact rate.

    Raises:
        InvalidInputError: The text is no positive rate.
    """
    if isinstance(text, Fraction):
        rate = text
    elif isinstance(text, int):
        rate = Fraction(text)
    else:
        stripped = text.strip()
        if stripped in _NTSC:
            rate = _NTSC[stripped]
        elif _DECIMAL.match(stripped):
            rate = Fraction(stripped)
        else:
            match = _RATE.match(stripped)
            if not match or (match.group(2) is not None and int(match.group(2)) == 0):
                raise InvalidInputError(
                    f"frame rate {text!r} is not a rate: write it as 24, 25, 23.976 or 24000/1001"
                )
            rate = Fraction(int(match.group(1)), int(match.group(2) or 1))
    if rate <= 0 or rate > 1000:
        raise InvalidInputError(
            f"frame rate {text!r} is out of range: give a rate between 0 and 1000"
        )
    return rate


def format_rate(rate: Fraction) -> str:
    """Writes a rate the way JSON output carries it: always "num/den"."""
    return f"{rate.numerator}/{rate.denominator}"


def seconds_to_frames(seconds: Fraction | float, rate: Fraction) -> int:
    """Rounds a duration in seconds to the nearest whole frame at ``rate``."""
    return round(Fraction(seconds) * rate)


def frames_to_seconds(frames: int, rate: Fraction) -> Fraction:
    """The exact duration of ``frames`` frames at ``rate``."""
    return Fraction(frames) / rate


def parse_resolution(text: str) -> tuple[int, int]:
    """Parses "1920x1080" into (1920, 1080).

    Raises:
        InvalidInputError: Not WIDTHxHEIGHT with positive, even-friendly sizes.
    """
    match = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", text)
    if not match:
        raise InvalidInputError(f"resolution {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080")
    width, height = int(match.group(1)), int(match.group(2))
    if not (16 <= width <= 16384 and 16 <= height <= 16384):
        raise InvalidInputError(f"resolution {text!r} is out of range: each side from 16 to 16384")
    return width, height


def timecode(frames: int, rate: Fraction) -> str:
    """SMPTE timecode of record frame ``frames`` at ``rate``, as the EDL writes it.

    OpenTimelineIO's ``opentime.to_timecode``, with drop frame inferred from the rate
    as its EDL and FCP XML writers infer it: drop frame (``;`` before the frames) at
    29.97 and 59.94 fps (30000/1001, 60000/1001), non-drop at every other rate, which
    counts at the nominal rate (24000/1001 counts as 24). Timecode rolls over at 24
    hours. SMPTE defines no timecode at other rates (12, 15, 17 fps...); there, and
    only there, frames are counted non-drop at the next whole rate, like the rest.

    Args:
        frames: Frames from the start of the cut (0 is ``00:00:00:00``).
        rate: The exact frame rate.

    Returns:
        ``HH:MM:SS:FF``, or ``HH:MM:SS;FF`` in drop frame.
    """
    from opentimelineio import opentime

    fps = float(rate)
    if opentime.RationalTime.is_valid_timecode_rate(fps):
        code: str = opentime.to_timecode(opentime.RationalTime(frames, fps), fps)
        return code
    nominal = math.ceil(rate)
    seconds, frame = divmod(frames, nominal)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours % 24:02d}:{minute:02d}:{second:02d}:{frame:02d}"


@dataclass(frozen=True)
class ProjectSettings:
    """``[project]``: how people count the film's frames.

    ``first_frame`` is the number shown for a take's first frame: productions count from
    1001 (room for handles before it), and ``first_frame = 1001`` shows that. The default
    stays 0, so a project made before the setting shows and takes the numbers it always did.
    """

    first_frame: int = setting(0, low=0, high=10_000_000, help="the number of a take's first frame")


@dataclass(frozen=True)
class FrameCount:
    """The one conversion between stored frames (0-based) and the numbers people read.

    Stored frames (findings, comments, the API's JSON) stay 0-based; the board, the CLI's
    output and its ``--frame`` options use ``first_frame + stored``, with SMPTE timecode of
    the stored frame at the film's rate (``timecode``, that is OpenTimelineIO's).
    """

    first_frame: int
    rate: Fraction

    def shown(self, stored: int) -> int:
        """The number people read for stored frame ``stored``."""
        return self.first_frame + stored

    def stored(self, shown: int | str) -> int:
        """The stored (0-based) frame of the number ``shown`` that a person typed.

        Raises:
            InvalidInputError: Not a whole number, or before the first frame.
        """
        text = str(shown).strip()
        if not re.fullmatch(r"\d{1,9}", text):
            raise InvalidInputError(f"frame {text[:20]!r} is not a whole number")
        if int(text) < self.first_frame:
            raise InvalidInputError(
                f"frame {text} is before the first frame, {self.first_frame}"
                " ([project] first_frame in setpiece.toml)"
            )
        return int(text) - self.first_frame

    def timecode(self, stored: int) -> str:
        """SMPTE timecode of stored frame ``stored`` from the take's start, at the film's rate."""
        return timecode(stored, self.rate)

    def label(self, stored: int) -> str:
        """``frame 1003 (00:00:00:02)``: the number people count, then the timecode."""
        return f"frame {self.shown(stored)} ({self.timecode(stored)})"


def frame_count(settings: dict[str, Any], rate: Fraction) -> FrameCount:
    """The film's frame counting: its toml's ``[project]`` table at the film's ``rate``.

    Raises:
        InvalidInputError: The ``[project]`` table has an unknown key or a bad value.
    """
    project = load_section(ProjectSettings, settings.get("project"), section="project")
    return FrameCount(project.first_frame, rate)
