"""Cursors, numbers and take references at the edge: every route, found by walking the app.

Every route that takes a ``cursor`` (the API's lists and the board's pages, found in
``app.routes``, not listed by hand) is given forged, truncated, foreign, over-range,
negative, non-numeric and base64-garbage cursors, by hand and by Hypothesis: each is a
400 with one message, never a 5xx. Every whole-number parameter is given numbers out of
range. Every take route answers for a take's id and for its SHOT/NUMBER.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from setpiece.production.paging import MAX_ID, CursorSigner, encode_cursor

hypothesis = pytest.importorskip("hypothesis")
pytest.importorskip("fastapi")

from fastapi.routing import APIRoute  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from web.helpers import Browserless, Film, error_of, make_film  # noqa: E402

REFUSED = "cursor is not one this server gave: start again without it"
PATH_VALUES = {
    "code": "1A",
    "action": "retry",
    "take": "1A/1",
    "sha256": "0" * 64,
    "name": "ana",
}


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """SQLite only: what is checked is the edge, the same on both databases."""
    yield None


@pytest.fixture
def board(production: Any, make: Any) -> Film:
    film = make_film(production, make, stream_seconds=1, poll_seconds=0.05)
    for number in range(3):  # a second page on the lists that have little else
        make.scene(f"EXT. FIELD {number} - DAY")
    return film


@pytest.fixture
def client(board: Film) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(
        board.app,
        headers={"Authorization": f"Bearer {board.tokens['ana']}"},
        raise_server_exceptions=False,
        follow_redirects=False,
    ) as made:
        yield made


def routes_of(app: Any) -> list[APIRoute]:
    """Every route of the app, those of included routers too (FastAPI 0.165 keeps an
    included router as one entry of ``app.routes``, its routes under ``original_router``)."""
    found, pending = [], list(app.routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending += inner.routes
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def _params(route: APIRoute) -> list[tuple[str, Any]]:
    """The route's query and path parameters, its dependencies' included."""
    found: list[tuple[str, Any]] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found += [("query", f) for f in dependant.query_params]
        found += [("path", f) for f in dependant.path_params]
        pending += dependant.dependencies
    return found


def _query_names(route: APIRoute) -> set[str]:
    return {field.alias for where, field in _params(route) if where == "query"}


def _int_params(route: APIRoute) -> list[tuple[str, str]]:
    found = []
    for where, field in _params(route):
        if field.field_info.annotation in (int, int | None):
            found.append((where, field.alias))
    return found


def _url(route: APIRoute, **path: str) -> str:
    url = route.path_format
    for name in route.param_convertors:
        value = path[name] if name in path else PATH_VALUES[name]
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


def cursor_routes(app: Any) -> list[APIRoute]:
    """Every GET route with a ``cursor`` query parameter, the API's and the pages'."""
    return [
        route
        for route in routes_of(app)
        if "GET" in (route.methods or set()) and "cursor" in _query_names(route)
    ]


def assert_refused(response: Any, url: str) -> None:
    assert response.status_code == 400, (url, response.status_code, response.text[:300])
    if url.startswith("/api/"):
        assert error_of(response) == {"code": "invalid_cursor", "message": REFUSED}, url
    else:
        assert REFUSED in response.text, url


def test_every_list_route_is_found(board: Film) -> None:
    paths = {route.path for route in cursor_routes(board.app)}
    assert {"/api/v1/shots", "/api/v1/jobs", "/api/v1/events", "/shots", "/jobs"} <= paths
    assert len(paths) >= 12


def test_a_next_cursor_works_on_its_own_list_only(board: Film, client: Any) -> None:
    chained = 0
    routes = cursor_routes(board.app)
    for route in routes:
        if not route.path.startswith("/api/"):
            continue
        url = _url(route)
        first = client.get(url, params={"limit": 1})
        assert first.status_code == 200, (url, first.text)
        cursor = first.json()["next_cursor"]
        if cursor is None:
            continue
        chained += 1
        assert client.get(url, params={"cursor": cursor, "limit": 1}).status_code == 200, url
        for other in routes:
            if other.path != route.path:
                assert_refused(client.get(_url(other), params={"cursor": cursor}), other.path)
    assert chained >= 3  # scenes, shot 1A's takes, events at least


def _forged(board: Film, scope: str) -> list[str]:
    """Cursors a client could make: none is one this server gave for ``scope``."""
    secret = board.app.state.context.secret
    ours, theirs = CursorSigner(secret), CursorSigner(b"another server's secret")
    real = ours.sign(encode_cursor([1]), scope) or ""
    garbage = base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode().rstrip("=")
    return [
        encode_cursor([1]),  # unsigned
        real[:-1],  # truncated
        real[:-3] + "AAA",  # tag changed
        real.replace(encode_cursor([1]), encode_cursor([2])),  # key changed under its tag
        theirs.sign(encode_cursor([1]), scope) or "",  # another server's
        ours.sign(encode_cursor([1]), "/api/v1/another-list") or "",  # another list's
        ours.sign(encode_cursor([2**31]), scope) or "",  # signed, out of range
        ours.sign(encode_cursor([2**63]), scope) or "",
        ours.sign(encode_cursor([10**30, 2**64, 2**63]), scope) or "",
        ours.sign(encode_cursor([-1]), scope) or "",
        ours.sign(encode_cursor([-(2**63), -1, -1]), scope) or "",
        ours.sign(encode_cursor([1.5]), scope) or "",
        ours.sign(encode_cursor([None]), scope) or "",
        ours.sign(encode_cursor([True]), scope) or "",
        ours.sign(encode_cursor([]), scope) or "",
        ours.sign(garbage, scope) or "",
        str(2**63),
        "-1",
        "abc",
        "!!",
        "A" * 10_000,
        garbage,
        garbage + "." + "A" * 22,
        "é" * 30,
        "a\x00b",
        "%00",
    ]


def test_forged_cursors_are_refused_on_every_list(board: Film, client: Any) -> None:
    for route in cursor_routes(board.app):
        url = _url(route)
        for cursor in _forged(board, url):
            assert_refused(client.get(url, params={"cursor": cursor}), url)


def _fuzz(client: Any, signer: CursorSigner, url: str) -> None:
    """Hypothesis's cursors on the list at ``url``: each is read (200) or refused (400)."""
    numbers = st.integers(min_value=-(2**70), max_value=2**70)
    keys = st.lists(st.one_of(numbers, st.text(max_size=5), st.booleans(), st.none()), max_size=4)
    cursors = st.one_of(
        st.text(max_size=600),
        st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        keys.map(encode_cursor),
        keys.map(lambda k: signer.sign(encode_cursor(k), url) or ""),
        st.from_regex(r"[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{22}", fullmatch=True),
    )

    @hypothesis.settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(cursor=cursors)
    def call(cursor: str) -> None:
        response = client.get(url, params={"cursor": cursor})
        assert response.status_code in (200, 400), (url, cursor, response.status_code)
        if response.status_code == 400:
            assert_refused(response, url)

    call()


