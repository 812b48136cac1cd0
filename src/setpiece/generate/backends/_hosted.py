"""What the hosted backends (Replicate, Runway) do alike: follow a job on the service until
it ends, and keep their secret out of every message.

Both had a copy of each. One implementation decides, for both:

* **Polling** (``poll``): an answer is judged by the backend (done, failed, or not yet);
  the service unreachable while its job runs is polled through until the deadline, not
  counted as an error, because the job is paid for and still running there, and
  abandoning it would pay for the take twice (logged at 1, 2, 4, 8... polls in a row);
  other transient errors are tolerated ``poll_error_limit`` times in a row; a permanent one
  ends the wait at once; past the deadline the take fails, transient, for the caller to
  cancel the job.
* **Secrets** (``scrub``): any text a message quotes from the service passes through it,
  each secret replaced by ``[secret]``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from setpiece.generate.base import GeneratorUnavailable, RenderError

__all__ = ["SECRET", "package_version", "poll", "scrub"]

log = logging.getLogger(__name__)

SECRET = "[secret]"

Answer = TypeVar("Answer")
Result = TypeVar("Result")


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with each secret (those not empty or blank) replaced by ``[secret]``."""
    for secret in secrets:
        if secret and secret.strip():
            text = text.replace(secret, SECRET)
    return text


def poll(
    fetch: Callable[[], Answer],
    judge: Callable[[Answer], Result | None],
    *,
    service: str,
    deadline: float,
    interval_s: float,
    error_limit: int,
    too_long: str,
) -> Result:
    """Asks for the job's state until ``judge`` says it is done.

    Args:
        fetch: One poll: the service's answer, its errors already RenderErrors
            (GeneratorUnavailable when the service cannot be reached).
        judge: What an answer means: the result when the job is done, None while it runs;
            it raises the RenderError of a job that failed or was cancelled.
        service: The backend's name, for the log ("replicate").
        deadline: ``time.monotonic()`` past which the wait ends.
        interval_s: Seconds between two polls (``poll_interval_s``).
        error_limit: Transient errors in a row tolerated (``poll_error_limit``).
        too_long: The message of the transient RenderError raised past the deadline.

    Raises:
        RenderError: The job failed (``judge``), an error was permanent or one too many
            in a row, or the deadline passed (transient).
    """
    errors = unreachable = 0
    while True:
        try:
            answer = fetch()
        except GeneratorUnavailable as exc:
            unreachable += 1
            if unreachable & (unreachable - 1) == 0:  # 1, 2, 4, 8...: not every poll
                log.warning(
                    "%s: %s (polling on until timeout_s, %d in a row)", service, exc, unreachable
                )
        except RenderError as exc:
            errors += 1
            if not exc.transient or errors > error_limit:
                raise
            log.warning("%s: %s (polling on, %d in a row)", service, exc, errors)
        else:
            errors = unreachable = 0
            result = judge(answer)
            if result is not None:
                return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RenderError(too_long, transient=True)
        time.sleep(min(interval_s, remaining))


def package_version(distribution: str) -> str | None:
    """The installed version of a backend's SDK, for the recipe; None when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:  # pragma: no cover - render needs it installed
        return None
