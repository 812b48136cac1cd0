"""Logins that do not tell names apart, lock-outs per address, and user names (issue 20).

Findings 5 and 6: a real name answered 429 "too many failed logins for NAME" where an
unknown one answered 401, anyone could lock an admin out, and ``VIC`` was created beside
``vic`` (``<b>x</b>``, ``../../x`` and Cyrillic look-alikes were accepted too).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.model.orm import LoginFailure, User
from setpiece.production.accounts import (
    LoginPolicy,
    LoginRefusedError,
    LoginThrottledError,
    add_member,
    authenticate,
    unlock,
)
from setpiece.production.context import Production
from setpiece.production.records import add_user

QUICK = LoginPolicy(slow_after=3, lock_after=3, lock_minutes=15)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2 verification made, by the hash it was checked against."""
    from argon2 import PasswordHasher

    calls: list[str] = []
    real = PasswordHasher.verify

    def spy(self: Any, hash: str, password: str) -> Any:
        calls.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    return calls


def as_admin(production: Production) -> Production:
    return Production(production.config, production.db, production.store, "ana")


# Enumeration ---------------------------------------------------------------------------------------


def test_unknown_and_real_names_cost_one_verification_each(
    production: Production, verifications: list[str]
) -> None:
    password = add_member(production, "ana", "admin").password
    with production.transaction() as session:
        real_hash = session.scalars(select(User.password_hash)).one()
    with pytest.raises(LoginRefusedError) as wrong:
        authenticate(production, "ana", "not-the-password")
    assert verifications == [real_hash]
    verifications.clear()
    with pytest.raises(LoginRefusedError) as unknown:
        authenticate(production, "nobody", "not-the-password")
    assert len(verifications) == 1 and verifications[0] != real_hash
    assert verifications[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert str(wrong.value) == str(unknown.value) == "wrong user name or password"
    verifications.clear()
    assert authenticate(production, "ana", password).name == "ana"
    assert verifications == [real_hash]


def test_unknown_names_lock_exactly_like_real_ones(
    production: Production, verifications: list[str]
) -> None:
    add_member(production, "ana", "admin")
    answers = {}
    for name in ("ana", "nobody"):
        for _ in range(QUICK.lock_after):
            with pytest.raises(LoginRefusedError):
                authenticate(production, name, "guess-guess-guess", QUICK, "10.0.0.9")
        verifications.clear()
        with pytest.raises(LoginThrottledError) as locked:
            authenticate(production, name, "guess-guess-guess", QUICK, "10.0.0.9")
        assert verifications == []  # a locked attempt costs no hash, for either
        answers[name] = (locked.value.http_status, str(locked.value).split(" in ")[0])
    assert answers["ana"] == answers["nobody"] == (429, "too many failed logins: try again")
    assert "ana" not in str(locked.value)


@pytest.mark.usefixtures("production")
def test_the_login_page_answers_alike_for_real_and_unknown_names(production, make) -> None:
    from web.helpers import Browserless, make_film

    film = make_film(production, make, slow_after=3, lock_after=3, lock_minutes=15)
    answers = {}
    for name in ("art", "nobody"):
        browser = Browserless(film.app)
        seen = [browser.login(name, "guess-guess-guess") for _ in range(4)]
        answers[name] = [(r.status_code, _message(r.text)) for r in seen]
        browser.client.close()
    assert answers["art"] == answers["nobody"]
    assert [status for status, _ in answers["art"]] == [401, 401, 401, 429]
    assert "art" not in answers["art"][-1][1]


def _message(page: str) -> str:
    import re

    found = re.search(r'class="error"[^>]*>([^<]*)<', page)
    assert found, page
    # The wait in seconds may differ by one between the two runs.
    return re.sub(r"\d+ s\b", "N s", found.group(1).strip())


# Lock-out by name and address ------------------------------------------------------------------------


def test_a_stranger_cannot_lock_the_admin_out(production, make) -> None:
    from web.helpers import Browserless, make_film

    film = make_film(production, make, slow_after=3, lock_after=3, lock_minutes=15)
    stranger = Browserless(film.app, address="203.0.113.7")
    for _ in range(4):
        stranger.login("ana", "guess-guess-guess")
    assert stranger.login("ana", film.passwords["ana"]).status_code == 429
    admin = Browserless(film.app, address="192.0.2.10")
    assert admin.login("ana", film.passwords["ana"]).status_code == 303
    assert admin.get("/api/v1/me").json()["name"] == "ana"
    for browser in (stranger, admin):
        browser.client.close()


def test_unlock_clears_the_lock_for_every_address(production: Production) -> None:
    password = add_member(production, "ana", "admin").password
    add_member(as_admin(production), "vic", "viewer")
    for address in ("203.0.113.7", "198.51.100.1"):
        for _ in range(QUICK.lock_after):
            with pytest.raises(LoginRefusedError):
                authenticate(production, "ana", "guess-guess-guess", QUICK, address)
    with pytest.raises(LoginThrottledError):
        authenticate(production, "ana", password, QUICK, "203.0.113.7")
    with pytest.raises(LoginRefusedError):
        authenticate(production, "vic", "guess-guess-guess", QUICK, "203.0.113.7")
    viewer = Production(production.config, production.db, production.store, "vic")
    with pytest.raises(Exception, match="manage users needs admin"):
        unlock(viewer, "ana")
    assert unlock(as_admin(production), "ANA") == 2
    assert authenticate(production, "ana", password, QUICK, "203.0.113.7").name == "ana"
    with production.transaction() as session:
        left = session.scalars(select(LoginFailure.name_key)).all()
    assert left == ["vic"]  # someone else's count stays


def test_a_success_clears_only_its_own_address(production: Production) -> None:
    password = add_member(production, "ana", "admin").password
    for address in ("a", "b"):
        with pytest.raises(LoginRefusedError):
            authenticate(production, "ana", "guess-guess-guess", QUICK, address)
    authenticate(production, "ana", password, QUICK, "a")
    with production.transaction() as session:
        assert session.scalars(select(LoginFailure.address)).all() == ["b"]


def test_user_unlock_command(tmp_path, monkeypatch, capsys, database_url) -> None:
    from setpiece.cli.main import main

    monkeypatch.chdir(tmp_path)
    db = ["--db", database_url] if database_url else []
    assert main([*db, "init", "film"]) == 0
    monkeypatch.chdir(tmp_path / "film")
    assert main(["--as", "ana", "user", "add", "ana", "--role", "admin"]) == 0
    capsys.readouterr()
    with Production.open_for_server(tmp_path / "film") as production:
        for _ in range(QUICK.lock_after):
            with pytest.raises(LoginRefusedError):
                authenticate(production, "ana", "guess-guess-guess", QUICK, "203.0.113.7")
    assert main(["--as", "ana", "user", "unlock", "ana"]) == 0
    assert "user ana unlocked (1 locked address)" in capsys.readouterr().out
    assert main(["--as", "ana", "user", "unlock", "nobody"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    with (
        Production.open_for_server(tmp_path / "film") as production,
        production.transaction() as session,
    ):
        assert session.scalars(select(LoginFailure)).all() == []


# User names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["<b>x</b>", "../../x", "v\u0456\u0441", "", "a" * 65, "-x", ".x", "a b", "x/y", "é"],
)
def test_unsafe_user_names_are_refused_with_one_line(production: Production, name: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        add_user(production, name, "admin")
    assert "\n" not in str(refused.value)
    assert "ASCII letters, digits, '.', '_' or '-'" in str(refused.value)
    with production.transaction() as session:
        assert session.scalars(select(User)).all() == []


def test_names_that_fold_together_are_one_member(production: Production) -> None:
    add_user(production, "vic", "admin")
    admin = Production(production.config, production.db, production.store, "vic")
    for twin in ("VIC", "Vic", "\uff56\uff49\uff43"):  # the last is fullwidth ｖｉｃ
        with pytest.raises(ConflictError, match="already exists"):
            add_user(admin, twin, "admin")
    added = add_user(admin, "Ana.B_2-x", "viewer")
    assert added.name == "Ana.B_2-x"
    with production.transaction() as session:
        keys = {name: key for name, key in session.execute(select(User.name, User.name_key))}
    assert keys == {"vic": "vic", "Ana.B_2-x": "ana.b_2-x"}


def test_lookups_by_name_fold_the_same_way(production: Production, monkeypatch) -> None:
    from setpiece.production.accounts import issue_token, member

    password = add_member(production, "Vic", "admin").password
    assert authenticate(production, "vIC", password).name == "Vic"
    assert member(production, "VIC").name == "Vic"
    shouting = Production(production.config, production.db, production.store, "VIC")
    assert issue_token(shouting, "vic").startswith("sp_")  # their own token, as themselves
    with shouting.transaction() as session:
        shouting.authorize(session, "manage_users")
    from setpiece.project import resolve_actor

    monkeypatch.setenv("SETPIECE_USER", "VIC")
    environment = Production(
        production.config, production.db, production.store, resolve_actor(None, None)
    )
    with environment.transaction() as session:
        environment.authorize(session, "manage_users")


def test_the_api_refuses_unsafe_and_twin_names(api: Any) -> None:
    from web.helpers import error_of

    admin = api("ana")
    for name, status in (("VIC", 409), ("<b>x</b>", 422), ("../../x", 422), ("v\u0456\u0441", 422)):
        response = admin.post("/api/v1/users", json={"name": name, "role": "admin"})
        assert response.status_code == status, (name, response.text)
        assert name in error_of(response)["message"] or status == 409
    names = [user["name"] for user in admin.get("/api/v1/users").json()["items"]]
    assert sorted(names) == ["ana", "art", "dora", "vic"]


def test_a_counter_made_meanwhile_is_counted_not_refused(production: Production) -> None:
    """Two first failures at once: the second finds the first's row instead of a 409."""
    from setpiece.model.orm import utcnow
    from setpiece.production.accounts import _first_failure

    with production.transaction() as session:
        session.add(LoginFailure(name_key="ana", address="a", failures=2, last_failed_at=utcnow()))
    with production.transaction() as session:
        found = _first_failure(session, "ana", "a")
        assert found.failures == 2
        found.failures += 1
    with production.transaction() as session:
        assert session.scalars(select(LoginFailure.failures)).all() == [3]