def test_fuzzed_cursors_never_give_a_server_error(board: Film, client: Any) -> None:
    signer = CursorSigner(board.app.state.context.secret)
    for route in cursor_routes(board.app):
        _fuzz(client, signer, _url(route))


def test_a_signed_cursor_in_range_is_read(board: Film, client: Any) -> None:
    """The checks refuse what is wrong, not what is merely unusual: a jobs cursor past
    every job, signed by this server, is an empty page."""
    signer = CursorSigner(board.app.state.context.secret)
    for key in (0, MAX_ID):
        page = client.get(
            "/api/v1/jobs", params={"cursor": signer.sign(encode_cursor([key]), "/api/v1/jobs")}
        )
        assert page.status_code == 200 and page.json()["next_cursor"] is None


def test_the_board_pages_chain_with_signed_cursors(board: Film, make: Any) -> None:
    for number in range(101):
        make.shot(
            f"9Z{number:03d}", make.scene(f"INT. ROOM {number} - DAY") if number == 0 else None
        )
    browser = Browserless(board.app)
    assert browser.login("vic", board.passwords["vic"]).status_code == 303
    first = browser.get("/shots")
    assert first.status_code == 200
    found = re.search(r'href="/shots\?status=(?:&amp;|&)cursor=([^"]+)"', first.text)
    assert found is not None, first.text[-2000:]
    link = found.group(1)
    assert "." in link
    assert browser.get(f"/shots?cursor={link}").status_code == 200
    assert_refused(browser.get(f"/jobs?cursor={link}"), "/jobs")
    browser.client.close()


# Numbers ---------------------------------------------------------------------------------------


