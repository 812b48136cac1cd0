"""Read services of the shot board: the board, the dashboard, pages of shots.

Why a module of its own: the web pages need views no other service gives in one
call (a board column with thumbnails and finding counts, the film's progress,
a page of shots in script order, a shot's comments, a stored file by its hash),
and a feature's shot list is tens of thousands of rows, so every list here is
read one page at a time in SQL, with the keyset cursors of ``production/paging.py``.

The change feed the live pages follow is ``production/feed.py``; the render
queue's listing, retry and cancel live in ``production/jobs.py``, beside the job
states of ``model/workflow.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import BindParameter, Executable, and_, bindparam, func, or_, select

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.model.enums import ShotStatus, TakeKind, TakeStatus, parse_enum
from setpiece.model.orm import (
    Assignment,
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
    User,
)
from setpiece.production.assignments import AssignmentView, is_late, list_assignments, today
from setpiece.production.context import Production
from setpiece.production.feed import ChangeView, recent_changes
from setpiece.production.paging import ID, INT32, Page, decode_cursor, encode_cursor, page_limit
from setpiece.production.records import StatusReport, production_status
from setpiece.production.review import CommentView
from setpiece.production.rows import scene_row, shot_row
from setpiece.production.stale import shot_pick, shot_staleness, stale_entries, take_rows
from setpiece.production.views import ShotView, SubjectView, jsonable

__all__ = [
    "GROUPINGS",
    "BoardCard",
    "BoardColumn",
    "BoardFilter",
    "BoardGroup",
    "BoardView",
    "Dashboard",
    "MediaFile",
    "ShotCard",
    "board",
    "board_view",
    "dashboard",
    "list_comments",
    "media_file",
    "shots_page",
]

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
    size = page_limit(limit)
    after = decode_cursor(cursor, [INT32, INT32, ID])
    wanted = parse_enum(ShotStatus, status, "shot status") if status else None
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
    """A shot on the board: its circled (or latest) take's media and what the checks found.

    Its JSON is its fields (``jsonable``); ``thumb`` is the sha256 of that take's media.
    """

    code: str
    scene: str
    description: str
    status: ShotStatus
    version: int
    takes: int
    findings: int
    thumb: str | None
    thumb_kind: TakeKind | None


@dataclass(frozen=True)
class BoardColumn:
    """The shots of one status: how many there are, and the first of them in script order."""

    status: ShotStatus
    total: int
    cards: list[BoardCard] = field(default_factory=list)


def board(production: Production, *, per_column: int = 100) -> list[BoardColumn]:
    """A column per shot status, each with its first ``per_column`` shots in script order.

    Raises:
        InvalidInputError: ``per_column`` outside 1 to ``MAX_PAGE``.
    """
    size = page_limit(per_column)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        connection = session.connection()  # Core execution: plain columns, no ORM row loading
        totals: dict[str, int] = dict(
            connection.execute(select(Shot.status, func.count()).group_by(Shot.status)).all()
        )
        picked: dict[ShotStatus, list[Any]] = {}
        for status in ShotStatus:
            picked[status] = []
            if totals.get(status):
                picked[status] = list(
                    connection.execute(
                        select(Shot.id, Shot.code, Scene.number, Shot.description, Shot.version)
                        .join(Scene, Shot.scene_id == Scene.id)
                        .where(Shot.status == status)
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
    return [
        BoardColumn(
            status,
            totals.get(status, 0),
            [_card(status, row, takes.get(row[0], []), found) for row in picked[status]],
        )
        for status in ShotStatus
    ]


def _card(status: ShotStatus, shot: Any, takes: list[Any], found: dict[int, int]) -> BoardCard:
    """The card of ``shot`` (id, code, scene, description, version) from its takes' rows
    (shot id, number, status, media, kind) and its shots' finding counts."""
    shot_id, code, scene, description, version = shot
    with_media = [t for t in takes if t[3] is not None]
    circled = [t for t in with_media if t[2] == TakeStatus.CIRCLED]
    thumb = (circled or with_media[-1:] or [None])[0]
    return BoardCard(
        code=code,
        scene=scene,
        description=description,
        status=status,
        version=version,
        takes=len(takes),
        findings=found.get(shot_id, 0),
        thumb=thumb[3] if thumb else None,
        thumb_kind=TakeKind(thumb[4]) if thumb else None,
    )


# The board at scale: every shot, grouped and filtered ------------------------------------------

GROUPINGS = ("status", "scene")


