"""Assignments: a shot given to one member, with a due date, and who has what on their plate.

One member a shot (a unique shot id), so "whose is 3A?" has one answer; assigning again
hands the shot over. Assigning needs the role of any other shot edit (``edit_breakdown``).
A due date in the past is allowed (work is often assigned late, on paper first), and the
answer carries a warning saying so; an assignee who is not a member is refused.

A shot is late when its due date has passed (in UTC) and it is not approved yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.model.enums import ShotStatus
from setpiece.model.names import fold_user_name
from setpiece.model.orm import Annotation, Assignment, Event, Scene, Shot, Take, User
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import shot_row

__all__ = [
    "AssignmentView",
    "assign_shot",
    "is_late",
    "list_assignments",
    "parse_due",
    "retake_reasons",
    "shot_assignment",
    "today",
]


@dataclass(frozen=True)
class AssignmentView:
    """A shot and who it is assigned to."""

    shot: str
    scene: str
    status: str
    description: str
    assignee: str
    due: str | None  # ISO 8601 date
    late: bool
    assigned_by: str
    assigned_at: datetime
    warnings: list[str] = field(default_factory=list)
    retake: str | None = None  # the last retake's reason, while the shot is in retake
    drawings: int = 0  # drawings on the shot's takes


def today() -> date:
    """The date in UTC: what "late" is judged against, on every machine alike."""
    return datetime.now(UTC).date()


def parse_due(text: str | None) -> date | None:
    """A due date given as YYYY-MM-DD; None or "" for none.

    Raises:
        InvalidInputError: Not an ISO 8601 calendar date.
    """
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            f"due date {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24"
        ) from None


def _member(session: object, name: str) -> User:
    found = session.scalars(  # type: ignore[attr-defined]
        select(User).where(User.name_key == fold_user_name(name))
    ).first()
    if found is None:
        raise InvalidInputError(
            f"{name!r} is not a member of this project: 'setpiece user list' shows the members"
        )
    assert isinstance(found, User)
    return found


def is_late(due: str | None, status: str, on: date) -> bool:
    """Whether a shot due on ``due`` (ISO 8601) and in ``status`` is late on ``on``."""
    return due is not None and date.fromisoformat(due) < on and status != ShotStatus.APPROVED


def assign_shot(
    production: Production, code: str, to: str, *, due: str | date | None = None
) -> AssignmentView:
    """Assigns shot ``code`` to member ``to``, due on ``due`` (or with no due date).

    Returns:
        The assignment; its ``warnings`` say when the due date is already past.

    Raises:
        InvalidInputError: ``to`` is not a member, or ``due`` is not a date.
        NotFoundError: No such shot.
        PermissionDeniedError: The actor's role may not edit shots.
    """
    when = due if isinstance(due, date) else parse_due(due)
    on = today()
    warnings = []
    if when is not None and when < on:
        warnings.append(f"due date {when.isoformat()} is in the past (today is {on.isoformat()})")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        shot = shot_row(session, code)
        user = _member(session, to)
        row = session.scalars(select(Assignment).where(Assignment.shot_id == shot.id)).first()
        before = row.user.name if row is not None else None
        if row is None:
            row = Assignment(shot_id=shot.id, user_id=user.id, assigned_by=production.actor)
            session.add(row)
        row.user_id, row.assigned_by = user.id, production.actor
        row.due = when.isoformat() if when else None
        row.assigned_at = datetime.now(UTC)
        session.flush()
        record_event(
            session,
            production,
            "shot",
            shot.code,
            "assign",
            before=before,
            after=user.name,
            note=f"due {row.due}" if row.due else None,
            data={"assignee": user.name, "due": row.due},
        )
        return AssignmentView(
            shot.code,
            shot.scene.number,
            shot.status,
            shot.description,
            user.name,
            row.due,
            is_late(row.due, shot.status, on),
            row.assigned_by,
            row.assigned_at,
            warnings,
        )


def retake_reasons(session: Any, codes: list[str]) -> dict[str, str]:
    """The last retake's reason of each of shots ``codes`` (those never sent back left out)."""
    if not codes:
        return {}
    rows = session.execute(
        select(Event.entity_id, Event.note)
        .where(
            Event.entity == "shot",
            Event.entity_id.in_(codes),
            Event.after == ShotStatus.RETAKE.value,
            Event.note.is_not(None),
        )
        .order_by(Event.at, Event.id)
    )
    return {code: note for code, note in rows}  # the last one wins


def _drawings(session: Any, codes: list[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = session.execute(
        select(Shot.code, func.count(Annotation.id))
        .join(Take, Take.shot_id == Shot.id)
        .join(Annotation, Annotation.take_id == Take.id)
        .where(Shot.code.in_(codes))
        .group_by(Shot.code)
    )
    return {code: count for code, count in rows}


def list_assignments(
    production: Production,
    assignee: str | None = None,
    *,
    late_only: bool = False,
    shot: str | None = None,
) -> list[AssignmentView]:
    """Assigned shots in script order: ``assignee``'s only when given, late ones only if asked,
    shot ``shot`` only when given.

    Raises:
        NotFoundError: ``assignee`` is not a member, or there is no shot ``shot``.
    """
    on = today()
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        query = (
            select(Assignment, Shot, Scene.number, User.name)
            .join(Shot, Assignment.shot_id == Shot.id)
            .join(Scene, Shot.scene_id == Scene.id)
            .join(User, Assignment.user_id == User.id)
            .order_by(Scene.position, Shot.position, Shot.code)
        )
        if assignee is not None:
            key = fold_user_name(assignee)
            if session.scalar(select(User.id).where(User.name_key == key)) is None:
                raise NotFoundError(
                    f"no member {assignee!r}: 'setpiece user list' shows the members"
                )
            query = query.where(User.name_key == key)
        if shot is not None:
            query = query.where(Shot.id == shot_row(session, shot).id)
        views = [
            AssignmentView(
                shot.code,
                scene,
                shot.status,
                shot.description,
                name,
                row.due,
                is_late(row.due, shot.status, on),
                row.assigned_by,
                row.assigned_at,
            )
            for row, shot, scene, name in session.execute(query).all()
        ]
        reasons = retake_reasons(session, [v.shot for v in views if v.status == "retake"])
        drawn = _drawings(session, [v.shot for v in views])
        views = [
            replace(v, retake=reasons.get(v.shot), drawings=drawn.get(v.shot, 0)) for v in views
        ]
    return [v for v in views if v.late] if late_only else views


def shot_assignment(production: Production, code: str) -> AssignmentView | None:
    """Who shot ``code`` is assigned to, and by when; None when it is nobody's.

    Raises:
        NotFoundError: No such shot.
    """
    found = list_assignments(production, shot=code)
    return found[0] if found else None
