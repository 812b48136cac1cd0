"""The `setpiece` command as a user meets it: outputs, JSON, and every bad input.

Each bad input must give one line on stderr, exit 2, and leave the database and
the media store exactly as they were.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from conftest import CliRun as Run
from mediafactory import (
    write_bomb_png,
    write_corrupt_png,
    write_mp4,
    write_png,
    write_truncated_mp4,
)
from setpiece.store.db import sqlite_url


@pytest.fixture
def film(cli, tmp_path: Path, database_url: str | None) -> Path:
    """A project with scene 1, character ANNA and shot 1A, on each database backend."""
    db = ["--db", database_url] if database_url else []
    assert cli(*db, "init", "film", "--name", "Night Train", "--fps", "24000/1001").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    assert cli("character", "add", "ANNA", "--description", "conductor").code == 0
    assert (
        cli(
            "shot",
            "add",
            "1",
            "--code",
            "1A",
            "--description",
            "Anna walks",
            "--size",
            "MS",
            "--characters",
            "ANNA@centre",
            "--duration",
            "3",
        ).code
        == 0
    )
    return tmp_path / "film"


def snapshot(root: Path) -> tuple[object, ...]:
    """Every row of every table, and every file under the project."""
    from setpiece.project import load_config

    url = load_config(root).database_url
    engine = create_engine(url)
    rows = {}
    with engine.connect() as conn:
        for table in (
            "scenes",
            "shots",
            "takes",
            "media",
            "bible_entries",
            "events",
            "findings",
            "users",
        ):
            rows[table] = sorted(
                map(tuple, conn.execute(text(f"SELECT * FROM {table}")).all()), key=repr
            )
    engine.dispose()
    files = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".setpiece" not in p.parts
    )
    return rows, files


def test_help_lists_the_commands(cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in ("init", "status", "scene", "shot", "character", "take", "fsck"):
        assert command in result.out


def test_a_whole_session(cli, film: Path, tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "gen.mp4", frames=24, fps=24)
    still = write_png(tmp_path / "gen.png")
    made = cli(
        "take",
        "import",
        "1A",
        clip,
        still,
        "--generator",
        "runway",
        "--model",
        "gen4_turbo",
        "--prompt",
        "Anna walks the corridor",
        "--seed",
        "42",
        "--param",
        "motion=5",
        "--json",
    )
    assert made.code == 0, made.err
    created = made.json()["created"]
    assert [t["number"] for t in created] == [1, 2]
    take = cli("take", "show", "1A/1", "--json").json()
    assert set(take) >= {"id", "shot", "number", "kind", "status", "recipe", "media"}
    assert take["recipe"]["seed"] == 42
    assert take["recipe"]["parameters"] == {"motion": 5, "origin": "trained"}  # runway's
    assert {k: take["media"][k] for k in ("width", "height", "fps", "frames")} == {
        "width": 64,
        "height": 48,
        "fps": "24/1",
        "frames": 24,
    }
    assert set(take["media"]) >= {"sha256", "path", "width", "height", "fps", "frames", "duration"}
    assert Path(take["media"]["path"]).is_file()
    by_id = cli("take", "show", take["id"], "--json").json()
    assert by_id["number"] == 1
    shot = cli("shot", "show", "1A", "--json").json()
    assert shot["status"] == "wip" and shot["planned_frames"] == 72 and len(shot["take_list"]) == 2
    assert shot["subjects"] == [
        {
            "name": "ANNA",
            "kind": "character",
            "side": "centre",
            "depth": None,
            "prompt_override": None,
        }
    ]
    status = cli("status", "--json").json()
    assert (
        status["fps"] == "24000/1001"
        and status["shots"]["wip"] == 1
        and status["media"]["files"] == 2
    )
    assert cli("shot", "set", "1A", "--status", "review").code == 0
    assert cli("fsck").code == 0
    assert cli("log", "--shot", "1A", "--json").json()[-1]["after"] == "review"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_log_names_takes_by_shot_and_number(cli, film: Path, tmp_path: Path) -> None:
    write_png(tmp_path / "x.png")
    assert cli("take", "import", "1A", tmp_path / "x.png").code == 0
    take_id = cli("take", "show", "1A/1", "--json").json()["id"]
    assert cli("take", "set", "1A/1", "--status", "rejected", "--note", "soft").code == 0
    out = cli("log").out
    takes = [line for line in out.splitlines() if re.search(r": \w+ take ", line)]
    assert takes and all(" take 1A/1 " in line for line in takes), out
    assert take_id not in out
    # --take takes the name the log prints, as well as the id the history is kept by.
    by_name = cli("log", "--take", "1A/1")
    assert by_name.code == 0, by_name.err
    assert by_name.out == cli("log", "--take", take_id).out and "rejected" in by_name.out
    events = cli("log", "--json").json()
    assert {e["label"] for e in events if e["entity"] == "take"} == {"1A/1"}
    assert {e["label"] for e in events if e["entity"] == "shot"} == {"1A"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_read_command_prints_one_json_document(cli, film: Path, tmp_path: Path) -> None:
    write_png(tmp_path / "x.png")
    cli("take", "import", "1A", tmp_path / "x.png")
    for args in (
        ["status"],
        ["scene", "list"],
        ["shot", "list"],
        ["shot", "list", "--scene", "1"],
        ["shot", "show", "1A"],
        ["character", "list"],
        ["character", "show", "ANNA"],
        ["location", "list"],
        ["prop", "list"],
        ["style", "list"],
        ["take", "list"],
        ["take", "list", "1A"],
        ["take", "show", "1A/1"],
        ["fsck"],
        ["log"],
        ["user", "list"],
        ["findings", "list"],
    ):
        result = cli(*args, "--json")
        assert result.code == 0, (args, result.err)
        json.loads(result.out)  # exactly one document, nothing else on stdout


def test_project_found_by_walking_up_and_by_option(cli, film: Path, tmp_path: Path) -> None:
    deeper = film / "renders" / "day1"
    deeper.mkdir(parents=True)
    os.chdir(deeper)
    assert cli("shot", "list", "--json").json()[0]["code"] == "1A"
    os.chdir(tmp_path)
    assert cli("--project", film, "shot", "list", "--json").json()[0]["code"] == "1A"


HTML = "<!DOCTYPE html>\n<html><body>Page not found</body></html>\n"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8"/></svg>'


def bad(result: Run, fragment: str) -> None:
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("name", "make", "fragment"),
    [
        ("truncated.mp4", lambda p: write_truncated_mp4(p), "truncated.mp4"),
        ("corrupt.png", lambda p: write_corrupt_png(p), "corrupt.png"),
        ("empty.mp4", lambda p: p.write_bytes(b""), "empty"),
        ("notes.mp4", lambda p: p.write_text("INT. KITCHEN - NIGHT\n" * 50), "notes.mp4"),
        ("bomb.png", lambda p: write_bomb_png(p), "bomb.png"),
        ("missing.mp4", lambda p: None, "no such file"),
        ("page.png", lambda p: p.write_text(HTML), "page.png is an HTML document, not an image"),
        ("logo.svg", lambda p: p.write_text(SVG), "logo.svg is an SVG drawing, which Setpiece"),
    ],
)
def test_bad_media_changes_nothing(
    cli, film: Path, tmp_path: Path, name: str, make, fragment: str
) -> None:
    good = write_png(tmp_path / "good.png")
    path = tmp_path / name
    make(path)
    before = snapshot(film)
    bad(cli("take", "import", "1A", good, path), fragment)
    assert snapshot(film) == before


def test_corrupt_video_changes_nothing(cli, film: Path, tmp_path: Path) -> None:
    from mediafactory import write_corrupt_mp4

    path = write_corrupt_mp4(tmp_path / "broken.mp4")
    before = snapshot(film)
    bad(cli("take", "import", "1A", path), "broken.mp4")
    assert snapshot(film) == before


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("face.png", HTML, "face.png is an HTML document, not an image or a video Setpiece"),
        ("face.jpg", "Anna, see the mood board\n", "face.jpg is a text file, not an image"),
        ("face.svg", SVG, "face.svg is an SVG drawing, which Setpiece cannot read"),
    ],
)
def test_a_reference_that_is_no_image_is_named_for_what_it_is(
    cli, film: Path, tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    before = snapshot(film)
    bad(cli("character", "add", "BEN", "--ref", path), fragment)
    assert snapshot(film) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["shot", "add", "1", "--code", "1A"], "shot 1A already exists"),
        (["shot", "add", "7", "--code", "7A"], "no scene '7'"),
        (["shot", "show", "9Z"], "no shot '9Z'"),
        (["take", "import", "9Z", "x.png"], "no shot '9Z'"),
        (["shot", "set", "1A", "--status", "finished"], "unknown shot status 'finished'"),
        (["shot", "set", "9Z", "--status", "wip"], "no shot '9Z'"),
        (["shot", "set", "1A", "--status", "approved"], "approve one of its takes"),
        (["shot", "set", "1A", "--status", "wip", "--if-version", "0"], "changed since version 0"),
        (["take", "show", "1A/5"], "shot 1A has no take 5"),
        (["shot", "add", "1", "--code", "1B", "--size", "giant"], "unknown shot size"),
        (
            ["shot", "add", "1", "--code", "1B", "--characters", "NOBODY"],
            "no character or prop 'NOBODY'",
        ),
        (["character", "add", "ANNA"], "character ANNA already exists"),
        (["take", "import", "1A", "x.png", "--param", "novalue"], "not KEY=VALUE"),
    ],
)
def test_bad_arguments_change_nothing(cli, film: Path, args: list[str], fragment: str) -> None:
    write_png(film.parent / "x.png")
    os.chdir(film.parent)
    before = snapshot(film)
    bad(cli("--project", film, *args), fragment)
    assert snapshot(film) == before


def test_folder_that_is_not_a_project(cli, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    bad(cli("--project", tmp_path / "plain", "status"), "is not a Setpiece project")
    os.chdir(tmp_path / "plain")
    bad(cli("status"), "no Setpiece project")
    assert list((tmp_path / "plain").iterdir()) == []


def test_init_refuses_an_existing_project_and_bad_values(cli, tmp_path: Path) -> None:
    assert cli("init", "film").code == 0
    before = sorted(p.name for p in (tmp_path / "film").iterdir())
    bad(cli("init", "film"), "already a Setpiece project")
    assert sorted(p.name for p in (tmp_path / "film").iterdir()) == before
    bad(cli("init", "other", "--fps", "fast"), "frame rate 'fast' is not a rate")
    bad(cli("init", "other", "--resolution", "big"), "not WIDTHxHEIGHT")
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_database_from_a_newer_schema(cli, film: Path) -> None:
    engine = create_engine(sqlite_url(film / ".setpiece" / "setpiece.db"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
    engine.dispose()
    bad(cli("shot", "list"), "newer than this Setpiece knows")


def test_non_utf8_argument(tmp_path: Path) -> None:
    """A byte string that is not UTF-8 reaches the program only through a real process."""
    env = {**os.environ, "SETPIECE_USER": "ana"}
    code = "import sys; from setpiece.cli.main import main; sys.exit(main())"
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-c",
            code.encode(),
            b"scene",
            b"add",
            b"--heading",
            b"INT. CAF\xe9 - DAY",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not valid UTF-8" in result.stderr


def test_console_script_reports_usage_errors_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("setpiece")), "shot", "add"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fsck_exits_3_on_a_damaged_store(cli, film: Path, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    cli("take", "import", "1A", tmp_path / "a.png")
    media = cli("take", "show", "1A/1", "--json").json()["media"]
    Path(media["path"]).unlink()
    result = cli("fsck", "--json")
    assert result.code == 3
    report = result.json()
    assert report["ok"] is False and report["problems"][0]["kind"] == "missing"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_roles_apply_to_the_command_line(cli, film: Path) -> None:
    assert cli("user", "add", "ana", "--role", "admin").code == 0
    assert cli("user", "add", "vic", "--role", "viewer").code == 0
    before = snapshot(film)
    bad(cli("--as", "vic", "shot", "set", "1A", "--status", "wip"), "vic is viewer")
    assert snapshot(film) == before
    assert cli("--as", "vic", "shot", "list", "--json").code == 0
    assert cli("--as", "ana", "shot", "set", "1A", "--status", "wip").code == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_shot_show_says_the_angle_as_the_prompt_does(cli, film: Path) -> None:
    assert cli("shot", "add", "1", "--code", "1Z", "--size", "MCU", "--angle", "eye").code == 0
    shown = cli("shot", "show", "1Z")
    assert "MCU, eye-level" in shown.out and "eye angle" not in shown.out


def test_make_and_render_without_kind_follow_the_render_kind_setting(cli, tmp_path: Path) -> None:
    """One default for ``--kind``: ``[render] kind`` in setpiece.toml (image unless it says),
    read by ``make`` and ``render`` alike (the board's render form reads it too)."""
    from setpiece.production.context import Production
    from setpiece.production.takes import list_takes

    script = tmp_path / "kettle.fountain"
    script.write_text("Title: Kettle\n\nINT. KITCHEN - NIGHT\n\nJO fills a KETTLE.\n")
    project = tmp_path / "kettle"
    common = ["--resolution", "320x180", "--no-movie"]
    made = cli("make", script, "--project", project, *common)
    assert made.code == 0, made.err

    def kinds() -> list[tuple[str, str]]:
        with Production.open(project) as production:
            return [(t.label, t.kind) for t in list_takes(production, "1A")]

    assert kinds() == [("1A/1", "image")]
    toml = project / "setpiece.toml"
    toml.write_text(toml.read_text() + '\n[render]\nkind = "video"\n')
    rendered = cli("--project", project, "render", "1A")
    assert rendered.code == 0, rendered.err
    assert kinds()[-1] == ("1A/2", "video")
    # make resumes the project: the third take it adds is a clip too.
    made = cli("make", script, "--project", project, "--takes", "3", *common)
    assert made.code == 0, made.err
    assert kinds() == [("1A/1", "image"), ("1A/2", "video"), ("1A/3", "video")]
