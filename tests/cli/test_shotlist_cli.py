"""`setpiece shot export` and `shot import` as a user meets them, and every bad file.

Each bad file must give one line on stderr, exit 2, nothing on stdout with --json,
and leave the database and the project's files exactly as they were.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import test_cli

from setpiece.production.shotlist import COLUMNS

film = test_cli.film
bad = test_cli.bad
snapshot = test_cli.snapshot

Rows = list[dict[str, str]]


@pytest.fixture
def sheet(cli, film: Path) -> Path:
    """The film's shot list exported to shots.csv: scenes 1 and 2, shots 1A, 1B, 2A."""
    for args in (
        ["scene", "add", "--heading", "EXT. PLATFORM - DAWN"],
        ["prop", "add", "SUITCASE"],
        [
            "shot",
            "add",
            "1",
            "--code",
            "1B",
            "--size",
            "CU",
            "--duration",
            "1.5",
            "--props",
            "SUITCASE@left-fg",
        ],
        ["shot", "add", "2", "--code", "2A", "--description", "Dawn", "--lens", "24"],
    ):
        assert cli(*args).code == 0
    result = cli("shot", "export", "shots.csv")
    assert result.code == 0 and "wrote 3 shots in 2 scenes" in result.out, result.err
    return film / "shots.csv"


def rows_of(path: Path) -> Rows:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def write(path: Path, rows: Rows, columns: list[str] | None = None, delimiter: str = ",") -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(
        text, columns or list(COLUMNS), delimiter=delimiter, lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode("utf-8"))


def test_export_then_import_unchanged(cli, sheet: Path) -> None:
    data = sheet.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcode,scene,order,description,size,angle,lens_mm,move,")
    assert [r["code"] for r in rows_of(sheet)] == ["1A", "1B", "2A"]
    assert rows_of(sheet)[0]["duration"] == "3.003" and rows_of(sheet)[0]["frames"] == "72"
    result = cli("shot", "import", "shots.csv", "--json")
    assert result.code == 0 and result.err == ""
    assert result.json() == {
        "source": "shots.csv",
        "changed": [],
        "created": [],
        "unchanged": 3,
        "dry_run": False,
        "warnings": [],
    }
    exported = cli("shot", "export", "one.csv", "--scene", "2", "--json")
    assert exported.json() == {"path": "one.csv", "shots": 1, "scenes": 1}


def test_edits_import_and_print_a_summary(cli, sheet: Path) -> None:
    rows = rows_of(sheet)
    rows[0]["description"] = 'Anna walks, slowly; then "stops"'
    rows[2]["scene"], rows[2]["order"] = "1", "3"
    write(sheet, list(reversed(rows)))
    dry = cli("shot", "import", "shots.csv", "--dry-run")
    assert dry.code == 0 and "would change 2" in dry.out and "nothing was written" in dry.out
    assert cli("shot", "show", "2A", "--json").json()["scene"] == "2"
    result = cli("shot", "import", "shots.csv")
    assert result.code == 0, result.err
    assert "changed 1A (scene 1): description 'Anna walks' -> 'Anna walks, slowly;" in result.out
    assert "changed 2A (scene 1): scene 2 -> 1" in result.out
    assert "shots.csv: changed 2, created 0, unchanged 1" in result.out
    assert [s["code"] for s in cli("shot", "list", "--json").json()] == ["1A", "1B", "2A"]
    shot = cli("shot", "show", "1A", "--json").json()
    assert shot["description"] == 'Anna walks, slowly; then "stops"' and shot["version"] == 2
    log = cli("log", "--shot", "2A", "--json").json()
    assert log[-1]["action"] == "edit" and log[-1]["note"] == "shot list shots.csv"


def test_spreadsheet_file_with_crlf_bom_and_semicolons(cli, sheet: Path) -> None:
    """As Excel saves 'CSV UTF-8' in a country that writes decimal commas."""
    sheet.write_bytes(
        "\ufeffcode;scene;order;description;duration;frames;status;version\r\n"
        '1A;1;1;"Anna\r\nwalks — à pied";4,004;72;todo;1\r\n'
        "1B;1;2;;1,502;36;todo;1\r\n".encode()
    )
    result = cli("shot", "import", "shots.csv", "--json")
    assert result.code == 0, result.err
    changed = {c["code"]: c for c in result.json()["changed"]}
    assert list(changed) == ["1A"]
    assert [c["field"] for c in changed["1A"]["changes"]] == ["description", "frames"]
    shot = cli("shot", "show", "1A", "--json").json()
    assert shot["description"] == "Anna\nwalks — à pied" and shot["planned_frames"] == 96


def test_header_only_and_add_new(cli, sheet: Path) -> None:
    write(sheet, [])
    assert "changed 0, created 0, unchanged 0" in cli("shot", "import", "shots.csv").out
    write(sheet, [{"code": "2B", "scene": "2", "size": "ws", "characters": "ANNA@right"}])
    result = cli("shot", "import", "shots.csv", "--add-new")
    assert result.code == 0 and "created 2B (scene 2): scene (empty) -> 2, order" in result.out
    assert cli("shot", "show", "2B", "--json").json()["subjects"][0]["side"] == "right"


