"""Assignments: a shot given to a member with a due date, refusals, late shots, the CLI."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from setpiece.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from setpiece.model.orm import Assignment, Event
from setpiece.production import assignments
from setpiece.production.accounts import add_member
from setpiece.production.context import Production


def _as(production: Production, name: str) -> Production:
    return Production(production.config, production.db, production.store, name)


def _members(production: Production) -> None:
    add_member(production, "ana", "admin")
    add_member(production, "art", "artist")
    add_member(production, "vic", "viewer")


def test_assign_list_and_late(production: Production, make) -> None:
    first, second = make.shot("1A"), make.shot("1B", scene="1")
    _members(production)
    ana = _as(production, "ana")
    tomorrow = (assignments.today() + timedelta(days=1)).isoformat()
    done = assignments.assign_shot(ana, first, "ART", due=tomorrow)
    assert (done.shot, done.assignee, done.due, done.late, done.warnings) == (
        "1A",
        "art",
        tomorrow,
        False,
        [],
    )
    yesterday = (assignments.today() - timedelta(days=1)).isoformat()
    late = assignments.assign_shot(ana, second, "art", due=yesterday)
    assert late.late and late.warnings == [
        f"due date {yesterday} is in the past (today is {assignments.today().isoformat()})"
    ]
    mine = assignments.list_assignments(ana, "art")
    assert [(a.shot, a.late) for a in mine] == [("1A", False), ("1B", True)]
    assert [a.shot for a in assignments.list_assignments(ana, late_only=True)] == ["1B"]
    assert assignments.list_assignments(ana, "vic") == []
    # Assigning again hands the shot over: one member a shot.
    assignments.assign_shot(ana, first, "vic")
    assert [a.shot for a in assignments.list_assignments(ana, "vic")] == ["1A"]
    with production.transaction() as session:
        assert len(session.scalars(select(Assignment)).all()) == 2
        events = session.scalars(select(Event).where(Event.action == "assign")).all()
        assert [(e.before, e.after) for e in events] == [
            (None, "art"),
            (None, "art"),
            ("art", "vic"),
        ]


def test_assign_bad_input_changes_nothing(production: Production, make) -> None:
    code = make.shot("2A")
    _members(production)
    ana = _as(production, "ana")
    with pytest.raises(InvalidInputError, match="'zed' is not a member of this project"):
        assignments.assign_shot(ana, code, "zed")
    with pytest.raises(InvalidInputError, match="is not a date: write it as YYYY-MM-DD"):
        assignments.assign_shot(ana, code, "art", due="24/12/2026")
    with pytest.raises(NotFoundError):
        assignments.assign_shot(ana, "9Z", "art")
    with pytest.raises(PermissionDeniedError, match="vic is viewer"):
        assignments.assign_shot(_as(production, "vic"), code, "art")
    with pytest.raises(NotFoundError, match="no member 'zed'"):
        assignments.list_assignments(ana, "zed")
    with production.transaction() as session:
        assert session.scalars(select(Assignment)).all() == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_assign_and_list(cli, tmp_path: Path, database_url: str | None) -> None:
    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    assert cli("shot", "add", "1", "--code", "1A").code == 0
    assert cli("shot", "add", "1", "--code", "1B").code == 0
    assert cli("user", "add", "ana", "--role", "admin").code == 0
    assert cli("user", "add", "art", "--role", "artist").code == 0
    run = cli("shot", "assign", "1A", "--to", "art", "--due", "2020-01-02")
    assert run.code == 0, run.err
    assert "shot 1A assigned to art, due 2020-01-02" in run.out
    assert run.err.strip() == (
        f"warning: due date 2020-01-02 is in the past (today is {assignments.today()})"
    )
    assert cli("shot", "assign", "1B", "--to", "ana").code == 0
    listed = cli("shot", "list", "--assignee", "art", "--json").json()
    assert [(s["code"], s["due"], s["late"]) for s in listed] == [("1A", "2020-01-02", True)]
    mine = cli("shot", "list", "--mine", "--json").json()
    assert [s["code"] for s in mine] == ["1B"]
    assert [s["code"] for s in cli("--as", "art", "shot", "list", "--mine", "--json").json()] == [
        "1A"
    ]
    # One row shape for every listing: the plain list says whose each shot is, too.
    everything = cli("shot", "list", "--json").json()
    assert [(s["code"], s["assignee"]) for s in everything] == [("1A", "art"), ("1B", "ana")]
    assert {tuple(sorted(s)) for s in everything + mine + listed} == {tuple(sorted(mine[0]))}
    assert cli("shot", "list", "--scene", "1", "--mine").code == 2
    table = cli("shot", "list", "--assignee", "art")
    assert "LATE" in table.out and "2020-01-02" in table.out
    for args, fragment in (
        (["shot", "assign", "1A", "--to", "zed"], "'zed' is not a member of this project"),
        (["shot", "assign", "1A", "--to", "art", "--due", "tomorrow"], "is not a date"),
        (["shot", "list", "--assignee", "art", "--mine"], "not both"),
        (["--as", "art", "shot", "assign", "1B", "--to", "art"], None),
    ):
        run = cli(*args)
        if fragment is None:  # an artist may edit shots, so may assign them
            assert run.code == 0, run.err
            continue
        assert run.code == 2 and len(run.err.strip().splitlines()) == 1, run.err
        assert fragment in run.err
