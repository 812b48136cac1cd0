"""The review room's routes on SQLite and PostgreSQL: assignments, drawings, playlists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from setpiece.model.orm import Event
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


def test_my_shots_page_gives_the_retake_reason_and_the_drawings(film, api, session_of) -> None:
    assert api("ana").post("/api/v1/shots/1A/assign", json={"to": "art"}).status_code == 200
    drawing = {"note": "too dark", "frame": 0, "shapes": [BOX]}
    for _ in range(2):
        assert api("dora").post("/api/v1/takes/1A/1/annotations", json=drawing).status_code == 201
    for why in ("first try", "the lamp flickers"):
        sent = api("art").post("/api/v1/shots/1A/status", json={"status": "review"})
        assert sent.status_code == 200, sent.text
        asked = api("dora").post("/api/v1/shots/1A/retake", json={"note": why})
        assert asked.status_code == 200, asked.text
    page = session_of("art").get("/mine").text
    assert '<td class="retake-reason">the lamp flickers</td>' in page
    assert '<a href="/shots/1A">2 drawings</a>' in page
    listed = api("art").get("/api/v1/assignments", params={"assignee": "art"}).json()["items"]
    assert (listed[0]["retake"], listed[0]["drawings"]) == ("the lamp flickers", 2)


# Drawings on frames ------------------------------------------------------------------------------

BOX = {"kind": "box", "points": [[0.1, 0.2], [0.5, 0.6]]}


def test_draw_on_a_frame_and_read_it_back(film, api) -> None:
    url = "/api/v1/takes/1A/1/annotations"
    made = api("art").post(url, json={"note": "too dark", "frame": 0, "shapes": [BOX]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["take_label"], body["frame_start"], body["frame_end"], body["author"]) == (
        "1A/1",
        0,
        0,
        "art",
    )
    assert body["shapes"][0]["points"] == [[0.1, 0.2], [0.5, 0.6]]
    listed = api("vic").get(url).json()["items"]
    assert [d["id"] for d in listed] == [body["id"]]
    assert api("vic").get(f"/api/v1/takes/{film.takes[0]}/annotations").json()["items"] == listed
    sheet = api("vic").get(f"{url}/{body['id']}.png")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")
    assert api("vic").get(f"{url}/999.png").status_code == 404
    assert api("vic").get(f"{url}/abc.png").status_code == 404
    assert api(None).get(f"{url}/abc.png").status_code == 401
    comments = api("vic").get("/api/v1/shots/1A/comments").json()["items"]
    assert any(c["note"] == "too dark" and c["frame"] == 0 for c in comments)


def test_bad_drawings_are_422_with_the_fault_named(film, api) -> None:
    url = "/api/v1/takes/1A/1/annotations"
    cases = [
        ({"kind": "stroke", "points": [[0.5, 0.5]] * 10_001}, "the limit is 10,000"),
        ({"kind": "box", "points": [[0.1, 0.2], [1.2, 0.2]]}, "shapes.0.points.1.0"),
        ({"kind": "box", "points": [[0.1, 0.2], [0.2]]}, "shapes.0.points.1"),
        ({"kind": "circle", "points": [[0.1, 0.2]]}, "shapes.0.kind"),
        ({"kind": "box", "points": [[0.1, 0.2]]}, "a box has 2 points, not 1"),
    ]
    for shape, fragment in cases:
        response = api("art").post(url, json={"note": "x", "frame": 0, "shapes": [shape]})
        assert response.status_code == 422, (shape, response.text)
        assert fragment in error_of(response)["message"], error_of(response)["message"]
        assert "Value error" not in error_of(response)["message"]
    over = {"kind": "stroke", "points": [[0.5, 0.5]] * 10_001}
    response = api("art").post(url, json={"note": "x", "frame": 0, "shapes": [over]})
    assert error_of(response)["message"] == (
        "the drawing has 10,001 points: the limit is 10,000 a drawing"
    )
    # 100,000 points are over the body limit before any parsing: 413, naming the limit.
    huge = {"kind": "stroke", "points": [[0.123456, 0.654321]] * 100_000}
    response = api("art").post(url, json={"note": "x", "frame": 0, "shapes": [huge]})
    assert response.status_code == 413
    assert "over the limit of" in error_of(response)["message"]
    assert "a drawing holds at most 10,000 points" in error_of(response)["message"]
    past = api("art").post(url, json={"note": "x", "frame": 5, "shapes": [BOX]})
    assert past.status_code == 422 and "past its end" in error_of(past)["message"]
    viewer = api("vic").post(url, json={"note": "x", "frame": 0, "shapes": [BOX]})
    assert viewer.status_code == 201  # a viewer draws and comments (issue 33)
    assert (
        api("art")
        .post("/api/v1/takes/9Z/1/annotations", json={"note": "x", "frame": 0, "shapes": [BOX]})
        .status_code
        == 404
    )
    listed = api("vic").get(url).json()  # only the viewer's drawing: every bad one was refused
    assert [(d["author"], d["note"]) for d in listed["items"]] == [("vic", "x")]
    assert (listed["max_points"], listed["max_shapes"]) == (10_000, 500)


# Playlists ---------------------------------------------------------------------------------------


def test_playlists_over_the_api(film, api) -> None:
    made = api("art").post("/api/v1/playlists", json={"name": "walk", "takes": ["1A/2", "1A/1"]})
    assert made.status_code == 201, made.text
    assert (made.json()["name"], made.json()["takes"], made.json()["fps"]) == ("walk", 2, "24/1")
    assert (
        api("dora").post("/api/v1/playlists", json={"name": "all", "query": "findings"}).status_code
        == 201
    )
    names = [p["name"] for p in api("vic").get("/api/v1/playlists").json()["items"]]
    assert names == ["all", "walk"]
    shown = api("vic").get("/api/v1/playlists/walk").json()
    assert [(i["position"], i["label"], i["missing"]) for i in shown["items"]] == [
        (1, "1A/2", None),
        (2, "1A/1", None),
    ]
    assert shown["items"][0]["before"] is None and shown["items"][0]["after"] is None
    by_id = api("vic").get(f"/api/v1/playlists/{made.json()['id']}")
    assert by_id.json()["name"] == "walk"


def test_bad_playlists_over_the_api(film, api) -> None:
    url = "/api/v1/playlists"
    unknown = api("art").post(url, json={"name": "x", "query": "everything"})
    assert unknown.status_code == 422
    assert "use one of scene:N, review, findings, stale" in error_of(unknown)["message"]
    viewer = api("vic").post(url, json={"name": "x", "query": "review"})
    assert viewer.status_code == 403 and "needs artist" in error_of(viewer)["message"]
    assert api("art").post(url, json={"name": "x", "takes": []}).status_code == 422
    assert api("art").post(url, json={"name": "x", "takes": ["9Z/1"]}).status_code == 404
    assert (
        api("art").post(url, json={"name": "x", "query": "review", "extra": 1}).status_code == 422
    )
    assert api("art").post(url, json={"name": "x", "query": "review"}).status_code == 201
    again = api("art").post(url, json={"name": "x", "query": "review"})
    assert again.status_code == 409
    assert api("vic").get("/api/v1/playlists/nope").status_code == 404


def test_a_live_session_over_the_api_and_the_feed(film, api) -> None:
    assert api("dora").post("/api/v1/playlists", json={"name": "p", "takes": ["1A/1", "1A/2"]})
    url = "/api/v1/playlists/p/session"
    with film.production.transaction() as session:
        latest = session.scalar(select(func.max(Event.id)))
    moved = api("dora").post(url, json={"position": 2, "frame": 0})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["leader"], moved.json()["label"]) == ("dora", "1A/2")
    assert api("vic").get(url).json() == moved.json()
    viewer = api("vic").post(url, json={"position": 1})
    assert viewer.status_code == 403 and "viewer" in error_of(viewer)["message"]
    other = api("art").post(url, json={"position": 1})
    assert other.status_code == 409 and "dora leads the session" in error_of(other)["message"]
    assert api("dora").post(f"{url}/lead", json={"to": "vic"}).status_code == 403
    assert api("dora").post(f"{url}/lead", json={"to": "art"}).json()["leader"] == "art"
    assert api("art").post(url, json={"position": 1, "frame": 0}).status_code == 200
    assert api("art").post(url, json={"position": 0}).status_code == 422
    feed = api("vic").get("/api/v1/events", params={"after": latest, "limit": 100}).json()
    sessions = [e for e in feed["items"] if e["action"] == "session"]
    assert [e["actor"] for e in sessions] == ["dora", "dora", "art"]


def test_malformed_coordinates_are_422_naming_the_point(film, api) -> None:
    url = "/api/v1/takes/1A/1/annotations"
    cases = [
        [[-0.1, 0.2], [0.5, 0.6]],  # left of the picture
        [[0.1, 0.2], [0.5, 0.6, 0.7]],  # three numbers
        [[0.1, 0.2], ["0.5", "x"]],  # text
        [[0.1, 0.2], [0.5, None]],  # nothing
        [[0.1, 0.2], 0.5],  # not a pair
    ]
    for points in cases:
        shape = {"kind": "box", "points": points}
        response = api("art").post(url, json={"note": "x", "frame": 0, "shapes": [shape]})
        assert response.status_code == 422, (points, response.text)
        assert "shapes.0.points." in error_of(response)["message"], error_of(response)["message"]
    # JSON's non-standard NaN and Infinity, as a careless client writes them.
    for word in ("NaN", "Infinity"):
        body = '{"note": "x", "frame": 0, "shapes": [{"kind": "box", "points": [[0.1, 0.2], [%s, 0.5]]}]}'
        response = api("art").post(
            url, content=body % word, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (word, response.text)
    assert api("vic").get(url).json()["items"] == []


def test_the_dashboard_shows_late_shots_and_the_budget(film, api, session_of) -> None:
    assert api("ana").post("/api/v1/shots/1A/assign", json={"to": "art", "due": "2020-05-01"})
    body = api("vic").get("/api/v1/dashboard").json()
    assert [(a["shot"], a["assignee"], a["due"], a["late"]) for a in body["late"]] == [
        ("1A", "art", "2020-05-01", True)
    ]
    assert set(body["budget"]) == {"lines", "render_limits"}
    page = session_of("vic").get("/").text
    assert '<tr data-shot="1A"><td><a href="/shots/1A">1A</a></td><td>art</td>' in page
    board = session_of("vic").get("/board").text
    assert '<span class="assignee late">art, due 2020-05-01 <strong' in board
    # Not late once approved, nor with a due date still to come.
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert api("ana").post("/api/v1/shots/1A/assign", json={"to": "art", "due": tomorrow})
    assert api("vic").get("/api/v1/dashboard").json()["late"] == []
    assert "Nothing is late." in session_of("vic").get("/").text
