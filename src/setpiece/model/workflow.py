"""The workflow as data: which status changes are allowed, who makes them, and who may act.

Every status change goes through ``production.moves`` (``move_shot``, ``move_take``,
``move_job``), which asks ``check_shot_transition``, ``check_take_transition`` or
``check_job_transition`` here; every service that changes anything asks
``required_role``. Nothing else in the code knows these rules, so changing the
workflow is an edit to the tables below.

Two kinds of mover use two kinds of table (``Mover``):

- people (``shot set``, ``take set``, review, a job's retry and cancel) use
  ``SHOT_TRANSITIONS``, ``TAKE_TRANSITIONS`` and ``JOB_TRANSITIONS``;
- the render queue uses the system tables beside them: it moves a take through
  pending, rendering, ready and failed (a lease that runs out or a worker that lets
  go puts a rendering take back to pending), a shot from todo to wip when its first
  take arrives, and a job through queued, running, done and failed. A job's retry
  and cancel are people's actions, but what they do to the job's take is the queue's
  move, so they use the system take table.

A shot becomes ``approved`` only by approving one of its takes (``Mover.APPROVAL``,
from ``SHOT_APPROVABLE_FROM``; the take is circled in the same transaction); a bare
status change to ``approved`` is refused with a pointer to the approve action.
"""

from __future__ import annotations

from enum import StrEnum

from setpiece.errors import InvalidTransitionError
from setpiece.model.enums import JobState, Role, ShotStatus, TakeStatus

__all__ = [
    "ACTION_ROLES",
    "JOB_TRANSITIONS",
    "SHOT_APPROVABLE_FROM",
    "SHOT_TRANSITIONS",
    "SYSTEM_JOB_TRANSITIONS",
    "SYSTEM_SHOT_TRANSITIONS",
    "SYSTEM_TAKE_TRANSITIONS",
    "TAKE_TRANSITIONS",
    "Mover",
    "check_job_transition",
    "check_shot_transition",
    "check_take_transition",
    "required_role",
]

S = ShotStatus
T = TakeStatus
J = JobState


class Mover(StrEnum):
    """Who moves a status, and so which table allows it."""

    PERSON = "person"  # the people's tables
    APPROVAL = "approval"  # approving a take: the shot from SHOT_APPROVABLE_FROM to approved
    SYSTEM = "system"  # the render queue: the system tables


# status -> the statuses a plain `shot set --status` may move it to.
SHOT_TRANSITIONS: dict[ShotStatus, frozenset[ShotStatus]] = {
    S.TODO: frozenset({S.WIP, S.REVIEW}),
    S.WIP: frozenset({S.TODO, S.REVIEW}),
    S.REVIEW: frozenset({S.WIP, S.RETAKE}),
    S.RETAKE: frozenset({S.WIP, S.REVIEW}),
    S.APPROVED: frozenset({S.RETAKE}),
}
# Reached only through approving a take, from these statuses.
SHOT_APPROVABLE_FROM: frozenset[ShotStatus] = frozenset({S.WIP, S.REVIEW, S.RETAKE, S.APPROVED})
# The one move the system makes on a shot: its first take arrived (imported or rendered).
SYSTEM_SHOT_TRANSITIONS: dict[ShotStatus, frozenset[ShotStatus]] = {
    S.TODO: frozenset({S.WIP}),
    S.WIP: frozenset(),
    S.REVIEW: frozenset(),
    S.RETAKE: frozenset(),
    S.APPROVED: frozenset(),
}

# What people do with a finished take: circle it (through approval), reject it, restore it.
TAKE_TRANSITIONS: dict[TakeStatus, frozenset[TakeStatus]] = {
    T.PENDING: frozenset(),
    T.RENDERING: frozenset(),
    T.READY: frozenset({T.CIRCLED, T.REJECTED}),
    T.FAILED: frozenset(),
    T.CIRCLED: frozenset({T.READY, T.REJECTED}),
    T.REJECTED: frozenset({T.READY, T.CIRCLED}),
}
# What the render queue does with a take it makes. Rendering goes back to pending when
# a lease runs out, a worker lets its jobs go, or a transient failure waits to retry;
# pending fails when its job is cancelled before it starts; failed is pending again on retry.
SYSTEM_TAKE_TRANSITIONS: dict[TakeStatus, frozenset[TakeStatus]] = {
    T.PENDING: frozenset({T.RENDERING, T.FAILED}),
    T.RENDERING: frozenset({T.PENDING, T.READY, T.FAILED}),
    T.READY: frozenset(),
    T.FAILED: frozenset({T.PENDING}),
    T.CIRCLED: frozenset(),
    T.REJECTED: frozenset(),
}

