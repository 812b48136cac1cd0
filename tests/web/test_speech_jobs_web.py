"""The board's render queue page lists speech jobs beside picture jobs: a line's take is
shown as its line and character (``3/5/1 MARA``), and its Cancel and Retry work."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _queue_a_line(film: Any) -> None:
    from setpiece.generate.queue import enqueue_speech
    from setpiece.model.orm import Line, Scene

    production = film.production
    with production.transaction() as session:
        scene = session.scalars(select(Scene)).one()
        session.add(
            Line(scene=scene, number=1, position=1, character="MARA", text="Guard that print.")
        )
    enqueue_speech(production, default_voice=lambda name: {"backend": "espeak", "voice": "en-us"})


def test_the_queue_page_shows_a_speech_job_by_line_and_character(
    film: Any, session_of: Any, api: Any
) -> None:
    _queue_a_line(film)
    artist = session_of("art")
    artist.post("/shots/1A/render", data={"takes": "1", "csrf_token": artist.csrf})
    jobs = api("vic").get("/api/v1/jobs").json()["items"]
    speech = next(j for j in jobs if j["line"] is not None)
    picture = next(j for j in jobs if j["line"] is None)
    assert speech["line"] == "1/1" and speech["character"] == "MARA" and speech["shot"] is None
    assert picture["shot"] == "1A" and picture["character"] is None
    page = artist.get("/jobs").text
    row = page[page.index(f'data-job="{speech["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert "1/1/1</span> MARA" in row and "voice:espeak" in row and "/shots/None" not in row
    assert f'href="/shots/1A#take-{picture["take"]}"' in page
    # Cancel and Retry on the speech job's row work as on a picture job's.
    assert f'action="/jobs/{speech["id"]}/cancel"' in row
    done = artist.post(f"/jobs/{speech['id']}/cancel", data={"csrf_token": artist.csrf})
    assert done.status_code == 303
    cancelled = artist.get("/jobs?state=cancelled").text
    assert "1/1/1</span> MARA" in cancelled and "cancelled by art" in cancelled
    again = artist.post(f"/jobs/{speech['id']}/retry", data={"csrf_token": artist.csrf})
    assert again.status_code == 303
    (queued,) = [j for j in api("vic").get("/api/v1/jobs").json()["items"] if j["line"]]
    assert queued["state"] == "queued"
