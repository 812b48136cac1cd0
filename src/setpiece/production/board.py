"""Read services of the shot board.

Why a module of its own: the web pages need views no other service gives in one
call (a board column with thumbnails and finding counts, the film's progress,
a page of shots in script order, the change feed), and a feature's shot list is
tens of thousands of rows, so every list here is read one page at a time in SQL.

Pagination is keyset, not offset: a cursor names the last row of the page
(its sort key, base64url-encoded JSON), so a page stays cheap however deep it
is, and a shot added meanwhile never shifts or repeats rows. Cursors are opaque
to clients; one this module did not make is refused as bad input.

The render queue's listing, retry and cancel live in ``production/jobs.py``, beside
the job states of ``model/workflow.py``; it pages with this module's cursors.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BindParameter, Executable, and_, bindparam, func, or_, select

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.model.enums import ShotStatus, TakeKind, TakeStatus, parse_enum
from setpiece.model.orm import (
    BibleEntry,
    Comment,
    Event,
    Finding,
    Media,
    Revision,
    Scene,
    Shot,
    ShotSubject,
    Take,
)
from setpiece.production.context import Production
from setpiece.production.records import StatusReport, production_status
from setpiece.production.review import CommentView
from setpiece.production.rows import scene_row, shot_row
from setpiece.production.views import ShotView, SubjectView, jsonable

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "BoardCard",
    "BoardColumn",
    "ChangeView",
    "Dashboard",
    "MediaFile",
    "Page",
    "board",
    "dashboard",
    "decode_cursor",
    "encode_cursor",
    "events_after",
    "latest_event_id",
    "list_comments",
    "media_file",
    "page_of",
    "shots_page",
]

DEFAULT_PAGE = 100
MAX_PAGE = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None

    @property
    def native_json(self) -> bool:
        """Whether orjson can write the page itself: every item is such a view."""
        return all(getattr(i, "native_json", False) for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"items": [jsonable(i) for i in self.items], "next_cursor": self.next_cursor}


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: Sequence[type]) -> list[Any] | None:
    """The sort key a cursor names, checked against ``shape`` (the types of its parts).

    Raises:
        InvalidInputError: The cursor was not made by this service.
    """
    if cursor is None or cursor == "":
        return None
    bad = InvalidInputError("cursor is not one this server gave: start again without it")
    if len(cursor) > 500:
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not isinstance(key, list) or len(key) != len(shape):
        raise bad
    for part, kind in zip(key, shape, strict=True):
        if not isinstance(part, kind) or isinstance(part, bool):
            raise bad
    return key


def _limit(limit: int | None) -> int:
    value = DEFAULT_PAGE if limit is None else limit
    if not 1 <= value <= MAX_PAGE:
        raise InvalidInputError(f"limit {value} is out of range: give 1 to {MAX_PAGE}")
    return value


def page_of(
    items: Sequence[T], key: Callable[[T], Any], cursor: str | None, limit: int | None, kind: type
) -> Page[T]:
    """A page of a short list already in memory, ordered by ``key`` (one int or str part)."""
    size = _limit(limit)
    after = decode_cursor(cursor, [kind])
    rest = [i for i in items if after is None or key(i) > after[0]]
    chosen = rest[:size]
    more = len(rest) > size
    return Page(chosen, encode_cursor([key(chosen[-1])]) if more and chosen else None)


# Shots ------------------------------------------------------------------------------------------


def shots_page(
    production: Production,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    status: str | None = None,
    scene: str | None = None,
) -> Page[ShotView]:
    """A page of shots in script order (scene order, then coverage order).

    Pages are kept in ``Database.views`` under the database's ``shot_list`` revision, which
    triggers move on every change the list shows: a page asked for again before any such
    change is the same page, without reading it again (0.05 ms instead of 1.5 ms for 100
    shots; the shot board's 50 clients mostly ask for the same pages).
    """
    size = _limit(limit)
    after = decode_cursor(cursor, [int, int, int])
    wanted = parse_enum(ShotStatus, status, "shot status").value if status else None
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        # The revision is read first: the page read after it is at least as new as it, so no
        # page is ever kept under a revision newer than its contents.
        revision = session.execute(_SHOT_LIST_REVISION).scalar()
        key = ("shots", revision, cursor, size, wanted, scene)
        if revision is not None:
            kept = production.db.views.get(key)
            if kept is not None:
                return cast(Page[ShotView], kept)
        values: dict[str, Any] = {"size": size + 1, "floor": -(2**31)}
        if scene is not None:
            values["scene_id"] = scene_row(session, scene).id
        if wanted is not None:
            values["status"] = wanted
        if after is not None:
            values["floor"], values["b"], values["c"] = after
        # Core, not ORM, execution: plain columns need no ORM row loading (2.4 ms of a 7 ms page).
        connection = session.connection()
        query = _page_query(scene is not None, wanted is not None, after is not None)
        rows = connection.execute(query, values).all()
        more = len(rows) > size
        rows = rows[:size]
        blocking: dict[int, list[SubjectView]] = {}
        if rows:
            for owner, name, kind, side, depth, override in connection.execute(
                _BLOCKING, {"ids": [r[0] for r in rows]}
            ).all():
                blocking.setdefault(owner, []).append(
                    SubjectView(name, kind, side, depth, override)
                )
        views = _shot_views(production.fps, rows, blocking)
        last = rows[-1] if rows else None
        page = Page(views, encode_cursor([last[3], last[4], last[0]]) if more and last else None)
        if revision is not None:
            production.db.views.put(key, page)
        return page


_SHOT_LIST_REVISION = select(Revision.n).where(Revision.name == "shot_list")
_PAGE_QUERIES: dict[tuple[bool, bool, bool], Executable] = {}
_BLOCKING = (
    select(
        ShotSubject.shot_id,
        BibleEntry.name,
        BibleEntry.kind,
        ShotSubject.side,
        ShotSubject.depth,
        ShotSubject.prompt_override,
    )
    .join(BibleEntry, ShotSubject.entry_id == BibleEntry.id)
    .where(ShotSubject.shot_id.in_(bindparam("ids", expanding=True)))
    .order_by(ShotSubject.shot_id, ShotSubject.position)
)


def _page_query(by_scene: bool, by_status: bool, after: bool) -> Executable:
    """The page's statement for one combination of filters, built once with bound parameters:
    building a select costs more than running it (1.5 ms of a 5 ms page, measured in process)."""
    key = (by_scene, by_status, after)
    cached = _PAGE_QUERIES.get(key)
    if cached is not None:
        return cached
    takes = select(func.count()).where(Take.shot_id == Shot.id).scalar_subquery()
    query = (
        select(
            Shot.id,
            Shot.code,
            Scene.number,
            Scene.position,
            Shot.position,
            Shot.description,
            Shot.size,
            Shot.angle,
            Shot.lens_mm,
            Shot.camera_move,
            Shot.planned_frames,
            Shot.status,
            Shot.version,
            Shot.updated_at,
            Shot.updated_by,
            takes,
        )
        .join(Scene, Shot.scene_id == Scene.id)
        .order_by(Scene.position, Shot.position, Shot.id)
        .limit(bindparam("size"))
        # A range on the scene's position lets SQLite walk scenes by their index and stop at
        # the page's end instead of sorting every shot (0.13 ms instead of 1.7 ms a page at
        # 10,000 shots, bench/web_latency.py).
        .where(Scene.position >= bindparam("floor"))
    )
    if by_scene:
        query = query.where(Shot.scene_id == bindparam("scene_id"))
    if by_status:
        query = query.where(Shot.status == bindparam("status"))
    if after:
        a: BindParameter[int] = bindparam("floor")
        b: BindParameter[int] = bindparam("b")
        c: BindParameter[int] = bindparam("c")
        query = query.where(
            or_(
                Scene.position > a,
                and_(Scene.position == a, Shot.position > b),
                and_(Scene.position == a, Shot.position == b, Shot.id > c),
            )
        )
    _PAGE_QUERIES[key] = query
    return query


def _shot_views(
    fps: Fraction, rows: Sequence[Any], blocking: dict[int, list[SubjectView]]
) -> list[ShotView]:
    per_frame = fps.denominator / fps.numerator
    return [
        ShotView(
            code=r[1],
            scene=r[2],
            position=r[4],
            description=r[5],
            size=r[6],
            angle=r[7],
            lens_mm=r[8],
            camera_move=r[9],
            planned_frames=r[10],
            planned_seconds=round(r[10] * per_frame, 6) if r[10] is not None else None,
            status=ShotStatus(r[11]),
            subjects=blocking.get(r[0], []),
            takes=r[15],
            version=r[12],
            updated_at=r[13],
            updated_by=r[14],
        )
        for r in rows
    ]


# The board --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardCard:
    """A shot on the board: its circled (or latest) take's media and what the checks found."""

    code: str
    scene: str
    description: str
    status: str
    version: int
    takes: int
    findings: int
    thumb_sha256: str | None
    thumb_kind: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "scene": self.scene,
            "description": self.description,
            "status": self.status,
            "version": self.version,
            "takes": self.takes,
            "findings": self.findings,
            "thumb": self.thumb_sha256,
            "thumb_kind": self.thumb_kind,
        }


