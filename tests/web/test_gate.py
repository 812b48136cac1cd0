"""The gate (``web/gate.py``): the caller before the body, the origin of a change, the size and
number of uploads, and the security headers of every answer.

The body checks call the app as the server does (ASGI), with a body that records how much of
it the app asked for: a refusal made on the headers must have asked for none. The slow and
unfinished bodies of a real client are in ``test_gate_serve.py``, against ``setpiece serve``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from sqlalchemy import func, select

from setpiece.model.orm import Comment, Take
from web.helpers import Browserless, error_of, make_film

edge_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BOUNDARY = "setpiece-test-boundary"
PART = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
    "Content-Type: image/png\r\n\r\n"
).encode()
CHUNK = 64 * 1024


def count(film: Any, table: Any) -> int:
    with film.production.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


class Body:
    """A request body handed to the app a chunk at a time, counting what it asked for.

    Args:
        size: Bytes of file data after the multipart part's headers.
        hold: An event awaited after the first chunk (a client that stops sending); once
            set, the client is gone (``http.disconnect``).
    """

    def __init__(self, size: int, hold: anyio.Event | None = None) -> None:
        self.data = PART + b"\0" * size
        self.hold = hold
        self.pulled = 0
        self.started = anyio.Event()

    async def receive(self) -> dict[str, Any]:
        if self.pulled and self.hold is not None:
            self.started.set()
            await self.hold.wait()
            return {"type": "http.disconnect"}
        chunk = self.data[self.pulled : self.pulled + CHUNK]
        self.pulled += len(chunk)
        more = self.pulled < len(self.data)
        return {"type": "http.request", "body": chunk, "more_body": more}


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def post(
    app: Any,
    path: str,
    body: Body,
    headers: dict[str, str] | None = None,
    announce: bool = True,
) -> Answer:
    """POSTs ``body`` as a multipart upload to ``path``, as uvicorn hands it to the app."""
    sent = {
        "host": "testserver",
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        **(headers or {}),
    }
    if announce:
        sent["content-length"] = str(len(body.data))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    answer = Answer()
    await app(scope, body.receive, answer.send)
    return answer


def run(job: Callable[[], Awaitable[Any]]) -> Any:
    return anyio.run(job)


def bearer(film: Any, name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {film.tokens[name]}"}


# The caller before the body ------------------------------------------------------------------


@edge_only
@pytest.mark.parametrize("path", ["/api/v1/shots/1A/takes", "/shots/1A/takes"])
@pytest.mark.parametrize("announce", [True, False], ids=["announced", "streamed"])
@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"authorization": "Bearer sp_" + "0" * 43},  # well formed, unknown: a database look-up
        {"authorization": "Basic YW5hOng="},
        {"cookie": "setpiece_session=eyJzaWQiOiJ4IiwidXNlciI6ImFuYSJ9.forged.sig"},
    ],
    ids=["none", "unknown token", "not bearer", "forged cookie"],
)
def test_an_upload_without_a_valid_credential_is_401_before_its_body_is_read(
    production: Any, make: Any, path: str, announce: bool, credential: dict[str, str]
) -> None:
    """The 157 MB upload of the attack, scaled down: no byte of it is asked for."""
    film = make_film(production, make, max_upload_mb=16)
    body = Body(8 * 1024 * 1024)
    answer = run(lambda: post(film.app, path, body, credential, announce))
    assert answer.status == 401, answer.body[:300]
    assert body.pulled == 0
    if path.startswith("/api/"):
        assert b'"unauthorized"' in answer.body
    else:  # the form's error page, as a route's refusal shows it
        assert b"Error 401" in answer.body
    assert count(film, Take) == 2


@edge_only
def test_a_viewers_upload_is_403_before_its_body_is_read(production: Any, make: Any) -> None:
    film = make_film(production, make, max_upload_mb=16)
    body = Body(4 * 1024 * 1024)
    answer = run(lambda: post(film.app, "/api/v1/shots/1A/takes", body, bearer(film, "vic")))
    assert answer.status == 403
    assert body.pulled == 0
    assert b"vic is viewer: import take needs artist or above" in answer.body


@edge_only
def test_the_counting_body_sees_a_read(production: Any, make: Any) -> None:
    """The check above can fail: an artist's upload is read (and refused as no image)."""
    film = make_film(production, make, max_upload_mb=16)
    body = Body(200 * 1024)
    answer = run(lambda: post(film.app, "/api/v1/shots/1A/takes", body, bearer(film, "art")))
    assert body.pulled == len(body.data)
    assert answer.status == 422, answer.body[:300]


