"""Playlists: takes to review in order, gathered by a query or named by hand.

A playlist is made once and then kept as it was made (the takes in their order), so a
review session goes through the same list even while renders land; make it again to
pick up new takes. The queries (``QUERIES``):

- ``scene:N``: every take with a picture of scene N's shots;
- ``review``: for each shot waiting for review, the take the cut uses (circled, else the
  provisional pick, else the newest finished leaf: ``stale.shot_pick``), so a source take
  and its retimed copy are not both shown;
- ``findings``: every take with a picture that a check found something on;
- ``stale``: every take made from a bible entry or look that has changed since.

Takes are ordered as the script runs: scene, shot, take number. Each item is shown with
its place in the cut: the shot before and after it (the cut as ``production.cut`` assembles
it now) and the film's rate, so a player can show the take in context. An item whose take
or whose picture is gone from the store is listed as missing, with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import exists, func, select

from setpiece.errors import ConflictError, InvalidInputError, NotFoundError
from setpiece.model.enums import ShotStatus, TakeStatus
from setpiece.model.orm import Comment, Finding, Playlist, PlaylistItem, Scene, Shot, Take
from setpiece.production.assignments import retake_reasons
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import scene_row, take_row
from setpiece.production.stale import shot_pick, stale_reasons

__all__ = [
    "MAX_ITEMS",
    "QUERIES",
    "CutContext",
    "PlaylistItemView",
    "PlaylistSummary",
    "PlaylistView",
    "SessionView",
    "create_playlist",
    "get_playlist",
    "get_session",
    "hand_over",
    "list_playlists",
    "move_session",
]

QUERIES = ("scene:N", "review", "findings", "stale")
MAX_ITEMS = (
    2000  # takes in one playlist: a day's review is tens, a whole film's stale takes hundreds
)
_SHOWN = (TakeStatus.READY.value, TakeStatus.CIRCLED.value)


@dataclass(frozen=True)
class CutContext:
    """A neighbour in the cut: its shot, the take the cut uses (None: a slate), its length."""

    shot: str
    take: str | None
    frames: int


@dataclass(frozen=True)
class PlaylistItemView:
    position: int  # from 1
    take: str  # the take's id
    label: str  # SHOT/NUMBER
    shot: str
    status: str | None  # the take's status; None when it is missing
    missing: str | None  # why it cannot be played, or None
    before: CutContext | None = None  # the shot before this one in the cut
    after: CutContext | None = None
    # The standing decision, from the database: "approved (circled)" for a circled take,
    # "retake: REASON" while the shot is in retake; None when there is none.
    decision: str | None = None
    comments: int = 0  # comments on the take


@dataclass(frozen=True)
class PlaylistSummary:
    """A playlist without its items: what ``list_playlists`` and ``create_playlist`` return."""

    id: int
    name: str
    query: str | None  # None: named by hand
    created_by: str
    created_at: datetime
    takes: int
    fps: Fraction


@dataclass(frozen=True)
class PlaylistView(PlaylistSummary):
    """A playlist with its items in order (``get_playlist``)."""

    items: list[PlaylistItemView] = field(default_factory=list)


def _ordered(query: Any) -> Any:
    return (
        query.join(Shot, Take.shot_id == Shot.id)
        .join(Scene, Shot.scene_id == Scene.id)
        .where(Take.media_sha256.is_not(None))
        .order_by(Scene.position, Shot.position, Take.number)
    )


def _picks(takes: Any) -> list[Take]:
    """One take a shot, of ``takes`` in script order: the one the cut uses (``shot_pick``),
    never both a source take and its retimed copy."""
    by_shot: dict[int, list[Take]] = {}
    for take in takes:
        by_shot.setdefault(take.shot_id, []).append(take)
    picked = (shot_pick(shot_takes) for shot_takes in by_shot.values())
    return [t for t in picked if t is not None and t.status in _SHOWN]


def _query_takes(session: Any, query: str) -> list[Take]:
    """The takes ``query`` finds, in script order.

    Raises:
        InvalidInputError: Not one of ``QUERIES``.
        NotFoundError: ``scene:N`` names no scene.
    """
    word = query.strip()
    if word.lower().startswith("scene:") and word[6:].strip():
        scene = scene_row(session, word[6:].strip())
        return list(session.scalars(_ordered(select(Take)).where(Shot.scene_id == scene.id)))
    word = word.lower()
    if word == "review":
        return _picks(
            session.scalars(_ordered(select(Take)).where(Shot.status == ShotStatus.REVIEW.value))
        )
    if word == "findings":
        found = exists().where(Finding.take_id == Take.id)
        return list(session.scalars(_ordered(select(Take)).where(found)))
    if word == "stale":
        takes = list(session.scalars(_ordered(select(Take))))
        stale = stale_reasons(session, takes)
        return [t for t in takes if t.id in stale]
    raise InvalidInputError(
        f"unknown playlist query {query!r}: use one of {', '.join(QUERIES)} "
        "(scene:N names a scene, e.g. scene:12), or name the takes"
    )


def _named_takes(session: Any, refs: list[str]) -> list[Take]:
    takes: list[Take] = []
    seen: set[str] = set()
    for ref in refs:
        take = take_row(session, ref)
        if take.id in seen:
            raise InvalidInputError(f"take {ref} is named twice: a playlist plays each take once")
        seen.add(take.id)
        takes.append(take)
    return takes


def create_playlist(
    production: Production,
    name: str,
    *,
    query: str | None = None,
    takes: list[str] | None = None,
) -> PlaylistSummary:
    """Makes playlist ``name`` from ``query`` (one of ``QUERIES``) or from ``takes`` (ids or
    SHOT/NUMBER), in that order.

    Raises:
        InvalidInputError: Neither or both of query and takes, an unknown query, a take named
            twice, a bad name, or more than ``MAX_ITEMS`` takes.
        NotFoundError: A named take or scene does not exist.
        ConflictError: A playlist of that name exists.
        PermissionDeniedError: The actor may not comment (viewers).
    """
    fps = production.fps  # read before the transaction: it may open one of its own
    title = name.strip()
    if not title or len(title) > 200:
        raise InvalidInputError("a playlist needs a name of 1-200 characters")
    if (query is None) == (not takes):
        raise InvalidInputError(
            "give a playlist a query (--query) or its takes (--takes), one of them"
        )
    with production.transaction() as session:
        production.authorize(session, "make_playlist")
        if session.scalar(select(Playlist.id).where(Playlist.name == title)) is not None:
            raise ConflictError(f"a playlist called {title!r} exists: choose another name")
        chosen = (
            _query_takes(session, query)
            if query is not None
            else _named_takes(session, takes or [])
        )
        if len(chosen) > MAX_ITEMS:
            raise InvalidInputError(
                f"the playlist would hold {len(chosen)} takes: the limit is {MAX_ITEMS}; "
                "narrow the query (scene:N)"
            )
        playlist = Playlist(
            name=title, query=query.strip() if query else None, created_by=production.actor
        )
        playlist.items = [
            PlaylistItem(position=i, take_id=t.id, label=f"{t.shot.code}/{t.number}")
            for i, t in enumerate(chosen, 1)
        ]
        session.add(playlist)
        session.flush()
        record_event(
            session,
            production,
            "playlist",
            str(playlist.id),
            "create",
            note=title,
            data={"query": playlist.query, "takes": len(chosen)},
        )
        return _summary(playlist, fps)


def _summary(playlist: Playlist, fps: Fraction) -> PlaylistSummary:
    return PlaylistSummary(
        playlist.id,
        playlist.name,
        playlist.query,
        playlist.created_by,
        playlist.created_at,
        len(playlist.items),
        fps,
    )


def list_playlists(production: Production) -> list[PlaylistSummary]:
    """Every playlist, newest first, without their items."""
    fps = production.fps
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        rows = session.scalars(select(Playlist).order_by(Playlist.id.desc())).all()
        return [_summary(p, fps) for p in rows]


def _playlist_row(session: Any, ref: str) -> Playlist:
    text = ref.strip()
    row = session.scalars(select(Playlist).where(Playlist.name == text)).first()
    if row is None and text.isdigit() and len(text) < 10:
        row = session.get(Playlist, int(text))
    if row is None:
        raise NotFoundError(f"no playlist {ref!r}: 'setpiece playlist list' shows them")
    assert isinstance(row, Playlist)
    return row


def _missing(production: Production, take: Take | None) -> str | None:
    if take is None:
        return "the take was deleted"
    if take.media is None:
        return "the take has no picture"
    if not production.store.exists(take.media.key):
        return f"its picture {take.media.sha256[:12]} is gone from the media store"
    return None


def _decision(take: Take | None, retakes: dict[str, str]) -> str | None:
    if take is None:
        return None
    if take.status == TakeStatus.CIRCLED.value:
        return "approved (circled)"
    if take.shot.status == ShotStatus.RETAKE.value:
        reason = retakes.get(take.shot.code)
        return f"retake: {reason}" if reason else "retake"
    return None


def _comment_counts(session: Any, take_ids: list[str]) -> dict[str, int]:
    if not take_ids:
        return {}
    rows = session.execute(
        select(Comment.take_id, func.count())
        .where(Comment.take_id.in_(take_ids))
        .group_by(Comment.take_id)
    )
    return {take: count for take, count in rows}


def get_playlist(production: Production, ref: str) -> PlaylistView:
    """Playlist ``ref`` (its name or id) with its items in order, each in its cut context.

    Raises:
        NotFoundError: No such playlist.
    """
    from setpiece.production.cut import assemble

    cut = assemble(production)
    fps = production.fps
    around: dict[str, tuple[CutContext | None, CutContext | None]] = {}
    places = [CutContext(c.shot, c.take_label, c.duration) for c in cut.clips]
    for index, place in enumerate(places):
        around[place.shot] = (
            places[index - 1] if index > 0 else None,
            places[index + 1] if index + 1 < len(places) else None,
        )
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        playlist = _playlist_row(session, ref)
        items = []
        takes = {i.take_id: session.get(Take, i.take_id) for i in playlist.items}
        retakes = retake_reasons(
            session,
            sorted(
                {
                    t.shot.code
                    for t in takes.values()
                    if t is not None and t.shot.status == ShotStatus.RETAKE.value
                }
            ),
        )
        said = _comment_counts(session, [t for t in takes if takes[t] is not None])
        for item in playlist.items:
            take = takes[item.take_id]
            shot = take.shot.code if take is not None else item.label.rsplit("/", 1)[0]
            before, after = around.get(shot, (None, None))
            items.append(
                PlaylistItemView(
                    item.position,
                    item.take_id,
                    f"{shot}/{take.number}" if take is not None else item.label,
                    shot,
                    take.status if take is not None else None,
                    _missing(production, take),
                    before,
                    after,
                    _decision(take, retakes),
                    said.get(item.take_id, 0),
                )
            )
        summary = _summary(playlist, fps)
    return PlaylistView(**{f.name: getattr(summary, f.name) for f in fields(summary)}, items=items)


# Live review sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    """What everyone following a playlist's session sees: the take and frame the leader shows.

    Every change is an event of the history (entity ``playlist``, action ``session``), so
    the server-sent event stream (``/api/v1/events/stream``) carries it to every follower.
    """

    playlist: str
    leader: str | None
    position: int | None  # the item shown, from 1
    take: str | None  # its take's id
    label: str | None  # its SHOT/NUMBER
    frame: int | None


def _session_view(playlist: Playlist) -> SessionView:
    item = next((i for i in playlist.items if i.position == playlist.session_position), None)
    return SessionView(
        playlist.name,
        playlist.session_leader,
        playlist.session_position,
        item.take_id if item else None,
        item.label if item else None,
        playlist.session_frame,
    )


def get_session(production: Production, ref: str) -> SessionView:
    """The live session of playlist ``ref`` (anyone who may read follows it)."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        return _session_view(_playlist_row(session, ref))


