"""The live feed over a real server: one member's change reaches another's open stream."""

from __future__ import annotations

import json
from typing import Any

import pytest

from web.helpers import LiveServer, make_film


def test_a_change_reaches_an_open_stream(production: Any, make: Any) -> None:
    import httpx

    film = make_film(production, make, poll_seconds=0.05, stream_seconds=20)
    viewer = {"Authorization": f"Bearer {film.tokens['vic']}"}
    artist = {"Authorization": f"Bearer {film.tokens['art']}"}
    with (
        LiveServer(film.app) as server,
        httpx.Client(base_url=server.url, timeout=15) as client,
        client.stream("GET", "/api/v1/events/stream", headers=viewer) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        events: list[tuple[str, Any]] = []
        kind = None
        changed = False
        for line in lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind or "", json.loads(line[6:])))
                if kind == "jobs" and not changed:
                    # The stream is open: now someone else changes the shot.
                    made = client.post(
                        "/api/v1/shots/1A/comments", json={"note": "live"}, headers=artist
                    )
                    assert made.status_code == 201
                    changed = True
                if kind == "change":
                    break
    change = events[-1][1]
    assert change["action"] == "comment"
    assert change["actor"] == "art"
    assert change["shot"] == "1A"
    assert change["note"] == "live"


def test_the_stream_needs_a_login(production: Any, make: Any) -> None:
    from fastapi.testclient import TestClient

    film = make_film(production, make)
    with TestClient(film.app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/events/stream")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"max_body_kb": 0}, "[web] max_body_kb: expected a whole number from 1 to 1048576"),
        ({"lock_after": 1.5}, "[web] lock_after: expected a whole number from 1 to 1000"),
        ({"colour": 1}, "[web]: unknown key 'colour'; known keys: session_hours"),
        ({"lock_after": 2}, "[web] lock_after: 2 is below slow_after (3)"),
        ({"poll_seconds": "1s"}, '[web] poll_seconds: expected a number from 0.01 to 60, got "1s"'),
    ],
)
def test_bad_web_settings_are_refused_by_name(table: dict, expected: str) -> None:
    import re

    from setpiece.errors import InvalidInputError
    from setpiece.web.settings import web_settings

    with pytest.raises(InvalidInputError, match=re.escape(f"setpiece.toml {expected}")):
        web_settings({"web": table})