@dataclass(frozen=True)
class BoardColumn:
    status: str
    total: int
    cards: list[BoardCard] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "total": self.total,
            "cards": [c.to_json() for c in self.cards],
        }


def board(production: Production, *, per_column: int = 100) -> list[BoardColumn]:
    """A column per shot status, each with its first ``per_column`` shots in script order."""
    size = _limit(per_column)
    columns: list[BoardColumn] = []
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        connection = session.connection()  # Core execution: plain columns, no ORM row loading
        totals = dict(
            connection.execute(select(Shot.status, func.count()).group_by(Shot.status)).all()
        )
        picked: dict[str, list[Any]] = {}
        for status in ShotStatus:
            if not totals.get(status.value):
                picked[status.value] = []
                continue
            picked[status.value] = list(
                connection.execute(
                    select(Shot.id, Shot.code, Scene.number, Shot.description, Shot.version)
                    .join(Scene, Shot.scene_id == Scene.id)
                    .where(Shot.status == status.value)
                    .order_by(Scene.position, Shot.position, Shot.id)
                    .limit(size)
                ).all()
            )
        ids = [row[0] for rows in picked.values() for row in rows]
        takes: dict[int, list[Any]] = {}
        found: dict[int, int] = {}
        if ids:
            for row in connection.execute(
                select(Take.shot_id, Take.number, Take.status, Take.media_sha256, Take.kind)
                .where(Take.shot_id.in_(ids))
                .order_by(Take.shot_id, Take.number)
            ):
                takes.setdefault(row[0], []).append(row)
            found = {
                int(shot_id): count
                for shot_id, count in connection.execute(
                    select(Finding.shot_id, func.count())
                    .where(Finding.shot_id.in_(ids))
                    .group_by(Finding.shot_id)
                ).all()
                if shot_id is not None
            }
        for status in ShotStatus:
            cards = []
            for shot_id, code, scene, description, version in picked[status.value]:
                own = takes.get(shot_id, [])
                with_media = [t for t in own if t[3] is not None]
                circled = [t for t in with_media if t[2] == TakeStatus.CIRCLED.value]
                thumb = (circled or with_media[-1:] or [None])[0]
                cards.append(
                    BoardCard(
                        code=code,
                        scene=scene,
                        description=description,
                        status=status.value,
                        version=version,
                        takes=len(own),
                        findings=found.get(shot_id, 0),
                        thumb_sha256=thumb[3] if thumb else None,
                        thumb_kind=thumb[4] if thumb else None,
                    )
                )
            columns.append(BoardColumn(status.value, totals.get(status.value, 0), cards))
    return columns


