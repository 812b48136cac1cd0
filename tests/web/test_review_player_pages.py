"""The playlists' pages without a browser: the list and its form, the player's markup for
takes gone from the store, and the refusals (unknown query, a viewer, no such playlist)."""

from __future__ import annotations

import re
import time

import pytest

from setpiece.model.orm import Take
from setpiece.production.playlists import create_playlist, get_playlist
from web.helpers import LiveServer, make_film


def test_the_form_makes_a_playlist_and_refuses_with_the_reason(film, session_of) -> None:
    dora = session_of("dora")
    listed = dora.get("/playlists")
    assert listed.status_code == 200 and 'href="/playlists"' in listed.text
    assert 'id="new-playlist"' in listed.text and "No playlists yet." in listed.text
    form = {"csrf_token": dora.csrf, "name": "walk", "query": "everything"}
    refused = dora.client.post("/playlists", data=form)
    assert refused.status_code == 422
    assert "unknown playlist query &#39;everything&#39;" in refused.text
    assert 'value="walk"' in refused.text  # what was typed stays
    made = dora.client.post("/playlists", data={**form, "query": "scene:1"})
    assert made.status_code == 303 and re.fullmatch(r"/playlists/\d+", made.headers["location"])
    again = dora.client.post("/playlists", data={**form, "query": "scene:1"})
    assert again.status_code == 409 and "a playlist called &#39;walk&#39; exists" in again.text
    vic = session_of("vic")
    assert 'id="new-playlist"' not in vic.get("/playlists").text
    viewer = vic.client.post("/playlists", data={**form, "name": "mine", "csrf_token": vic.csrf})
    assert viewer.status_code == 403 and "needs artist" in viewer.text
    missing = vic.get("/playlists/nope")
    assert missing.status_code == 404 and "no playlist &#39;nope&#39;" in missing.text


def test_the_player_says_which_takes_cannot_be_played(film, session_of) -> None:
    production = film.production
    create_playlist(film.as_("dora"), "p", takes=film.takes)
    second = get_playlist(production, "p").items[1]
    with production.transaction() as session:
        media = session.get(Take, second.take).media
        production.store.remove(media.key)
    with production.transaction() as session:  # the first take's row gone, as plain SQL would
        session.execute(
            Take.__table__.update().where(Take.id == film.takes[0]).values(id="gone0000")  # type: ignore[attr-defined]
        )
    page = session_of("vic").get("/playlists/p")
    assert page.status_code == 200
    items = re.findall(r"<li data-position=[^>]*>", page.text)
    assert len(items) == 2 and all("data-media" not in i for i in items)
    assert "cannot be played: the take was deleted" in page.text
    assert f"cannot be played: its picture {media.sha256[:12]} is gone" in page.text
    assert 'data-role="viewer"' in page.text and 'src="/static/player.js"' in page.text
    assert "data-live" not in page.text  # player.js follows the stream itself


def test_the_player_shows_the_standing_decisions_after_a_reload(film, api, session_of) -> None:
    assert api("dora").post("/api/v1/playlists", json={"name": "p", "takes": film.takes})
    assert api("art").post("/api/v1/shots/1A/status", json={"status": "review"}).status_code == 200
    asked = api("dora").post("/api/v1/shots/1A/retake", json={"note": "the lamp flickers"})
    assert asked.status_code == 200, asked.text
    said = api("vic").post("/api/v1/shots/1A/comments", json={"note": "hm", "take": "1A/1"})
    assert said.status_code in (200, 201), said.text

    def items() -> list[str]:
        page = session_of("vic").get("/playlists/p")
        assert page.status_code == 200
        return re.findall(r"<li data-position=.*?</li>", page.text, re.S)

    first, second = items()
    for item in (first, second):
        assert 'data-decision="retake: the lamp flickers"' in item
        assert '<span class="item-decision">retake: the lamp flickers</span>' in item
    assert "1 comment</span>" in first and "comment</span>" not in second
    approved = api("dora").post("/api/v1/shots/1A/approve", json={"take": "1A/2"})
    assert approved.status_code == 200, approved.text
    first, second = items()
    assert "data-decision" not in first and '<span class="item-decision"></span>' in first
    assert 'data-decision="approved (circled)"' in second
    shown = api("vic").get("/api/v1/playlists/p").json()["items"]
    assert [(i["decision"], i["comments"]) for i in shown] == [
        (None, 1),
        ("approved (circled)", 0),
    ]


def test_the_list_of_playlists_does_not_claim_items(film, api) -> None:
    made = api("dora").post("/api/v1/playlists", json={"name": "p", "takes": film.takes})
    assert made.status_code == 201 and "items" not in made.json()
    listed = api("vic").get("/api/v1/playlists").json()["items"]
    assert [p["name"] for p in listed] == ["p"] and "items" not in listed[0]
    shown = api("vic").get("/api/v1/playlists/p").json()
    assert [i["label"] for i in shown["items"]] == ["1A/1", "1A/2"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_session_move_reaches_the_stream_before_the_next_poll(production, make) -> None:
    """A move wakes the event streams (deps.Wake): with a 30 s poll it still arrives in
    seconds. Without the wake-up this test waits the whole poll and fails."""
    import threading

    import httpx

    film = make_film(production, make, poll_seconds=30)
    create_playlist(film.as_("dora"), "p", takes=film.takes)
    listening, moved = threading.Event(), threading.Event()
    with LiveServer(film.app) as server:

        def listen() -> None:
            headers = {"Authorization": f"Bearer {film.tokens['vic']}"}
            url = f"{server.url}/api/v1/events/stream"
            with httpx.stream("GET", url, headers=headers, timeout=60) as answer:
                for line in answer.iter_lines():
                    if line == "event: jobs":  # the first look is done: it waits now
                        listening.set()
                    if line.startswith("data:") and '"action":"session"' in line:
                        moved.set()
                        return

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        assert listening.wait(30)
        started = time.monotonic()
        answer = httpx.post(
            f"{server.url}/api/v1/playlists/p/session",
            json={"position": 2, "frame": 0},
            headers={"Authorization": f"Bearer {film.tokens['dora']}"},
        )
        assert answer.status_code == 200, answer.text
        assert moved.wait(10), "the move waited for the stream's next poll"
        assert time.monotonic() - started < 10
