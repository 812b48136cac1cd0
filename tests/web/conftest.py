"""A shot board over a real project: members of every role, a client per member.

The app is the real FastAPI app on the project's database (SQLite and
PostgreSQL through the ``production`` fixture); clients are FastAPI's TestClient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from setpiece.production.context import Production

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

from web.helpers import Browserless, Film, make_film


@pytest.fixture
def film(production: Production, make: Any) -> Film:
    return make_film(production, make)


@pytest.fixture
def session_of(film: Film) -> Iterator[Any]:
    made: list[Browserless] = []

    def login(name: str) -> Browserless:
        browser = Browserless(film.app)
        assert browser.login(name, film.passwords[name]).status_code == 303
        made.append(browser)
        return browser

    yield login
    for browser in made:
        browser.client.close()


@pytest.fixture
def api(film: Film) -> Iterator[Any]:
    """A TestClient per member, authenticated with their Bearer token."""
    from fastapi.testclient import TestClient

    clients: dict[str, TestClient] = {}

    def client(name: str | None) -> TestClient:
        key = name or ""
        if key not in clients:
            headers = {"Authorization": f"Bearer {film.tokens[name]}"} if name else {}
            clients[key] = TestClient(
                film.app, headers=headers, raise_server_exceptions=False, follow_redirects=False
            )
        return clients[key]

    yield client
    for each in clients.values():
        each.close()


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    """test-artifacts/web/<test>: screenshots kept after the run (the folder is gitignored)."""
    root = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
    folder = root / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, for the browser tests (``web.test_browser``'s
    CHROMIUM and ARGS; those tests skip where it is not installed)."""
    from web.test_browser import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