# The dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """The film's progress: shots and takes by status, approved running time against planned."""

    status: StatusReport
    takes_made: int
    approved_seconds: float
    planned_seconds: float
    recent: list[ChangeView]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.to_json(),
            "takes_made": self.takes_made,
            "approved_seconds": round(self.approved_seconds, 3),
            "planned_seconds": round(self.planned_seconds, 3),
            "recent": [c.to_json() for c in self.recent],
        }


def dashboard(production: Production, *, recent: int = 20) -> Dashboard:
    """Progress of the film. An approved shot counts its circled take's length (a still: the
    shot's planned length); planned time is every shot of the scenes not omitted."""
    report = production_status(production)
    fps = production.fps
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        planned_frames = (
            session.scalar(
                select(func.coalesce(func.sum(Shot.planned_frames), 0))
                .join(Scene, Shot.scene_id == Scene.id)
                .where(Scene.omitted.is_(False))
            )
            or 0
        )
        approved = 0.0
        for planned, kind, duration in session.execute(
            select(Shot.planned_frames, Take.kind, Media.duration)
            .join(Take, Take.shot_id == Shot.id)
            .outerjoin(Media, Take.media_sha256 == Media.sha256)
            .where(
                Shot.status == ShotStatus.APPROVED.value,
                Take.status == TakeStatus.CIRCLED.value,
            )
        ):
            if kind == TakeKind.VIDEO and duration:
                approved += float(duration)
            elif planned:
                approved += float(Fraction(planned) / fps)
        made = sum(
            count
            for status, count in report.takes.items()
            if status not in (TakeStatus.PENDING.value, TakeStatus.RENDERING.value)
        )
        events = session.scalars(select(Event).order_by(Event.id.desc()).limit(recent)).all()
        return Dashboard(
            status=report,
            takes_made=made,
            approved_seconds=approved,
            planned_seconds=float(Fraction(int(planned_frames)) / fps),
            recent=[_change(e) for e in events],
        )