def test_export_refuses_to_overwrite(cli, sheet: Path) -> None:
    before = snapshot(sheet.parent)
    content = sheet.read_bytes()
    bad(cli("shot", "export", "shots.csv"), "shots.csv exists: pass --force to overwrite it")
    bad(cli("shot", "export", "x.csv", "--scene", "9"), "no scene '9'")
    assert snapshot(sheet.parent) == before and sheet.read_bytes() == content
    assert cli("shot", "export", "shots.csv", "--force").code == 0


def _edit(**cells: str) -> Callable[[Path, Rows, object], None]:
    def edit(path: Path, rows: Rows, cli: object) -> None:
        rows[0].update(cells)
        write(path, rows)

    return edit


def _extra_column(path: Path, rows: Rows, cli: object) -> None:
    write(path, [{**r, "colour": "red"} for r in rows], [*COLUMNS, "colour"])


def _no_code(path: Path, rows: Rows, cli: object) -> None:
    write(path, [{"scene": r["scene"]} for r in rows], ["scene"])


def _duplicate(path: Path, rows: Rows, cli: object) -> None:
    write(path, [*rows, {**rows[0], "description": "again"}])


def _changed_meanwhile(path: Path, rows: Rows, cli: Callable[..., test_cli.Run]) -> None:
    assert cli("shot", "set", "1B", "--status", "wip").code == 0
    rows[1]["description"] = "my edit"
    write(path, rows)


def _many(path: Path, rows: Rows, cli: object) -> None:
    write(path, [{"code": f"9Z{n}", "description": "x"} for n in range(20)])


def _raw(data: bytes) -> Callable[[Path, Rows, object], None]:
    def put(path: Path, rows: Rows, cli: object) -> None:
        path.write_bytes(data)

    return put


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        pytest.param(
            _extra_column,
            "row 1: unknown column 'colour': remove or rename it; the columns are",
            id="unknown-column",
        ),
        pytest.param(_no_code, "no 'code' column", id="no-code-column"),
        pytest.param(
            _edit(code="9Z"),
            "row 2 code 9Z: no such shot: correct the code, or pass --add-new",
            id="unknown-shot",
        ),
        pytest.param(_edit(scene="7"), "row 2 scene 7: no such scene", id="unknown-scene"),
        pytest.param(
            _edit(characters="NOBODY"), "no character NOBODY in the bible", id="unknown-character"
        ),
        pytest.param(_edit(size="giant"), "row 2 size giant: unknown shot size", id="bad-size"),
        pytest.param(_edit(lens_mm="5000"), "row 2 lens_mm 5000: lens out of range", id="bad-lens"),
        pytest.param(
            _edit(duration="-1", frames=""),
            "row 2 duration -1: duration out of range",
            id="bad-duration",
        ),
        pytest.param(
            _edit(frames="ninety"), "row 2 frames ninety: not a frame count", id="bad-frames"
        ),
        pytest.param(
            _edit(status="approved"), "the shot list does not change statuses", id="status-change"
        ),
        pytest.param(
            _duplicate, "row 5 code 1A: also on row 2: keep one row per shot", id="duplicate-code"
        ),
        pytest.param(
            _changed_meanwhile,
            "row 3 version 1: shot 1B changed since the export",
            id="changed-since-export",
        ),
        pytest.param(
            _many, "20 problems in shots.csv: row 2 code 9Z0: no such shot", id="many-problems"
        ),
        pytest.param(_raw(b""), "is empty", id="empty"),
        pytest.param(
            _raw(b"\x00\x01\x02binary\xff" * 50),
            "is not a CSV file (it holds binary data)",
            id="binary",
        ),
        pytest.param(
            _raw(b"PK\x03\x04rest-of-a-workbook"),
            "is a spreadsheet workbook, not CSV",
            id="workbook",
        ),
        pytest.param(
            _raw(b"Title: Night Train\n\nINT. TRAIN - NIGHT\n"), "not a shot list", id="not-csv"
        ),
    ],
)
def test_bad_files_change_nothing(cli, sheet: Path, make, fragment: str) -> None:
    make(sheet, rows_of(sheet), cli)
    before = snapshot(sheet.parent)
    bad(cli("shot", "import", "shots.csv"), fragment)
    result = cli("shot", "import", "shots.csv", "--json")
    bad(result, fragment)
    assert result.out == ""
    assert snapshot(sheet.parent) == before


def test_long_problem_lists_stay_on_one_line(cli, sheet: Path) -> None:
    _many(sheet, [], cli)
    result = cli("shot", "import", "shots.csv")
    bad(result, "(and ")
    assert len(result.err) < 600


def test_missing_file(cli, sheet: Path) -> None:
    bad(cli("shot", "import", "nowhere.csv"), "nowhere.csv does not exist")