@edge_only
@pytest.mark.parametrize("announce", [True, False], ids=["announced", "streamed"])
def test_an_upload_over_the_limit_is_cut_off_with_413(
    production: Any, make: Any, announce: bool
) -> None:
    film = make_film(production, make, max_upload_mb=1)
    body = Body(3 * 1024 * 1024)
    answer = run(
        lambda: post(film.app, "/api/v1/shots/1A/takes", body, bearer(film, "art"), announce)
    )
    assert answer.status == 413
    message = b"the request body is over the limit of 1 MB (setpiece.toml [web] max_upload_mb)"
    assert message in answer.body
    if announce:
        assert body.pulled == 0  # refused on its Content-Length
    else:
        assert 1024 * 1024 < body.pulled <= 1024 * 1024 + CHUNK  # cut where it crossed
    assert count(film, Take) == 2


@edge_only
def test_the_login_form_is_the_one_body_read_without_a_login(production: Any, make: Any) -> None:
    from fastapi.testclient import TestClient

    film = make_film(production, make)
    with TestClient(film.app, raise_server_exceptions=False) as client:
        huge = client.post("/login", data={"username": "ana", "password": "x" * 20000})
        assert huge.status_code == 413
        assert "over the limit of 16384 bytes" in huge.text
        visitor = Browserless(film.app)
        assert visitor.login("ana", film.passwords["ana"]).status_code == 303


# How many uploads at once ----------------------------------------------------------------------


@edge_only
def test_uploads_beyond_their_places_are_429_with_retry_after(production: Any, make: Any) -> None:
    film = make_film(production, make, max_upload_mb=16, max_uploads_per_user=2, max_uploads=3)
    upload = "/api/v1/shots/1A/takes"

    async def scene() -> None:
        release = anyio.Event()
        held = [Body(2 * 1024 * 1024, release) for _ in range(3)]
        async with anyio.create_task_group() as group:
            for body, name in zip(held, ("art", "art", "dora"), strict=True):
                group.start_soon(post, film.app, upload, body, bearer(film, name))
                await body.started.wait()  # its upload is under way, and stops there
            third = Body(1024)
            refused = await post(film.app, upload, third, bearer(film, "art"))
            assert refused.status == 429, refused.body
            assert refused.headers["retry-after"] == "10"
            assert b"art is already sending 2 uploads" in refused.body
            assert third.pulled == 0
            board_full = await post(film.app, upload, Body(1024), bearer(film, "ana"))
            assert board_full.status == 429
            assert b"the board is already receiving 3 uploads" in board_full.body
            # Other changes are no uploads: they still pass.
            assert (await _comment(film, "ana")).status == 201
            release.set()
        again = await post(film.app, upload, Body(1024), bearer(film, "art"))
        assert again.status == 422, again.body  # read (no image), not refused for want of a place

    run(scene)


async def _comment(film: Any, name: str) -> Answer:
    body = b'{"note": "still here"}'
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/shots/1A/comments",
        "raw_path": b"/api/v1/shots/1A/comments",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {film.tokens[name]}".encode()),
        ],
        "client": ("127.0.0.1", 50001),
        "server": ("testserver", 80),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await anyio.sleep_forever()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    answer = Answer()
    await film.app(scope, receive, answer.send)
    return answer


def test_upload_places_are_set_in_web_settings() -> None:
    from setpiece.errors import InvalidInputError
    from setpiece.web.settings import web_settings

    settings = web_settings({})
    assert (settings.max_uploads_per_user, settings.max_uploads) == (2, 8)
    with pytest.raises(InvalidInputError) as refused:
        web_settings({"web": {"max_uploads": 1, "max_uploads_per_user": 2}})
    assert str(refused.value) == (
        "setpiece.toml [web] max_uploads: 1 is below max_uploads_per_user (2): "
        "one member may not have more places than the board"
    )
    with pytest.raises(InvalidInputError, match="max_uploads_per_user: expected a whole"):
        web_settings({"web": {"max_uploads_per_user": 0}})


# Where a change comes from ---------------------------------------------------------------------


