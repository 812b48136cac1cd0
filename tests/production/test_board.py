"""The shot board's read services: typed columns and cards, their JSON, the feed, paging."""

from __future__ import annotations

from fractions import Fraction

import orjson
import pytest

from setpiece.errors import InvalidInputError
from setpiece.model.enums import ShotStatus, TakeKind
from setpiece.production import takes
from setpiece.production.board import board, dashboard, media_file, shots_page
from setpiece.production.context import Production
from setpiece.production.feed import events_after, latest_event_id
from setpiece.production.paging import (
    MAX_PAGE,
    Page,
    decode_cursor,
    encode_cursor,
    page_limit,
    page_of,
)
from setpiece.production.views import dumps_views, jsonable


def test_board_columns_and_cards_are_typed_and_write_the_json_they_always_did(
    production: Production, make
) -> None:
    approved = make.shot("1A", description="wide")
    make.shot("1B", description="close")
    still, clip = make.take(approved), make.take(approved, video=True)
    takes.approve_take(production, approved, still)

    columns = board(production)
    assert [c.status for c in columns] == list(ShotStatus)
    assert all(isinstance(c.status, ShotStatus) for c in columns)
    done = next(c for c in columns if c.status is ShotStatus.APPROVED)
    card = done.cards[0]
    assert card.status is ShotStatus.APPROVED
    # The circled take's media is the thumbnail, not the latest take's.
    sha = takes.get_take(production, still).media
    assert sha is not None and card.thumb == sha.sha256
    assert card.thumb_kind is TakeKind.IMAGE
    assert takes.get_take(production, clip).kind is TakeKind.VIDEO

    # The shape the hand-written to_json gave, key for key and in its order.
    assert orjson.loads(dumps_views(columns))[4] == {
        "status": "approved",
        "total": 1,
        "cards": [
            {
                "code": "1A",
                "scene": card.scene,
                "description": "wide",
                "status": "approved",
                "version": card.version,
                "takes": 2,
                "findings": 0,
                "thumb": sha.sha256,
                "thumb_kind": "image",
            }
        ],
    }
    todo = jsonable(columns[0])
    assert list(todo) == ["status", "total", "cards"]
    assert list(todo["cards"][0]) == [
        "code",
        "scene",
        "description",
        "status",
        "version",
        "takes",
        "findings",
        "thumb",
        "thumb_kind",
    ]
    assert todo["cards"][0]["thumb"] is None and todo["cards"][0]["thumb_kind"] is None
    assert media_file(production, sha.sha256).kind is TakeKind.IMAGE


def test_dashboard_keeps_its_rounded_seconds_and_recent_changes(
    production: Production, make
) -> None:
    code = make.shot("2A", duration=Fraction(25, 24))
    takes.approve_take(production, code, make.take(code))
    report = dashboard(production, recent=3)
    data = orjson.loads(dumps_views(report))
    assert list(data) == [
        "status",
        "takes_made",
        "approved_seconds",
        "planned_seconds",
        "recent",
        "late",
    ]
    assert data["takes_made"] == 1
    assert data["approved_seconds"] == data["planned_seconds"] == round(25 / 24, 3)
    assert [c["id"] for c in data["recent"]] == [c.id for c in report.recent]
    assert len(report.recent) == 3 and report.recent[0].id == latest_event_id(production)
    assert data["recent"][0] == jsonable(report.recent[0])
    assert data["recent"][0]["at"].endswith("Z")


def test_the_feed_pages_by_event_id_oldest_first(production: Production, make) -> None:
    make.shot("3A")
    make.shot("3B")
    last = latest_event_id(production)
    first = events_after(production, 0, limit=1)
    assert len(first.items) == 1 and first.next_cursor is not None
    assert decode_cursor(first.next_cursor, [int]) == [first.items[0].id]
    rest = events_after(production, first.items[0].id, limit=MAX_PAGE)
    assert rest.next_cursor is None and rest.items[-1].id == last
    assert [c.shot for c in rest.items if c.entity == "shot"] == ["3A", "3B"]
    assert events_after(production, last).items == []


def test_shots_filtered_by_a_status_word(production: Production, make) -> None:
    make.shot("4A")
    code = make.shot("4B")
    takes.approve_take(production, code, make.take(code))
    assert [s.code for s in shots_page(production, status="approved").items] == ["4B"]
    with pytest.raises(InvalidInputError, match="unknown shot status"):
        shots_page(production, status="done")


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE + 1])
def test_a_page_size_out_of_range_is_refused(limit: int) -> None:
    with pytest.raises(InvalidInputError, match=f"limit {limit} is out of range"):
        page_limit(limit)


@pytest.mark.parametrize(
    "cursor", ["x", "W10", encode_cursor(["a"]), encode_cursor([True]), "A" * 501]
)
def test_a_cursor_this_server_did_not_give_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInputError, match="cursor is not one this server gave"):
        decode_cursor(cursor, [int])


def test_a_short_list_pages_in_memory() -> None:
    first = page_of(list(range(5)), lambda i: i, None, 2, int)
    assert first.items == [0, 1] and page_limit(None) == 100
    second = page_of(list(range(5)), lambda i: i, first.next_cursor, 2, int)
    assert second.items == [2, 3]
    last = page_of(list(range(5)), lambda i: i, second.next_cursor, 2, int)
    assert last == Page([4], None)
    assert dumps_views(last) == b'{"items":[4],"next_cursor":null}'
