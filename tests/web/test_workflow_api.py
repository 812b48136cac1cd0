"""A status change the workflow forbids, asked of the API: 409 with one error, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from setpiece.model.orm import Event
from web.helpers import error_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def events(film: Any) -> int:
    with film.production.transaction() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def refused(response: Any, fragment: str) -> None:
    assert response.status_code == 409, response.text
    assert fragment in error_of(response)["message"]


def test_forbidden_moves_through_the_api(film, api) -> None:
    director, artist = api("dora"), api("art")
    before = events(film)
    # 1A has two imported takes, so it is wip.
    refused(
        director.post("/api/v1/shots/1A/retake", json={"note": "too dark"}),
        "shot 1A is wip: it can go to review, todo, not retake",
    )
    assert artist.post("/api/v1/shots/1A/render", json={"takes": 1}).status_code == 201
    pending = api("vic").get("/api/v1/jobs").json()["items"][0]
    refused(
        director.post("/api/v1/shots/1A/approve", json={"take": pending["take"]}),
        "is pending: it can go to nothing, not circled",
    )
    refused(
        artist.post(f"/api/v1/jobs/{pending['id']}/retry"),
        "only a failed or cancelled job can be retried",
    )
    assert events(film) == before + 1  # the take queued, nothing else
    approved = director.post("/api/v1/shots/1A/approve", json={"take": film.takes[0]})
    assert approved.status_code == 200, approved.text
    refused(
        artist.post("/api/v1/shots/1A/submit", json={}),
        "shot 1A is approved: it can go to retake, not review",
    )
