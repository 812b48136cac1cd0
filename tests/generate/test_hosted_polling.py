"""The hosted backends' one polling loop and one secret scrubber (``_hosted``), which the
Replicate and Runway backends had each copied; their own suites test them end to end."""

from __future__ import annotations

import inspect
import time

import pytest

from setpiece.generate.backends import _hosted, replicate, runway
from setpiece.generate.backends._hosted import poll, scrub
from setpiece.generate.base import GeneratorUnavailable, RenderError


def answers(*script: object):
    """A fetch that plays ``script``: an exception is raised, anything else answered."""
    left = list(script)

    def fetch() -> object:
        item = left.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return fetch


def done_when(value: object):
    return lambda answer: answer if answer == value else None


def wait(fetch, judge=done_when("done"), *, limit: int = 1, seconds: float = 5.0):
    return poll(
        fetch,
        judge,
        service="test",
        deadline=time.monotonic() + seconds,
        interval_s=0.001,
        error_limit=limit,
        too_long="took too long",
    )


def test_an_outage_is_polled_through_and_transient_errors_only_so_often() -> None:
    down = GeneratorUnavailable("cannot reach it", waiting_for="it")
    slow = RenderError("a 503", transient=True)
    # Outages never count: ten in a row, then the answer.
    assert wait(answers(*[down] * 10, "running", "done")) == "done"
    # One transient error in a row is tolerated (limit 1), and the count restarts on an answer.
    assert wait(answers(slow, "running", slow, "done")) == "done"
    with pytest.raises(RenderError, match="a 503"):
        wait(answers(slow, slow, "done"))
    with pytest.raises(RenderError, match="refused") as caught:
        wait(answers(RenderError("refused"), "done"), limit=5)
    assert not caught.value.transient


def test_a_failed_job_ends_the_wait_and_the_deadline_is_transient() -> None:
    def judge(answer: object) -> object:
        if answer == "failed":
            raise RenderError("the job failed")
        return None

    with pytest.raises(RenderError, match="the job failed"):
        wait(answers("running", "failed"), judge)
    with pytest.raises(RenderError, match="took too long") as caught:
        wait(lambda: "running", seconds=0.05)
    assert caught.value.transient


def test_secrets_are_scrubbed_and_blank_ones_ignored() -> None:
    assert scrub("key abc in abc", "abc", None, "", "  ") == "key [secret] in [secret]"
    assert scrub("nothing", None) == "nothing"


def test_both_backends_poll_and_scrub_through_the_one_helper() -> None:
    for module in (replicate, runway):
        source = inspect.getsource(module)
        assert "while True" not in source, module.__name__
        assert '"[secret]"' not in source, module.__name__
        assert module.poll is _hosted.poll and module.scrub is _hosted.scrub
