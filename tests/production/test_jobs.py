"""Render jobs as the board and the API list them."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from setpiece.model.enums import JobState
from setpiece.production.jobs import JobView
from setpiece.production.views import dumps_views, jsonable


def test_job_json_keeps_the_shape_its_own_to_json_gave() -> None:
    """The view lost its hand-written ``to_json`` (it only repeated the fields): same bytes,
    and a speech job's ``line`` and ``character`` after them."""
    when = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    job = JobView(
        id=7,
        take="abc",
        shot="1A",
        number=2,
        generator="previs",
        state=JobState.FAILED,
        attempts=3,
        max_attempts=3,
        last_error="out of memory",
        created_at=when,
        updated_at=when.replace(minute=31),
        next_attempt_at=when.replace(minute=32, microsecond=250),
    )
    expected = (
        b'{"id":7,"take":"abc","shot":"1A","number":2,"generator":"previs","state":"failed",'
        b'"attempts":3,"max_attempts":3,"last_error":"out of memory",'
        b'"created_at":"2026-12-06T06:30:00Z","updated_at":"2026-12-06T06:31:00Z",'
        b'"next_attempt_at":"2026-12-06T06:32:00.000250Z","line":null,"character":null}'
    )  # a picture job: no line nor character (a speech job's names its line, "3/5")
    assert orjson.dumps(jsonable(job)) == expected
    assert dumps_views(job) == expected
