"""Scene numbers as productions use them: read exactly, lettered after the previous scene,
locked once shots exist; and the two cases issue 22 was filed for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from setpiece.errors import ExitCode, InvalidInputError
from setpiece.production import scenes, shots
from setpiece.production.context import Production
from setpiece.production.rows import SCENE_NUMBER
from setpiece.script.fountain import parse_fountain
from setpiece.script.importer import import_script
from setpiece.script.numbers import _VALID, inserted_number, number_order, read_number
from setpiece.script.reading import read_script

FIVE = """Title: Five Scenes
    In Two Lines

INT. HALL - NIGHT #1#

Anna waits.

EXT. GARDEN - NIGHT #2#

Rain on the roses.

INT. STAIRS - NIGHT #3#

Ben climbs.

.THE ROOF

Wind. Nobody.

INT. ATTIC - NIGHT #4#

The suitcase opens.
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def listed(production: Production) -> list[tuple[str, str, bool, int, int]]:
    return [
        (s.number, s.heading, s.omitted, s.shots, s.takes) for s in scenes.list_scenes(production)
    ]


def test_a_forced_heading_takes_the_previous_number_with_a_letter(
    production: Production, tmp_path: Path
) -> None:
    report = import_script(production, write(tmp_path, "five.fountain", FIVE))
    assert report.added == ["1", "2", "3", "3A", "4"]
    assert [(n, h) for n, h, *_ in listed(production)] == [
        ("1", "INT. HALL - NIGHT"),
        ("2", "EXT. GARDEN - NIGHT"),
        ("3", "INT. STAIRS - NIGHT"),
        ("3A", "THE ROOF"),
        ("4", "INT. ATTIC - NIGHT"),
    ]


@pytest.mark.parametrize("numbered", [True, False])
def test_a_dropped_scene_is_omitted_with_its_shots_and_takes(
    production: Production, tmp_path: Path, make, numbered: bool
) -> None:
    text = FIVE if numbered else re.sub(r" #\d+#", "", FIVE)
    import_script(production, write(tmp_path, "five.fountain", text))
    for number in ("2", "3"):
        code = shots.add_shot(production, number, f"{number}-1").code
        make.take(code)
        make.take(code)
    dropped = re.sub(r"EXT\. GARDEN - NIGHT( #2#)?\n\nRain on the roses\.\n\n", "", text)
    report = import_script(production, write(tmp_path, "rev.fountain", dropped))
    assert report.omitted == ["2"] and report.added == [] and report.changed == []
    numbers = ["1", "2", "3", "3A", "4"] if numbered else ["1", "2", "3", "4", "5"]
    rows = {n: rest for n, *rest in listed(production)}
    assert list(rows) == numbers
    assert rows["2"] == ["EXT. GARDEN - NIGHT", True, 1, 2]  # OMITTED, shots and takes kept
    assert rows["3"] == ["INT. STAIRS - NIGHT", False, 1, 2]


@pytest.mark.parametrize(
    ("written", "read"),
    [("#12A#", "12A"), ("#I-1-A#", "I-1-A"), ("# 7 #", "7"), ("#1.#", "1."), ("#110a#", "110A")],
)
def test_explicit_numbers_are_kept_exactly(written: str, read: str) -> None:
    script = parse_fountain(f"INT. HALL - DAY {written}\n\nAction.\n")
    assert [s.number for s in script.scenes] == [read]


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("#12 A#", "not valid"),
        ("#12_A#", "not valid"),
        ("#12/A#", "not valid"),
        ("##", "not valid"),
        ("#-1#", "not valid"),
        ("#123456789012345678901#", "21 characters long"),
    ],
)
def test_malformed_numbers_are_refused_naming_the_line(
    written: str, why: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path, "bad.fountain", f"Title: X\n\nINT. HALL - DAY #1#\n\nOne.\n\nINT. B {written}\n"
    )
    with pytest.raises(InvalidInputError, match=rf"bad.fountain: line 7: scene number .*{why}"):
        read_script(path)


