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


def _members(cli: Any) -> str:
    """ana (admin) and bob (artist); returns bob's one-time password."""
    assert cli("--as", "ana", "user", "add", "ana", "--role", "admin").code == 0
    added = cli("--as", "ana", "user", "add", "bob", "--role", "artist")
    assert added.code == 0
    return added.out.split("one-time password: ")[1].split()[0]


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_password_change_reads_standard_input(
    cli: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from setpiece.production.accounts import authenticate
    from setpiece.production.context import Production

    one_time = _members(cli)
    _stdin(monkeypatch, f"{one_time}\nbob's own password\n")
    changed = cli("--as", "bob", "user", "password", "--change")
    assert changed.code == 0, changed.err
    assert "password of bob changed" in changed.err and changed.out == ""
    with Production.open_for_server(project) as production:
        assert authenticate(production, "bob", "bob's own password").name == "bob"
        # A chosen password is no one-time password: it logs in again.
        assert authenticate(production, "bob", "bob's own password").name == "bob"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("wrong current password\nbob's own password\n", "the current password is wrong"),
        ("{otp}\nshort\n", "a password needs 12 to 1024 characters"),
        ("{otp}\n{otp}\n", "the new password is the current one"),
        ("{otp}\n", "standard input must hold two lines"),
        ("", "standard input must hold two lines"),
    ],
)
def test_password_change_refuses_bad_input_in_one_line(
    cli: Any, project: Path, monkeypatch: pytest.MonkeyPatch, given: str, message: str
) -> None:
    from setpiece.production.accounts import authenticate
    from setpiece.production.context import Production

    one_time = _members(cli)
    _stdin(monkeypatch, given.format(otp=one_time))
    refused = cli("--as", "bob", "user", "password", "--change")
    assert refused.code == 2
    assert refused.err.startswith("setpiece: error: ") and message in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    with Production.open_for_server(project) as production:
        # Nothing changed: the one-time password still logs in (once).
        assert authenticate(production, "bob", one_time).name == "bob"


def test_password_needs_a_name_or_change_but_not_both(cli: Any, project: Path) -> None:
    _members(cli)
    for args in ((), ("bob", "--change")):
        refused = cli("--as", "bob", "user", "password", *args)
        assert refused.code == 2
        assert "give a NAME to reset, or --change" in refused.err


def test_an_admin_reset_revokes_tokens_and_makes_a_one_time_password(
    cli: Any, project: Path
) -> None:
    from setpiece.production.accounts import LoginRefusedError, authenticate, user_for_token
    from setpiece.production.context import Production

    _members(cli)
    token = cli("--as", "bob", "user", "token", "bob", "--label", "laptop").out.strip()
    reset = cli("--as", "ana", "user", "password", "bob")
    assert reset.code == 0, reset.err
    password = reset.out.strip()
    assert len(password) == 20 and "API tokens revoked" in reset.err
    with Production.open_for_server(project) as production:
        assert user_for_token(production, token) is None
        assert authenticate(production, "bob", password).name == "bob"
        with pytest.raises(LoginRefusedError):
            authenticate(production, "bob", password)  # once only


def test_user_tokens_lists_and_user_revoke_revokes(cli: Any, project: Path) -> None:
    import json

    from setpiece.production.accounts import user_for_token
    from setpiece.production.context import Production

    _members(cli)
    assert cli("--as", "bob", "user", "tokens", "bob").out.strip() == "bob has no API tokens"
    assert cli("--as", "bob", "user", "tokens", "bob", "--json").out.strip() == "[]"
    laptop = cli("--as", "bob", "user", "token", "bob", "--label", "laptop").out.strip()
    farm = cli("--as", "ana", "user", "token", "bob", "--label", "render farm").out.strip()
    listed = cli("--as", "bob", "user", "tokens", "bob", "--json")
    assert listed.code == 0, listed.err
    tokens = json.loads(listed.out)
    assert [t["label"] for t in tokens] == ["laptop", "render farm"]
    assert all(t["revoked_at"] is None and t["last_used_at"] is None for t in tokens)
    assert laptop not in listed.out and farm not in listed.out
    text = cli("--as", "ana", "user", "tokens", "bob")
    assert text.code == 0 and f"{tokens[0]['id']}  laptop  created " in text.out
    assert "active" in text.out
    assert cli("--as", "bob", "user", "tokens", "ana").code == 2  # someone else's: admins only

    one = cli("--as", "ana", "user", "revoke", "bob", "--token", str(tokens[0]["id"]))
    assert one.code == 0, one.err
    assert "1 API token of bob revoked" in one.out
    with Production.open_for_server(project) as production:
        assert user_for_token(production, laptop) is None
        assert user_for_token(production, farm) is not None
    assert "revoked " in cli("--as", "ana", "user", "tokens", "bob").out
    everything = cli("--as", "bob", "user", "revoke", "bob", "--all")
    assert everything.code == 0 and "1 API token of bob revoked" in everything.out
    with Production.open_for_server(project) as production:
        assert user_for_token(production, farm) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bob",), "give --token ID or --all"),
        (("bob", "--all", "--token", "1"), "give --token ID or --all"),
        (("bob", "--token", "9999"), "bob has no API token 9999"),
        (("zed", "--all"), "no user 'zed'"),
        (("ana", "--all"), "manage users needs admin"),
    ],
)
def test_user_revoke_refuses_bad_input(
    cli: Any, project: Path, args: tuple[str, ...], message: str
) -> None:
    from setpiece.model.orm import ApiToken

    _members(cli)
    assert cli("--as", "ana", "user", "token", "ana").code == 0
    refused = cli("--as", "bob", "user", "revoke", *args)
    assert refused.code == 2
    assert message in refused.err and len(refused.err.strip().splitlines()) == 1
    assert rows(project, ApiToken) == 1
    with _opened(project) as production, production.transaction() as session:
        assert session.scalars(select(ApiToken.revoked_at)).all() == [None]


def _opened(project: Path) -> Any:
    from setpiece.production.context import Production

    return Production.open_for_server(project)
