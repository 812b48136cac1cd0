"""Render jobs as people see them: listing the queue, retrying a job, cancelling one.

The render queue (``generate/queue/``) moves jobs as it works them; this module is
the people's side of the same rows, and the one place a job is retried or cancelled.
Both sides move a job only through ``move_job`` and its take only through
``move_take`` (``production/moves.py``), so ``model/workflow.py``'s tables decide:
a failed or cancelled job can be retried, a queued or running one cancelled,
nothing else. A running job that is cancelled loses its result: the worker's lease
check finds it no longer running. ``setpiece jobs``, ``render --retry-failed`` and the
board's buttons all call these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from setpiece.errors import InvalidInputError, InvalidTransitionError, NotFoundError
from setpiece.model.enums import JobState, TakeStatus, parse_enum
from setpiece.model.orm import Line, LineTake, RenderJob, Scene, Shot, Take, utcnow
from setpiece.model.workflow import JOB_TRANSITIONS, Mover
from setpiece.production.context import Production
from setpiece.production.cost import check_budget, lock_budget, retry_quote
from setpiece.production.history import record_event
from setpiece.production.moves import move_job, move_line_take, move_take
from setpiece.production.paging import ID, Page, decode_cursor, encode_cursor, page_limit
from setpiece.production.views import jsonable

__all__ = [
    "JobView",
    "cancel_job",
    "job_summary",
    "list_jobs",
    "retry_failed",
    "retry_job",
    "retry_take",
]


@dataclass(frozen=True)
class JobView:
    """A render job as listed: a picture job names its shot and take number (``shot``,
    ``number``), a speech job its line (``3/5``), character and take number (``shot`` None).
    ``take`` is the take's id either way."""

    id: int
    take: str
    shot: str | None
    number: int
    generator: str
    state: JobState
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    line: str | None = None
    character: str | None = None

    @property
    def label(self) -> str:
        """``3B/2`` for a picture take, ``3/5/1 MARA`` for a dialogue take."""
        if self.line is not None:
            return f"{self.line}/{self.number} {self.character}"
        return f"{self.shot}/{self.number}"


def _job_query() -> Any:
    """Every job with what names its take: a picture take's shot code and number, or a
    dialogue take's number, scene, line number and character (the other side NULL)."""
    return (
        select(
            RenderJob,
            Take.number,
            Shot.code,
            LineTake.number,
            Scene.number,
            Line.number,
            Line.character,
        )
        .outerjoin(Take, RenderJob.take_id == Take.id)
        .outerjoin(Shot, Take.shot_id == Shot.id)
        .outerjoin(LineTake, RenderJob.line_take_id == LineTake.id)
        .outerjoin(Line, LineTake.line_id == Line.id)
        .outerjoin(Scene, Line.scene_id == Scene.id)
    )


def _job_view(job: RenderJob, row: Sequence[Any]) -> JobView:
    """The view of one ``_job_query`` row (``job`` is its first column)."""
    number, code, line_number, scene, order, character = row[1:]
    speech = job.line_take_id is not None
    return JobView(
        job.id,
        job.line_take_id if job.line_take_id is not None else job.take_id,
        None if speech else code,
        line_number if speech else number,
        job.generator,
        JobState(job.state),
        job.attempts,
        job.max_attempts,
        job.last_error,
        job.created_at,
        job.updated_at,
        job.next_attempt_at,
        f"{scene}/{order}" if speech else None,
        character if speech else None,
    )


def _view_of(session: Session, job: RenderJob) -> JobView:
    """One job's view, read through the listing's query."""
    return _job_view(job, session.execute(_job_query().where(RenderJob.id == job.id)).one())


