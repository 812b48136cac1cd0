"""Lines from the script, their takes, voices and staleness (both databases)."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.model.orm import Line
from setpiece.production.context import Production
from setpiece.production.dialogue import (
    add_line_take,
    circle_line_take,
    cut_lines,
    list_lines,
    set_voice,
)
from setpiece.script.importer import import_script

DRAFT = """Title: Lines

INT. BOOTH - NIGHT #1#

MARA sets the reel down.

MARA
(quietly)
Guard that.

TEO (O.S.)
I will.

MARA ^
It is the only print left.

INT. HALL - NIGHT #2#

TEO
Gone.
"""

REVISED = """Title: Lines

INT. BOOTH - NIGHT #1#

MARA sets the reel down.

MARA
(quietly)
Guard it with your life.

MARA ^
It is the only print left.

TEO
Promise.

INT. HALL - NIGHT #2#

TEO
Gone.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def wav(path: Path, seconds: float = 1.0, rate: int = 22050) -> Path:
    """A real mono 16-bit WAV of a quiet tone."""
    import math

    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(
            b"".join(
                int(3000 * math.sin(2 * math.pi * 440 * i / rate)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(frames)
            )
        )
    return path


def test_import_makes_a_line_per_dialogue_block(production: Production, tmp_path: Path) -> None:
    report = import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    assert report.lines.added == ["1/1", "1/2", "1/3", "2/1"]
    lines = {line.id: line for line in list_lines(production)}
    assert lines["1/1"].character == "MARA"
    assert lines["1/1"].parenthetical == "(quietly)"
    assert lines["1/1"].text == "Guard that."
    assert lines["1/2"].extension == "O.S."
    assert lines["1/3"].dual and not lines["1/1"].dual
    assert [line.id for line in list_lines(production, character="teo")] == ["1/2", "2/1"]


def test_revision_flags_changed_lines_and_omits_dropped_ones(
    production: Production, tmp_path: Path
) -> None:
    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    report = import_script(production, _write(tmp_path, "b.fountain", REVISED))
    assert report.lines.changed == ["1/1"]
    assert report.lines.omitted == ["1/2"]
    assert report.lines.added == ["1/4"]
    shown = {line.id: line for line in list_lines(production)}
    assert list(shown) == ["1/1", "1/3", "1/4", "2/1"]  # script order, numbers kept
    assert shown["1/1"].needs_review and shown["1/1"].text == "Guard it with your life."
    assert not shown["1/3"].needs_review
    with production.transaction(read_only=True) as session:
        assert session.query(Line).count() == 5  # the omitted line is kept
    # The draft again restores the dropped line under its own number.
    again = import_script(production, _write(tmp_path, "c.fountain", DRAFT))
    assert again.lines.restored == ["1/2"]


def test_recorded_take_circle_and_cut(production: Production, tmp_path: Path) -> None:
    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    take = add_line_take(
        production, "1/1", wav(tmp_path / "mara.wav"), frames=22050, sample_rate=22050, lufs=-20.0
    )
    assert take.source == "recorded" and take.duration == 1.0 and not take.stale
    second = add_line_take(
        production,
        "1/1",
        wav(tmp_path / "mara2.wav", 0.5),
        frames=11025,
        sample_rate=22050,
        lufs=-21.0,
    )
    with production.transaction(read_only=True) as session:
        assert cut_lines(production, session) == []  # no shot covers the scene yet
    from setpiece.production.shots import SubjectSpec, add_shot

    add_shot(production, "1", "1A", subjects=[SubjectSpec("MARA")])
    with production.transaction(read_only=True) as session:
        cut = cut_lines(production, session)
    assert [(c.line, c.shot, c.seconds) for c in cut] == [("1/1", "1A", Fraction(1, 2))]
    assert cut[0].audio.is_file() and cut[0].source == "recorded"
    circle_line_take(production, "1/1", str(take.number))
    with production.transaction(read_only=True) as session:
        assert cut_lines(production, session)[0].seconds == 1
    line = list_lines(production, line="1/1")[0]
    assert [t.circled for t in line.takes] == [True, False]
    assert second.number == 2
    with pytest.raises(NotFoundError):
        circle_line_take(production, "1/1", "9")


def test_voice_change_makes_only_that_characters_synthetic_takes_stale(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.model.orm import LineTake
    from setpiece.production.dialogue import line_row

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    set_voice(production, "MARA", backend="espeak", voice="en-us+f3")
    set_voice(production, "TEO", backend="espeak", voice="en-us+m3")
    with production.transaction() as session:
        for name, voice in (("1/1", "en-us+f3"), ("1/2", "en-us+m3")):
            row = line_row(session, name)
            session.add(
                LineTake(
                    line=row,
                    number=1,
                    source="synthetic",
                    status="ready",
                    circled=False,
                    frames=100,
                    sample_rate=100,
                    voice={
                        "backend": "espeak",
                        "voice": voice,
                        "rate": None,
                        "pitch": None,
                        "sample": None,
                    },
                    text=row.text,
                    recipe={},
                )
            )
    stale = {line.id: [t.stale for t in line.takes] for line in list_lines(production)}
    assert stale["1/1"] == [False] and stale["1/2"] == [False]
    set_voice(production, "MARA", backend="espeak", voice="en-us+f4", rate=150)
    stale = {line.id: [t.stale for t in line.takes] for line in list_lines(production)}
    assert stale["1/1"] == [True] and stale["1/2"] == [False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 10}, "--rate 10 is out of range"),
        ({"pitch": 101}, "--pitch 101 is out of range"),
    ],
)
def test_voice_bad_input(
    production: Production, tmp_path: Path, kwargs: dict, message: str
) -> None:
    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    with pytest.raises(InvalidInputError, match=message):
        set_voice(production, "MARA", backend="espeak", voice="en-us", **kwargs)
    with pytest.raises(NotFoundError):
        set_voice(production, "NOBODY", backend="espeak", voice="en-us")


def test_cloned_voice_needs_a_likeness(production: Production, tmp_path: Path) -> None:
    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    with pytest.raises(InvalidInputError, match="likeness"):
        set_voice(production, "MARA", backend="xtts", voice="clone", sample=wav(tmp_path / "s.wav"))


def test_recorded_take_at_the_wrong_rate(production: Production, tmp_path: Path) -> None:
    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    (production.config.root / "setpiece.toml").open("a").write(
        "\n[dialogue]\nsample_rate = 48000\n"
    )
    reopened = Production.open(production.config.root, database_url=production.config.database_url)
    try:
        with pytest.raises(InvalidInputError, match="22050 Hz; recorded takes are 48000 Hz"):
            add_line_take(
                reopened, "1/1", wav(tmp_path / "m.wav"), frames=22050, sample_rate=22050, lufs=None
            )
    finally:
        reopened.close()
    assert list_lines(production, line="1/1")[0].takes == []


def test_unknown_line(production: Production, tmp_path: Path) -> None:
    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    with pytest.raises(InvalidInputError, match="SCENE/NUMBER"):
        list_lines(production, line="nonsense")
    with pytest.raises(NotFoundError, match="no line 1/9"):
        list_lines(production, line="1/9")
