"""Sessions that end, one-time passwords that log in once, tokens that can be revoked
(issue 20, findings 2 and 7), through the shot board on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from setpiece.production.accounts import CHANGE_PAGE
from web.helpers import CSRF, Browserless, error_of


def copy_of(browser: Browserless, app: Any) -> Browserless:
    """Another client holding the same cookie (a cookie copied out of the browser)."""
    thief = Browserless(app)
    thief.client.cookies.update(browser.client.cookies)
    thief.csrf = browser.csrf
    return thief


def new_password(browser: Browserless, new: str, current: str = "", repeat: str = "") -> Any:
    form = {"csrf_token": browser.csrf, "new_password": new, "repeat_password": repeat or new}
    if current:
        form["current_password"] = current
    return browser.client.post(CHANGE_PAGE, data=form)


def test_logout_ends_every_session_a_copied_cookie_too(film, session_of) -> None:
    browser = session_of("art")
    thief = copy_of(browser, film.app)
    elsewhere = session_of("art")  # another browser of the same member
    assert thief.get("/api/v1/me").json()["name"] == "art"
    assert browser.client.post("/logout", data={"csrf_token": browser.csrf}).status_code == 303
    for client in (thief, elsewhere):
        refused = client.get("/api/v1/me")
        assert refused.status_code == 401
        assert "session has ended" in error_of(refused)["message"]
        assert client.get("/board").headers["location"].startswith("/login")
    # Other members' sessions go on.
    assert session_of("vic").get("/api/v1/me").status_code == 200
    thief.client.close()


def test_an_admin_reset_ends_sessions_and_revokes_tokens(film, session_of, api) -> None:
    from setpiece.production.accounts import reset_password

    browser = session_of("art")
    assert api("art").get("/api/v1/me").status_code == 200
    reset = reset_password(film.as_("ana"), "art")
    assert browser.get("/api/v1/me").status_code == 401
    assert api("art").get("/api/v1/me").status_code == 401
    assert api("ana").get("/api/v1/me").status_code == 200  # the admin's own go on
    # The old password no longer logs in; the one-time one does, once, to the change page.
    assert Browserless(film.app).login("art", film.passwords["art"]).status_code == 401
    fresh = Browserless(film.app)
    answer = fresh.login("art", reset.password)
    assert answer.status_code == 303 and answer.headers["location"] == CHANGE_PAGE


def test_a_one_time_password_logs_in_once_and_leads_to_a_new_password(film) -> None:
    from setpiece.production.accounts import add_member

    added = add_member(film.as_("ana"), "ned", "artist")
    browser = Browserless(film.app)
    page = browser.client.get("/login")
    browser.csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"username": "ned", "password": added.password, "csrf_token": browser.csrf}
    answer = browser.client.post("/login", data={**form, "next": "/board"})
    assert answer.status_code == 303 and answer.headers["location"] == CHANGE_PAGE
    # Nothing else until a new password is set: pages lead there, the API says so.
    assert browser.get("/board").headers["location"] == CHANGE_PAGE
    refused = browser.get("/api/v1/me")
    assert refused.status_code == 403
    error = error_of(refused)
    assert error["code"] == "password_change_required" and CHANGE_PAGE in error["message"]
    assert browser.post("/api/v1/shots/1A/comments", json={"note": "hi"}).status_code == 403
    form_page = browser.get(CHANGE_PAGE)
    assert form_page.status_code == 200
    assert 'name="current_password"' not in form_page.text  # the session is the proof
    browser.csrf = CSRF.search(form_page.text).group(1)  # type: ignore[union-attr]
    # A second login with the one-time password fails, even while the first session lives.
    again = Browserless(film.app)
    assert again.login("ned", added.password).status_code == 401
    # Bad new passwords are refused on the form, and change nothing.
    short = new_password(browser, "short")
    assert short.status_code == 422 and "12 to 1024 characters" in short.text
    differ = new_password(browser, "ned's own password", repeat="ned's other password")
    assert differ.status_code == 422 and "differ" in differ.text
    assert browser.get("/api/v1/me").status_code == 403
    done = new_password(browser, "ned's own password")
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert browser.get("/api/v1/me").json()["name"] == "ned"
    assert browser.get("/board").status_code == 200
    assert again.login("ned", added.password).status_code == 401
    assert Browserless(film.app).login("ned", "ned's own password").status_code == 303


def test_a_password_change_ends_the_other_sessions_and_keeps_tokens(film, session_of, api) -> None:
    browser = session_of("dora")
    other = session_of("dora")
    thief = copy_of(browser, film.app)
    wrong = new_password(browser, "dora's new password", current="not it at all")
    assert wrong.status_code == 403 and "current password is wrong" in wrong.text
    assert other.get("/api/v1/me").status_code == 200  # a refused change ends nothing
    missing = new_password(browser, "dora's new password")
    assert missing.status_code == 422 and "current password" in missing.text
    done = new_password(browser, "dora's new password", current=film.passwords["dora"])
    assert done.status_code == 303
    assert browser.get("/api/v1/me").json()["name"] == "dora"  # this one goes on
    assert other.get("/api/v1/me").status_code == 401
    assert thief.get("/api/v1/me").status_code == 401  # the cookie before the change
    assert api("dora").get("/api/v1/me").status_code == 200
    assert Browserless(film.app).login("dora", film.passwords["dora"]).status_code == 401
    thief.client.close()


def test_the_password_form_needs_its_csrf_token(film, session_of) -> None:
    browser = session_of("art")
    answer = browser.client.post(
        CHANGE_PAGE,
        data={"new_password": "a new password!", "repeat_password": "a new password!"},
    )
    assert answer.status_code == 403
    assert browser.get("/api/v1/me").status_code == 200


def test_tokens_are_listed_and_revoked_through_the_api(film, api) -> None:
    listed = api("ana").get("/api/v1/users/art/tokens")
    assert listed.status_code == 200
    (token,) = listed.json()
    assert set(token) == {"id", "label", "created_at", "last_used_at", "revoked_at"}
    assert token["revoked_at"] is None and "token" not in token
    # Someone else's tokens are an admin's business.
    assert api("dora").get("/api/v1/users/art/tokens").status_code == 403
    assert api("dora").delete(f"/api/v1/users/art/tokens/{token['id']}").status_code == 403
    assert api("art").get("/api/v1/me").status_code == 200
    missing = api("ana").delete("/api/v1/users/art/tokens/99999")
    assert missing.status_code == 404 and "no API token 99999" in error_of(missing)["message"]
    assert api("ana").delete("/api/v1/users/zed/tokens").status_code == 404
    assert api("ana").delete("/api/v1/users/art/tokens/0").status_code == 422
    gone = api("ana").delete(f"/api/v1/users/art/tokens/{token['id']}")
    assert gone.status_code == 200 and gone.json() == {"revoked": 1}
    refused = api("art").get("/api/v1/me")
    assert refused.status_code == 401 and "revoked" in error_of(refused)["message"]
    again = api("ana").delete(f"/api/v1/users/art/tokens/{token['id']}")
    assert again.status_code == 422 and "already revoked" in error_of(again)["message"]
    assert api("ana").get("/api/v1/users/art/tokens").json()[0]["revoked_at"] is not None
    assert api("ana").delete("/api/v1/users/vic/tokens").json() == {"revoked": 1}
    assert api("vic").get("/api/v1/me").status_code == 401


def test_an_admin_revokes_tokens_on_the_members_page(film, session_of, api) -> None:
    from setpiece.production.accounts import list_tokens

    admin = session_of("ana")
    page = admin.get("/users")
    assert page.status_code == 200
    (vic,) = list_tokens(film.as_("ana"), "vic")
    assert 'action="/users/vic/tokens/revoke"' in page.text
    bad = admin.client.post(
        "/users/vic/tokens/revoke", data={"csrf_token": admin.csrf, "token": "x1"}
    )
    assert bad.status_code == 422 and "is neither an id nor" in bad.text
    assert api("vic").get("/api/v1/me").status_code == 200
    # A director sees their own tokens only, and cannot revoke another's.
    director = session_of("dora")
    theirs = director.get("/users")
    assert "tokens-dora" in theirs.text and "tokens-vic" not in theirs.text
    refused = director.client.post(
        "/users/vic/tokens/revoke", data={"csrf_token": director.csrf, "token": str(vic.id)}
    )
    assert refused.status_code == 403
    assert api("vic").get("/api/v1/me").status_code == 200
    done = admin.client.post(
        "/users/vic/tokens/revoke", data={"csrf_token": admin.csrf, "token": str(vic.id)}
    )
    assert done.status_code == 303
    assert api("vic").get("/api/v1/me").status_code == 401
    everything = admin.client.post(
        "/users/art/tokens/revoke", data={"csrf_token": admin.csrf, "token": "all"}
    )
    assert everything.status_code == 303
    assert api("art").get("/api/v1/me").status_code == 401
    assert api("ana").get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_cookie_from_before_generations_still_names_generation_zero(film) -> None:
    """Sessions made before migration 0009 (no ``gen``) stay valid until the first logout."""
    from setpiece.production.accounts import add_member
    from setpiece.web.auth import COOKIE

    add_member(film.as_("ana"), "ned", "viewer")  # generation 0: never logged out or reset
    signer = film.app.state.context.signer
    browser = Browserless(film.app)
    browser.client.cookies.set(COOKIE, signer.dumps({"sid": "s" * 24, "user": "ned"}))
    # Accepted as ned's, who has a one-time password to change (403, not 401).
    assert error_of(browser.get("/api/v1/me"))["code"] == "password_change_required"
    browser.client.cookies.set(COOKIE, signer.dumps({"sid": "s" * 24, "user": "ned", "gen": "0"}))
    assert browser.get("/api/v1/me").status_code == 401
    browser.client.cookies.set(COOKIE, signer.dumps({"sid": "s" * 24, "user": "vic"}))
    assert browser.get("/api/v1/me").status_code == 401  # vic's generation has moved on
    browser.client.close()
