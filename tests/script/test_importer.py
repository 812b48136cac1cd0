"""`script import` into a project, and re-importing revisions without losing work."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from setpiece.errors import InvalidInputError
from setpiece.model.enums import BibleKind
from setpiece.production import bible, records, scenes, shots, takes
from setpiece.production.context import Production
from setpiece.production.views import dumps_views, jsonable
from setpiece.script.importer import ScriptImportReport, import_script
from setpiece.script.numbers import inserted_number as _insert_number

DRAFT = """Title: The Key
Author: Test

INT. HALL - NIGHT

ANNA enters with a SUITCASE. BANG! Thunder.

ANNA
Is anyone here?

BEN (O.S.)
Upstairs.

EXT. GARDEN - NIGHT

Rain. CLOSE ON the KEY in the mud.

INT. STAIRS - NIGHT

Anna climbs. BEN waits at the top.

BEN
You found it.

ANNA
I did.

INT. ATTIC - NIGHT

The SUITCASE opens.
"""

REVISION = """Title: The Key
Author: Test

INT. HALL - NIGHT

ANNA enters with a SUITCASE. BANG! Thunder.

ANNA
Is anyone here?

BEN (O.S.)
Upstairs.

EXT. GARDEN - NIGHT

Rain. CLOSE ON the KEY in the mud.

EXT. GARDEN SHED - NIGHT

A LANTERN swings.

INT. STAIRS - NIGHT

Anna climbs. BEN waits at the top.

BEN
You found it at last.

ANNA
I did.
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_first_import_fills_the_breakdown(production: Production, tmp_path: Path) -> None:
    report = import_script(production, write(tmp_path, "key.fountain", DRAFT))
    assert report.title == "The Key" and report.added == ["1", "2", "3", "4"]
    listed = scenes.list_scenes(production)
    assert [(s.number, s.location, s.time_of_day, s.int_ext) for s in listed] == [
        ("1", "HALL", "NIGHT", "INT"),
        ("2", "GARDEN", "NIGHT", "EXT"),
        ("3", "STAIRS", "NIGHT", "INT"),
        ("4", "ATTIC", "NIGHT", "INT"),
    ]
    assert all(s.eighths and s.eighths >= 1 for s in listed)
    people = {
        c.name: (c.dialogue_lines, c.scenes)
        for c in bible.list_entries(production, BibleKind.CHARACTER)
    }
    assert people == {"ANNA": (2, ["1", "3"]), "BEN": (2, ["1", "3"])}
    props = {
        p.name: (p.candidate, p.scenes) for p in bible.list_entries(production, BibleKind.PROP)
    }
    assert props == {"SUITCASE": (True, ["1", "4"]), "KEY": (True, ["2"])}
    assert [loc.name for loc in bible.list_entries(production, BibleKind.LOCATION)] == [
        "ATTIC",
        "GARDEN",
        "HALL",
        "STAIRS",
    ]


def test_reimporting_the_same_script_changes_nothing(
    production: Production, tmp_path: Path
) -> None:
    path = write(tmp_path, "key.fountain", DRAFT)
    import_script(production, path)
    again = import_script(production, path)
    assert again.added == again.changed == again.omitted == [] and len(again.unchanged) == 4
    assert not any(s.needs_review for s in scenes.list_scenes(production))


def test_revision_keeps_every_take(production: Production, tmp_path: Path, make) -> None:
    import_script(production, write(tmp_path, "draft.fountain", DRAFT))
    made = {}
    for scene in ("1", "2", "3", "4"):
        code = shots.add_shot(production, scene, f"{scene}A").code
        made[code] = make.take(code)
    takes.approve_take(production, "1A", made["1A"])

    report = import_script(production, write(tmp_path, "rev.fountain", REVISION))
    assert report.unchanged == ["1", "2"] and report.changed == ["3"]
    assert report.added == ["2A"] and report.omitted == ["4"]
    listed = {s.number: s for s in scenes.list_scenes(production)}
    assert [s.number for s in scenes.list_scenes(production)] == ["1", "2", "2A", "3", "4"]
    assert listed["3"].needs_review and not listed["1"].needs_review
    assert listed["4"].omitted and listed["4"].shots == 1
    for code, take in made.items():
        assert takes.get_take(production, take).shot == code
    assert shots.get_shot(production, "1A").status == "approved"
    assert {p.name for p in bible.list_entries(production, BibleKind.PROP)} >= {"LANTERN"}
    actions = [e.action for e in records.history(production, "scene")]
    assert {"script_changed", "omitted", "script_added"} <= set(actions)

    # The omitted scene comes back when a later draft restores it.
    back = import_script(production, write(tmp_path, "rev2.fountain", DRAFT))
    assert back.restored == ["4"] and back.omitted == ["2A"]
    assert scenes.accept_revision(production, "3").needs_review is False