def list_jobs(
    production: Production,
    *,
    state: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[JobView]:
    """Render jobs, newest first, of one state when given.

    Raises:
        InvalidInputError: An unknown state, a bad cursor or limit.
    """
    size = page_limit(limit)
    wanted = None if state is None else parse_enum(JobState, state, "job state")
    after = decode_cursor(cursor, [ID])
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        query = _job_query().order_by(RenderJob.id.desc()).limit(size + 1)
        if wanted is not None:
            query = query.where(RenderJob.state == wanted)
        if after is not None:
            query = query.where(RenderJob.id < after[0])
        rows = session.execute(query).all()
        items = [_job_view(row[0], row) for row in rows[:size]]
        more = len(rows) > size
        return Page(items, encode_cursor([items[-1].id]) if more and items else None)


def job_summary(production: Production) -> dict[str, Any]:
    """Jobs by state and the last change: what the queue page's live feed compares."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        counts: dict[str, int] = {
            state: count
            for state, count in session.execute(
                select(RenderJob.state, func.count()).group_by(RenderJob.state)
            ).all()
        }
        last = session.scalar(select(func.max(RenderJob.updated_at)))
        return {
            "states": {s.value: int(counts.get(s.value, 0)) for s in JobState},
            "updated_at": jsonable(last) if last else None,
        }


def _job_row(session: Session, job_id: int) -> tuple[RenderJob, Take | LineTake]:
    """The job and its take: a picture take, or a speech job's dialogue take."""
    job = session.get(RenderJob, job_id)
    if job is None:
        raise NotFoundError(f"no render job {job_id}: the render queue page lists them")
    take: Take | LineTake | None
    if job.line_take_id is not None:
        take = session.get(LineTake, job.line_take_id)
    else:
        take = session.get(Take, job.take_id) if job.take_id is not None else None
    if take is None:
        raise NotFoundError(f"render job {job_id} has no take")
    return job, take


def _people_move(job: RenderJob, new: JobState, verb: str) -> JobState:
    """A person's move of ``job``, refused in the words of the action unless the table has it."""
    current = JobState(job.state)
    if new not in JOB_TRANSITIONS[current]:
        able = " or ".join(s for s in JobState if new in JOB_TRANSITIONS[s])
        raise InvalidTransitionError(f"job {job.id} is {current}: only a {able} job can be {verb}")
    return move_job(job, new, mover=Mover.PERSON)


def retry_job(production: Production, job_id: int) -> JobView:
    """Puts a failed or cancelled job back in the queue, with its attempts counted afresh.

    Raises:
        NotFoundError: No such job.
        InvalidTransitionError: The job is not failed or cancelled.
    """
    with production.transaction() as session:
        production.authorize(session, "render")
        job, take = _job_row(session, job_id)
        if isinstance(take, Take):
            _within_budget(session, production, [take])
        return _retry(session, production, job, take)


def retry_take(production: Production, take_id: str) -> JobView:
    """Retries the last render job of a take (the board's button on a failed take).

    Raises:
        NotFoundError: No such take, or a take no render job made (imported).
        InvalidTransitionError: Its job is not failed or cancelled.
    """
    with production.transaction() as session:
        production.authorize(session, "render")
        job = session.scalar(
            select(RenderJob)
            .where(RenderJob.take_id == take_id)
            .order_by(RenderJob.id.desc())
            .limit(1)
        )
        if job is None:
            raise NotFoundError(f"take {take_id} has no render job to retry")
        _, take = _job_row(session, job.id)
        if isinstance(take, Take):
            _within_budget(session, production, [take])
        return _retry(session, production, job, take)


def retry_failed(production: Production, shots: Sequence[str] = ()) -> list[JobView]:
    """Puts every failed picture job back in the queue, of the shots named (all when none).
    A failed speech job is retried by its id, or spoken anew by ``dialogue render``.

    Raises:
        NotFoundError: An unknown shot.
    """
    with production.transaction() as session:
        production.authorize(session, "render")
        query = (
            _job_query()
            .where(RenderJob.state == JobState.FAILED, RenderJob.take_id.is_not(None))
            .order_by(RenderJob.id)
        )
        if shots:
            known = set(session.scalars(select(Shot.code).where(Shot.code.in_(list(shots)))))
            unknown = [code for code in shots if code not in known]
            if unknown:
                raise NotFoundError(f"no shot {unknown[0]!r}: 'setpiece shot list' lists them")
            query = query.where(Shot.code.in_(list(shots)))
        jobs = [(row[0], session.get(Take, row[0].take_id)) for row in session.execute(query).all()]
        _within_budget(session, production, [take for _, take in jobs if take is not None])
        return [_retry(session, production, job, take) for job, take in jobs]


def _within_budget(session: Session, production: Production, takes: Sequence[Take]) -> None:
    """Refuses a retry whose takes, at their stored quotes, would exceed ``[budget]`` or
    ``[budget.render]``: a retried hosted take is paid for again (exit 2, nothing moved)."""
    lock_budget(session)
    check_budget(retry_quote(session, production.config.settings, takes))


def _retry(
    session: Session, production: Production, job: RenderJob, take: Take | LineTake | None
) -> JobView:
    """Moves ``job`` back to the queue and its take back to pending."""
    if take is None:
        raise InvalidInputError(f"job {job.id} has no take")
    before = _people_move(job, JobState.QUEUED, "retried")
    now = utcnow()
    job.attempts, job.next_attempt_at, job.updated_at = 0, now, now
    job.lease_owner, job.lease_expires_at, job.outage_since = None, None, None
    take.failure = None
    if isinstance(take, LineTake):
        move_line_take(take, "pending")
        record_event(session, production, "line", _line_name(take), "retry", after=str(take.number))
    else:
        move_take(
            session,
            production,
            take,
            TakeStatus.PENDING,
            mover=Mover.SYSTEM,
            action="retry",
            data={"shot": take.shot.code, "job": job.id, "was": before.value},
        )
    session.flush()
    return _view_of(session, job)


def _line_name(take: LineTake) -> str:
    return f"{take.line.scene.number}/{take.line.number}"


def cancel_job(production: Production, job_id: int) -> JobView:
    """Cancels a queued or running job; its take fails with the reason (retry brings it back).

    Raises:
        NotFoundError: No such job.
        InvalidTransitionError: The job is done, failed or cancelled already.
    """
    with production.transaction() as session:
        production.authorize(session, "render")
        job, take = _job_row(session, job_id)
        _people_move(job, JobState.CANCELLED, "cancelled")
        job.updated_at = utcnow()
        job.lease_owner, job.lease_expires_at = None, None
        job.last_error = f"cancelled by {production.actor}"
        take.failure = job.last_error
        if isinstance(take, LineTake):
            move_line_take(take, "failed")
            record_event(
                session, production, "line", _line_name(take), "cancelled", after=str(take.number)
            )
        else:
            move_take(
                session,
                production,
                take,
                TakeStatus.FAILED,
                mover=Mover.SYSTEM,
                action="cancelled",
                data={"shot": take.shot.code, "job": job.id},
            )
        session.flush()
        return _view_of(session, job)
