"""Letting go of a failed attempt's render job: one rule for picture and dialogue takes.

A failed attempt releases its lease; a transient failure with attempts left queues the job
again after a back-off, anything else fails it. Each worker then moves its own kind of take
(``_worker`` a picture take through ``move_take``, ``_speech`` a dialogue take).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from setpiece.model.enums import JobState
from setpiece.model.orm import RenderJob, utcnow
from setpiece.production.moves import move_job

__all__ = ["release_job"]


def release_job(
    row: RenderJob, message: str, *, transient: bool, backoff: Callable[[int], float]
) -> bool:
    """Gives a failed attempt's job back, its lease let go: queued again after ``backoff``
    while a transient failure has attempts left (True), else failed (False). The take's
    move is the caller's (a picture take's or a dialogue take's)."""
    row.last_error, row.lease_owner, row.lease_expires_at, row.updated_at = (
        message,
        None,
        None,
        utcnow(),
    )
    if transient and row.attempts < row.max_attempts:
        move_job(row, JobState.QUEUED)
        row.next_attempt_at = utcnow() + timedelta(seconds=backoff(row.attempts))
        return True
    move_job(row, JobState.FAILED)
    return False