def test_script_numbers_are_kept(production: Production, tmp_path: Path) -> None:
    text = (
        "INT. A - DAY #12#\n\nOne.\n\nINT. B - DAY #12A#\n\nTwo.\n\nEXT. C - NIGHT #14#\n\nThree.\n"
    )
    report = import_script(production, write(tmp_path, "n.fountain", text))
    assert report.added == ["12", "12A", "14"]
    revised = text.replace("Two.", "Two, rewritten.")
    again = import_script(production, write(tmp_path, "n2.fountain", revised))
    assert again.changed == ["12A"] and again.unchanged == ["12", "14"]


def test_final_draft_imports_the_same(production: Production, tmp_path: Path) -> None:
    fdx = """<?xml version="1.0" encoding="UTF-8"?>
<FinalDraft DocumentType="Script" Template="No" Version="5"><Content>
<Paragraph Number="1" Type="Scene Heading"><Text>INT. HALL - NIGHT</Text></Paragraph>
<Paragraph Type="Action"><Text>ANNA drops the KEY.</Text></Paragraph>
<Paragraph Type="Character"><Text>ANNA</Text></Paragraph>
<Paragraph Type="Dialogue"><Text>Oh no.</Text></Paragraph>
<Paragraph Number="2" Type="Scene Heading"><Text>EXT. GARDEN - DAY</Text></Paragraph>
<Paragraph Type="Action"><Text>Birds.</Text></Paragraph>
</Content></FinalDraft>"""
    report = import_script(production, write(tmp_path, "key.fdx", fdx))
    assert report.added == ["1", "2"]
    anna = bible.get_entry(production, BibleKind.CHARACTER, "ANNA")
    assert (anna.dialogue_lines, anna.scenes) == (1, ["1"])


def test_unreadable_script_writes_nothing(production: Production, tmp_path: Path) -> None:
    path = tmp_path / "binary.fountain"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(InvalidInputError):
        import_script(production, path)
    assert scenes.list_scenes(production) == []


@pytest.mark.parametrize(
    ("after", "before", "used", "expected"),
    [
        ("12", "13", {"12", "13"}, "12A"),
        ("12", "13", {"12", "12A", "13"}, "12B"),
        ("12A", "13", {"12", "12A", "13"}, "12B"),
        (None, "1", {"1"}, "A1"),
        (None, "1", {"1", "A1"}, "B1"),
    ],
)
def test_inserted_scene_numbers(
    after: str | None, before: str | None, used: set[str], expected: str
) -> None:
    assert _insert_number(after, before, used) == expected


def test_report_json_keeps_the_shape_its_own_to_json_gave() -> None:
    """The report lost its hand-written ``to_json`` (it only repeated the fields): same bytes
    (and, since issue 31, what the import did to the dialogue lines)."""
    report = ScriptImportReport(
        title="Night Train",
        scenes=3,
        added=["1"],
        changed=["2"],
        unchanged=["3"],
        omitted=["4"],
        restored=["5"],
        new_characters=["ANNA"],
        new_locations=["HALL"],
        new_props=["KEY"],
        warnings=["a note"],
    )
    expected = (
        b'{"title":"Night Train","scenes":3,"added":["1"],"changed":["2"],"unchanged":["3"],'
        b'"omitted":["4"],"restored":["5"],"new_characters":["ANNA"],"new_locations":["HALL"],'
        b'"new_props":["KEY"],"warnings":["a note"],'
        b'"lines":{"added":[],"changed":[],"omitted":[],"restored":[]}}'
    )
    assert orjson.dumps(jsonable(report)) == expected
    assert dumps_views(report) == expected
    assert orjson.dumps(jsonable(ScriptImportReport(None, 0))) == (
        b'{"title":null,"scenes":0,"added":[],"changed":[],"unchanged":[],"omitted":[],'
        b'"restored":[],"new_characters":[],"new_locations":[],"new_props":[],"warnings":[],'
        b'"lines":{"added":[],"changed":[],"omitted":[],"restored":[]}}'
    )