@edge_only
@pytest.mark.parametrize(
    "sent",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://testserver.evil.example"},
        {"origin": "https://testserver"},  # the board's host, another scheme
        {"origin": "null"},
        {"referer": "https://evil.example/page"},
    ],
)
def test_a_change_sent_from_another_site_is_403(film: Any, session_of: Any, sent: dict) -> None:
    dora = session_of("dora")
    api = dora.post("/api/v1/shots/1A/comments", json={"note": "x"}, headers=sent)
    assert api.status_code == 403, api.text
    assert "another site than this board (http://testserver)" in error_of(api)["message"]
    form = dora.client.post(
        "/shots/1A/comments", data={"note": "x", "csrf_token": dora.csrf}, headers=sent
    )
    assert form.status_code == 403
    assert "another site than this board" in form.text
    visitor = Browserless(film.app)
    visitor.client.get("/login")
    login = visitor.client.post(
        "/login",
        data={"username": "dora", "password": film.passwords["dora"], "csrf_token": "x"},
        headers=sent,
    )
    assert login.status_code == 403
    assert "another site than this board" in login.text
    assert count(film, Comment) == 0


@edge_only
@pytest.mark.parametrize(
    "sent",
    [
        {"origin": "http://testserver"},
        {"origin": "HTTP://TestServer:80"},
        {"referer": "http://testserver/shots/1A"},
        {},  # neither: not a browser, or one that hides it; the CSRF token decides
    ],
)
def test_a_change_from_the_board_itself_passes(film: Any, session_of: Any, sent: dict) -> None:
    dora = session_of("dora")
    api = dora.post("/api/v1/shots/1A/comments", json={"note": "x"}, headers=sent)
    assert api.status_code == 201, api.text
    form = dora.client.post(
        "/shots/1A/comments", data={"note": "y", "csrf_token": dora.csrf}, headers=sent
    )
    assert form.status_code == 303, form.text
    assert count(film, Comment) == 2


@edge_only
def test_a_bearer_token_without_the_cookie_is_no_browser_and_skips_the_check(
    film: Any, api: Any, session_of: Any
) -> None:
    evil = {"origin": "https://evil.example"}
    script = api("dora").post("/api/v1/shots/1A/comments", json={"note": "x"}, headers=evil)
    assert script.status_code == 201
    dora = session_of("dora")  # the cookie and a token: a browser may be behind it
    both = dora.post(
        "/api/v1/shots/1A/comments",
        json={"note": "y"},
        headers={**evil, "Authorization": f"Bearer {film.tokens['dora']}"},
    )
    assert both.status_code == 403
    assert count(film, Comment) == 1


@edge_only
@pytest.mark.parametrize("trusted", [True, False])
def test_behind_a_proxy_the_board_is_where_the_proxy_says(
    production: Any, make: Any, trusted: bool
) -> None:
    film = make_film(production, make, proxy_headers=trusted)
    dora = Browserless(film.app)
    dora.login("dora", film.passwords["dora"])
    proxied = {"x-forwarded-host": "board.example", "origin": "http://board.example"}
    answer = dora.post("/api/v1/shots/1A/comments", json={"note": "x"}, headers=proxied)
    assert answer.status_code == (201 if trusted else 403), answer.text
    local = dora.post(
        "/api/v1/shots/1A/comments",
        json={"note": "y"},
        headers={"x-forwarded-host": "board.example", "origin": "http://testserver"},
    )
    assert local.status_code == (403 if trusted else 201), local.text
    dora.client.close()


# Security headers ------------------------------------------------------------------------------


def get_routes(app: Any, film: Any) -> list[str]:
    """Every GET route of the app, its path parameters filled in, and a static file."""
    from fastapi.routing import APIRoute

    routes: list[Any] = []
    for entry in app.routes:  # FastAPI wraps an included router's routes
        routes.extend(getattr(getattr(entry, "original_router", None), "routes", [entry]))
    values = {"code": "1A", "take": film.takes[0], "job_id": "1", "sha256": "a" * 64}
    found = {"/static/app.js", "/static/app.css", "/docs", "/redoc", "/openapi.json"}
    for route in routes:
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            found.add(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m[1], "1"), route.path))
    return sorted(found)


def assert_secure(response: Any, https: bool) -> None:
    where = f"{response.request.method} {response.request.url} ({response.status_code})"
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "object-src 'none'" in policy, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "same-origin", where
    hsts = response.headers.get("strict-transport-security")
    assert (hsts == "max-age=31536000") if https else hsts is None, where