def test_a_final_draft_number_is_checked_too(tmp_path: Path) -> None:
    fdx = """<?xml version="1.0" encoding="UTF-8"?>
<FinalDraft DocumentType="Script" Template="No" Version="5"><Content>
<Paragraph Number=" 12a " Type="Scene Heading"><Text>INT. HALL - NIGHT</Text></Paragraph>
<Paragraph Number="12 B" Type="Scene Heading"><Text>EXT. GARDEN - DAY</Text></Paragraph>
</Content></FinalDraft>"""
    with pytest.raises(InvalidInputError, match=r"scene heading 2 \('EXT. GARDEN - DAY'\)"):
        read_script(write(tmp_path, "x.fdx", fdx))
    good = fdx.replace('Number="12 B"', 'Number="13"')
    assert [s.number for s in read_script(write(tmp_path, "y.fdx", good)).scenes] == ["12A", "13"]


def test_the_number_rule_is_the_one_scene_add_follows() -> None:
    assert _VALID.pattern == SCENE_NUMBER.pattern


def test_number_order_and_letters() -> None:
    ordered = ["A1", "B1", "1", "1A", "1B", "2", "10", "10A"]
    assert sorted(ordered, key=number_order) == ordered  # type: ignore[arg-type]
    assert number_order("I-1-A") is None
    assert inserted_number("I-1-A", None, {"I-1-A"}) == "I-1-B"
    assert inserted_number("A1", "1", {"A1", "1"}) == "A1A"
    assert inserted_number("12Z", None, {"12Z"}) == "12Z-1"
    assert read_number(" 7 ", "x") == "7"


def test_duplicate_numbers_are_refused_with_both_lines(
    production: Production, tmp_path: Path
) -> None:
    text = "INT. A #3#\n\nOne.\n\nINT. B #4#\n\nTwo.\n\nINT. C #3#\n\nThree.\n"
    with pytest.raises(
        InvalidInputError, match=r"^dup\.fountain: scene number 3 is given twice: line 1 and line 9"
    ):
        import_script(production, write(tmp_path, "dup.fountain", text))
    assert scenes.list_scenes(production) == []


def test_numbers_that_go_backwards_are_refused(production: Production, tmp_path: Path) -> None:
    text = "INT. A #5#\n\nOne.\n\nINT. B #6#\n\nTwo.\n\nINT. C #2#\n\nThree.\n"
    with pytest.raises(
        InvalidInputError,
        match=r"^back\.fountain: scene numbers go backwards: 2 at line 9 comes after 6 at line 5",
    ):
        import_script(production, write(tmp_path, "back.fountain", text))
    assert scenes.list_scenes(production) == []


def test_a_moved_scene_keeps_its_number_though_numbers_then_go_backwards(
    production: Production, tmp_path: Path
) -> None:
    import_script(production, write(tmp_path, "five.fountain", FIVE))
    shots.add_shot(production, "4", "4-1")
    moved = FIVE.replace("INT. ATTIC - NIGHT #4#\n\nThe suitcase opens.\n", "")
    moved = moved.replace(
        "INT. HALL - NIGHT #1#",
        "INT. ATTIC - NIGHT #4#\n\nThe suitcase opens.\n\nINT. HALL - NIGHT #1#",
    )
    report = import_script(production, write(tmp_path, "moved.fountain", moved))
    assert report.added == report.omitted == [] and len(report.unchanged) == 5
    assert [(n, shots_) for n, _, _, shots_, _ in listed(production)] == [
        ("4", 1),
        ("1", 0),
        ("2", 0),
        ("3", 0),
        ("3A", 0),
    ]


def test_numbers_are_locked_once_shots_exist(production: Production, tmp_path: Path) -> None:
    import_script(production, write(tmp_path, "five.fountain", FIVE))
    renumbered = FIVE.replace("#4#", "#5#")
    report = import_script(production, write(tmp_path, "r1.fountain", renumbered))
    assert [s.number for s in scenes.list_scenes(production)][-1] == "5"  # no shots yet: moves
    assert report.warnings == []
    shots.add_shot(production, "5", "5-1")
    again = import_script(production, write(tmp_path, "r2.fountain", FIVE))
    assert [s.number for s in scenes.list_scenes(production)][-1] == "5"  # locked now
    assert again.warnings == [
        "line 20: the script numbers scene 5 as 4; it stays 5 (numbers are locked once shots exist)"
    ]


