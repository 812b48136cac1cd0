"""Views that orjson writes natively give exactly the bytes of their ``to_json`` shape."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import orjson

from setpiece.model.enums import ShotStatus
from setpiece.production.paging import Page
from setpiece.production.views import (
    SceneView,
    ShotView,
    SubjectView,
    dumps_views,
    jsonable,
)


def _shot(code: str, when: datetime, subjects: list[SubjectView]) -> ShotView:
    return ShotView(
        code=code,
        scene="12A",
        position=3,
        description='Mara turns — "now" ✓',
        size="CU",
        angle=None,
        lens_mm=35.5,
        camera_move=None,
        planned_frames=37,
        planned_seconds=round(37 / 24, 6),
        status=ShotStatus.TODO,
        subjects=subjects,
        takes=2,
        version=4,
        updated_at=when,
        updated_by=None,
    )


def test_a_page_of_shots_written_natively_matches_its_to_json_shape() -> None:
    subjects = [
        SubjectView("MARA", "character", "left", None, None),
        SubjectView("ROOFTOP", "location", None, "background", "wet tar, neon"),
    ]
    page = Page(
        [
            _shot("12A-1", datetime(2026, 11, 22, 9, 30, 1, 123456, tzinfo=UTC), subjects),
            _shot("12A-2", datetime(2026, 11, 22, 9, 30, 1, tzinfo=UTC), []),
        ],
        "abc",
    )
    assert page.native_json
    expected = orjson.dumps(jsonable(page))
    assert dumps_views(page) == expected
    assert b'"2026-11-22T09:30:01.123456Z"' in expected
    assert b'"2026-11-22T09:30:01Z"' in expected
    # Every field of the view is in the JSON: a field added to the dataclass but not to
    # to_json (or the other way round) breaks the equality above or this.
    assert list(orjson.loads(expected)["items"][0]) == [
        f.name for f in dataclasses.fields(ShotView)
    ]


def test_views_with_their_own_shape_still_go_through_to_json() -> None:
    assert not SceneView.native_json  # its rate is a "num/den" string
    empty: Page[ShotView] = Page([], None)
    assert dumps_views(empty) == b'{"items":[],"next_cursor":null}'
    mixed = Page([SubjectView("MARA", "character", None, None, None), 1.5], None)
    assert not mixed.native_json
    assert dumps_views(mixed) == orjson.dumps(jsonable(mixed))


def test_records_without_a_to_json_of_their_own_print_as_before() -> None:
    """These lost their hand-written ``to_json`` (it only repeated the fields): same bytes."""
    from setpiece.continuity.check import ContinuityReport, Skipped
    from setpiece.model.findings import Unreadable
    from setpiece.production.fsck import FsckProblem
    from setpiece.production.picks import Pick
    from setpiece.production.records import UserView
    from setpiece.production.review import CommentView, HistoryItem

    when = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    shapes = [
        (UserView("dana", "director"), b'{"name":"dana","role":"director"}'),
        (Pick("1A", "abc", 2), b'{"shot":"1A","take":"abc","findings":2}'),
        (
            FsckProblem("missing", "gone", "ff", None, ["abc"]),
            b'{"kind":"missing","detail":"gone","sha256":"ff","path":null,"takes":["abc"]}',
        ),
        (
            CommentView(3, "1A", None, 12, "dana", "warmer", when),
            b'{"id":3,"shot":"1A","take":null,"frame":12,"author":"dana","note":"warmer",'
            b'"created_at":"2026-12-06T06:30:00Z","take_label":null}',
        ),
        (
            HistoryItem(when, "dana", "approve", "take abc (1A/2)", None, "circled", None),
            b'{"at":"2026-12-06T06:30:00Z","actor":"dana","action":"approve",'
            b'"target":"take abc (1A/2)","before":null,"after":"circled","note":null}',
        ),
        (
            SubjectView("MARA", "character", "left", None, None),
            b'{"name":"MARA","kind":"character","side":"left","depth":null,"prompt_override":null}',
        ),
        (
            ContinuityReport(
                [],
                2,
                [Skipped("1A", "abc", "identity", "previs")],
                ["a note"],
                [Unreadable("abd", "1A/3", "1A", None, "no frame decodes")],
            ),
            b'{"findings":[],"takes_checked":2,"skipped":[{"shot":"1A","take":"abc",'
            b'"check":"identity","reason":"previs"}],"notes":["a note"],"unreadable":[{"take":'
            b'"abd","label":"1A/3","shot":"1A","frame":null,"reason":"no frame decodes"}],'
            b'"labels":{}}',
        ),
    ]
    for value, expected in shapes:
        assert not hasattr(value, "to_json") or isinstance(value, SubjectView)
        assert orjson.dumps(jsonable(value)) == expected
        assert dumps_views(value) == expected