@edge_only
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_security_headers_on_every_page_and_answer(production: Any, make: Any, scheme: str) -> None:
    from fastapi.testclient import TestClient

    film = make_film(production, make, stream_seconds=1, poll_seconds=0.2, max_body_kb=1)
    https = scheme == "https"
    admin = TestClient(film.app, base_url=f"{scheme}://testserver", follow_redirects=False)
    page = admin.get("/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token is not None
    logged = admin.post(
        "/login",
        data={"username": "ana", "password": film.passwords["ana"], "csrf_token": token[1]},
    )
    assert logged.status_code == 303
    assert_secure(logged, https)
    anonymous = TestClient(
        film.app, base_url=f"{scheme}://testserver", raise_server_exceptions=False
    )
    urls = get_routes(film.app, film)
    assert {"/", "/board", "/shots/1A", "/api/v1/shots", "/media/" + "a" * 64} <= set(urls)
    statuses = set()
    for url in urls:
        for client in (admin, anonymous):
            response = client.get(url)
            statuses.add(response.status_code)
            assert_secure(response, https)
    assert {200, 303, 401, 404} <= statuses
    # The gate's own refusals carry them too.
    refusals = [
        anonymous.post("/api/v1/shots/1A/comments", json={"note": "x"}),  # 401
        admin.post("/api/v1/shots/1A/comments", headers={"origin": "https://evil.example"}),
        admin.post("/api/v1/shots/1A/comments", content=b"x" * 4096),  # 413
        anonymous.get("/nothing/here"),  # 404
    ]
    assert [r.status_code for r in refusals] == [401, 403, 413, 404]
    for response in refusals:
        assert_secure(response, https)
    admin.close()
    anonymous.close()


# Back ------------------------------------------------------------------------------------------


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\son\w+\s*=|javascript:|<[^>]+\sstyle\s*=", re.IGNORECASE
)


@edge_only
def test_the_error_pages_back_link_goes_back_without_script(film: Any, session_of: Any) -> None:
    dora = session_of("dora")
    came_from = "http://testserver/shots/1A?x=1"
    missing = dora.get("/shots/NOPE", headers={"referer": came_from})
    assert missing.status_code == 404
    assert f'<a href="{came_from.replace("&", "&amp;")}" id="back">Back</a>' in missing.text
    for referer in (None, "https://evil.example/", "http://testserver/shots/NOPE"):
        headers = {"referer": referer} if referer else {}
        alone = dora.get("/shots/NOPE", headers=headers)
        assert '<a href="/board" id="back">Back</a>' in alone.text, referer
    quoted = dora.get("/shots/NOPE", headers={"referer": 'http://testserver/"><b>x'})
    assert 'href="http://testserver/&#34;&gt;&lt;b&gt;x"' in quoted.text


@edge_only
def test_no_page_needs_what_the_csp_refuses(film: Any, session_of: Any) -> None:
    """No inline script, event handler, ``javascript:`` link or inline style on any page, the
    error page included: under the board's CSP none of them would run."""
    dora = session_of("dora")
    pages = ["/", "/script", "/board", "/shots", "/shots/1A", "/jobs", "/disclosure"]
    pages += ["/shots/NOPE", "/jobs?state=nope"]
    seen = 0
    for url in pages:
        response = dora.get(url, headers={"referer": "http://testserver/board"})
        assert response.headers["content-type"].startswith("text/html"), url
        found = INLINE.search(response.text)
        assert found is None, (url, found and found[0])
        seen += 1
    login = Browserless(film.app).get("/login")
    assert INLINE.search(login.text) is None
    assert seen == len(pages)


@pytest.mark.slow
@edge_only
def test_back_works_in_chromium_under_the_boards_csp(production: Any, make: Any) -> None:
    """``javascript:history.back()`` was refused by the board's own policy; the link is not."""
    from pathlib import Path

    from web.helpers import LiveServer
    from web.test_browser import ARGS, CHROMIUM, log_in

    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    film = make_film(production, make)
    with LiveServer(film.app) as server, sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = chromium.new_page()
            refused: list[str] = []
            page.on(
                "console",
                lambda message: refused.append(message.text) if "Refused" in message.text else None,
            )
            log_in(page, server.url, "dora", film.passwords["dora"], "/board")
            page.evaluate("location.href = '/shots/NOPE'")  # as a link would: with a Referer
            page.wait_for_selector("#error-message")
            assert page.url == f"{server.url}/shots/NOPE"
            page.click("#back")
            # The navigation's start is the proof (a refused ``javascript:`` never starts
            # one); the board's full load under a loaded CI took over 5 s once.
            page.wait_for_url(f"{server.url}/board", wait_until="commit", timeout=30000)
            assert refused == []
        finally:
            chromium.close()
