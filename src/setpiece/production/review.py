"""Review: submitting shots, approving (circling) takes, retakes with a reason, comments, history.

Every decision is stored with who and when. Approval itself is ``takes.approve_take``
(the only way a shot becomes approved); this module adds what a reviewer does
around it and makes a lost race explicit: when two people approve different
takes of one shot at the same moment, exactly one wins, and the other is told
what changed, by whom and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.model.orm import Comment, Event, Take
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import shot_row, take_row
from setpiece.production.shots import set_shot_status
from setpiece.production.takes import approve_take
from setpiece.production.views import ShotView, TakeView

__all__ = [
    "CommentView",
    "HistoryItem",
    "add_comment",
    "approve",
    "request_retake",
    "shot_history",
    "submit",
]


@dataclass(frozen=True)
class CommentView:
    id: int
    shot: str
    take: str | None
    frame: int | None
    author: str
    note: str
    created_at: datetime
    take_label: str | None = None  # the take as people name it, SHOT/NUMBER


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    actor: str
    action: str  # create, status, approve, import, rendered, comment, ...
    target: str  # "shot 3A", "take k3f9x2m7 (3A/2)"
    before: str | None
    after: str | None
    note: str | None


def submit(production: Production, shot: str, *, note: str | None = None) -> ShotView:
    """Sends a shot to review."""
    return set_shot_status(production, shot, "review", note=note)


def request_retake(
    production: Production, shot: str, note: str, *, expected_version: int | None = None
) -> ShotView:
    """Asks for a retake; the reason is required and kept."""
    if not note.strip():
        raise InvalidInputError("a retake needs a note saying why (--note)")
    return set_shot_status(
        production, shot, "retake", note=note.strip(), expected_version=expected_version
    )


def approve(
    production: Production,
    shot: str,
    take: str,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> TakeView:
    """Circles ``take`` and approves ``shot``. A lost race names the winner.

    Raises:
        ConflictError: The shot changed since ``expected_version``, or another approval committed
            first; the message says which take, by whom and when.
    """
    try:
        return approve_take(production, shot, take, note=note, expected_version=expected_version)
    except ConflictError as exc:
        winner = _last_approval(production, shot)
        if winner is None:
            raise
        raise ConflictError(f"{exc}; meanwhile {winner}") from exc


def _last_approval(production: Production, shot: str) -> str | None:
    with production.transaction() as session:
        target = shot_row(session, shot)
        event = session.scalars(
            select(Event)
            .where(
                Event.entity == "shot", Event.entity_id == target.code, Event.action == "approve"
            )
            .order_by(Event.id.desc())
            .limit(1)
        ).first()
        if event is None:
            return None
        take_id = (event.data or {}).get("take")
        chosen = session.get(Take, take_id) if take_id else None
        label = f"{take_id} ({target.code}/{chosen.number})" if chosen else str(take_id)
        return f"{event.actor} approved take {label} at {event.at:%Y-%m-%d %H:%M:%S} UTC"


def add_comment(
    production: Production,
    shot: str,
    note: str,
    *,
    take: str | None = None,
    frame: int | None = None,
) -> CommentView:
    """Comments on a shot, or on a take of it, or on one frame of that take.

    ``frame`` is stored, 0-based; messages show it as people count it (``production.frames``).
    """
    text = note.strip()
    if not text or len(text) > 10000:
        raise InvalidInputError("a comment needs a note of 1-10000 characters (--note)")
    if frame is not None and (frame < 0 or take is None):
        raise InvalidInputError("--frame needs --take: frames are counted in a take")
    with production.transaction() as session:
        production.authorize(session, "comment")
        target = shot_row(session, shot)
        chosen = take_row(session, take) if take else None
        if chosen is not None and chosen.shot_id != target.id:
            raise InvalidInputError(
                f"take {chosen.id} belongs to shot {chosen.shot.code}, not {target.code}"
            )
        if (
            chosen is not None
            and frame is not None
            and chosen.media is not None
            and frame >= chosen.media.frames
        ):
            frames = production.frames
            raise InvalidInputError(
                f"take {target.code}/{chosen.number} has {chosen.media.frames} frame(s), "
                f"{frames.shown(0)} to {frames.shown(chosen.media.frames - 1)}: "
                f"frame {frames.shown(frame)} is past its end"
            )
        comment = Comment(
            shot_id=target.id,
            take_id=chosen.id if chosen else None,
            frame=frame,
            author=production.actor,
            note=text,
        )
        session.add(comment)
        session.flush()
        record_event(
            session,
            production,
            "shot",
            target.code,
            "comment",
            note=text[:500],
            data={"comment": comment.id, "take": comment.take_id, "frame": frame},
        )
        return CommentView(
            comment.id,
            target.code,
            comment.take_id,
            frame,
            comment.author,
            comment.note,
            comment.created_at,
            f"{target.code}/{chosen.number}" if chosen is not None else None,
        )


def shot_history(production: Production, shot: str) -> list[HistoryItem]:
    """Everything that happened to a shot and its takes, oldest first."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        target = shot_row(session, shot)
        numbers = {
            t.id: t.number for t in session.scalars(select(Take).where(Take.shot_id == target.id))
        }
        events = session.scalars(
            select(Event)
            .where(
                or_(
                    (Event.entity == "shot") & (Event.entity_id == target.code),
                    (Event.entity == "take") & Event.entity_id.in_(list(numbers) or [""]),
                )
            )
            .order_by(Event.id)
        ).all()
        return [
            HistoryItem(
                e.at,
                e.actor,
                e.action,
                f"shot {e.entity_id}"
                if e.entity == "shot"
                else f"take {target.code}/{numbers[e.entity_id]}",
                e.before,
                e.after,
                e.note,
            )
            for e in events
        ]
