"""`setpiece user add/token/password` and `setpiece serve` as a user meets them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from setpiece.cli.main import main


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def project(cli: Any, tmp_path: Path, database_url: str | None) -> Path:
    db = ["--db", database_url] if database_url else []
    assert cli(*db, "init", "film").code == 0
    os.chdir(tmp_path / "film")
    return tmp_path / "film"


def rows(project: Path, table: Any) -> int:
    from setpiece.production.context import Production

    with (
        Production.open_for_server(project) as production,
        production.transaction() as session,
    ):
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_user_add_prints_a_one_time_password_that_logs_in(cli: Any, project: Path) -> None:
    from setpiece.production.accounts import authenticate
    from setpiece.production.context import Production

    added = cli("--as", "ana", "user", "add", "ana", "--role", "admin")
    assert added.code == 0, added.err
    assert "user ana (admin) added" in added.out
    password = added.out.split("one-time password: ")[1].split()[0]
    made = cli("--as", "ana", "user", "add", "bob", "--role", "artist", "--json")
    assert made.code == 0
    import json

    assert json.loads(made.out)["role"] == "artist"
    with Production.open_for_server(project) as production:
        assert authenticate(production, "ana", password).role == "admin"


def test_user_token_for_oneself_or_by_an_admin(cli: Any, project: Path) -> None:
    from setpiece.model.orm import ApiToken
    from setpiece.production.accounts import user_for_token
    from setpiece.production.context import Production

    assert cli("--as", "ana", "user", "add", "ana", "--role", "admin").code == 0
    assert cli("--as", "ana", "user", "add", "bob", "--role", "artist").code == 0
    own = cli("--as", "bob", "user", "token", "bob", "--label", "laptop")
    assert own.code == 0, own.err
    token = own.out.strip()
    assert token.startswith("sp_") and len(token) > 40
    with Production.open_for_server(project) as production:
        user = user_for_token(production, token)
        assert user is not None and user.name == "bob"
    before = rows(project, ApiToken)
    refused = cli("--as", "bob", "user", "token", "ana")
    assert refused.code == 2
    assert refused.err.startswith("setpiece: error: bob is artist: manage users needs admin")
    assert len(refused.err.strip().splitlines()) == 1
    assert rows(project, ApiToken) == before
    assert cli("--as", "ana", "user", "token", "bob").code == 0
    unknown = cli("--as", "ana", "user", "token", "zed")
    assert unknown.code == 2 and "no user 'zed'" in unknown.err


def test_bad_user_input_writes_nothing(cli: Any, project: Path) -> None:
    from setpiece.model.orm import User

    bad = cli("--as", "ana", "user", "add", "ana", "--role", "wizard")
    assert bad.code == 2
    assert "unknown role 'wizard'" in bad.err
    first = cli("--as", "ana", "user", "add", "ana", "--role", "viewer")
    assert first.code == 2 and "first member must be an admin" in first.err
    assert rows(project, User) == 0


def test_user_password_resets_only_for_oneself_or_an_admin(cli: Any, project: Path) -> None:
    assert cli("--as", "ana", "user", "add", "ana", "--role", "admin").code == 0
    assert cli("--as", "ana", "user", "add", "bob", "--role", "artist").code == 0
    assert cli("--as", "bob", "user", "password", "bob").code == 0
    refused = cli("--as", "bob", "user", "password", "ana")
    assert refused.code == 2 and "needs admin" in refused.err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_defaults_to_loopback_and_refuses_bad_settings(cli: Any, project: Path) -> None:
    shown = cli("serve", "--help")
    assert shown.code == 0
    assert "127.0.0.1" in shown.out
    with (project / "setpiece.toml").open("a") as handle:
        handle.write("\n[web]\nmax_body_kb = 0\n")
    refused = cli("serve", "--port", "1")
    assert refused.code == 2
    assert (
        "setpiece.toml [web] max_body_kb: expected a whole number from 1 to 1048576, got 0"
        in refused.err
    )
