"""Progress without a terminal: plain lines on stderr, a bounded number of them."""

from __future__ import annotations

import pytest

from setpiece.cli._common import progress_lines


def test_takes_get_a_line_every_ten_and_at_the_end(capsys: pytest.CaptureFixture[str]) -> None:
    show = progress_lines("make")
    for done in range(23):
        show("render takes", done, 22)
        show("render takes", done, 22)  # the same count twice is one line
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"make: render takes {n}/22" for n in (0, 10, 20, 22)]


def test_a_long_phase_gets_at_most_about_twenty_lines(capsys: pytest.CaptureFixture[str]) -> None:
    show = progress_lines("make")
    for done in range(2001):
        show("assemble frames", done, 2000)
    lines = capsys.readouterr().err.splitlines()
    assert (
        lines[0] == "make: assemble frames 0/2000"
        and lines[-1] == "make: assemble frames 2000/2000"
    )
    assert len(lines) == 21
