"""The board at scale without a browser: groups, filters, card marks, posters and their upkeep.

Runs on both databases (the ``production`` fixture). The browser side (drag and drop,
collapsing, posters shown) is ``test_board_browser.py``.
"""

from __future__ import annotations

import gzip
import logging
from typing import Any

import pytest

from setpiece.production.board import BoardFilter, board_view
from web.helpers import Film


def _codes(view: Any) -> dict[str, list[str]]:
    return {g.key: [c.code for c in g.cards] for g in view.groups}


@pytest.fixture
def board_film(film: Film, production: Any, make: Any) -> Film:
    """Scene 1: 1A (two stills, wip). Scene 2: 2A (a still and a video, its provisional
    pick), 2B in retake with a reason, 2C with no take."""
    from setpiece.production.picks import pick_provisional
    from setpiece.production.review import request_retake
    from setpiece.production.shots import set_shot_status

    second = make.scene("EXT. ROOF - DAWN")
    make.shot("2A", second, description="Teo on the roof")
    make.shot("2B", second, description="Mara turns")
    make.shot("2C", second, description="Empty roof")
    make.take("2A")
    make.take("2A", video=True)
    make.take("2B")
    set_shot_status(production, "2B", "review")
    request_retake(production, "2B", "her eyes change colour")
    pick_provisional(production)
    return film


def test_groups_by_status_and_by_scene(board_film: Film) -> None:
    view = board_view(board_film.production)
    assert view.grouping == "status"
    assert _codes(view) == {
        "todo": ["2C"],
        "wip": ["1A", "2A"],
        "review": [],
        "retake": ["2B"],
        "approved": [],
    }
    by_scene = board_view(board_film.production, grouping="scene")
    assert [(g.key, g.title) for g in by_scene.groups] == [
        ("1", "1. INT. TRAIN - NIGHT"),
        ("2", "2. EXT. ROOF - DAWN"),
    ]
    assert _codes(by_scene) == {"1": ["1A"], "2": ["2A", "2B", "2C"]}


def test_cards_mark_the_pick_and_say_why_a_retake(board_film: Film, api: Any) -> None:
    cards = {c.code: c for g in board_view(board_film.production).groups for c in g.cards}
    assert (cards["2A"].pick, cards["2A"].mark) == ("2A/2", "provisional")
    assert cards["2B"].retake == "her eyes change colour"
    assert cards["2C"].pick is None and cards["2C"].poster is None
    approved = api("dora").post("/api/v1/shots/1A/approve", json={"take": board_film.takes[0]})
    assert approved.status_code == 200
    cards = {c.code: c for g in board_view(board_film.production).groups for c in g.cards}
    assert (cards["1A"].pick, cards["1A"].mark, cards["1A"].status) == (
        "1A/1",
        "circled",
        "approved",
    )
    assert cards["1A"].retake is None


def test_filters(board_film: Film) -> None:
    production = board_film.production
    only = board_view(production, BoardFilter(status="retake"))
    assert only.shots == 1 and _codes(only)["retake"] == ["2B"]
    assert board_view(production, BoardFilter(scene="1")).shots == 1
    provisional = board_view(production, BoardFilter(provisional=True), grouping="scene")
    assert _codes(provisional) == {"1": ["1A"], "2": ["2A", "2B"]}  # 2C has no take
    assert board_view(production, BoardFilter(findings=True)).shots == 0
    assert board_view(production, BoardFilter(stale=True)).shots == 0
    # 2B's only take was made from a bible entry that is gone since: 2B is stale.
    from setpiece.model.orm import Shot, Take
    from setpiece.production.stale import stale_shots

    with production.transaction() as session:
        shot = session.query(Shot).filter_by(code="2B").one()
        take = session.query(Take).filter_by(shot_id=shot.id).one()
        take.bible = [{"entry_id": 999_999, "entry": "character/GHOST", "version": 1}]
    stale = board_view(production, BoardFilter(stale=True), grouping="scene")
    assert _codes(stale) == {"2": ["2B"]}
    assert stale.groups[0].cards[0].stale
    # The mark is on every board, not only on one filtered by it, and agrees with the rule
    # ``render --stale`` follows.
    every = {c.code: c.stale for g in board_view(production).groups for c in g.cards}
    assert {code for code, mark in every.items() if mark} == {"2B"}
    assert [s.shot for s in stale_shots(production)] == ["2B"]


