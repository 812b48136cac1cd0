"""Shots timed from the dialogue's sound: one rule (``pipeline.timing.time_shots``) behind
``setpiece dialogue time`` and ``setpiece make --dialogue``.

The rule's parts on a real project (a person's length stands unless the lines outlast it,
the edit's wins over both, a shot never ends before its lines), then the two entry points
as a user types them, giving the same lengths and the same report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from setpiece.cli.main import main
from setpiece.production.context import Production

KETTLE = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.

SAM
You are up late.

JO
So are you.
"""

BOOTH = """Title: Lines

INT. BOOTH - NIGHT #1#

MARA sets the reel down.

MARA
(quietly)
Guard that.

TEO (O.S.)
I will.

INT. HALL - NIGHT #2#

TEO
Gone.
"""


def _wav(path: Path, seconds: float, rate: int = 22050) -> Path:
    import math
    import wave

    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(
            b"".join(
                int(3000 * math.sin(2 * math.pi * 440 * i / rate)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(int(seconds * rate))
            )
        )
    return path


def _lengths(production: Production) -> dict[str, int | None]:
    from setpiece.production.shots import list_shots

    return {shot.code: shot.planned_frames for shot in list_shots(production)}


def _covering(production: Production, line: str) -> str:
    from setpiece.production.dialogue import cut_lines

    with production.transaction(read_only=True) as session:
        return next(a.shot for a in cut_lines(production, session) if a.line == line)


def test_a_person_s_length_stands_until_the_lines_outlast_it_and_the_edit_wins(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.model.orm import Shot
    from setpiece.pipeline.timing import time_shots
    from setpiece.production.dialogue import add_line_take
    from setpiece.production.history import record_event
    from setpiece.production.shots import set_shot_duration
    from setpiece.script.importer import import_script
    from setpiece.script.planning import plan_shots

    script = tmp_path / "booth.fountain"
    script.write_text(BOOTH)
    import_script(production, script)
    plan_shots(production)
    planned = _lengths(production)
    assert time_shots(production).changed == []  # nothing measured: the estimates stand
    rate = 22050
    add_line_take(
        production, "1/1", _wav(tmp_path / "m.wav", 20.0), frames=rate * 20, sample_rate=rate,
        lufs=None,
    )  # fmt: skip
    cover = _covering(production, "1/1")
    set_shot_duration(production, cover, 12)  # a person's half a second
    report = time_shots(production, dry_run=True)
    assert _lengths(production)[cover] == 12  # a dry run changes nothing
    # Lines outlast the person's length: the pause, 20 s at 24 fps, the closing pause.
    (change,) = [c for c in report.changed if c.code == cover]
    assert (change.before, change.after) == (12, 6 + 480 + 6)
    assert change.code in report.lengthened
    time_shots(production)
    assert _lengths(production)[cover] == 492
    assert time_shots(production).changed == []  # the rule settles
    # A person's longer length stands: the planner's estimate does not replace it.
    set_shot_duration(production, cover, 600)
    assert all(c.code != cover for c in time_shots(production).changed)
    assert _lengths(production)[cover] == 600
    # The planner's shots take its length with the 20 s measured (those holding MARA's
    # line grow; the others keep their estimate).
    after = _lengths(production)
    grown = [code for code in after if code != cover and after[code] != planned[code]]
    assert grown and all(after[code] > planned[code] for code in grown)  # type: ignore[operator]
    # The edit's length wins even over the lines; the report names the shot it kept.
    with production.transaction() as session:
        row = session.scalars(select(Shot).where(Shot.code == cover)).one()
        row.planned_frames = 100
        record_event(session, production, "shot", cover, "duration", note="from the edit x.otio")
    report = time_shots(production)
    assert report.kept_by_edit == [cover] and report.changed == []
    assert _lengths(production)[cover] == 100


def _run(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_make_and_dialogue_time_give_the_same_lengths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str | None
) -> None:
    """``make --dialogue`` on one project, ``shot plan``, ``dialogue render`` and
    ``dialogue time`` on another of the same script: the same shots, the same lengths,
    the same report; and after make, ``dialogue time`` finds nothing to change."""
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    script = tmp_path / "kettle.fountain"
    script.write_text(KETTLE)
    made = tmp_path / "made"
    code, out, err = _run(
        "make", script, "--project", made, "--kind", "image", "--resolution", "320x180",
        "--no-movie", "--dialogue", "--json", capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    step = next(s for s in json.loads(out)["steps"] if s["step"] == "dialogue")
    assert step["status"] == "done" and step["figures"]["spoken"] == 2
    by_make = step["figures"]["timed"]
    assert by_make, "the kettle's lines change no shot: the comparison would prove nothing"

    os.chdir(tmp_path)
    assert _run("init", "typed", capsys=capsys)[0] == 0
    typed = tmp_path / "typed"
    for args in (["script", "import", script], ["shot", "plan"], ["dialogue", "render"]):
        code, _, err = _run("--project", typed, *args, capsys=capsys)
        assert code == 0, err
    code, out, err = _run("--project", typed, "dialogue", "time", "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["changed"] == by_make
    with Production.open(made) as first, Production.open(typed) as second:
        assert _lengths(first) == _lengths(second)
    code, out, err = _run(
        "--project", made, "dialogue", "time", "--dry-run", "--json", capsys=capsys
    )
    assert code == 0, err
    assert json.loads(out)["changed"] == []


def test_lines_past_a_short_circled_take_are_said_once_per_shot(
    production: Production,
    project_dir: Path,
    make: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An older, shorter take circled: the shot's lines run past its end into the next
    scene, and ``edit assemble`` says so, one line per shot (and in --json)."""
    from setpiece.pipeline.timing import line_overruns
    from setpiece.production.cut import assemble
    from setpiece.production.dialogue import add_line_take
    from setpiece.production.shots import SubjectSpec, add_shot
    from setpiece.production.takes import approve_take, import_takes
    from setpiece.script.importer import import_script

    script = tmp_path / "booth.fountain"
    script.write_text(BOOTH)
    import_script(production, script)
    add_shot(production, "1", "1A", subjects=[SubjectSpec("MARA")], duration=4.0)
    add_shot(production, "2", "2A", subjects=[SubjectSpec("TEO")], duration=4.0)
    rate = 22050
    add_line_take(
        production, "1/1", _wav(tmp_path / "m.wav", 2.0), frames=rate * 2, sample_rate=rate,
        lufs=None,
    )  # fmt: skip
    short = make.clip(frames=24)  # type: ignore[attr-defined]
    take = import_takes(production, "1A", [short]).created[0]
    approve_take(production, "1A", take.id)
    cut = assemble(production)
    clip = next(c for c in cut.clips if c.shot == "1A")
    assert clip.status == "circled"
    # The pause (6 frames at 24 fps) and 2 s (48 frames) end 30 frames past the take's 24.
    expected = (
        f"1A: its lines run 30 frames past its end (circled take {clip.take_label} is "
        f"{clip.duration} frames): render a longer take or `dialogue time`"
    )
    assert clip.duration == 24
    assert line_overruns(production, cut) == [expected]
    code, out, err = _run("--project", project_dir, "edit", "assemble", capsys=capsys)
    assert code == 0, err
    assert [ln for ln in out.splitlines() if "past its end" in ln] == [f"warning: {expected}"]
    code, out, err = _run("--project", project_dir, "edit", "assemble", "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["dialogue_overruns"] == [expected]