def test_every_whole_number_parameter_is_range_checked(board: Film, client: Any) -> None:
    browser = Browserless(board.app)
    assert browser.login("ana", board.passwords["ana"]).status_code == 303
    checked = 0
    seen: set[tuple[str, str]] = set()
    for route in routes_of(board.app):
        for where, name in _int_params(route):
            seen.add((route.path, name))
            for value in (-1, 2**31, 2**63, 2**64, -(2**63) - 1, "1e3", "²"):
                path = {name: str(value)} if where == "path" else {}
                url = _url(route, **path)
                params = {name: str(value)} if where == "query" else {}
                for method in (route.methods or set()) - {"HEAD"}:
                    if method == "GET":
                        response = client.get(url, params=params)
                    elif url.startswith("/api/"):
                        response = client.request(method, url, params=params, json={})
                    else:  # a page's form: the session and its CSRF token
                        response = browser.post(
                            url, params=params, data={"csrf_token": browser.csrf}
                        )
                    assert response.status_code < 500, (method, url, params, response.text[:200])
                    assert response.status_code in (400, 404, 409, 422), (method, url, params)
                    checked += 1
    browser.client.close()
    assert checked >= 50
    assert {
        ("/api/v1/events/stream", "after"),
        ("/api/v1/events", "after"),
        ("/api/v1/jobs/{job_id}/retry", "job_id"),
        ("/jobs/{job_id}/{action}", "job_id"),
        ("/api/v1/board", "per_column"),
    } <= seen


def test_the_feed_and_its_stream_check_event_ids(board: Film, client: Any) -> None:
    assert client.get("/api/v1/events", params={"after": MAX_ID}).json()["items"] == []
    for after in (2**31, 2**63, -1):
        for url in ("/api/v1/events", "/api/v1/events/stream"):
            response = client.get(url, params={"after": after})
            assert response.status_code == 422, (url, after)
            assert "after" in error_of(response)["message"]
    # Once the stream has begun it cannot answer an error: 2^63 used to end it after the first.
    with client.stream("GET", "/api/v1/events/stream", params={"after": MAX_ID}) as stream:
        assert stream.status_code == 200
        body = b"".join(stream.iter_bytes())
    assert body.startswith(b"retry: 2000") and b"event: jobs" in body
    for resume in ("9" * 25, str(2**31), "²".encode("latin-1"), "-1", "1e3", ""):
        response = client.get("/api/v1/events/stream", headers={"Last-Event-ID": resume})
        assert response.status_code == 422, resume
        assert "Last-Event-ID" in error_of(response)["message"]


# Takes by SHOT/NUMBER -------------------------------------------------------------------------


def take_routes(app: Any) -> list[APIRoute]:
    return [r for r in routes_of(app) if "take" in r.param_convertors]


def test_every_take_route_takes_an_id_or_shot_number(board: Film, client: Any) -> None:
    routes = take_routes(board.app)
    assert routes and all(
        r.path.endswith("{take:path}") or "{take:path}/" in r.path for r in routes
    )
    for route in routes:
        assert "SHOT/NUMBER" in (route.summary or ""), route.path
        if "GET" not in (route.methods or set()) or set(route.param_convertors) != {"take"}:
            continue  # (a drawing's sheet names a drawing too: tests/web/test_review_api.py)
        for number, take in enumerate(board.takes, start=1):
            by_id = client.get(route.path_format.replace("{take}", take))
            raw = client.get(route.path_format.replace("{take}", f"1A/{number}"))
            encoded = client.get(route.path_format.replace("{take}", f"1A%2F{number}"))
            lower = client.get(route.path_format.replace("{take}", f"1a/{number}"))
            assert by_id.status_code == raw.status_code == encoded.status_code == 200, route.path
            assert by_id.json() == raw.json() == encoded.json() == lower.json()
            if route.path.endswith("{take:path}"):  # the take itself
                assert by_id.json()["id"] == take and by_id.json()["number"] == number
        for ref, message in (
            ("1A/99", "shot 1A has no take 99"),
            ("NOPE/1", "no shot"),
            ("1A/99999999999999999999", "no take"),
            ("1A/2/extra", "no take"),
        ):
            response = client.get(route.path_format.replace("{take}", ref))
            assert response.status_code == 404, ref
            assert message in error_of(response)["message"], (ref, error_of(response))


def test_the_openapi_document_names_take_paths_as_they_are_sent(board: Film) -> None:
    document = board.app.openapi()
    takes = [p for p in document["paths"] if p.startswith("/api/v1/takes/")]
    assert takes and all("{take}" in p and ":path" not in p for p in takes)