@dataclass(frozen=True)
class BoardFilter:
    """Which shots the board shows; each field left empty shows all.

    ``status`` and ``scene`` are as typed (checked by ``board_view``); ``findings``,
    ``stale`` and ``provisional`` keep only the shots with findings, with a stale pick
    (``production/stale.py``), or whose pick is a provisional one.
    """

    status: str | None = None
    scene: str | None = None
    findings: bool = False
    stale: bool = False
    provisional: bool = False


@dataclass(frozen=True)
class ShotCard:
    """A shot on the board, with its pick marked.

    ``pick`` is the take the card shows, as SHOT/NUMBER: the circled take, else the
    provisional pick, else the newest finished take (``stale.shot_pick``); ``mark`` says
    which ("circled", "provisional" or "latest"); ``poster`` is that take's media sha256
    (its poster is ``/api/v1/posters/{poster}``). ``retake`` is the reason of the shot's
    last retake while it is in retake. ``stale``: the pick is stale and no fresh take is
    there or coming (``production/stale.py``). ``assignee`` and ``due`` say whose the shot
    is and by when (``production/assignments.py``); ``late`` is past due and not approved.
    """

    code: str
    scene: str
    description: str
    status: ShotStatus
    version: int
    takes: int
    findings: int
    pick: str | None
    mark: str | None
    pick_take: str | None
    poster: str | None
    stale: bool
    retake: str | None
    assignee: str | None = None
    due: str | None = None
    late: bool = False


@dataclass(frozen=True)
class BoardGroup:
    """One group of cards: a status or a scene (``key``), its title and its cards."""

    key: str
    title: str
    cards: list[ShotCard] = field(default_factory=list)


@dataclass(frozen=True)
class BoardView:
    """The board: its groups in order, the scenes there are (for the filter) and the total."""

    grouping: str
    groups: list[BoardGroup]
    scenes: list[str]
    shots: int


def board_view(
    production: Production, wanted: BoardFilter | None = None, *, grouping: str = "status"
) -> BoardView:
    """Every shot that passes ``wanted``, as cards grouped by status or by scene.

    Every card is in the answer (the page collapses groups; a board of 2,000 shots is
    read in one pass of a few plain queries, ``bench/web_board_scale.py``).

    Raises:
        InvalidInputError: An unknown status or grouping.
        NotFoundError: An unknown scene.
    """
    wanted = wanted or BoardFilter()
    if grouping not in GROUPINGS:
        raise InvalidInputError(f"board grouping {grouping[:20]!r}: give status or scene")
    status = parse_enum(ShotStatus, wanted.status, "shot status") if wanted.status else None
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        connection = session.connection()  # Core execution: plain columns, no ORM row loading
        scenes = list(
            connection.execute(
                select(
                    Scene.id, Scene.number, Scene.heading, Scene.position, Scene.omitted
                ).order_by(Scene.position)
            ).all()
        )
        query = (
            select(
                Shot.id,
                Shot.code,
                Shot.scene_id,
                Scene.number,
                Shot.description,
                Shot.status,
                Shot.version,
                User.name.label("assignee"),
                Assignment.due,
            )
            .join(Scene, Shot.scene_id == Scene.id)
            .outerjoin(Assignment, Assignment.shot_id == Shot.id)
            .outerjoin(User, Assignment.user_id == User.id)
            .order_by(Scene.position, Shot.position, Shot.id)
        )
        if wanted.scene:
            query = query.where(Shot.scene_id == scene_row(session, wanted.scene).id)
        if status is not None:
            query = query.where(Shot.status == status)
        shots = connection.execute(query).all()
        takes = take_rows(connection)
        # Staleness from the same rows (production/stale.py owns the rule): a stale pick is
        # marked on every board, not only on one filtered by it.
        by_id = {scene.id: scene for scene in scenes}
        known = stale_entries(session)
        stale = {
            row.code
            for row in shots
            if not by_id[row.scene_id].omitted
            and shot_staleness(takes.get(row.id, []), by_id[row.scene_id], known) is not None
        }
        found: dict[int, int] = dict(
            connection.execute(  # type: ignore[arg-type]
                select(Finding.shot_id, func.count())
                .where(Finding.shot_id.is_not(None))
                .group_by(Finding.shot_id)
            ).all()
        )
        retakes = _retake_reasons(session, [r.code for r in shots if r.status == ShotStatus.RETAKE])
    cards = [_shot_card(row, takes.get(row.id, []), found, stale, retakes) for row in shots]
    if wanted.findings:
        cards = [c for c in cards if c.findings]
    if wanted.stale:
        cards = [c for c in cards if c.stale]
    if wanted.provisional:
        cards = [c for c in cards if c.mark == "provisional"]
    return BoardView(
        grouping, _groups(grouping, cards, scenes), [s.number for s in scenes], len(cards)
    )


