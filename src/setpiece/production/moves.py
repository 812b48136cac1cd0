"""The only place a shot's, a take's or a render job's status is written.

Every status change in Setpiece goes through ``move_shot``, ``move_take`` or
``move_job``: each asks the workflow tables of ``model/workflow.py`` (people's or
the render queue's, as ``mover`` says), then writes the status and, for shots and
takes, the history event that says who moved it, from what, to what and why. A
change the tables forbid raises ``InvalidTransitionError`` before anything is
written, whoever asks: the CLI, the web API or the queue. A test scans ``src/``
for status assignments anywhere else.

``first_take`` is the one automatic move on a shot: todo becomes wip when the shot
gets its first take, imported or rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setpiece.model.enums import JobState, ShotStatus, TakeStatus
from setpiece.model.workflow import (
    Mover,
    check_job_transition,
    check_shot_transition,
    check_take_transition,
)
from setpiece.production.history import record_event
from setpiece.production.rows import touch_shot

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from setpiece.model.orm import RenderJob, Shot, Take
    from setpiece.production.context import Production

__all__ = ["LINE_TAKE_MOVES", "first_take", "move_job", "move_line_take", "move_shot", "move_take"]


def move_shot(
    session: Session,
    production: Production,
    shot: Shot,
    new: ShotStatus,
    *,
    mover: Mover = Mover.PERSON,
    action: str = "status",
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> ShotStatus:
    """Moves ``shot`` to ``new``, marks it changed by the acting user and records the event.

    The move is written (and recorded) even when ``new`` is the shot's status: callers
    that want nothing to happen then check first.

    Args:
        session: The open transaction.
        production: The open project (its acting user is recorded).
        shot: The shot row.
        new: The status to move to.
        mover: Whose table allows the move (``Mover.APPROVAL`` for approving a take).
        action: The history event's action ("status", "approve").
        note: Why, kept in the history.
        data: More for the history event.

    Returns:
        The status the shot had.

    Raises:
        InvalidTransitionError: The workflow does not allow the move.
    """
    current = ShotStatus(shot.status)
    check_shot_transition(current, new, code=shot.code, mover=mover)
    shot.status = new.value
    touch_shot(shot, production)
    record_event(
        session,
        production,
        "shot",
        shot.code,
        action,
        before=current,
        after=new,
        note=note,
        data=data,
    )
    return current


def move_take(
    session: Session,
    production: Production,
    take: Take,
    new: TakeStatus,
    *,
    mover: Mover = Mover.PERSON,
    action: str | None = "status",
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> TakeStatus:
    """Moves ``take`` to ``new`` and records the event (none when ``action`` is None).

    Args:
        session: The open transaction.
        production: The open project (its acting user is recorded).
        take: The take row.
        new: The status to move to.
        mover: Whose table allows the move (``Mover.SYSTEM`` for the render queue's moves).
        action: The history event's action; None for the queue's moves that the history
            does not show (claiming a job, putting it back).
        note: Why, kept in the history.
        data: More for the history event.

    Returns:
        The status the take had.

    Raises:
        InvalidTransitionError: The workflow does not allow the move.
    """
    current = TakeStatus(take.status)
    check_take_transition(current, new, take=take.id, mover=mover)
    take.status = new.value
    if action is not None:
        record_event(
            session,
            production,
            "take",
            take.id,
            action,
            before=current,
            after=new,
            note=note,
            data=data,
        )
    return current


def move_job(job: RenderJob, new: JobState, *, mover: Mover = Mover.SYSTEM) -> JobState:
    """Moves render ``job`` to ``new``; its take's move and history are the caller's.

    Returns:
        The state the job had.

    Raises:
        InvalidTransitionError: The workflow does not allow the move.
    """
    current = JobState(job.state)
    check_job_transition(current, new, job=job.id, mover=mover)
    job.state = new.value
    return current


def first_take(session: Session, production: Production, shot: Shot, *, how: str) -> None:
    """The automatic todo -> wip move when ``shot`` gets its first take ("imported", "rendered")."""
    if shot.status == ShotStatus.TODO:
        move_shot(
            session, production, shot, ShotStatus.WIP, mover=Mover.SYSTEM, note=f"first take {how}"
        )


# A dialogue take's statuses and the moves between them: the speech queue's own, with no
# review states (a line's choice is its ``circled`` flag). A lease that ran out gives a
# rendering take to the next worker, still rendering.
LINE_TAKE_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"rendering", "failed"}),
    "rendering": frozenset({"rendering", "ready", "pending", "failed"}),
    "failed": frozenset({"pending"}),
    "ready": frozenset(),
}


def move_line_take(take: Any, new: str) -> str:
    """Moves dialogue take ``take`` (a ``LineTake``) to ``new``; returns the status it had.

    Raises:
        InvalidTransitionError: Not a move of ``LINE_TAKE_MOVES``.
    """
    from setpiece.errors import InvalidTransitionError

    current = str(take.status)
    if new not in LINE_TAKE_MOVES.get(current, frozenset()):
        raise InvalidTransitionError(f"a dialogue take that is {current} cannot become {new}")
    take.status = new
    return current
