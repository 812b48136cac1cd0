"""Playlists: made from a query or by hand, shown in order in the cut's context, missing
takes listed as missing; bad input refused with the valid choices named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from setpiece.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, Playlist, Take
from setpiece.production import playlists
from setpiece.production.accounts import add_member
from setpiece.production.bible import add_entry, set_entry
from setpiece.production.context import Production
from setpiece.production.records import record_finding
from setpiece.production.review import approve, submit


@pytest.fixture
def film(production: Production, make) -> dict[str, str]:
    """Scene 1: 1A (approved, take 1), 1B (in review, takes 1-2), 1C (no take); scene 2: 2A."""
    first, second = make.scene("INT. TRAIN - NIGHT"), make.scene("EXT. PLATFORM - DAY")
    for code in ("1A", "1B", "1C"):
        make.shot(code, first)
    make.shot("2A", second)
    takes = {
        "1A/1": make.take("1A"),
        "1B/1": make.take("1B"),
        "1B/2": make.take("1B", video=True),
        "2A/1": make.take("2A"),
    }
    approve(production, "1A", takes["1A/1"])
    submit(production, "1B")
    record_finding(production, "motion_flicker", shot="2A", take=takes["2A/1"], detail="x")
    entry = add_entry(production, BibleKind.CHARACTER, "MARA", description="60s")
    with production.transaction() as session:
        row = session.scalars(select(BibleEntry)).one()
        session.get(Take, takes["1B/1"]).bible = [
            {"entry_id": row.id, "entry": "character/MARA", "version": entry.version}
        ]
    set_entry(production, BibleKind.CHARACTER, "MARA", description="70s now")
    return {**takes, "first": first, "second": second}


def _labels(production: Production, name: str) -> list[str]:
    return [i.label for i in playlists.get_playlist(production, name).items]


def test_queries_pick_the_takes_in_script_order(production: Production, film) -> None:
    made = playlists.create_playlist(production, "scene one", query=f"scene:{film['first']}")
    assert made.takes == 3 and made.query == f"scene:{film['first']}"
    assert _labels(production, "scene one") == ["1A/1", "1B/1", "1B/2"]
    playlists.create_playlist(production, "dailies", query="review")
    assert _labels(production, "dailies") == ["1B/2"]  # one take a shot: the one the cut uses
    playlists.create_playlist(production, "found", query="FINDINGS")
    assert _labels(production, "found") == ["2A/1"]
    playlists.create_playlist(production, "old", query="stale")
    assert _labels(production, "old") == ["1B/1"]
    playlists.create_playlist(production, "mine", takes=["2A/1", film["1A/1"], "1b/2"])
    assert _labels(production, "mine") == ["2A/1", "1A/1", "1B/2"]
    listed = playlists.list_playlists(production)
    assert [p.name for p in listed] == ["mine", "old", "found", "dailies", "scene one"]


def test_review_offers_one_take_a_shot_not_a_source_and_its_retimed_copy(
    production: Production, film, make
) -> None:
    """A 12 fps source take and its 24 fps retimed copy: the review plays only the copy (the
    leaf the cut uses); a provisional pick, then a circled take, wins over the newest leaf."""
    retimed = make.take("1B", video=True)  # 1B/3, made from 1B/1
    with production.transaction() as session:
        session.get(Take, retimed).parent_take_id = film["1B/1"]
        session.get(Take, film["1B/2"]).parent_take_id = None
    playlists.create_playlist(production, "newest", query="review")
    assert _labels(production, "newest") == ["1B/3"]
    with production.transaction() as session:
        session.get(Take, film["1B/1"]).provisional = True
    playlists.create_playlist(production, "provisional", query="review")
    assert _labels(production, "provisional") == ["1B/1"]


def test_show_gives_the_cut_context_and_the_rate(production: Production, film) -> None:
    playlists.create_playlist(production, "p", takes=["1B/2", "1A/1", "2A/1"])
    shown = playlists.get_playlist(production, "p")
    assert shown.fps == production.fps
    by_label = {i.label: i for i in shown.items}
    middle = by_label["1B/2"]
    assert (middle.before.shot, middle.before.take) == ("1A", "1A/1")  # the circled take
    assert (middle.after.shot, middle.after.take) == ("1C", None)  # a slate: no take yet
    assert by_label["1A/1"].before is None
    assert by_label["2A/1"].after is None and by_label["2A/1"].before.shot == "1C"
    assert all(i.missing is None for i in shown.items)
    assert playlists.get_playlist(production, str(shown.id)).name == "p"


def test_takes_gone_from_the_store_are_listed_as_missing(production: Production, film) -> None:
    playlists.create_playlist(production, "p", takes=["1A/1", "1B/1"])
    picture = next(t for t in playlists.get_playlist(production, "p").items if t.label == "1B/1")
    with production.transaction() as session:
        media = session.get(Take, picture.take).media
        production.store.remove(media.key)
    with production.transaction() as session:  # the take's row gone, as plain SQL would do it
        session.execute(
            Take.__table__.update().where(Take.id == film["1A/1"]).values(id="gone0000")
        )  # type: ignore[attr-defined]
    items = playlists.get_playlist(production, "p").items
    assert [(i.label, i.status, i.missing) for i in items] == [
        ("1A/1", None, "the take was deleted"),
        ("1B/1", "ready", f"its picture {media.sha256[:12]} is gone from the media store"),
    ]


def test_bad_playlists_are_refused_and_nothing_is_kept(production: Production, film) -> None:
    cases = [
        ({"query": "everything"}, InvalidInputError, "use one of scene:N, review, findings, stale"),
        ({"query": "scene:"}, InvalidInputError, "unknown playlist query"),
        ({"query": "scene:99"}, NotFoundError, "99"),
        ({}, InvalidInputError, "a query (--query) or its takes (--takes)"),
        ({"query": "review", "takes": ["1A/1"]}, InvalidInputError, "one of them"),
        ({"takes": ["1A/1", "1a/1"]}, InvalidInputError, "is named twice"),
        ({"takes": ["1A/7"]}, NotFoundError, "shot 1A has no take 7"),
    ]
    for options, error, fragment in cases:
        with pytest.raises(error) as refused:
            playlists.create_playlist(production, "p", **options)
        assert fragment in str(refused.value), options
    with pytest.raises(InvalidInputError, match="a name of 1-200"):
        playlists.create_playlist(production, " ", query="review")
    playlists.create_playlist(production, "p", query="review")
    with pytest.raises(ConflictError, match="a playlist called 'p' exists"):
        playlists.create_playlist(production, "p", query="review")
    with pytest.raises(NotFoundError, match="no playlist 'q'"):
        playlists.get_playlist(production, "q")
    add_member(production, "ana", "admin")
    add_member(production, "vic", "viewer")
    viewer = Production(production.config, production.db, production.store, "vic")
    with pytest.raises(PermissionDeniedError, match="vic is viewer"):
        playlists.create_playlist(viewer, "v", query="review")
    assert [p.name for p in playlists.list_playlists(viewer)] == ["p"]
    with production.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Playlist)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_create_list_show(cli, tmp_path: Path, database_url: str | None) -> None:
    from mediafactory import write_png

    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    for code in ("1A", "1B"):
        assert cli("shot", "add", "1", "--code", code).code == 0
        assert cli("take", "import", code, write_png(tmp_path / f"{code}.png")).code == 0
    assert cli("review", "submit", "1B").code == 0
    run = cli("playlist", "create", "dailies", "--query", "review")
    assert run.code == 0 and "playlist dailies: 1 take(s)" in run.out, run.err
    run = cli("playlist", "create", "pair", "--takes", "1B/1", "1A/1", "--json")
    assert run.code == 0, run.err
    assert run.json()["takes"] == 2
    listed = cli("playlist", "list", "--json").json()
    assert [p["name"] for p in listed] == ["pair", "dailies"]
    # The list does not claim items it does not carry (it showed "items": []).
    assert all("items" not in p for p in listed) and run.json().get("items") is None
    shown = cli("playlist", "show", "pair", "--json").json()
    assert [
        (i["label"], i["before"], i["after"]["shot"] if i["after"] else None)
        for i in shown["items"]
    ] == [
        ("1B/1", {"shot": "1A", "take": None, "frames": 48}, None),
        ("1A/1", None, "1B"),
    ]
    assert shown["fps"] == "24/1"
    assert "1B/1" in cli("playlist", "show", "pair").out
    for args, fragment in (
        (["playlist", "create", "x", "--query", "all"], "unknown playlist query 'all'"),
        (["playlist", "create", "x", "--takes"], "--takes needs the takes"),
        (["playlist", "create", "x", "1A/1"], "name takes with --takes"),
        (["playlist", "show", "nope"], "no playlist 'nope'"),
    ):
        run = cli(*args)
        assert run.code == 2 and len(run.err.strip().splitlines()) == 1, run.err
        assert fragment in run.err


def test_a_live_session_moves_for_everyone_and_changes_hands(production: Production, film) -> None:
    from setpiece.model.orm import Event

    add_member(production, "ana", "admin")
    add_member(production, "art", "artist")
    add_member(production, "vic", "viewer")
    ana, art, vic = (
        Production(production.config, production.db, production.store, n)
        for n in ("ana", "art", "vic")
    )
    playlists.create_playlist(ana, "p", takes=["1A/1", "1B/2"])
    assert playlists.get_session(vic, "p").leader is None
    moved = playlists.move_session(ana, "p", 2, 7)
    assert (moved.leader, moved.position, moved.label, moved.frame) == ("ana", 2, "1B/2", 7)
    assert playlists.get_session(vic, "p") == moved
    with pytest.raises(ConflictError, match="ana leads the session of p: follow, or ask"):
        playlists.move_session(art, "p", 1)
    with pytest.raises(PermissionDeniedError, match="vic is viewer: lead review needs artist"):
        playlists.move_session(vic, "p", 1)
    with pytest.raises(PermissionDeniedError, match="leading a review needs artist"):
        playlists.hand_over(ana, "p", "vic")
    with pytest.raises(InvalidInputError, match="'zed' is not a member"):
        playlists.hand_over(ana, "p", "zed")
    with pytest.raises(InvalidInputError, match="has items 1-2: no item 3"):
        playlists.move_session(ana, "p", 3)
    assert playlists.hand_over(ana, "p", "ART").leader == "art"
    assert playlists.move_session(art, "p", 1, 0).label == "1A/1"
    with production.transaction() as session:
        moves = session.scalars(select(Event).where(Event.action == "session")).all()
        assert [(e.actor, e.data["position"], e.data["leader"]) for e in moves] == [
            ("ana", 2, "ana"),
            ("ana", 2, "art"),
            ("art", 1, "art"),
        ]