def _retake_reasons(session: Any, codes: list[str]) -> dict[str, str]:
    """The note of each shot's last move to retake (a retake's reason is required)."""
    reasons: dict[str, str] = {}
    for start in range(0, len(codes), 500):
        for code, note in session.execute(
            select(Event.entity_id, Event.note)
            .where(
                Event.entity == "shot",
                Event.entity_id.in_(codes[start : start + 500]),
                Event.after == ShotStatus.RETAKE.value,
            )
            .order_by(Event.id)
        ):
            if note:
                reasons[code] = note
    return reasons


def _shot_card(
    shot: Any,
    takes: list[Any],
    found: dict[int, int],
    stale: set[str],
    retakes: dict[str, str],
) -> ShotCard:
    pick: Any = shot_pick(takes)
    mark = None
    if pick is not None:
        if pick.status == TakeStatus.CIRCLED:
            mark = "circled"
        elif pick.provisional:
            mark = "provisional"
        else:
            mark = "latest"
    status = ShotStatus(shot.status)
    return ShotCard(
        code=shot.code,
        scene=shot.number,
        description=shot.description,
        status=status,
        version=shot.version,
        takes=len(takes),
        findings=found.get(shot.id, 0),
        pick=f"{shot.code}/{pick.number}" if pick is not None else None,
        mark=mark,
        pick_take=pick.id if pick is not None else None,
        poster=pick.media_sha256 if pick is not None else None,
        stale=shot.code in stale,
        retake=retakes.get(shot.code) if status == ShotStatus.RETAKE else None,
        assignee=shot.assignee,
        due=shot.due,
        late=is_late(shot.due, status, today()),
    )


def _groups(grouping: str, cards: list[ShotCard], scenes: list[Any]) -> list[BoardGroup]:
    if grouping == "status":
        by_status: dict[str, list[ShotCard]] = {s.value: [] for s in ShotStatus}
        for card in cards:
            by_status[card.status.value].append(card)
        return [BoardGroup(key, key, shown) for key, shown in by_status.items()]
    by_scene: dict[str, list[ShotCard]] = {}
    for card in cards:
        by_scene.setdefault(card.scene, []).append(card)
    return [
        BoardGroup(scene.number, f"{scene.number}. {scene.heading}", by_scene[scene.number])
        for scene in scenes
        if scene.number in by_scene
    ]


# The dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """The film's progress: shots and takes by status, approved running time against planned,
    and the assigned shots that are late (past due, not approved), most overdue first."""

    status: StatusReport
    takes_made: int
    approved_seconds: float
    planned_seconds: float
    recent: list[ChangeView]
    late: list[AssignmentView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The fields, with the running times to the millisecond (not their float noise)."""
        return {
            "status": self.status.to_json(),
            "takes_made": self.takes_made,
            "approved_seconds": round(self.approved_seconds, 3),
            "planned_seconds": round(self.planned_seconds, 3),
            "recent": jsonable(self.recent),
            "late": jsonable(self.late),
        }


def dashboard(production: Production, *, recent: int = 20) -> Dashboard:
    """Progress of the film. An approved shot counts its circled take's length (a still: the
    shot's planned length); planned time is every shot of the scenes not omitted."""
    report = production_status(production)
    late = sorted(list_assignments(production, late_only=True), key=lambda a: a.due or "")
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
            .where(Shot.status == ShotStatus.APPROVED, Take.status == TakeStatus.CIRCLED)
        ):
            if kind == TakeKind.VIDEO and duration:
                approved += float(duration)
            elif planned:
                approved += float(Fraction(planned) / fps)
        made = sum(
            count
            for status, count in report.takes.items()
            if status not in (TakeStatus.PENDING, TakeStatus.RENDERING)
        )
        return Dashboard(
            status=report,
            takes_made=made,
            approved_seconds=approved,
            planned_seconds=float(Fraction(int(planned_frames)) / fps),
            recent=recent_changes(session, recent),
            late=late,
        )


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
    kind: TakeKind
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
        return MediaFile(row.sha256, row.key, TakeKind(row.kind), row.ext, row.size)
