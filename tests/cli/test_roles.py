"""One rule for who acts on the command line, over every command.

A project without members lets everyone do everything. From its first member on,
every command that touches the project is refused for anyone who is not a member
(reading needs viewer), whether they name themselves with ``--as`` or are just
the login user: exit 2, one line on stderr saying how to act as a member, and the
project exactly as it was. ``Production.open`` keeps the rule for them all.

The commands are enumerated from the Typer app, so a new command is covered as
soon as it exists: one that needs arguments fails here until it has an entry in
``ARGS``. The commands that never open a project (file tools, ``init``, ``db
heads``) are listed with the reason, and must keep working for anyone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from sqlalchemy import create_engine, inspect, text

from conftest import CliRun
from mediafactory import write_mp4, write_png
from setpiece.cli.main import main

MEMBERS = {"ana": "admin", "vic": "viewer", "art": "artist"}
LOGIN = "walter"  # the login name of whoever runs the commands: no member
SCRIPT = "Title: Kettle\n\nINT. KITCHEN - NIGHT\n\nJO fills a KETTLE.\n"

# Arguments that make each command valid up to the point where it opens the project;
# {png}, {mp4}, {script}, {csv}, {out} and {new} are files made for the test. A command
# missing here runs with no arguments. A list of several runs the command once for each.
ARGS: dict[str, list[list[str]]] = {
    "contact-sheet": [["{out}.png"]],
    "render": [[], ["1A"], ["--all"], ["--retry-failed"]],
    "jobs retry": [["1"], ["--failed"]],
    "jobs cancel": [["1"]],
    "worker": [["--once"]],
    "match": [["1A/1", "--to", "1A/1"]],
    "retime": [["--take", "1A/1", "--fps", "48"]],
    "deflicker": [["--take", "1A/1"]],
    "measure": [["--take", "1A/1"]],
    "sign": [["{png}"]],
    "verify": [["{png}"]],
    "make": [["{script}", "--project", "."]],
    "demo": [["."]],
    "scene add": [["--heading", "INT. HALL - DAY"]],
    "scene accept": [["1"]],
    "shot add": [["1", "--code", "1B"]],
    "shot show": [["1A"]],
    "shot set": [["1A", "--status", "wip"]],
    "shot export": [["{out}.csv"]],
    "shot import": [["{csv}"]],
    "character add": [["JO"]],
    "character show": [["ANNA"]],
    "location add": [["KITCHEN"]],
    "location show": [["KITCHEN"]],
    "prop add": [["KETTLE"]],
    "prop show": [["KETTLE"]],
    "style add": [["Noir"]],
    "style show": [["Noir"]],
    "character set": [["ANNA", "--description", "x"]],
    "character remove": [["ANNA"]],
    "character accept": [["ANNA"]],
    "location set": [["KITCHEN", "--description", "x"]],
    "location remove": [["KITCHEN"]],
    "location accept": [["KITCHEN"]],
    "prop set": [["KETTLE", "--description", "x"]],
    "prop remove": [["KETTLE"]],
    "prop accept": [["KETTLE"]],
    "style set": [["Noir", "--description", "x"]],
    "style remove": [["Noir"]],
    "style accept": [["Noir"]],
    "character look": [["ANNA", "--from-scene", "1", "--description", "coat"]],
    "character likeness": [["ANNA", "--person", "Ann Example"]],
    "character voice": [["ANNA", "--backend", "espeak", "--voice", "en-us"]],
    "dialogue import": [["1/1", "{png}"]],
    "dialogue circle": [["1/1", "1"]],
    "take import": [["1A", "{png}"]],
    "shot assign": [["1A", "--to", "ana"]],
    "playlist create": [["p", "--query", "review"]],
    "playlist show": [["p"]],
    "take show": [["1A/1"]],
    "take set": [["1A/1", "--status", "circled"]],
    "take export": [["1A/1", "{out}.png"]],
    "user add": [["zed", "--role", "viewer"]],
    "user token": [["ana"]],
    "user password": [["ana"]],
    "user unlock": [["ana"]],
    "user tokens": [["ana"]],
    "user revoke": [["ana", "--all"]],
    "review submit": [["1A"]],
    "review approve": [["1A", "1A/1"]],
    "review retake": [["1A", "--note", "again"]],
    "review comment": [["1A", "--note", "nice"]],
    "review history": [["1A"]],
    "edit import": [["{out}.otio"]],
    "script import": [["{script}"]],
    "reference add": [["{png}"]],
    "reference remove": [["1"]],
    "watermark detect": [["{png}"]],
    "watermark embed": [["{png}", "{out}.png", "--take", "1A/1"]],
}

# Commands that never open a project, with why; each must still work for a non-member.
NO_PROJECT: dict[str, tuple[str, list[str]]] = {
    "init": ("makes a new project, which has no members", ["{new}"]),
    "generators": ("lists the generators installed here", []),
    "db heads": ("reads the migration history shipped with Setpiece", []),
    "script parse": ("parses a screenplay file", ["{script}"]),
    "cuts": ("reads a video file", ["{mp4}"]),
}
# Commands tested elsewhere, with why.
ELSEWHERE = {
    "serve": "acts for whoever logs in, never for who started it: tests/web/test_serve.py",
}


def commands() -> list[str]:
    """Every runnable command of the app, e.g. 'status', 'findings list'."""
    from setpiece.cli.main import app

    found: list[str] = []

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                child = command.get_command(context, name)
                if child is not None and not child.hidden:
                    walk(child, [*path, name])
        else:
            found.append(" ".join(path))

    walk(typer.main.get_command(app), [])
    return found


def project_commands() -> list[Any]:
    cases = []
    for name in commands():
        if name in NO_PROJECT or name in ELSEWHERE:
            continue
        for args in ARGS.get(name, [[]]):
            cases.append(pytest.param(name, args, id=" ".join([name, *args])))
    return cases


def test_every_command_is_covered() -> None:
    """A listed command that no longer exists is a stale entry here."""
    names = set(commands())
    stale = (set(ARGS) | set(NO_PROJECT) | set(ELSEWHERE)) - names
    assert not stale, f"no such commands: {sorted(stale)}"
    assert {"status", "findings list", "demo", "render", "serve"} <= names


def _snapshot(root: Path) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[str, int]]]:
    """Every row of every table, and every file of the project but the database's own."""
    from setpiece.project import load_config

    url = load_config(root).database_url
    database = Path(url.removeprefix("sqlite:///"))
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = {
                table: sorted(
                    map(tuple, connection.execute(text(f'SELECT * FROM "{table}"')).all()),
                    key=repr,
                )
                for table in inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()
    files = sorted(
        (str(path.relative_to(root)), path.stat().st_size)
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(database.name)
    )
    return rows, files


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project with scene 1, shot 1A with take 1A/1, and members of three roles.

    Shared by the whole module: every command here is refused, so nothing changes it (each
    test checks that).
    """
    folder = tmp_path_factory.mktemp("roles")
    incoming = folder / "incoming"
    incoming.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("SETPIECE_USER", "ana")
        for name in ("SETPIECE_PROJECT", "SETPIECE_DATABASE_URL"):
            patch.delenv(name, raising=False)
        root = folder / "film"
        for args in (
            ["init", "film"],
            ["-C", "film", "scene", "add", "--heading", "INT. TRAIN - NIGHT"],
            ["-C", "film", "character", "add", "ANNA"],
            ["-C", "film", "shot", "add", "1", "--code", "1A"],
            ["-C", "film", "take", "import", "1A", str(write_png(incoming / "a.png", seed=1))],
            *(
                ["-C", "film", "user", "add", name, "--role", role]
                for name, role in MEMBERS.items()
            ),
        ):
            assert main(args) == 0, args
    write_mp4(incoming / "clip.mp4", frames=6)
    (incoming / "kettle.fountain").write_text(SCRIPT)
    (incoming / "shots.csv").write_text("code,scene,description\n1A,1,x\n")
    (folder / "out").mkdir()  # where commands would write: stays empty
    yield root


@pytest.fixture
def run(
    film: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliRun]:
    """``setpiece ARGS`` in the project as the login user ``walter``, with nobody named."""
    monkeypatch.chdir(film)
    for name in ("SETPIECE_USER", "SETPIECE_PROJECT", "SETPIECE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, LOGIN)
    incoming = film.parent / "incoming"
    files = {
        "png": str(incoming / "a.png"),
        "mp4": str(incoming / "clip.mp4"),
        "script": str(incoming / "kettle.fountain"),
        "csv": str(incoming / "shots.csv"),
        "out": str(film.parent / "out" / "made"),
        "new": str(film.parent / "elsewhere" / "new-film"),
    }

    def call(*args: str) -> CliRun:
        code = main([arg.format(**files) for arg in args])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return call


def _assert_refused(result: CliRun, who: str) -> None:
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"setpiece: error: user {who!r} is not a member of this project")
    for way in ("--as NAME", "SETPIECE_USER=NAME", '[user] name = "NAME" in setpiece.toml'):
        assert way in lines[0]


@pytest.mark.parametrize("how", ["login user", "--as"])
@pytest.mark.parametrize(("command", "args"), project_commands())
def test_a_non_member_is_refused_by_every_command(
    run: Callable[..., CliRun], film: Path, command: str, args: list[str], how: str
) -> None:
    before = _snapshot(film)
    named = ["--as", "zed"] if how == "--as" else []
    result = run(*named, *command.split(), *args)
    _assert_refused(result, "zed" if how == "--as" else LOGIN)
    assert _snapshot(film) == before
    assert not any((film.parent / "out").iterdir())


@pytest.mark.parametrize("command", sorted(NO_PROJECT))
def test_commands_without_a_project_work_for_anyone(
    run: Callable[..., CliRun], film: Path, command: str
) -> None:
    before = _snapshot(film)
    result = run(*command.split(), *NO_PROJECT[command][1])
    assert result.code == 0, result.err
    assert _snapshot(film) == before


def test_render_is_refused_below_artist_even_with_nothing_queued(
    run: Callable[..., CliRun], film: Path
) -> None:
    """Resuming the queue renders (and records the renderer): a viewer may not, with or
    without shot codes; an artist may."""
    before = _snapshot(film)
    for args in ([], ["1A"]):
        refused = run("--as", "vic", "render", *args)
        assert refused.code == 2
        assert refused.err.strip() == "setpiece: error: vic is viewer: render needs artist or above"
    assert _snapshot(film) == before
    resumed = run("--as", "art", "render")
    assert resumed.code == 0, resumed.err
    assert "rendered 0, failed 0" in resumed.out


@pytest.mark.parametrize("naming", ["--as", "SETPIECE_USER", "[user] name"])
def test_a_member_named_any_way_may_read(
    run: Callable[..., CliRun],
    film: Path,
    monkeypatch: pytest.MonkeyPatch,
    naming: str,
) -> None:
    named: list[str] = []
    config = film / "setpiece.toml"
    kept = config.read_text()
    if naming == "--as":
        named = ["--as", "vic"]
    elif naming == "SETPIECE_USER":
        monkeypatch.setenv("SETPIECE_USER", "vic")
    else:
        config.write_text(kept + '\n[user]\nname = "vic"\n')
    try:
        for command in (["status"], ["findings", "list"], ["user", "list"], ["shot", "list"]):
            result = run(*named, *command)
            assert result.code == 0, (command, result.err)
        assert "ana  admin" in run(*named, "user", "list").out
    finally:
        config.write_text(kept)


def test_the_first_admin_is_told_that_commands_now_need_a_member(
    cli: Callable[..., CliRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SETPIECE_USER")
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, LOGIN)
    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    assert cli("status").code == 0  # no members yet: anyone may
    first = cli("user", "add", "dana", "--role", "admin")
    assert first.code == 0, first.err
    assert (
        "dana is the first member: from now on every command on this project needs a member; "
        'act as dana with --as dana (or SETPIECE_USER=dana, or [user] name = "dana" in '
        "setpiece.toml)"
    ) in first.out
    _assert_refused(cli("status"), LOGIN)
    second = cli("--as", "dana", "user", "add", "bob", "--role", "viewer")
    assert second.code == 0, second.err
    assert "first member" not in second.out
    assert cli("--as", "dana", "status").code == 0
