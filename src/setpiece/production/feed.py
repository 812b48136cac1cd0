"""The change feed: the history's events as the live pages follow them.

Why a module of its own: the feed is read by the dashboard (its latest changes),
the API (a page of changes after an id) and the server-sent event stream, and
what a change shows (its id as the feed's position, the shot it touched) is
decided once, here. The feed pages by event id, oldest first, with the cursors
of ``production/paging.py``; a position is an event id, 0 to 2^31 - 1 (``paging.ID``), checked before any
query sees it (``event_id`` reads one a client sent as text, such as Last-Event-ID).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from setpiece.errors import InvalidInputError
from setpiece.model.orm import Event, Shot, Take
from setpiece.production.context import Production
from setpiece.production.paging import MAX_ID, Page, check_id, encode_cursor, page_limit

__all__ = ["ChangeView", "event_id", "events_after", "latest_event_id", "recent_changes"]


@dataclass(frozen=True)
class ChangeView:
    """One event of the history, with its id (the feed's position) and the shot it touched."""

    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    before: str | None
    after: str | None
    note: str | None
    shot: str | None
    # What people read for the entity: a take as SHOT/NUMBER, a shot as its code (None:
    # another entity, or a take that no longer exists).
    label: str | None = None


def take_labels(session: Session, events: Sequence[Event]) -> dict[str, str]:
    """Take id -> SHOT/NUMBER for the takes among ``events``, in one query."""
    ids = {e.entity_id for e in events if e.entity == "take"}
    if not ids:
        return {}
    rows = session.execute(
        select(Take.id, Shot.code, Take.number)
        .join(Shot, Take.shot_id == Shot.id)
        .where(Take.id.in_(ids))
    ).all()
    return {take: f"{code}/{number}" for take, code, number in rows}


def _change(event: Event, labels: dict[str, str] | None = None) -> ChangeView:
    data = event.data or {}
    shot = event.entity_id if event.entity == "shot" else data.get("shot")
    label = event.entity_id if event.entity == "shot" else (labels or {}).get(event.entity_id)
    return ChangeView(
        event.id,
        event.at,
        event.actor,
        event.entity,
        event.entity_id,
        event.action,
        event.before,
        event.after,
        event.note,
        shot if isinstance(shot, str) else None,
        label if event.entity in ("shot", "take") else None,
    )


def recent_changes(session: Session, count: int) -> list[ChangeView]:
    """The ``count`` latest changes, newest first, read in the caller's transaction."""
    events = session.scalars(select(Event).order_by(Event.id.desc()).limit(count)).all()
    labels = take_labels(session, events)
    return [_change(e, labels) for e in events]


def latest_event_id(production: Production) -> int:
    """The id of the newest event (0 in a project without history): where a feed starts."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        return int(session.scalar(select(func.max(Event.id))) or 0)


def event_id(text: str, what: str = "event id") -> int:
    """The event id ``text`` names: 0 to 2^31 - 1, in ASCII digits.

    Raises:
        InvalidInputError: ``text`` is not such a number, naming ``what`` it was.
    """
    if not re.fullmatch(r"[0-9]{1,10}", text) or int(text) > MAX_ID:
        raise InvalidInputError(f"{what} {text[:30]!r} is not an event id: give 0 to {MAX_ID}")
    return int(text)


def events_after(
    production: Production, after: int = 0, *, limit: int | None = None
) -> Page[ChangeView]:
    """Changes newer than event ``after``, oldest first (the feed the live pages follow).

    Raises:
        InvalidInputError: An id or a limit out of range (0 to 2^31 - 1, 1 to ``MAX_PAGE``).
    """
    check_id(after, "event id")
    size = page_limit(limit)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        events = session.scalars(
            select(Event).where(Event.id > after).order_by(Event.id).limit(size + 1)
        ).all()
        labels = take_labels(session, events[:size])
        items = [_change(e, labels) for e in events[:size]]
        more = len(events) > size
        return Page(items, encode_cursor([items[-1].id]) if more and items else None)
