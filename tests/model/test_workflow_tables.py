"""The workflow tables: complete, apart (people's and the render queue's), and enforced."""

from __future__ import annotations

import pytest

from setpiece.errors import InvalidTransitionError
from setpiece.model.enums import JobState, ShotStatus, TakeStatus
from setpiece.model.workflow import (
    JOB_TRANSITIONS,
    SHOT_TRANSITIONS,
    SYSTEM_JOB_TRANSITIONS,
    SYSTEM_SHOT_TRANSITIONS,
    SYSTEM_TAKE_TRANSITIONS,
    TAKE_TRANSITIONS,
    Mover,
    check_job_transition,
    check_shot_transition,
    check_take_transition,
)

RENDERING_LIFE = {TakeStatus.PENDING, TakeStatus.RENDERING, TakeStatus.FAILED}


@pytest.mark.parametrize(
    ("table", "states"),
    [
        (SHOT_TRANSITIONS, ShotStatus),
        (SYSTEM_SHOT_TRANSITIONS, ShotStatus),
        (TAKE_TRANSITIONS, TakeStatus),
        (SYSTEM_TAKE_TRANSITIONS, TakeStatus),
        (JOB_TRANSITIONS, JobState),
        (SYSTEM_JOB_TRANSITIONS, JobState),
    ],
)
def test_every_table_has_a_row_for_every_state(table, states) -> None:
    assert set(table) == set(states)
    assert all(current not in table[current] for current in table)  # no-ops are not moves


def test_no_table_reaches_approved_and_people_do_not_touch_what_the_queue_makes() -> None:
    assert not any(ShotStatus.APPROVED in nexts for nexts in SHOT_TRANSITIONS.values())
    assert not any(ShotStatus.APPROVED in nexts for nexts in SYSTEM_SHOT_TRANSITIONS.values())
    for current, nexts in TAKE_TRANSITIONS.items():
        assert not nexts & RENDERING_LIFE
        assert current not in RENDERING_LIFE or not nexts
    assert SYSTEM_TAKE_TRANSITIONS[TakeStatus.RENDERING] == {
        TakeStatus.PENDING,
        TakeStatus.READY,
        TakeStatus.FAILED,
    }


def test_the_queue_may_put_a_rendering_take_back_but_a_person_may_not() -> None:
    check_take_transition(TakeStatus.RENDERING, TakeStatus.PENDING, take="t", mover=Mover.SYSTEM)
    with pytest.raises(InvalidTransitionError, match="take t is rendering: it can go to nothing"):
        check_take_transition(TakeStatus.RENDERING, TakeStatus.PENDING, take="t")
    with pytest.raises(InvalidTransitionError, match=r"not circled \(the render queue's move\)"):
        check_take_transition(TakeStatus.READY, TakeStatus.CIRCLED, take="t", mover=Mover.SYSTEM)


def test_shot_moves_by_mover() -> None:
    check_shot_transition(ShotStatus.TODO, ShotStatus.WIP, code="1A", mover=Mover.SYSTEM)
    with pytest.raises(InvalidTransitionError, match="shot 1A is review: it can go to nothing"):
        check_shot_transition(ShotStatus.REVIEW, ShotStatus.TODO, code="1A", mover=Mover.SYSTEM)
    with pytest.raises(InvalidTransitionError, match="approve one of its takes"):
        check_shot_transition(ShotStatus.WIP, ShotStatus.APPROVED, code="1A", mover=Mover.SYSTEM)
    check_shot_transition(ShotStatus.REVIEW, ShotStatus.APPROVED, code="1A", mover=Mover.APPROVAL)
    with pytest.raises(InvalidTransitionError, match="no take to approve yet"):
        check_shot_transition(ShotStatus.TODO, ShotStatus.APPROVED, code="1A", mover=Mover.APPROVAL)
    with pytest.raises(InvalidTransitionError, match="no take to approve yet"):
        check_shot_transition(ShotStatus.WIP, ShotStatus.RETAKE, code="1A", mover=Mover.APPROVAL)


def test_job_moves_by_mover() -> None:
    check_job_transition(JobState.FAILED, JobState.QUEUED, job=3)
    check_job_transition(JobState.RUNNING, JobState.QUEUED, job=3, mover=Mover.SYSTEM)
    check_job_transition(JobState.RUNNING, JobState.RUNNING, job=3, mover=Mover.SYSTEM)
    with pytest.raises(InvalidTransitionError, match="job 3 is running: it can go to cancelled"):
        check_job_transition(JobState.RUNNING, JobState.QUEUED, job=3)
    with pytest.raises(InvalidTransitionError, match="job 3 is done: it can go to nothing"):
        check_job_transition(JobState.DONE, JobState.QUEUED, job=3, mover=Mover.SYSTEM)
    with pytest.raises(InvalidTransitionError, match="job 3 is cancelled"):
        check_job_transition(JobState.CANCELLED, JobState.RUNNING, job=3, mover=Mover.SYSTEM)
