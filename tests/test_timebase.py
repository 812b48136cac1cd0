"""Timecode: one function, OpenTimelineIO's, checked against SMPTE's own counts."""

from __future__ import annotations

from fractions import Fraction

import pytest

from setpiece.timebase import timecode

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(
    ("frames", "rate", "expected"),
    [
        (0, Fraction(24), "00:00:00:00"),
        (1800, Fraction(24), "00:01:15:00"),
        (86399, Fraction(24), "00:59:59:23"),
        (1800, Fraction(25), "00:01:12:00"),
        (90000, Fraction(25), "01:00:00:00"),
        # 23.976 has no drop frame: it counts 24 a second, and an hour of it is 86,400 frames.
        (1800, Fraction(24000, 1001), "00:01:15:00"),
        (86400, Fraction(24000, 1001), "01:00:00:00"),
        # 29.97 drop frame skips ;00 and ;01 each minute but every tenth: the burn-in once
        # said 00:01:00:00 at frame 1800, the EDL 00:01:00;02.
        (1799, NTSC, "00:00:59;29"),
        (1800, NTSC, "00:01:00;02"),
        (17982, NTSC, "00:10:00;00"),
        (107892, NTSC, "01:00:00;00"),
        # 59.94 drop frame skips four a minute: an hour is 215,784 frames.
        (3600, Fraction(60000, 1001), "00:01:00;04"),
        (215784, Fraction(60000, 1001), "01:00:00;00"),
        (1800, Fraction(30), "00:01:00:00"),
        # No SMPTE timecode at 12 or 15 fps: a non-drop count at the rate.
        (1800, Fraction(12), "00:02:30:00"),
        (1800, Fraction(15), "00:02:00:00"),
    ],
)
def test_timecode_counts_as_smpte_does(frames: int, rate: Fraction, expected: str) -> None:
    assert timecode(frames, rate) == expected