def test_a_revision_that_drops_every_scene_omits_them_all(
    production: Production, tmp_path: Path, make
) -> None:
    import_script(production, write(tmp_path, "five.fountain", FIVE))
    make.take(shots.add_shot(production, "1", "1-1").code)
    report = import_script(production, write(tmp_path, "empty.fountain", "Title: Five Scenes\n"))
    assert report.omitted == ["1", "2", "3", "3A", "4"]
    assert report.warnings == [
        "empty.fountain has no scenes: every scene of the project is now OMITTED "
        "(nothing is deleted; their shots and takes stay)"
    ]
    assert [(n, gone, s, t) for n, _, gone, s, t in listed(production)] == [
        ("1", True, 1, 1),
        ("2", True, 0, 0),
        ("3", True, 0, 0),
        ("3A", True, 0, 0),
        ("4", True, 0, 0),
    ]
    back = import_script(production, write(tmp_path, "five2.fountain", FIVE))
    assert back.restored == ["1", "2", "3", "3A", "4"]


OTHER = """Title: Another Film

EXT. DESERT - DAY

Sand, and a lizard.

INT. CAR - DAY

Dust on the dashboard.
"""


def test_another_screenplay_is_refused_unless_forced(
    production: Production, tmp_path: Path
) -> None:
    import_script(production, write(tmp_path, "five.fountain", FIVE))
    path = write(tmp_path, "other.fountain", OTHER)
    with pytest.raises(InvalidInputError, match=r"other\.fountain looks like another screenplay"):
        import_script(production, path)
    assert len(scenes.list_scenes(production)) == 5 and not any(
        s.omitted for s in scenes.list_scenes(production)
    )
    report = import_script(production, path, force=True)
    assert report.omitted == ["1", "2", "3", "3A", "4"] and report.added == ["5", "6"]


def test_a_retitled_draft_of_the_same_script_is_no_other_screenplay(
    production: Production, tmp_path: Path
) -> None:
    import_script(production, write(tmp_path, "five.fountain", FIVE))
    retitled = FIVE.replace("Title: Five Scenes", "Title: The Attic")
    assert len(import_script(production, write(tmp_path, "r.fountain", retitled)).unchanged) == 5


ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"


def setpiece(cwd: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *(str(a) for a in args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "SETPIECE_USER": "ana"},
    )


def test_the_command_refuses_another_screenplay_and_lists_omitted_scenes(
    tmp_path: Path,
) -> None:
    """The commands a user types: one line and exit 2 when refused, then --force, --json."""
    assert setpiece(tmp_path, "init", "film").returncode == 0
    film = tmp_path / "film"
    assert (
        setpiece(film, "script", "import", write(tmp_path, "five.fountain", FIVE)).returncode == 0
    )
    assert setpiece(film, "shot", "add", "2", "--code", "2-1").returncode == 0
    refused = setpiece(film, "script", "import", write(tmp_path, "other.fountain", OTHER))
    assert refused.returncode == ExitCode.REFUSED
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "looks like another screenplay" in refused.stderr and "--force" in refused.stderr
    forced = setpiece(film, "script", "import", tmp_path / "other.fountain", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    listing = setpiece(film, "scene", "list", "--json")
    rows = {
        s["number"]: (s["omitted"], s["shots"], s["takes"])
        for s in __import__("json").loads(listing.stdout)
    }
    assert rows["2"] == (True, 1, 0) and rows["5"] == (False, 0, 0)
    table = setpiece(film, "scene", "list")
    assert "EXT. GARDEN - NIGHT (OMITTED)" in table.stdout


def test_an_omitted_scene_stays_after_the_scene_before_it(
    production: Production, tmp_path: Path
) -> None:
    import_script(production, write(tmp_path, "five.fountain", FIVE))
    attic = "INT. ATTIC - NIGHT #4#\n\nThe suitcase opens.\n"
    revised = FIVE.replace(attic, "").replace(
        "EXT. GARDEN - NIGHT #2#\n\nRain on the roses.\n\n", ""
    )
    revised = revised.replace("INT. HALL - NIGHT #1#", attic + "\nINT. HALL - NIGHT #1#")
    report = import_script(production, write(tmp_path, "r.fountain", revised))
    assert report.omitted == ["2"]
    assert [(n, gone) for n, _, gone, _, _ in listed(production)] == [
        ("4", False),
        ("1", False),
        ("2", True),
        ("3", False),
        ("3A", False),
    ]
