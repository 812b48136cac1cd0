"""The review room's routes on SQLite and PostgreSQL: assignments, drawings, playlists."""

from __future__ import annotations

from datetime import timedelta

from setpiece.production.assignments import today
from web.helpers import error_of

# Assignments -------------------------------------------------------------------------------------


def test_assign_roles_and_bad_input(film, api) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = api("art").post("/api/v1/shots/1A/assign", json={"to": "dora", "due": tomorrow})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["shot"], body["assignee"], body["due"], body["late"], body["warnings"]) == (
        "1A",
        "dora",
        tomorrow,
        False,
        [],
    )
    refused = api("vic").post("/api/v1/shots/1A/assign", json={"to": "vic"})
    assert refused.status_code == 403
    assert "needs artist" in error_of(refused)["message"]
    stranger = api("ana").post("/api/v1/shots/1A/assign", json={"to": "zed"})
    assert stranger.status_code == 422
    assert "'zed' is not a member" in error_of(stranger)["message"]
    for due in ("2026-13-01", "soon"):
        wrong = api("ana").post("/api/v1/shots/1A/assign", json={"to": "art", "due": due})
        assert wrong.status_code == 422, due
        assert "YYYY-MM-DD" in error_of(wrong)["message"]
    past = api("ana").post("/api/v1/shots/1A/assign", json={"to": "art", "due": "2020-05-01"})
    assert past.status_code == 200
    assert past.json()["late"] and "is in the past" in past.json()["warnings"][0]
    assert api("ana").post("/api/v1/shots/9Z/assign", json={"to": "art"}).status_code == 404
    listed = api("vic").get("/api/v1/assignments", params={"late": "true"}).json()["items"]
    assert [(a["shot"], a["assignee"]) for a in listed] == [("1A", "art")]
    assert api("vic").get("/api/v1/assignments", params={"assignee": "dora"}).json() == {
        "items": []
    }


def test_my_shots_page_marks_late_ones(film, api, session_of) -> None:
    assert api("ana").post("/api/v1/shots/1A/assign", json={"to": "art", "due": "2020-05-01"})
    page = session_of("art").get("/mine")
    assert page.status_code == 200
    assert 'data-shot="1A" class="late"' in page.text and "2020-05-01" in page.text
    other = session_of("dora").get("/mine")
    assert "No shots are assigned to you." in other.text
