"""What every route depends on (``web/deps.py``): CSRF for every page form, in one place, and
web modules that import in one direction."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from setpiece.model.orm import Comment, Event

CSRF_REFUSAL = "missing or wrong CSRF token: reload the page and try again"
WEB = Path(__file__).resolve().parents[2] / "src" / "setpiece" / "web"

edge_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def count(film: Any, table: Any) -> int:
    with film.production.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def page_forms(app: Any) -> list[str]:
    """Every POST route of the app outside the API, path parameters filled in."""
    from fastapi.routing import APIRoute

    routes: list[Any] = []
    for entry in app.routes:  # FastAPI wraps an included router's routes
        routes.extend(getattr(getattr(entry, "original_router", None), "routes", [entry]))
    values = {"code": "1A", "job_id": "1", "action": "retry"}
    found = []
    for route in routes:
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or ()):
            continue
        if route.path.startswith("/api/"):
            continue
        found.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m[1], "1"), route.path))
    return sorted(found)


def refused_for_csrf(response: Any) -> bool:
    return response.status_code == 403 and CSRF_REFUSAL in response.text


@edge_only
def test_every_page_form_needs_the_sessions_csrf_token(film, session_of) -> None:
    forms = page_forms(film.app)
    assert "/login" in forms and "/logout" in forms and "/shots/1A/approve" in forms
    assert len(forms) >= 8, forms
    dora = session_of("dora")
    other = session_of("art")  # a real token, of another session
    events = count(film, Event)
    for url in forms:
        for sent in ({}, {"csrf_token": "0" * 64}, {"csrf_token": other.csrf}):
            # Valid fields beside it: the token is what is refused, not the form.
            data = {"note": "too dark", "take": film.takes[0], "csrf_token": "", **sent}
            if not sent:
                del data["csrf_token"]
            response = dora.client.post(url, data=data)
            assert response.status_code == 403, (url, sent, response.status_code)
            assert CSRF_REFUSAL in response.text, (url, sent)
        upload = dora.client.post(url, files={"file": ("still.png", b"\x89PNG", "image/png")})
        assert refused_for_csrf(upload), url
    assert count(film, Event) == events  # nothing was written
    assert count(film, Comment) == 0
    for url in forms:
        fresh = session_of("dora")  # the right token: logging out must not end the others
        response = fresh.client.post(url, data={"csrf_token": fresh.csrf})
        assert not refused_for_csrf(response), (url, response.status_code)
        assert response.status_code != 500, url


@edge_only
def test_a_page_form_with_the_right_token_does_its_work(film, session_of) -> None:
    dora = session_of("dora")
    response = dora.client.post(
        "/shots/1A/comments", data={"note": "hold the frame", "csrf_token": dora.csrf}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/shots/1A"
    assert count(film, Comment) == 1


@edge_only
def test_a_token_beyond_ascii_is_a_refusal_not_a_crash(film, session_of) -> None:
    dora = session_of("dora")
    page = dora.client.post("/shots/1A/comments", data={"note": "x", "csrf_token": "é" * 64})
    assert refused_for_csrf(page)
    api = dora.client.post(
        "/api/v1/shots/1A/comments",
        json={"note": "x"},
        headers={"X-CSRF-Token": ("é" * 64).encode()},  # raw bytes, as a client may send
    )
    assert api.status_code == 403
    assert count(film, Comment) == 0


@edge_only
def test_a_page_form_without_a_login_is_told_to_log_in(film, api) -> None:
    """The caller is checked before the token, as before: no login is 401, not a CSRF 403."""
    anonymous = api(None)
    for url in page_forms(film.app):
        if url == "/login":
            continue
        response = anonymous.post(url, data={"note": "x"})
        assert response.status_code == 401, url
        assert "log in first" in response.text, url


@edge_only
def test_a_page_form_sent_with_an_api_token_needs_no_csrf_token(film, api) -> None:
    """A browser never sends an Authorization header on its own: a token is no ambient right."""
    response = api("dora").post("/shots/1A/comments", data={"note": "from a script"})
    assert response.status_code == 303
    assert count(film, Comment) == 1
    revoked = api(None)
    revoked.headers["Authorization"] = "Bearer sp_" + "0" * 43
    assert revoked.post("/shots/1A/comments", data={"note": "x"}).status_code == 401
    # The login form is posted before there is a login: it always needs its token.
    assert api("dora").post("/login", data={"username": "dora"}).status_code == 403


# One direction -------------------------------------------------------------------------------


def web_imports() -> dict[str, set[str]]:
    """Which web modules each web module imports: anywhere in it, ``TYPE_CHECKING`` included."""
    modules = {path.stem: path for path in WEB.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {
            target.removeprefix("setpiece.web.")
            for target in targets
            if target.startswith("setpiece.web.")
            and target.removeprefix("setpiece.web.") in modules
        }
    return graph


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports in ``graph`` (its modules in order), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            found = visit(target, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in sorted(graph):
        found = visit(name, [])
        if found:
            return found
    return None


def test_the_web_modules_import_in_one_direction() -> None:
    graph = web_imports()
    assert {"app", "api", "pages", "auth", "deps"} <= set(graph)
    assert "deps" in graph["app"] and "deps" in graph["api"] and "deps" in graph["pages"]
    assert circle(graph) is None


def test_the_import_check_sees_a_circle(tmp_path, monkeypatch) -> None:
    """The check above can fail: a circle through a TYPE_CHECKING import is found."""
    for name, text in {
        "a.py": "from setpiece.web.b import x\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from setpiece.web import a\n",
        "c.py": "def late() -> None:\n    import setpiece.web.a\n",
    }.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "WEB", tmp_path)
    graph = web_imports()
    assert graph == {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert circle(graph) == ["a", "b", "a"]
    assert circle({"a": {"b"}, "b": set(), "c": {"a"}}) is None