def test_findings_and_stale_filters_through_the_page(
    board_film: Film, session_of: Any, make: Any
) -> None:
    """``?findings=1`` and ``?stale=1`` keep the shots they name, on the page a link shares."""
    import re

    from setpiece.model.orm import Shot, Take
    from setpiece.production.records import record_finding
    from setpiece.production.takes import list_takes

    production = board_film.production
    art = session_of("art")

    def shown(url: str) -> list[str]:
        page = art.get(url)
        assert page.status_code == 200, page.text[-600:]
        return re.findall(r'<li[^>]*data-shot="([^"]+)"', page.text.split('id="board"')[1])

    assert sorted(shown("/board")) == ["1A", "2A", "2B", "2C"]
    assert shown("/board?findings=1") == []
    assert shown("/board?stale=1") == []
    newest = list_takes(production, "2A")[-1]
    record_finding(production, "continuity.look_jump", take=newest.id, frame=0, detail="x")
    assert shown("/board?findings=1") == ["2A"]
    assert shown("/board?findings=1&group=scene") == ["2A"]
    page = art.get("/board?findings=1").text
    assert re.search(r'name="findings" value="1" checked', page)  # the form says the filter
    # 2B's only take was made from a bible entry that is gone since: 2B is stale.
    with production.transaction() as session:
        shot = session.query(Shot).filter_by(code="2B").one()
        take = session.query(Take).filter_by(shot_id=shot.id).one()
        take.bible = [{"entry_id": 999_999, "entry": "character/GHOST", "version": 1}]
    assert shown("/board?stale=1") == ["2B"]
    assert shown("/board?stale=1&findings=1") == []  # filters add up


def test_unknown_filters_are_a_clear_message_on_the_page(board_film: Film, session_of: Any) -> None:
    art = session_of("art")
    page = art.get("/board?status=finished")
    assert page.status_code == 422
    assert "unknown shot status 'finished'" in page.text.lower() or "finished" in page.text
    assert 'id="board-problem"' in page.text and 'id="board-filters"' in page.text
    page = art.get("/board?scene=99")
    assert page.status_code == 404
    assert 'id="board-problem"' in page.text and "99" in page.text
    assert art.get("/board?group=colour").status_code == 422


def test_the_board_page_is_gzipped_and_shows_every_card(board_film: Film, session_of: Any) -> None:
    art = session_of("art")
    page = art.client.get("/board?group=scene", headers={"accept-encoding": "gzip"})
    assert page.status_code == 200
    # httpx decodes the body; the header says what travelled.
    assert page.headers["content-encoding"] == "gzip"
    for code in ("1A", "2A", "2B", "2C"):
        assert f'data-shot="{code}"' in page.text
    assert "provisional pick 2A/2" in page.text
    assert "retake: her eyes change colour" in page.text
    assert "/media/" not in page.text.split('id="board"')[1]  # posters, not the files
    assert gzip.compress(page.content)  # a real body


def test_status_moves_go_through_the_workflow_and_roles(board_film: Film, api: Any) -> None:
    from web.helpers import error_of

    art, vic = api("art"), api("vic")
    refused = vic.post("/api/v1/shots/1A/status", json={"status": "review"})
    assert refused.status_code == 403
    assert "viewer" in error_of(refused)["message"]
    moved = art.post("/api/v1/shots/1A/status", json={"status": "review"})
    assert moved.status_code == 200 and moved.json()["status"] == "review"
    # review -> todo is not in the workflow: the API says where it can go.
    forbidden = art.post("/api/v1/shots/1A/status", json={"status": "todo"})
    assert forbidden.status_code == 409
    assert "can go to retake, wip" in error_of(forbidden)["message"]
    # approved only by approving a take; a retake needs its reason (and a director).
    direct = art.post("/api/v1/shots/1A/status", json={"status": "approved"})
    assert "approve one of its takes" in error_of(direct)["message"]
    assert (
        art.post("/api/v1/shots/1A/status", json={"status": "retake", "note": "x"}).status_code
        == 403
    )
    no_reason = api("dora").post("/api/v1/shots/1A/status", json={"status": "retake"})
    assert "needs a note" in error_of(no_reason)["message"]