# A job's retry (failed or cancelled -> queued) and cancel (queued or running -> cancelled).
JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    J.QUEUED: frozenset({J.CANCELLED}),
    J.RUNNING: frozenset({J.CANCELLED}),
    J.DONE: frozenset(),
    J.FAILED: frozenset({J.QUEUED}),
    J.CANCELLED: frozenset({J.QUEUED}),
}
# The queue's own moves: a worker claims a job, lets it go (or waits out a transient
# failure), finishes it or fails it. A running job whose lease ran out is claimed again
# as it is (running -> running, no change).
SYSTEM_JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    J.QUEUED: frozenset({J.RUNNING}),
    J.RUNNING: frozenset({J.QUEUED, J.DONE, J.FAILED}),
    J.DONE: frozenset(),
    J.FAILED: frozenset(),
    J.CANCELLED: frozenset(),
}

# action -> the lowest role allowed to do it (checked once users exist).
ACTION_ROLES: dict[str, Role] = {
    "read": Role.VIEWER,
    "comment": Role.VIEWER,  # on takes and frames, drawings too (issue 33: viewers comment)
    "make_playlist": Role.ARTIST,
    "edit_breakdown": Role.ARTIST,  # scenes, shots, the bible
    "import_take": Role.ARTIST,
    "render": Role.ARTIST,
    "set_shot_status": Role.ARTIST,
    "set_take_status": Role.ARTIST,
    "record_finding": Role.ARTIST,
    "approve": Role.DIRECTOR,
    "lead_review": Role.ARTIST,  # move a playlist's live session for everyone who follows it
    "request_retake": Role.DIRECTOR,
    "manage_users": Role.ADMIN,
    "edit_project": Role.ADMIN,
}


def _refuse(
    what: str, current: StrEnum, new: StrEnum, allowed: frozenset[str], mover: Mover
) -> InvalidTransitionError:
    names = ", ".join(sorted(allowed)) or "nothing"
    by = " (the render queue's move)" if mover == Mover.SYSTEM else ""
    return InvalidTransitionError(f"{what} is {current}: it can go to {names}, not {new}{by}")


def check_shot_transition(
    current: ShotStatus, new: ShotStatus, *, code: str, mover: Mover = Mover.PERSON
) -> None:
    """Refuses a shot's move current -> new unless ``mover``'s table allows it.

    Raises:
        InvalidTransitionError: The move is not in the table; approved is reached only
            by approving a take (``Mover.APPROVAL``).
    """
    if mover == Mover.APPROVAL:
        if new != S.APPROVED or current not in SHOT_APPROVABLE_FROM:
            raise InvalidTransitionError(f"shot {code} is {current}: it has no take to approve yet")
        return
    if new == current:
        return
    if new == S.APPROVED:
        raise InvalidTransitionError(
            f"shot {code} cannot be set to approved directly: approve one of its takes "
            f"(setpiece review approve {code} TAKE)"
        )
    table = SYSTEM_SHOT_TRANSITIONS if mover == Mover.SYSTEM else SHOT_TRANSITIONS
    if new not in table[current]:
        raise _refuse(f"shot {code}", current, new, table[current], mover)


def check_take_transition(
    current: TakeStatus, new: TakeStatus, *, take: str, mover: Mover = Mover.PERSON
) -> None:
    """Refuses a take's move current -> new unless ``mover``'s table allows it.

    Raises:
        InvalidTransitionError: The move is not in the table.
    """
    if new == current:
        return
    table = SYSTEM_TAKE_TRANSITIONS if mover == Mover.SYSTEM else TAKE_TRANSITIONS
    if new not in table[current]:
        raise _refuse(f"take {take}", current, new, table[current], mover)


def check_job_transition(
    current: JobState, new: JobState, *, job: int, mover: Mover = Mover.PERSON
) -> None:
    """Refuses a render job's move current -> new unless ``mover``'s table allows it.

    Raises:
        InvalidTransitionError: The move is not in the table.
    """
    if new == current:
        return
    table = SYSTEM_JOB_TRANSITIONS if mover == Mover.SYSTEM else JOB_TRANSITIONS
    if new not in table[current]:
        raise _refuse(f"job {job}", current, new, table[current], mover)


def required_role(action: str) -> Role:
    """The lowest role allowed to perform ``action``."""
    return ACTION_ROLES[action]