def _announce(session: Any, production: Production, playlist: Playlist, what: str) -> SessionView:
    view = _session_view(playlist)
    record_event(
        session,
        production,
        "playlist",
        str(playlist.id),
        "session",
        note=what,
        data={
            "leader": view.leader,
            "position": view.position,
            "take": view.take,
            "frame": view.frame,
        },
    )
    return view


def _check_leader(production: Production, playlist: Playlist) -> None:
    from setpiece.model.names import fold_user_name

    leader = playlist.session_leader
    if leader is not None and fold_user_name(leader) != fold_user_name(production.actor):
        raise ConflictError(
            f"{leader} leads the session of {playlist.name}: follow, or ask them to hand over"
        )


def move_session(production: Production, ref: str, position: int, frame: int = 0) -> SessionView:
    """Shows item ``position`` (from 1) at ``frame`` to everyone following playlist ``ref``;
    the first to move a session without a leader leads it.

    Raises:
        PermissionDeniedError: A viewer (they follow and comment, not lead).
        ConflictError: Someone else leads the session.
        InvalidInputError: No such item, or a negative frame.
        NotFoundError: No such playlist.
    """
    with production.transaction() as session:
        production.authorize(session, "lead_review")
        playlist = _playlist_row(session, ref)
        _check_leader(production, playlist)
        if not 1 <= position <= len(playlist.items):
            raise InvalidInputError(
                f"playlist {playlist.name} has items 1-{len(playlist.items)}: no item {position}"
            )
        if frame < 0:
            raise InvalidInputError(f"frame {frame}: frames count from 0")
        playlist.session_leader = playlist.session_leader or production.actor
        playlist.session_position, playlist.session_frame = position, frame
        return _announce(session, production, playlist, f"item {position} frame {frame}")


