"""Joint and group cues: "MARA & TEO" is each of them speaking at once, "ALL" is nobody's
character; the breakdown, the bible and the lines agree (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from setpiece.model.enums import BibleKind
from setpiece.model.orm import Appearance, BibleEntry, Line, Scene
from setpiece.production.context import Production
from setpiece.production.dialogue import line_seconds, list_lines, set_voice
from setpiece.script.breakdown import speaker_lookup
from setpiece.script.cues import cue_speakers, is_group_cue, joint_parts
from setpiece.script.importer import import_script

TOGETHER = """Title: Together

INT. BOOTH - NIGHT #1#

MARA
Ready?

TEO
Ready.

{cue}
Roll it!

MARA
Now.

ALL look up at the screen.

ALL
Happy birthday!

INT. HALL - NIGHT #2#

MR. & MRS. SMITH
We came for the show.

BOTH
Shh.
"""


def _wav(path: Path) -> Path:
    """A short real WAV (its measured length is given to ``add_line_take``)."""
    import wave

    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\x10\x00" * 800)
    return path


def _import(production: Production, tmp_path: Path, cue: str = "MARA & TEO"):
    path = tmp_path / "together.fountain"
    path.write_text(TOGETHER.format(cue=cue), encoding="utf-8")
    return import_script(production, path)


@pytest.mark.parametrize(
    ("cue", "speakers"),
    [
        ("MARA & TEO", ("MARA", "TEO")),
        ("Mara and Teo", ("MARA", "TEO")),
        ("MARA, TEO", ("MARA", "TEO")),
        ("TEO/MARA", ("TEO", "MARA")),
        ("MARA & TEO & MARA", ("MARA", "TEO")),
        ("MARA & STRANGER", ("MARA & STRANGER",)),  # a part that never speaks alone: a name
        ("MR. & MRS. SMITH", ("MR. & MRS. SMITH",)),
        ("ALL", ()),
        ("both", ()),
        ("THE CROWD", ()),
        ("MARA", ("MARA",)),
    ],
)
def test_who_speaks_a_cue(cue: str, speakers: tuple[str, ...]) -> None:
    speaker = speaker_lookup(["MARA", "TEO", "MARA & STRANGER", "ALL"])
    assert cue_speakers(cue, speaker) == speakers


def test_cue_words() -> None:
    assert joint_parts("ODE  &  GODUHA") == ["ODE", "GODUHA"]
    assert joint_parts("ANDREW") == ["ANDREW"]  # AND inside a name is no joint
    assert joint_parts("SANDRA AND ANDY") == ["SANDRA", "ANDY"]
    assert is_group_cue("Everyone") and not is_group_cue("ALLAN")


@pytest.mark.parametrize("cue", ["MARA & TEO", "MARA AND TEO", "MARA, TEO", "MARA / TEO"])
def test_a_joint_cue_is_each_speaker_at_once(
    production: Production, tmp_path: Path, cue: str
) -> None:
    report = _import(production, tmp_path, cue)
    assert report.lines.added == ["1/1", "1/2", "1/3", "1/4", "1/5", "1/6", "2/1", "2/2"]
    lines = {line.id: line for line in list_lines(production)}
    assert [(lines[n].character, lines[n].text, lines[n].dual) for n in ("1/3", "1/4")] == [
        ("MARA", "Roll it!", True),
        ("TEO", "Roll it!", True),
    ]
    assert not lines["1/5"].dual
    with production.transaction(read_only=True) as session:
        scene = session.query(Scene).filter(Scene.number == "1").one()
        rows = {f"1/{r.number}": r for r in session.query(Line).filter(Line.scene_id == scene.id)}
        assert rows["1/3"].entry is not None and rows["1/3"].entry.name == "MARA"
        assert rows["1/4"].entry is not None and rows["1/4"].entry.name == "TEO"
        # One speech, one position: the shot planner counts speeches.
        assert [rows[f"1/{n}"].position for n in range(1, 7)] == [1, 2, 3, 3, 4, 5]
        counts = {
            a.entry.name: a.dialogue_lines
            for a in session.query(Appearance).filter(Appearance.scene_id == scene.id)
            if a.entry.kind == BibleKind.CHARACTER.value
        }
    assert counts == {"MARA": 3, "TEO": 2}
    assert [line.id for line in list_lines(production, character="TEO")] == ["1/2", "1/4"]


def test_joint_and_group_cues_are_no_characters(production: Production, tmp_path: Path) -> None:
    report = _import(production, tmp_path)
    assert report.new_characters == ["MARA", "TEO", "MR. & MRS. SMITH"]
    with production.transaction(read_only=True) as session:
        names = {
            e.name
            for e in session.query(BibleEntry).filter(BibleEntry.kind == BibleKind.CHARACTER.value)
        }
        assert names == {"MARA", "TEO", "MR. & MRS. SMITH"}
        group = session.query(Line).filter(Line.character == "ALL").one()
        assert group.entry is None and not group.dual
        both = session.query(Line).filter(Line.character == "BOTH").one()
        assert both.entry is None
    # A second import of the same script changes nothing.
    again = _import(production, tmp_path)
    assert (again.lines.added, again.lines.changed, again.lines.omitted) == ([], [], [])
    assert again.new_characters == []


def test_each_speaker_of_a_joint_cue_is_voiced_by_their_voice(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.generate.queue import enqueue_speech

    _import(production, tmp_path)
    set_voice(production, "MARA", backend="espeak", voice="en-us+f3")
    set_voice(production, "TEO", backend="espeak", voice="en-us+m3")
    report = enqueue_speech(
        production,
        default_voice=lambda name: {"backend": "espeak", "voice": f"default-{name}"},
        scene="1",
    )
    assert set(report.default_voices) == {"ALL"}  # the group speaks with a default, once
    voices = {line.id: line.takes[0].voice for line in list_lines(production, scene="1")}
    assert voices["1/3"] == "espeak:en-us+f3" and voices["1/4"] == "espeak:en-us+m3"
    assert voices["1/6"] == "espeak:default-ALL"


def test_a_joint_cue_is_timed_by_its_longer_take(production: Production, tmp_path: Path) -> None:
    from setpiece.production.dialogue import add_line_take

    _import(production, tmp_path)
    for line, seconds in (("1/3", 2), ("1/4", 3), ("1/5", 1)):
        add_line_take(
            production,
            line,
            _wav(tmp_path / f"{line.replace('/', '-')}.wav"),
            frames=seconds * 8000,
            sample_rate=8000,
            lufs=-20.0,
        )
    with production.transaction(read_only=True) as session:
        scene = session.query(Scene).filter(Scene.number == "1").one()
        assert line_seconds(session, scene.id) == {3: 3, 4: 1}


def test_a_joint_cue_is_heard_at_once_in_a_shot_with_both(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.edit.sound import place_lines
    from setpiece.production.cut import assemble
    from setpiece.production.dialogue import add_line_take, cut_lines
    from setpiece.production.shots import SubjectSpec, add_shot

    _import(production, tmp_path)
    add_shot(production, "1", "1A", subjects=[SubjectSpec("MARA")], duration=8)
    add_shot(production, "1", "1B", subjects=[SubjectSpec("TEO")], duration=8)
    add_shot(production, "1", "1C", subjects=[SubjectSpec("MARA"), SubjectSpec("TEO")], duration=8)
    for line in ("1/1", "1/2", "1/3", "1/4"):
        add_line_take(
            production,
            line,
            _wav(tmp_path / f"{line.replace('/', '-')}.wav"),
            frames=800,
            sample_rate=8000,
            lufs=-20.0,
        )
    with production.transaction(read_only=True) as session:
        lines = {item.line: item for item in cut_lines(production, session)}
    # Singles for the lines said alone, the two-shot for the two said at once.
    assert {name: item.shot for name, item in lines.items()} == {
        "1/1": "1A",
        "1/2": "1B",
        "1/3": "1C",
        "1/4": "1C",
    }
    placed = {p.line.line: p for p in place_lines(assemble(production), list(lines.values())).lines}
    assert placed["1/3"].record_in == placed["1/4"].record_in
    assert {placed["1/3"].track, placed["1/4"].track} == {1, 2}
