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


def _speaker(rate: int = 16000, fail: list[BaseException] | None = None):
    """A speaker that writes a real WAV, a tenth of a second per word (a test's voice)."""
    from setpiece.generate.queue import SpeechJob, Spoken

    said: list[str] = []

    def speak(job: SpeechJob, folder: Path) -> Spoken:
        if fail:
            raise fail.pop(0)
        said.append(job.line)
        words = len(job.text.split())
        path = wav(folder / "line.wav", seconds=words / 10, rate=rate)
        return Spoken(path, int(words / 10 * rate), rate, -23.0, {"backend": job.voice["backend"]})

    speak.said = said  # type: ignore[attr-defined]
    return speak


def _default(character: str) -> dict:
    return {"backend": "espeak", "voice": "en-us", "rate": None, "pitch": None}


def test_speech_goes_through_the_queue_and_a_voice_change_requeues_only_its_lines(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.generate.queue import enqueue_speech, run_queue

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    first = enqueue_speech(production, default_voice=_default)
    assert first.queued == ["1/1", "1/2", "1/3", "2/1"]
    assert first.default_voices == {"MARA": "espeak:en-us", "TEO": "espeak:en-us"}
    speak = _speaker()
    report = run_queue(production, speak=speak)
    assert report.done == 4 and report.failed == 0
    takes = {line.id: line.takes for line in list_lines(production)}
    assert takes["1/1"][0].duration == 0.2 and takes["1/1"][0].lufs == -23.0
    assert takes["1/1"][0].voice == "espeak:en-us" and not takes["1/1"][0].stale
    again = enqueue_speech(production, default_voice=_default)
    assert again.queued == [] and len(again.fresh) == 4
    set_voice(production, "MARA", backend="espeak", voice="en-us+f3")
    stale = [line.id for line in list_lines(production) if line.takes[-1].stale]
    assert stale == ["1/1", "1/3"]
    assert enqueue_speech(production, default_voice=_default).queued == ["1/1", "1/3"]
    run_queue(production, speak=speak)
    assert speak.said[4:] == ["1/1", "1/3"]  # type: ignore[attr-defined]
    assert not any(line.takes[-1].stale for line in list_lines(production))


def test_a_default_voice_chosen_anew_speaks_that_characters_lines_again(
    production: Production, tmp_path: Path
) -> None:
    """Takes made with a default are fresh while the default stays what it was: when the
    default changes (the script now tells the character's register), only that
    character's lines are spoken again."""
    from setpiece.generate.queue import enqueue_speech, run_queue

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    enqueue_speech(production, default_voice=_default)
    run_queue(production, speak=_speaker())

    def teo_is_a_man(character: str) -> dict:
        voice = _default(character)
        return {**voice, "voice": "en-us+m3"} if character == "TEO" else voice

    again = enqueue_speech(production, default_voice=teo_is_a_man)
    teo = [line.id for line in list_lines(production, character="TEO")]
    assert again.queued == teo and teo
    assert enqueue_speech(production, default_voice=teo_is_a_man).queued == []


def test_speech_failures(production: Production, tmp_path: Path) -> None:
    from setpiece.errors import SetpieceError
    from setpiece.generate.queue import enqueue_speech, run_queue

    class Busy(SetpieceError):
        transient = True

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    enqueue_speech(production, default_voice=_default, line="1/1")
    speak = _speaker(fail=[Busy("busy"), NotFoundError("no voice 'en-zz'")])
    report = run_queue(production, speak=speak, backoff=lambda attempt: 0.0)
    assert report.retried == 1 and report.failed == 1
    assert report.failures == ["1/1/1: no voice 'en-zz'"]
    (take,) = list_lines(production, line="1/1")[0].takes
    assert take.status == "failed" and take.failure == "no voice 'en-zz'"


def test_lines_that_cannot_be_spoken(production: Production, tmp_path: Path) -> None:
    from setpiece.generate.queue import enqueue_speech
    from setpiece.production.dialogue import line_row

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    with production.transaction() as session:
        line_row(session, "1/1").text = "x" * 5000
    with pytest.raises(InvalidInputError, match="1/1 is 5,000 characters; speech takes at most 4,"):
        enqueue_speech(production, default_voice=_default, line="1/1")
    with production.transaction() as session:
        line_row(session, "1/1").text = "   "
    with pytest.raises(InvalidInputError, match="line 1/1 is empty"):
        enqueue_speech(production, default_voice=_default, line="1/1")
    assert all(not line.takes for line in list_lines(production))  # nothing half-queued
    # Among others, a line that cannot be spoken is said and left out; the rest are queued.
    report = enqueue_speech(production, default_voice=_default)
    assert report.refused == ["line 1/1 is empty: there is nothing to say"]
    assert report.queued and "1/1" not in report.queued
    assert not list_lines(production, line="1/1")[0].takes


def test_a_cue_with_nothing_said_is_no_line(production: Production, tmp_path: Path) -> None:
    import_script(
        production, _write(tmp_path, "e.fountain", "INT. BOOTH - NIGHT #1#\n\nMARA\n(beat)\n\n")
    )
    assert list_lines(production) == []


def test_timing_from_sound_and_the_edit_wins(production: Production, tmp_path: Path) -> None:
    from setpiece.pipeline.timing import time_shots
    from setpiece.production.history import record_event
    from setpiece.production.shots import list_shots
    from setpiece.script.planning import plan_shots

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    plan_shots(production)
    before = {shot.code: shot.planned_frames for shot in list_shots(production)}
    assert time_shots(production).changed == []  # nothing measured: the estimate stands
    add_line_take(
        production, "1/1", wav(tmp_path / "m.wav", 0.2), frames=4410 * 20, sample_rate=4410,
        lufs=None,
    )  # fmt: skip
    dry = time_shots(production, dry_run=True)
    assert dry.changed and dry.dry_run
    assert {shot.code: shot.planned_frames for shot in list_shots(production)} == before
    with production.transaction() as session:  # the editor's length for one of them
        record_event(
            session, production, "shot", dry.changed[0].code, "duration", note="from the edit x"
        )
    report = time_shots(production)
    assert report.kept_by_edit == [dry.changed[0].code]
    assert [c.code for c in report.changed] == [c.code for c in dry.changed[1:]]
    after = {shot.code: shot.planned_frames for shot in list_shots(production)}
    for change in report.changed:  # MARA's 20 s take (+0.5 s pause) lengthens her shots
        assert after[change.code] > before[change.code]
    assert time_shots(production).changed == []


def test_a_cloned_voice_with_consent_keeps_its_sample(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.production.fsck import referenced_media
    from setpiece.production.likeness import record_likeness

    import_script(production, _write(tmp_path, "a.fountain", DRAFT))
    consent = tmp_path / "consent.pdf"
    consent.write_bytes(b"%PDF-1.4 signed")
    record_likeness(
        production, "MARA", person="Ada Lee", consent=consent, date="2026-11-02", scope="film"
    )
    voice = set_voice(
        production, "MARA", backend="xtts", voice="clone", sample=wav(tmp_path / "ada.wav")
    )
    assert voice.sample is not None
    with production.transaction(read_only=True) as session:
        assert voice.sample in referenced_media(session)  # fsck --gc keeps it


ALTERNATING = """Title: Rooftop

EXT. ROOF - NIGHT #1#

BRANDT
Hand it over.

TEO
No.

BRANDT
Then keep it.
"""


def test_lines_never_go_backwards_in_cut_order(production: Production, tmp_path: Path) -> None:
    """A-B-A over singles A, B: the third line stays in B's single after the second
    (an L-cut), instead of jumping back into A's single before it."""
    from setpiece.edit.sound import place_lines
    from setpiece.production.cut import assemble
    from setpiece.production.shots import SubjectSpec, add_shot

    import_script(production, _write(tmp_path, "roof.fountain", ALTERNATING))
    for name in ("1/1", "1/2", "1/3"):
        add_line_take(
            production,
            name,
            wav(tmp_path / "l.wav", 0.5),
            frames=11025,
            sample_rate=22050,
            lufs=-20,
        )
    add_shot(production, "1", "1A", subjects=[SubjectSpec("BRANDT")], duration=3.0)
    add_shot(production, "1", "1B", subjects=[SubjectSpec("TEO")], duration=3.0)
    with production.transaction(read_only=True) as session:
        cut = cut_lines(production, session)
    assert [(c.line, c.shot) for c in cut] == [("1/1", "1A"), ("1/2", "1B"), ("1/3", "1B")]
    placed = place_lines(assemble(production), cut, pause=0.25).lines
    starts = [p.record_in for p in sorted(placed, key=lambda p: p.line.order)]
    assert starts == sorted(starts) and len(set(starts)) == 3
