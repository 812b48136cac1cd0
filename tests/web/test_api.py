"""The JSON API and the pages, on SQLite and PostgreSQL: roles, CSRF, bad input and attack."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from setpiece.model.orm import Comment, Event, Scene, Take
from web.helpers import error_of

# Edge behaviour (HTTP parsing, cookies, headers) is the same on both databases: SQLite only.
edge_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def count(film: Any, table: Any) -> int:
    with film.production.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


# Who may do what ---------------------------------------------------------------------------------


@edge_only
def test_without_a_login_the_api_answers_401_and_pages_redirect(film, api) -> None:
    anonymous = api(None)
    for url in ("/api/v1/shots", "/api/v1/shots/1A", "/api/v1/jobs", f"/media/{'a' * 64}"):
        response = anonymous.get(url)
        assert response.status_code == 401, url
        assert error_of(response)["code"] == "unauthorized"
    response = anonymous.post("/api/v1/shots/1A/approve", json={"take": film.takes[0]})
    assert response.status_code == 401
    page = anonymous.get("/board")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/board"


@edge_only
def test_a_forged_token_or_cookie_is_401(film) -> None:
    from fastapi.testclient import TestClient

    with TestClient(film.app, raise_server_exceptions=False) as client:
        for header in ("Bearer sp_forged", "Bearer ", "Basic YW5hOng=", "Bearer " + "x" * 300):
            response = client.get("/api/v1/me", headers={"Authorization": header})
            assert response.status_code == 401, header
            error_of(response)
        client.cookies.set("setpiece_session", "eyJzaWQiOiJ4IiwidXNlciI6ImFuYSJ9.forged.sig")
        assert client.get("/api/v1/me").status_code == 401


def test_roles_decide_in_the_services(film, api) -> None:
    body = {"take": film.takes[0]}
    for name in ("vic", "art"):
        response = api(name).post("/api/v1/shots/1A/approve", json=body)
        assert response.status_code == 403, name
        assert "needs director" in error_of(response)["message"]
    assert count(film, Event) > 0
    with film.production.transaction() as session:
        assert session.get(Take, film.takes[0]).status == "ready"
    # A viewer comments (issue 33's review room), and makes no playlist.
    assert api("vic").post("/api/v1/shots/1A/comments", json={"note": "nice"}).status_code == 201
    assert count(film, Comment) == 1
    playlist = api("vic").post("/api/v1/playlists", json={"name": "vic's", "query": "review"})
    assert playlist.status_code == 403 and "needs artist" in error_of(playlist)["message"]
    assert api("art").post("/api/v1/shots/1A/comments", json={"note": "nice"}).status_code == 201
    approved = api("dora").post("/api/v1/shots/1A/approve", json=body)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "circled"
    shot = api("vic").get("/api/v1/shots/1A").json()
    assert shot["status"] == "approved"
    assert shot["updated_by"] == "dora"
    # Only admins manage members.
    response = api("dora").post("/api/v1/users", json={"name": "eve", "role": "admin"})
    assert response.status_code == 403
    made = api("ana").post("/api/v1/users", json={"name": "eve", "role": "artist"})
    assert made.status_code == 201
    assert len(made.json()["password"]) >= 12


@edge_only
def test_me_and_the_token_carry_the_role(api) -> None:
    assert api("vic").get("/api/v1/me").json() == {"name": "vic", "role": "viewer", "via": "token"}


# CSRF ----------------------------------------------------------------------------------------------


def test_a_session_change_needs_the_csrf_token(film, session_of) -> None:
    dora = session_of("dora")
    body = {"note": "too dark"}
    missing = dora.client.post("/api/v1/shots/1A/comments", json=body)
    assert missing.status_code == 403
    assert "CSRF" in error_of(missing)["message"]
    forged = dora.client.post(
        "/api/v1/shots/1A/comments", json=body, headers={"X-CSRF-Token": "0" * 64}
    )
    assert forged.status_code == 403
    # A page form without its token is refused too, and nothing is written.
    page = dora.client.post("/shots/1A/approve", data={"take": film.takes[0], "csrf_token": "nope"})
    assert page.status_code == 403
    assert count(film, Comment) == 0
    with film.production.transaction() as session:
        assert session.get(Take, film.takes[0]).status == "ready"
    ok = dora.post("/api/v1/shots/1A/comments", json=body)
    assert ok.status_code == 201
    assert ok.json()["author"] == "dora"


@edge_only
def test_the_login_form_needs_its_csrf_token(film) -> None:
    from fastapi.testclient import TestClient

    with TestClient(film.app, raise_server_exceptions=False, follow_redirects=False) as client:
        response = client.post(
            "/login", data={"username": "ana", "password": film.passwords["ana"]}
        )
        assert response.status_code == 403
        assert "setpiece_session" not in response.headers.get("set-cookie", "")


# Sessions ------------------------------------------------------------------------------------------


@edge_only
def test_login_cookie_is_httponly_samesite_and_logout_ends_it(film) -> None:
    from web.helpers import Browserless

    browser = Browserless(film.app)
    response = browser.login("art", film.passwords["art"])
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert browser.get("/api/v1/me").json()["name"] == "art"
    out = browser.client.post("/logout", data={"csrf_token": browser.csrf})
    assert out.status_code == 303
    assert browser.get("/api/v1/me").status_code == 401
    browser.client.close()


@edge_only
def test_a_wrong_password_is_refused_without_saying_which_part(film) -> None:
    from web.helpers import Browserless

    browser = Browserless(film.app)
    wrong = browser.login("art", "not the password")
    unknown = browser.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong user name or password" in wrong.text
    assert "wrong user name or password" in unknown.text
    assert browser.get("/api/v1/me").status_code == 401
    browser.client.close()


def test_a_burst_of_failed_logins_locks_the_account(production, make) -> None:
    from setpiece.model.orm import LoginFailure
    from web.helpers import Browserless, make_film

    film = make_film(production, make, slow_after=3, lock_after=3, lock_minutes=15)
    browser = Browserless(film.app)
    for _ in range(3):
        assert browser.login("art", "guess-guess-guess").status_code == 401
    locked = browser.login("art", film.passwords["art"])
    assert locked.status_code == 429
    assert "too many failed logins" in locked.text
    assert browser.get("/api/v1/me").status_code == 401
    with production.transaction() as session:
        failed = session.get(LoginFailure, ("art", "testclient"))
        assert failed is not None and failed.failures == 3
        assert failed.locked_until is not None
    # Others are not affected.
    assert browser.login("dora", film.passwords["dora"]).status_code == 303
    browser.client.close()


def test_failed_logins_are_slowed_before_the_lock(production) -> None:
    from setpiece.model.orm import LoginFailure, utcnow
    from setpiece.production.accounts import (
        LoginPolicy,
        LoginRefusedError,
        LoginThrottledError,
        add_member,
        authenticate,
    )

    password = add_member(production, "ana", "admin").password
    policy = LoginPolicy(slow_after=1, lock_after=5, lock_minutes=15)
    with pytest.raises(LoginRefusedError):
        authenticate(production, "ana", "wrong-wrong-wrong", policy)
    with production.transaction() as session:
        failed = session.get(LoginFailure, ("ana", ""))
        assert failed is not None and failed.failures == 1
        assert failed.locked_until is not None and failed.locked_until > utcnow()
        wait = (failed.locked_until - utcnow()).total_seconds()
        assert 0 < wait <= 1.0
    with pytest.raises(LoginThrottledError, match="try again in"):
        authenticate(production, "ana", password, policy)


# Bad input -----------------------------------------------------------------------------------------


def test_unknown_ids_are_404_in_json(api) -> None:
    viewer, artist = api("vic"), api("art")
    for url in (
        "/api/v1/shots/NOPE",
        "/api/v1/shots/NOPE/takes",
        "/api/v1/takes/zzzzzzzz",
        "/api/v1/takes/1A/99",
        "/api/v1/nothing-here",
    ):
        response = viewer.get(url)
        assert response.status_code == 404, url
        assert error_of(response)["code"] == "not_found"
    for url in ("/api/v1/jobs/999/retry", "/api/v1/jobs/999/cancel"):
        response = artist.post(url)
        assert response.status_code == 404
        error_of(response)


@edge_only
def test_malformed_json_and_bad_fields_are_422(film, api) -> None:
    dora = api("dora")
    cases = [
        dict(content=b"{not json", headers={"content-type": "application/json"}),
        dict(json={"take": film.takes[0], "extra": 1}),
        dict(json={"take": ""}),
        dict(json={"take": film.takes[0], "version": 2**80}),
        dict(json={"take": "a\x00b"}),
        dict(json=[1, 2]),
    ]
    for case in cases:
        response = dora.post("/api/v1/shots/1A/approve", **case)
        assert response.status_code == 422, (case, response.text)
        assert error_of(response)["code"] == "invalid_input"
    with film.production.transaction() as session:
        assert session.get(Take, film.takes[0]).status == "ready"
    for url in (
        "/api/v1/shots?limit=0",
        "/api/v1/shots?limit=5000",
        "/api/v1/shots?status=finished",
        "/api/v1/jobs?state=odd",
    ):
        response = api("vic").get(url)
        assert response.status_code == 422, url
        error_of(response)


def test_a_stale_edit_is_409_saying_what_changed(film, api) -> None:
    dora = api("dora")
    seen = dora.get("/api/v1/shots/1A").json()["version"]
    assert (
        dora.post("/api/v1/shots/1A/comments", json={"note": "fine"}).status_code == 201
    )  # a comment does not change the shot
    assert api("art").post("/api/v1/shots/1A/submit", json={}).status_code == 200
    stale = dora.post("/api/v1/shots/1A/approve", json={"take": film.takes[1], "version": seen})
    assert stale.status_code == 409
    message = error_of(stale)["message"]
    assert f"changed since version {seen}" in message
    assert "review" in message and "by art" in message
    with film.production.transaction() as session:
        assert session.get(Take, film.takes[1]).status == "ready"


@edge_only
def test_oversized_bodies_are_413(production, make) -> None:
    from fastapi.testclient import TestClient

    from web.helpers import make_film

    film = make_film(production, make, max_body_kb=4, max_upload_mb=1)
    headers = {"Authorization": f"Bearer {film.tokens['art']}"}
    with TestClient(film.app, headers=headers, raise_server_exceptions=False) as client:
        big = {"note": "x" * 5000}
        response = client.post("/api/v1/shots/1A/comments", json=big)
        assert response.status_code == 413
        assert error_of(response)["code"] == "too_large"

        def chunks():  # no Content-Length: counted as it streams
            for _ in range(10):
                yield b" " * 1000

        streamed = client.post(
            "/api/v1/shots/1A/comments",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert streamed.status_code == 413
        upload = client.post(
            "/api/v1/shots/1A/takes",
            files={"file": ("big.png", b"\x89PNG" + b"0" * (1024 * 1024 + 10), "image/png")},
        )
        assert upload.status_code == 413
        error_of(upload)
    assert count(film, Comment) == 0
    with production.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Take)) == 2


@edge_only
def test_path_traversal_reaches_nothing(film, api) -> None:
    viewer = api("vic")
    toml = (film.production.config.root / "setpiece.toml").read_text()
    for url in (
        "/media/../setpiece.toml",
        "/media/..%2Fsetpiece.toml",
        "/media/%2e%2e%2f%2e%2e%2fsetpiece.toml",
        "/static/../setpiece.toml",
        "/static/%2e%2e/%2e%2e/setpiece.toml",
        "/static/..%2F..%2F..%2Fsetpiece.toml",
        "/shots/..%2F..%2Fsetpiece.toml",
        "/api/v1/shots/..%2F..%2Fsetpiece.toml",
        "/media/" + "a" * 63 + "/",
    ):
        response = viewer.get(url)
        assert response.status_code in (401, 404, 422, 303, 307), (url, response.status_code)
        assert toml not in response.text
        assert "secret" not in response.text.lower() or response.status_code != 200


# Media ---------------------------------------------------------------------------------------------


@edge_only
def test_media_is_served_by_hash_with_ranges(film, api, make) -> None:
    video = make.take("1A", video=True)
    viewer = api("vic")
    take = viewer.get(f"/api/v1/takes/{video}").json()
    sha = take["media"]["sha256"]
    whole = viewer.get(f"/media/{sha}")
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    import hashlib

    assert hashlib.sha256(whole.content).hexdigest() == sha
    part = viewer.get(f"/media/{sha}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == whole.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole.content)}"
    beyond = viewer.get(f"/media/{sha}", headers={"Range": f"bytes={len(whole.content) + 5}-"})
    assert beyond.status_code == 416
    assert viewer.get(f"/media/{'0' * 64}").status_code == 404
    bad = viewer.get("/media/not-a-hash")
    assert bad.status_code == 422
    error_of(bad)


# Lists ---------------------------------------------------------------------------------------------


def test_every_list_is_a_cursor_page(film, api, make) -> None:
    from setpiece.model.orm import Shot

    scene = make.scene("EXT. PLATFORM - DAY")
    with film.production.transaction() as session:  # 230 shots in one go: the setup, not the test
        owner = session.scalars(select(Scene).where(Scene.number == scene)).one()
        session.add_all(
            Shot(code=f"2X{index:03d}", scene=owner, position=index + 1, status="todo")
            for index in range(230)
        )
    viewer = api("vic")
    seen: list[str] = []
    cursor = None
    sizes = []
    while True:
        url = "/api/v1/shots" + (f"?cursor={cursor}" if cursor else "")
        page = viewer.get(url).json()
        sizes.append(len(page["items"]))
        seen += [s["code"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [100, 100, 31]
    assert seen[0] == "1A" and seen[1:] == [f"2X{i:03d}" for i in range(230)]
    small = viewer.get("/api/v1/shots?limit=7&status=todo").json()
    assert len(small["items"]) == 7 and all(s["status"] == "todo" for s in small["items"])
    takes = viewer.get("/api/v1/shots/1A/takes?limit=1").json()
    assert [t["number"] for t in takes["items"]] == [1]
    rest = viewer.get(f"/api/v1/shots/1A/takes?cursor={takes['next_cursor']}").json()
    assert [t["number"] for t in rest["items"]] == [2] and rest["next_cursor"] is None
    for url in (
        "/api/v1/scenes",
        "/api/v1/users",
        "/api/v1/findings",
        "/api/v1/jobs",
        "/api/v1/events",
        "/api/v1/shots/1A/comments",
        "/api/v1/shots/1A/history",
        "/api/v1/shots/1A/findings",
    ):
        body = viewer.get(url).json()
        assert set(body) == {"items", "next_cursor"}, url


@edge_only
def test_the_openapi_document_describes_the_api(film, api) -> None:
    spec = api(None).get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/shots",
        "/api/v1/shots/{code}",
        "/api/v1/shots/{code}/takes",
        "/api/v1/shots/{code}/approve",
        "/api/v1/shots/{code}/retake",
        "/api/v1/shots/{code}/comments",
        "/api/v1/jobs",
    ):
        assert path in paths, path
    assert "/board" not in paths


@edge_only
def test_the_openapi_document_describes_a_page_of_shots_as_it_is_sent(film, api) -> None:
    spec = api(None).get("/openapi.json").json()
    answer = spec["paths"]["/api/v1/shots"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShotPageOut"
    }
    schemas = spec["components"]["schemas"]
    page = api("vic").get("/api/v1/shots").json()
    assert set(page) == set(schemas["ShotPageOut"]["properties"])
    for shot in page["items"]:
        assert set(shot) == set(schemas["ShotOut"]["properties"])
    from setpiece.production.views import SubjectView

    subject = SubjectView("ANNA", "character", None, None, None).to_json()
    assert set(subject) == set(schemas["SubjectOut"]["properties"])


# The render queue ----------------------------------------------------------------------------------


def test_render_cancel_and_retry_through_the_api(film, api) -> None:
    artist = api("art")
    queued = artist.post("/api/v1/shots/1A/render", json={"takes": 2})
    assert queued.status_code == 201, queued.text
    jobs = api("vic").get("/api/v1/jobs").json()["items"]
    assert [j["state"] for j in jobs] == ["queued", "queued"]
    first = jobs[0]["id"]
    assert api("vic").post(f"/api/v1/jobs/{first}/cancel").status_code == 403
    cancelled = artist.post(f"/api/v1/jobs/{first}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert api("vic").get(f"/api/v1/takes/{jobs[0]['take']}").json()["status"] == "failed"
    again = artist.post(f"/api/v1/jobs/{first}/cancel")
    assert again.status_code == 409
    error_of(again)
    retried = artist.post(f"/api/v1/jobs/{first}/retry")
    assert retried.json()["state"] == "queued"
    assert api("vic").get(f"/api/v1/takes/{jobs[0]['take']}").json()["status"] == "pending"
    assert api("vic").get("/api/v1/jobs?state=queued").json()["items"][0]["id"] == first


@edge_only
def test_an_artist_uploads_a_take(film, api, make: Any) -> None:
    still = make.still("upload.png")
    response = api("art").post(
        "/api/v1/shots/1A/takes",
        files={"file": ("../../evil name.png", still.read_bytes(), "image/png")},
        data={"prompt": "from the browser", "seed": "9"},
    )
    assert response.status_code == 201, response.text
    created = response.json()["created"][0]
    assert created["created_by"] == "art"
    assert created["recipe"]["prompt"] == "from the browser"
    refused = api("vic").post(
        "/api/v1/shots/1A/takes", files={"file": ("x.png", still.read_bytes(), "image/png")}
    )
    assert refused.status_code == 403
    junk = api("art").post(
        "/api/v1/shots/1A/takes", files={"file": ("x.png", b"not an image", "image/png")}
    )
    assert junk.status_code == 422
    error_of(junk)


# Pages ---------------------------------------------------------------------------------------------


def test_pages_show_the_film(film, session_of, make) -> None:
    from setpiece.production.records import record_finding

    omitted = make.scene("INT. CUT - DAY")
    with film.production.transaction() as session:
        session.scalars(select(Scene).where(Scene.number == omitted)).one().omitted = True
    evidence = make.still("evidence.png")
    finding = record_finding(
        film.production,
        "continuity.face",
        take=film.takes[0],
        frame=0,
        score=0.7,
        threshold=0.5,
        detail="face drifted",
        evidence=evidence,
    )
    viewer = session_of("vic")
    dashboard = viewer.get("/")
    assert dashboard.status_code == 200
    assert "Takes made: <strong>2</strong>" in dashboard.text
    script = viewer.get("/script").text
    assert "OMITTED" in script and "INT. CUT - DAY" in script
    board = viewer.get("/board").text
    assert 'data-shot="1A"' in board and "1 finding(s)" in board
    shot = viewer.get("/shots/1A").text
    assert "Anna walks the corridor" in shot and "42" in shot
    assert "face drifted" in shot and f"/media/{finding.evidence.sha256}" in shot
    assert "Approve (circle)" not in shot  # a viewer sees no approve button
    assert 'id="comment-form"' in shot  # viewers comment
    director = session_of("dora").get("/shots/1A").text
    assert "Approve (circle)" in director
    assert viewer.get("/jobs").status_code == 200
    missing = viewer.get("/shots/NOPE")
    assert missing.status_code == 404 and "no shot" in missing.text


def test_page_forms_approve_retake_and_comment(film, session_of) -> None:
    dora = session_of("dora")
    version = dora.get("/api/v1/shots/1A").json()["version"]
    approved = dora.client.post(
        "/shots/1A/approve",
        data={"take": film.takes[1], "version": str(version), "csrf_token": dora.csrf},
    )
    assert approved.status_code == 303
    assert dora.get("/api/v1/shots/1A").json()["status"] == "approved"
    stale = dora.client.post(
        "/shots/1A/retake",
        data={"note": "again", "version": str(version), "csrf_token": dora.csrf},
    )
    assert stale.status_code == 409 and "changed since version" in stale.text
    commented = dora.client.post(
        "/shots/1A/comments",
        data={
            "note": "frame 3 flickers",
            "take": film.takes[1],
            "frame": "0",
            "csrf_token": dora.csrf,
        },
    )
    assert commented.status_code == 303
    comments = dora.get("/api/v1/shots/1A/comments").json()["items"]
    assert comments[0]["frame"] == 0 and comments[0]["take"] == film.takes[1]


@edge_only
def test_security_headers_on_every_response(api) -> None:
    response = api("vic").get("/api/v1/me")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@edge_only
def test_the_disclosure_page_reads_the_provenance_report(film, api, session_of) -> None:
    assert api("dora").post("/api/v1/shots/1A/approve", json={"take": film.takes[0]}).is_success
    page = session_of("vic").get("/disclosure")
    assert page.status_code == 200, page.text[:500]
    assert "AI-use disclosure: Test Film" in page.text
    assert 'href="/shots/1A"' in page.text
    report = api("vic").get("/api/v1/disclosure").json()
    assert report["film"] == "Test Film"
    assert api(None).get("/api/v1/disclosure").status_code == 401


@edge_only
def test_the_disclosure_page_shows_voices_lines_and_likenesses(
    film, session_of, monkeypatch, tmp_path
) -> None:
    """The board's page is the whole report, not its headline: the voices per character,
    each line and what made it, and the likenesses (the report's HTML file has them too)."""
    from fractions import Fraction

    from setpiece.model.dialogue import LineAudio
    from setpiece.provenance import disclosure as provenance
    from setpiece.web import pages

    spoken = [
        LineAudio(
            line=f"1/{order}",
            scene="1",
            order=order,
            character=who,
            shot="1A",
            audio=tmp_path / f"{order}.wav",
            seconds=Fraction(1),
            source=source,
            voice=voice,
        )
        for order, who, voice, source in (
            (1, "MARA", "espeak:en-us+f3", "synthetic"),
            (2, "TEO", None, "recorded"),
        )
    ]
    report = provenance.disclosure(film.production, lines=spoken)
    monkeypatch.setattr(pages, "disclosure_report", lambda production: report)
    page = session_of("vic").get("/disclosure")
    assert page.status_code == 200, page.text[:500]
    assert "MARA: 1 of 1 line(s) synthetic speech; espeak:en-us+f3" in page.text
    assert "TEO: 0 of 1 line(s) synthetic speech; recorded" in page.text
    assert "rule-based synthesis, no AI model" in page.text
    assert "recorded by a person" in page.text
    assert "Likenesses of real people" in page.text and "none recorded" in page.text


@edge_only
def test_every_route_needs_a_caller(film, api) -> None:
    """Routes look their caller up lazily (``web.app.acting``): none may answer without one."""
    from fastapi.routing import APIRoute

    anonymous = api(None)
    revoked = api(None)
    revoked.headers["Authorization"] = "Bearer sp_" + "0" * 43
    open_routes = {"/login", "/logout", "/static", "/openapi.json", "/docs", "/redoc"}
    checked = 0
    routes = []
    for entry in film.app.routes:  # FastAPI wraps an included router's routes
        routes.extend(getattr(getattr(entry, "original_router", None), "routes", [entry]))
    for route in routes:
        if not isinstance(route, APIRoute) or route.path.startswith(tuple(open_routes)):
            continue
        path = (
            route.path.replace("{code}", "1A")
            .replace("{take}", film.takes[0])
            .replace("{job_id}", "1")
            .replace("{sha256}", "a" * 64)
            .replace("{name}", "ana")
        )
        for method in sorted(route.methods - {"HEAD"}):
            for client in (anonymous, revoked):
                response = client.request(method, path, json={})
                if path.startswith(("/api/", "/media/")):
                    assert response.status_code == 401, (method, path)
                else:
                    assert response.status_code in (303, 401, 403), (method, path)
                checked += 1
    assert checked > 40


def test_a_full_disk_is_503_naming_the_file(film, api) -> None:
    """The web edge maps what escapes as the CLI does (``errors.as_setpiece_error``)."""
    import errno

    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/films/night/cut/preview.mp4")

    film.app.add_api_route("/api/v1/test-full-disk", full)
    answer = api("ana").get("/api/v1/test-full-disk")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "storage" and "/films/night/cut/preview.mp4" in error["message"]
