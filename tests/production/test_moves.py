"""Every public service that changes a status is held to the workflow tables.

A forbidden change, asked for through each service (shot set, take set, approve,
retake, submit, a job's retry and cancel, the render queue), raises
InvalidTransitionError and writes nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from setpiece.errors import InvalidTransitionError
from setpiece.generate.queue import enqueue, run_queue
from setpiece.model.enums import JobState, ShotStatus, TakeStatus
from setpiece.model.orm import Event, RenderJob, Take
from setpiece.production import jobs, records, review, shots, takes
from setpiece.production.context import Production


def events(production: Production) -> int:
    with production.transaction() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def queued_take(production: Production, code: str) -> tuple[str, int]:
    """A pending take of ``code`` and its job, queued for the previs generator (not run)."""
    planned = enqueue(production, [code], generator="previs").takes[0]
    with production.transaction() as session:
        job = session.scalars(select(RenderJob).where(RenderJob.take_id == planned.take)).one()
        return planned.take or "", job.id


def test_shot_moves_the_table_forbids(production: Production, make) -> None:
    code = make.shot("1A")
    before = events(production)
    with pytest.raises(InvalidTransitionError, match="todo: it can go to review, wip, not retake"):
        shots.set_shot_status(production, code, "retake")
    with pytest.raises(InvalidTransitionError, match="todo: it can go to review, wip, not retake"):
        review.request_retake(production, code, "too dark")
    pending, _ = queued_take(production, code)  # queued, not made: the shot stays todo
    with pytest.raises(InvalidTransitionError, match="no take to approve yet"):
        review.approve(production, code, pending)
    assert events(production) == before + 1  # the take's "queued", nothing on the shot
    assert shots.get_shot(production, code).status is ShotStatus.TODO
    take = make.take(code)
    review.approve(production, code, take)
    with pytest.raises(InvalidTransitionError, match="approved: it can go to retake, not review"):
        review.submit(production, code)
    with pytest.raises(InvalidTransitionError, match="approved: it can go to retake, not wip"):
        shots.set_shot_status(production, code, "wip")


def test_a_person_cannot_move_a_take_the_queue_is_making(production: Production, make) -> None:
    code = make.shot("2A")
    make.take(code)  # the shot is wip: approving is allowed, the take's status decides
    pending, _ = queued_take(production, code)
    before = events(production)
    for status in ("ready", "failed", "rendering", "rejected"):
        with pytest.raises(
            InvalidTransitionError, match=f"pending: it can go to nothing, not {status}"
        ):
            takes.set_take_status(production, pending, status)
    with pytest.raises(InvalidTransitionError, match="pending: it can go to nothing, not circled"):
        takes.approve_take(production, code, pending)
    assert takes.get_take(production, pending).status is TakeStatus.PENDING
    assert events(production) == before


def test_reviewed_takes_move_as_people_say(production: Production, make) -> None:
    code = make.shot("3A")
    take = make.take(code)
    with pytest.raises(
        InvalidTransitionError, match="ready: it can go to circled, rejected, not failed"
    ):
        takes.set_take_status(production, take, "failed")
    assert takes.set_take_status(production, take, "rejected").status is TakeStatus.REJECTED
    with pytest.raises(
        InvalidTransitionError, match="rejected: it can go to circled, ready, not pending"
    ):
        takes.set_take_status(production, take, "pending")


def test_job_retry_and_cancel_the_table_forbids(production: Production, make) -> None:
    code = make.shot("4A")
    take, job = queued_take(production, code)
    with pytest.raises(
        InvalidTransitionError,
        match=f"job {job} is queued: only a failed or cancelled job can be retried",
    ):
        jobs.retry_job(production, job)
    assert jobs.cancel_job(production, job).state is JobState.CANCELLED
    assert takes.get_take(production, take).status is TakeStatus.FAILED
    with pytest.raises(
        InvalidTransitionError,
        match=f"job {job} is cancelled: only a queued or running job can be cancelled",
    ):
        jobs.cancel_job(production, job)
    assert jobs.retry_job(production, job).state is JobState.QUEUED
    assert takes.get_take(production, take).status is TakeStatus.PENDING
    with production.transaction() as session:
        session.execute(update(RenderJob).values(state="done"))
    for act, verb in ((jobs.retry_job, "retried"), (jobs.cancel_job, "cancelled")):
        with pytest.raises(InvalidTransitionError, match=f"job {job} is done: .* can be {verb}"):
            act(production, job)
    assert [e.action for e in records.history(production, "take", take)][-2:] == [
        "cancelled",
        "retry",
    ]


def test_the_queue_refuses_a_move_the_system_table_forbids(production: Production, make) -> None:
    code = make.shot("5A")
    take, job = queued_take(production, code)
    with production.transaction() as session:  # a take circled behind the queue's back
        session.execute(update(Take).where(Take.id == take).values(status="circled"))
    with pytest.raises(
        InvalidTransitionError,
        match=rf"take {take} is circled: it can go to nothing, not rendering \(the render queue's move\)",
    ):
        run_queue(production, poll_s=0.01)
    with production.transaction() as session:
        assert session.get(RenderJob, job).state == JobState.QUEUED  # nothing was claimed


def test_a_worker_that_lets_go_puts_its_takes_back_to_pending(production: Production, make) -> None:
    from setpiece.generate.queue import _release

    code = make.shot("6A")
    take, job = queued_take(production, code)
    with production.transaction() as session:
        session.execute(
            update(RenderJob).values(state="running", lease_owner="me:1:abc", attempts=1)
        )
        session.execute(update(Take).where(Take.id == take).values(status="rendering"))
    _release(production, "me:1:abc", {job: None})  # type: ignore[dict-item]
    assert takes.get_take(production, take).status is TakeStatus.PENDING
    with production.transaction() as session:
        row = session.get(RenderJob, job)
        assert (row.state, row.lease_owner, row.attempts) == ("queued", None, 0)