def hand_over(production: Production, ref: str, to: str) -> SessionView:
    """Hands the lead of playlist ``ref``'s session to member ``to`` (by its leader, or by
    anyone who may lead while it has none).

    Raises:
        PermissionDeniedError: A viewer hands over or is handed the lead.
        ConflictError: Someone else leads the session.
        InvalidInputError: ``to`` is not a member.
        NotFoundError: No such playlist.
    """
    from setpiece.model.enums import Role
    from setpiece.model.names import fold_user_name
    from setpiece.model.orm import User
    from setpiece.model.workflow import required_role

    with production.transaction() as session:
        production.authorize(session, "lead_review")
        playlist = _playlist_row(session, ref)
        _check_leader(production, playlist)
        user = session.scalars(select(User).where(User.name_key == fold_user_name(to))).first()
        if user is None:
            raise InvalidInputError(
                f"{to!r} is not a member of this project: 'setpiece user list' shows the members"
            )
        needed = required_role("lead_review")
        if Role(user.role).rank < needed.rank:
            from setpiece.errors import PermissionDeniedError

            raise PermissionDeniedError(
                f"{user.name} is {user.role}: leading a review needs {needed.value} or above "
                "(a viewer follows and comments)"
            )
        playlist.session_leader = user.name
        return _announce(session, production, playlist, f"lead to {user.name}")