def test_a_poster_is_made_once_and_cached(board_film: Film, api: Any) -> None:
    from setpiece.model.orm import Poster, Take

    production = board_film.production
    with production.transaction() as session:
        sha = session.get(Take, board_film.takes[0]).media_sha256
    art = api("art")
    first = art.get(f"/api/v1/posters/{sha}")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert first.content[:3] == b"\xff\xd8\xff" and len(first.content) < 20_000
    assert "immutable" in first.headers["cache-control"]
    etag = first.headers["etag"]
    again = art.get(f"/api/v1/posters/{sha}", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert art.get(f"/api/v1/posters/{sha}").content == first.content
    with production.transaction() as session:
        rows = session.query(Poster).all()
        assert [(r.source_sha256, r.poster_sha256) for r in rows] == [(sha, etag.strip('"'))]
    assert art.get("/api/v1/posters/" + "0" * 64).status_code == 404
    assert art.get("/api/v1/posters/xyz").status_code == 422


def test_a_video_takes_poster_is_its_first_frame(board_film: Film, api: Any) -> None:
    import io

    from PIL import Image

    from setpiece.model.orm import Take
    from setpiece.production.takes import list_takes

    video = next(t for t in list_takes(board_film.production, "2A") if t.kind == "video")
    with board_film.production.transaction() as session:
        sha = session.get(Take, video.id).media_sha256
    answer = api("vic").get(f"/api/v1/posters/{sha}")
    picture = Image.open(io.BytesIO(answer.content))
    assert picture.format == "JPEG" and picture.width <= 256


def test_a_take_without_a_poster_gets_a_placeholder_said_once(
    board_film: Film, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from setpiece.model.orm import Media, Take

    production = board_film.production
    with production.transaction() as session:
        media = session.get(Media, session.get(Take, board_film.takes[1]).media_sha256)
        sha, key = media.sha256, media.key
    path = production.store.local_path(key)
    path.chmod(0o644)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # no longer a picture
    caplog.set_level(logging.WARNING, logger="setpiece.production.posters")
    for _ in range(3):
        answer = api("art").get(f"/api/v1/posters/{sha}")
        assert answer.status_code == 200
        assert answer.headers["x-setpiece-poster"] == "placeholder"
        assert answer.content.startswith(b"<svg")
    said = [r for r in caplog.records if "gets no poster" in r.getMessage()]
    assert len(said) == 1 and sha[:12] in said[0].getMessage()


def test_fsck_gc_keeps_posters_while_their_take_is_used(board_film: Film, api: Any) -> None:
    from setpiece.model.orm import Media, Poster, Take
    from setpiece.production.fsck import fsck

    production = board_film.production
    with production.transaction() as session:
        sha = session.get(Take, board_film.takes[0]).media_sha256
    assert api("art").get(f"/api/v1/posters/{sha}").status_code == 200
    with production.transaction() as session:
        poster = session.get(Poster, sha).poster_sha256
        poster_key = session.get(Media, poster).key
    admin = board_film.production
    report = fsck(admin, gc=True)
    assert report.ok and not report.removed
    assert production.store.exists(poster_key)
    # The take goes (its media is no longer used): its poster goes with it, in one pass.
    with production.transaction() as session:
        take = session.get(Take, board_film.takes[0])
        session.delete(take)
    report = fsck(admin, gc=True)
    assert poster_key in report.removed
    assert not production.store.exists(poster_key)
    with production.transaction() as session:
        assert session.get(Poster, sha) is None and session.get(Media, poster) is None
