"""The workflow as data: which status changes are allowed, and who may act.

Every service that changes a status asks ``check_shot_transition`` or
``check_take_transition``; every service that changes anything asks
``required_role``. Nothing else in the code knows these rules, so changing the
workflow is an edit to the tables below.

A shot becomes ``approved`` only by approving one of its takes (the take is
circled in the same transaction); a bare status change to ``approved`` is
refused with a pointer to the approve action.
"""

from __future__ import annotations

from setpiece.errors import InvalidTransitionError
from setpiece.model.enums import Role, ShotStatus, TakeStatus

__all__ = [
    "ACTION_ROLES",
    "SHOT_TRANSITIONS",
    "TAKE_TRANSITIONS",
    "check_shot_transition",
    "check_take_transition",
    "required_role",
]

S = ShotStatus
T = TakeStatus

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

TAKE_TRANSITIONS: dict[TakeStatus, frozenset[TakeStatus]] = {
    T.PENDING: frozenset({T.RENDERING, T.READY, T.FAILED}),
    T.RENDERING: frozenset({T.READY, T.FAILED}),
    T.READY: frozenset({T.CIRCLED, T.REJECTED}),
    T.FAILED: frozenset({T.PENDING}),
    T.CIRCLED: frozenset({T.READY, T.REJECTED}),
    T.REJECTED: frozenset({T.READY, T.CIRCLED}),
}

# action -> the lowest role allowed to do it (checked once users exist).
ACTION_ROLES: dict[str, Role] = {
    "read": Role.VIEWER,
    "comment": Role.ARTIST,
    "edit_breakdown": Role.ARTIST,  # scenes, shots, the bible
    "import_take": Role.ARTIST,
    "render": Role.ARTIST,
    "set_shot_status": Role.ARTIST,
    "set_take_status": Role.ARTIST,
    "record_finding": Role.ARTIST,
    "approve": Role.DIRECTOR,
    "request_retake": Role.DIRECTOR,
    "manage_users": Role.ADMIN,
    "edit_project": Role.ADMIN,
}


def check_shot_transition(current: ShotStatus, new: ShotStatus, *, code: str) -> None:
    """Raises InvalidTransitionError unless a bare status change current -> new is allowed."""
    if new == current:
        return
    if new == S.APPROVED:
        raise InvalidTransitionError(
            f"shot {code} cannot be set to approved directly: approve one of its takes "
            f"(setpiece review approve {code} TAKE)"
        )
    if new not in SHOT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(SHOT_TRANSITIONS[current])) or "nothing"
        raise InvalidTransitionError(f"shot {code} is {current}: it can go to {allowed}, not {new}")


def check_take_transition(current: TakeStatus, new: TakeStatus, *, take: str) -> None:
    """Raises InvalidTransitionError unless take status current -> new is allowed."""
    if new == current:
        return
    if new not in TAKE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(TAKE_TRANSITIONS[current])) or "nothing"
        raise InvalidTransitionError(f"take {take} is {current}: it can go to {allowed}, not {new}")


def required_role(action: str) -> Role:
    """The lowest role allowed to perform ``action``."""
    return ACTION_ROLES[action]