# The change feed --------------------------------------------------------------------------------


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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": jsonable(self.at),
            "actor": self.actor,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "note": self.note,
            "shot": self.shot,
        }


def _change(event: Event) -> ChangeView:
    data = event.data or {}
    shot = event.entity_id if event.entity == "shot" else data.get("shot")
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
    )


def latest_event_id(production: Production) -> int:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        return int(session.scalar(select(func.max(Event.id))) or 0)


def events_after(
    production: Production, after: int = 0, *, limit: int | None = None
) -> Page[ChangeView]:
    """Changes newer than event ``after``, oldest first (the feed the live pages follow)."""
    size = _limit(limit)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        events = session.scalars(
            select(Event).where(Event.id > after).order_by(Event.id).limit(size + 1)
        ).all()
        items = [_change(e) for e in events[:size]]
        more = len(events) > size
        return Page(items, encode_cursor([items[-1].id]) if more and items else None)


# Comments ---------------------------------------------------------------------------------------


def list_comments(production: Production, shot: str) -> list[CommentView]:
    """A shot's comments, oldest first."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        target = shot_row(session, shot)
        return [
            CommentView(c.id, target.code, c.take_id, c.frame, c.author, c.note, c.created_at)
            for c in session.scalars(
                select(Comment).where(Comment.shot_id == target.id).order_by(Comment.id)
            )
        ]


# Media ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaFile:
    """A file of the store, found by its content hash only."""

    sha256: str
    key: str
    kind: str
    ext: str
    size: int


def media_file(production: Production, sha256: str) -> MediaFile:
    """The stored file with this hash; nothing else can be asked for.

    Raises:
        InvalidInputError: Not a sha256 (64 lower-case hex digits).
        NotFoundError: No such file in the project.
    """
    value = sha256.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInputError("media is asked for by its sha256: 64 hex digits")
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        row = session.get(Media, value)
        if row is None:
            raise NotFoundError(f"no media {value[:12]}… in this project")
        return MediaFile(row.sha256, row.key, row.kind, row.ext, row.size)
