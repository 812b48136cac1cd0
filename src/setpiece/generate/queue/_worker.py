"""The worker: claims jobs, keeps their leases alive, and records what the executors return.

One driver per ``run_queue`` owns the database. It leases the jobs that may start within
each backend's concurrency (``_claim``), renews the leases with heartbeats while the
executor renders, and stores each finished file before, in one transaction that checks the
lease is still its own, it marks the take ready and the job done (``_store``); failures go
back to the queue with back-off or fail the take (``_failed``). The rules and their
measurements are in the package's docstring (``generate/queue/__init__.py``).

A generator that cannot be reached (``_unreachable``) is an outage, not a failure: its
jobs wait, their attempts unspent, with waits that double from one second up to ``[render]
outage_retry_seconds``, and fail only when ``[render] outage_minutes`` have passed since it
was first found unreachable (``_paused``). ``notice`` is told what the queue waits for and
when it tries next. A worker (``forever``) waits for new jobs instead of returning, and
``drain`` stops it gracefully: no new claims, the takes in flight finish within ``grace_s``
and the rest go back to the queue.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update

from setpiece.errors import ConflictError, InvalidInputError, SetpieceError
from setpiece.generate.base import (
    GeneratorSettings,
    GeneratorUnavailable,
    RenderError,
    RenderResult,
)
from setpiece.generate.queue._config import generator_config, generator_settings
from setpiece.generate.queue._executors import Executor, LocalExecutor
from setpiece.generate.queue._lease import release_job
from setpiece.generate.queue._recipe import attach_workflow, store_workflow
from setpiece.generate.queue._request import request_from_json
from setpiece.generate.queue._speech import Speaker, speech_next_wait, speech_turn
from setpiece.generate.registry import declared_origin
from setpiece.generate.settings import RenderSettings, render_settings
from setpiece.model.enums import ORIGIN_KEY, JobState, Origin, TakeStatus
from setpiece.model.orm import Media, RenderJob, Take, utcnow
from setpiece.model.workflow import Mover
from setpiece.production.context import Production
from setpiece.production.moves import first_take, move_job, move_take

__all__ = ["BACKOFF_CAP_S", "RunReport", "run_queue"]

log = logging.getLogger(__name__)

BACKOFF_CAP_S = 300.0


@dataclass
class RunReport:
    """What one ``run_queue`` did; ``failures`` reads "SHOT/NUMBER: reason" per failed take."""

    done: int = 0
    failed: int = 0
    retried: int = 0
    failures: list[str] = field(default_factory=list)
    paused: int = 0  # tries that found the generator unreachable (no attempt spent)


@dataclass
class _Running:
    """A job this worker leased and handed to the executor."""

    job_id: int
    take_id: str
    generator: str
    workdir: Path
    future: Future[RenderResult]
    attempts: int
    max_attempts: int


def _backoff(attempt: int) -> float:
    """Seconds before a transient failure's next attempt: doubling, capped, with jitter."""
    return min(BACKOFF_CAP_S, 2.0 ** max(0, attempt - 1)) * random.uniform(0.5, 1.5)


@dataclass(frozen=True)
class _Options:
    """How one ``run_queue`` works: what it may claim, how it waits, whom it tells."""

    worker: str
    lease_s: float
    render: RenderSettings
    generators: frozenset[str] | None
    notice: Callable[[str], None]
    told: dict[str, str] = field(default_factory=dict)  # generator -> the last next-try said


def run_queue(
    production: Production,
    *,
    executor: Executor | None = None,
    progress: Callable[[RunReport, int], None] | None = None,
    stop: threading.Event | None = None,
    lease_s: float | None = None,
    poll_s: float = 0.05,
    backoff: Callable[[int], float] = _backoff,
    generators: Sequence[str] | None = None,
    forever: bool = False,
    drain: threading.Event | None = None,
    grace_s: float = 30.0,
    notice: Callable[[str], None] | None = None,
    speak: Speaker | None = None,
) -> RunReport:
    """Works the queue until no job is left to run (or ``stop`` is set).

    Jobs waiting for a retry, or for a generator to come back, are waited for.
    On KeyboardInterrupt the jobs in flight go back to the queue at once, so the next
    run picks them up, and the interrupt is re-raised.

    Args:
        generators: Claim only these generators' jobs (all when None).
        forever: Wait for new jobs when none is left (``setpiece worker``).
        drain: Once set, claim nothing more; the takes in flight finish within ``grace_s``
            seconds, then what is still running goes back to the queue and it returns.
        notice: Told, in a sentence, what an outage makes the queue wait for.
        speak: Speaks dialogue takes; given, the run works speech jobs too (``_speech``).

    Raises:
        PermissionDeniedError: The acting user may not render (the renderer is recorded on
            the takes' history).
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "render")
    settings = render_settings(production.config.settings)
    options = _Options(
        worker=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}",
        lease_s=lease_s if lease_s is not None else settings.lease_seconds,
        render=settings,
        generators=frozenset(generators) if generators else None,
        notice=notice or (lambda text: log.warning("render queue: %s", text)),
    )
    executor = executor or LocalExecutor()
    stop = stop or threading.Event()
    drain = drain or threading.Event()
    report = RunReport()
    running: dict[int, _Running] = {}
    scratch = Path(tempfile.mkdtemp(prefix="setpiece-render-"))
    beat = threading.Thread(
        target=_heartbeats,
        args=(production, options.worker, running, options.lease_s, stop),
        daemon=True,
    )
    beat.start()
    drained_at: float | None = None
    try:
        while not stop.is_set():
            if drain.is_set() and drained_at is None:
                drained_at = time.monotonic()
            claimed = [] if drained_at else _claim(production, options, running, executor)
            for job in claimed:
                running[job.job_id] = job
            finished = [j for j in list(running.values()) if j.future.done()]
            for job in finished:
                del running[job.job_id]
                _finish(production, options, job, report, backoff)
            if progress:
                progress(report, _remaining(production, options.generators))
            if drained_at is not None and (not running or time.monotonic() - drained_at >= grace_s):
                _release(production, options.worker, running)
                break
            spoke = _speak_turn(production, options, report, backoff, speak, drained_at)
            if not running and not claimed and not finished and not spoke:
                wait = _waits(production, options, speak)
                if wait is None and not forever:
                    break
                _idle(stop, drain, 1.0 if wait is None else min(wait, 1.0))
            elif not finished:
                time.sleep(poll_s)
    except KeyboardInterrupt:
        stop.set()
        _release(production, options.worker, running)
        raise
    finally:
        stop.set()
        executor.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _speak_turn(
    production: Production,
    options: _Options,
    report: RunReport,
    backoff: Callable[[int], float],
    speak: Speaker | None,
    drained_at: float | None,
) -> bool:
    """One speech job, when a speaker is given and one is due; whether one was worked."""
    if speak is None or drained_at is not None:
        return False
    turn = speech_turn(
        production, worker=options.worker, lease_s=options.lease_s, speak=speak, backoff=backoff
    )
    if turn is None:
        return False
    report.done += turn.done
    report.failed += turn.failed
    report.retried += turn.retried
    report.failures.extend(turn.failures)
    return True


def _waits(production: Production, options: _Options, speak: Speaker | None) -> float | None:
    """The picture jobs' next wait, and the speech jobs' when this run speaks."""
    waits = [_next_wait(production, options.generators)]
    if speak is not None:
        waits.append(speech_next_wait(production))
    known = [w for w in waits if w is not None]
    return min(known) if known else None


def _idle(stop: threading.Event, drain: threading.Event, seconds: float) -> None:
    """Waits ``seconds``, or less when told to stop or drain."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and not drain.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, 0.1))


def _lease_seconds(production: Production) -> float:
    """``[render] lease_seconds``: how long a silent worker keeps a job (default 60)."""
    return render_settings(production.config.settings).lease_seconds


def _mine(query: Any, generators: frozenset[str] | None) -> Any:
    """``query`` kept to the picture jobs of ``generators`` (all picture jobs when None);
    speech jobs (no picture take) are ``_speech``'s."""
    query = query.where(RenderJob.take_id.is_not(None))
    return query if generators is None else query.where(RenderJob.generator.in_(generators))


def _remaining(production: Production, generators: frozenset[str] | None = None) -> int:
    with production.transaction() as session:
        return (
            session.scalar(
                _mine(
                    select(func.count())
                    .select_from(RenderJob)
                    .where(RenderJob.state.in_((JobState.QUEUED, JobState.RUNNING))),
                    generators,
                )
            )
            or 0
        )


def _next_wait(production: Production, generators: frozenset[str] | None = None) -> float | None:
    """Seconds until a queued job may run (or a lease runs out); None when nothing is left."""
    with production.transaction() as session:
        soonest = session.scalar(
            _mine(
                select(func.min(RenderJob.next_attempt_at)).where(
                    RenderJob.state == JobState.QUEUED
                ),
                generators,
            )
        )
        lease = session.scalar(
            _mine(
                select(func.min(RenderJob.lease_expires_at)).where(
                    RenderJob.state == JobState.RUNNING
                ),
                generators,
            )
        )
    moments = [m for m in (soonest, lease) if m is not None]
    if not moments:
        return None
    return max(0.0, (min(moments) - utcnow()).total_seconds())


def _concurrency(
    production: Production, generator: str, memo: dict[str, GeneratorSettings] | None = None
) -> int:
    """``[generators.NAME] concurrency``: the backend's Settings default when not set."""
    return generator_settings(production, generator, memo).concurrency


def _claim(
    production: Production,
    options: _Options,
    running: dict[int, _Running],
    executor: Executor,
) -> list[_Running]:
    """Leases the jobs that may start now, within each backend's concurrency."""
    worker, lease_s = options.worker, options.lease_s
    busy: dict[str, int] = {}
    memo: dict[str, GeneratorSettings] = {}  # each generator's settings, read once per claim
    for active in running.values():
        busy[active.generator] = busy.get(active.generator, 0) + 1
    claimed: list[_Running] = []
    now = utcnow()
    with production.transaction() as session:
        candidates = session.scalars(
            _mine(
                select(RenderJob).where(
                    or_(
                        (RenderJob.state == JobState.QUEUED) & (RenderJob.next_attempt_at <= now),
                        (RenderJob.state == JobState.RUNNING) & (RenderJob.lease_expires_at < now),
                    )
                ),
                options.generators,
            )
            .order_by(RenderJob.id)
            .limit(64)
            .with_for_update(skip_locked=True)
        ).all()
        starts: list[tuple[RenderJob, Take]] = []
        open_groups: dict[str, list[RenderJob]] = {}  # batch key -> the batch still filling
        group_of: dict[int, int] = {}  # job id -> id of its batch's first job
        for job in candidates:
            key = _batch_key(job)
            group = open_groups.get(key)
            if group is not None and len(group) < _batch_size(production, job.generator, memo):
                group.append(job)  # rides along in a batch already counted against concurrency
            elif busy.get(job.generator, 0) >= _concurrency(production, job.generator, memo):
                continue
            else:
                busy[job.generator] = busy.get(job.generator, 0) + 1
                group = open_groups[key] = [job]
            group_of[job.id] = group[0].id
            take = session.get(Take, job.take_id)
            assert take is not None
            move_job(job, JobState.RUNNING)
            move_take(
                session, production, take, TakeStatus.RENDERING, mover=Mover.SYSTEM, action=None
            )
            job.lease_owner = worker
            job.lease_expires_at = now + timedelta(seconds=lease_s)
            job.heartbeat_at = now
            job.attempts += 1
            job.updated_at = now
            starts.append((job, take))
        session.flush()
        batches: dict[int, list[tuple[int, str, str, dict[str, Any], int, int, str]]] = {}
        for j, _ in starts:
            batches.setdefault(group_of[j.id], []).append(
                (
                    j.id,
                    j.take_id,
                    j.generator,
                    dict(j.request),
                    j.attempts,
                    j.max_attempts,
                    j.idempotency_key,
                )
            )
    for batch in batches.values():
        generator = batch[0][2]
        workdirs = [Path(tempfile.mkdtemp(prefix=f"job{job_id}-")) for job_id, *_ in batch]
        try:
            requests = []
            for (_, _, _, data, _, _, key), workdir in zip(batch, workdirs, strict=True):
                request = request_from_json(
                    data, functools.partial(_media_path, production, workdir=workdir)
                )
                # The same key on every attempt: a backend can find an earlier run of this take.
                requests.append(replace(request, idempotency_key=key))
            futures = executor.submit(
                generator,
                generator_config(production, generator),
                requests,
                workdirs,
                project_dir=production.config.root,
            )
        except SetpieceError as exc:
            futures = [Future() for _ in batch]
            for future in futures:
                future.set_exception(exc)
        for (job_id, take_id, _, _, attempts, max_attempts, _), workdir, future in zip(
            batch, workdirs, futures, strict=True
        ):
            claimed.append(
                _Running(job_id, take_id, generator, workdir, future, attempts, max_attempts)
            )
    return claimed


def _batch_key(job: RenderJob) -> str:
    """Jobs with equal keys differ only in seed, and may render as one batch."""
    request = {k: v for k, v in job.request.items() if k != "seed"}
    return job.generator + ":" + json.dumps(request, sort_keys=True, default=str)


def _batch_size(
    production: Production, generator: str, memo: dict[str, GeneratorSettings] | None = None
) -> int:
    """``[generators.NAME] batch_size`` (diffusers: 4; others render one at a time)."""
    return generator_settings(production, generator, memo).batch_size


def _media_path(production: Production, sha: str, *, workdir: Path) -> Path:
    """A local readable copy of a stored file (the store's own path when it is local)."""
    with production.transaction() as session:
        media = session.get(Media, sha)
        if media is None:
            raise InvalidInputError(f"reference media {sha[:12]} is not in this project")
        key = media.key
    local = production.store.local_path(key)
    if local is not None:
        return local
    target = workdir / f"ref-{sha[:16]}{Path(key).suffix}"
    with production.store.open(key) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    return target


def _heartbeats(
    production: Production,
    worker: str,
    running: dict[int, _Running],
    lease_s: float,
    stop: threading.Event,
) -> None:
    while not stop.wait(lease_s / 3):
        ids = list(running)
        if not ids:
            continue
        now = utcnow()
        try:
            with production.transaction() as session:
                session.execute(
                    update(RenderJob)
                    .where(
                        RenderJob.id.in_(ids),
                        RenderJob.lease_owner == worker,
                        RenderJob.state == JobState.RUNNING,
                    )
                    .values(lease_expires_at=now + timedelta(seconds=lease_s), heartbeat_at=now)
                    .execution_options(synchronize_session=False)
                )
        except Exception as exc:  # the next beat tries again; the renders go on meanwhile
            log.warning(
                "render queue: renewing the lease of %d job(s) failed (%s); if it keeps "
                "failing for %.3g s the lease runs out, another worker may take the jobs over "
                "and the renders finished here are thrown away",
                len(ids),
                _what_failed(exc),
                lease_s,
            )


_CREDENTIALS = re.compile(r"(//)[^/@\s]*@")  # user:password@ in a database URL


def _what_failed(exc: BaseException) -> str:
    """An exception for the log: its type and first line, any URL's credentials hidden."""
    lines = str(exc).strip().splitlines()
    text = _CREDENTIALS.sub(r"\1***@", lines[0][:300]) if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _release(production: Production, worker: str, running: dict[int, _Running]) -> None:
    """Ctrl-C: the jobs in flight go straight back to the queue.

    Every job this worker holds is let go, not only those in ``running``: the interrupt
    may strike between a claim's commit and its jobs joining ``running``, or while a
    finished job is being stored, and such a job would otherwise sit leased until its
    lease ran out (a race a loaded machine hit).

    Letting go is a courtesy: when it fails (the database is gone, say), the jobs wait
    until their leases run out and another worker takes them; that is logged, not raised,
    so the interrupt itself still reaches the caller.
    """
    try:
        with production.transaction() as session:
            held = select(RenderJob).where(
                RenderJob.lease_owner == worker, RenderJob.state == JobState.RUNNING
            )
            for job in session.scalars(held):
                move_job(job, JobState.QUEUED)
                job.lease_owner, job.lease_expires_at = None, None
                job.attempts = max(0, job.attempts - 1)
                job.next_attempt_at = utcnow()
                take = session.get(Take, job.take_id)
                if take is not None:
                    move_take(
                        session,
                        production,
                        take,
                        TakeStatus.PENDING,
                        mover=Mover.SYSTEM,
                        action=None,
                    )
    except Exception as exc:
        log.warning(
            "render queue: giving back %d job(s) in flight failed (%s); they stay leased "
            "until their leases run out, then another worker renders them again",
            len(running),
            _what_failed(exc),
        )


def _finish(
    production: Production,
    options: _Options,
    job: _Running,
    report: RunReport,
    backoff: Callable[[int], float],
) -> None:
    worker = options.worker
    try:
        result = job.future.result()
        if not _store(production, worker, job, result):
            return  # cancelled meanwhile, or taken over: not this worker's take any more
        report.done += 1
        from setpiece.production.arrival import takes_arrived

        takes_arrived(production, [job.take_id])
    except RenderError as exc:
        if _unreachable(exc):
            _paused(production, options, job, report, exc)
        else:
            _failed(
                production, worker, job, report, str(exc), transient=exc.transient, backoff=backoff
            )
    except SetpieceError as exc:
        _failed(production, worker, job, report, str(exc), transient=False, backoff=backoff)
    except Exception as exc:
        _failed(
            production,
            worker,
            job,
            report,
            f"{type(exc).__name__}: {exc}",
            transient=False,
            backoff=backoff,
        )
    finally:
        shutil.rmtree(job.workdir, ignore_errors=True)


# Errors of the network below a backend that mean "nobody answers", by (module, class name):
# a backend that raises ``GeneratorUnavailable`` itself needs none of them; these catch the
# ``RenderError(transient=True)`` of one that wraps them (ComfyUI's client wraps httpx's).
_NO_ANSWER = {
    ("httpx", "ConnectError"),
    ("httpx", "ConnectTimeout"),
    ("httpx", "RemoteProtocolError"),
    ("httpx", "ReadError"),
    ("httpx", "WriteError"),
    ("runwayml", "APIConnectionError"),
}


def _unreachable(exc: RenderError) -> bool:
    """Whether ``exc`` says the generator cannot be reached (an outage, not a failed take)."""
    if isinstance(exc, GeneratorUnavailable):
        return True
    if not exc.transient:
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionError):  # refused, reset, aborted
            return True
        kind = type(cause)
        if (kind.__module__.split(".")[0], kind.__name__) in _NO_ANSWER:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _paused(
    production: Production,
    options: _Options,
    job: _Running,
    report: RunReport,
    exc: RenderError,
) -> None:
    """An outage: the job and its generator's queued jobs wait, attempts unspent, until
    ``[render] outage_minutes`` have passed since the generator was first unreachable;
    then this job fails with the reason."""
    now = utcnow()
    settings = options.render
    window = timedelta(minutes=settings.outage_minutes)
    with production.transaction() as session:
        row = session.get(RenderJob, job.job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != options.worker:
            return
        since = _outage_start(session, row, now)
        expired = now - since >= window
        if not expired:
            elapsed = (now - since).total_seconds()
            wait = min(settings.outage_retry_seconds, max(1.0, elapsed))
            until = min(now + timedelta(seconds=wait), since + window)
            take = session.get(Take, job.take_id)
            assert take is not None
            move_job(row, JobState.QUEUED)
            row.attempts = max(0, row.attempts - 1)  # an outage spends no attempt
            row.lease_owner, row.lease_expires_at, row.updated_at = None, None, now
            row.last_error, row.next_attempt_at, row.outage_since = str(exc), until, since
            move_take(
                session, production, take, TakeStatus.PENDING, mover=Mover.SYSTEM, action=None
            )
            # Its generator's other queued jobs wait with it, in the same outage.
            waiting = select(RenderJob).where(
                RenderJob.generator == row.generator,
                RenderJob.state == JobState.QUEUED,
                RenderJob.id != row.id,
            )
            for other in session.scalars(waiting):
                other.next_attempt_at = max(other.next_attempt_at, until)
                other.outage_since = other.outage_since or since
    if expired:
        message = (
            f"{exc} (unreachable for {settings.outage_minutes:g} min, [render] outage_minutes;"
            " when it answers again: setpiece jobs retry --failed)"
        )
        _failed(production, options.worker, job, report, message, transient=False)
        return
    report.paused += 1
    what = getattr(exc, "waiting_for", None) or f"generator {job.generator}"
    if options.told.get(job.generator) == f"{until:%H:%M:%S}":
        return  # its other takes in flight found the same outage: said once
    options.told[job.generator] = f"{until:%H:%M:%S}"
    options.notice(
        f"waiting for {what}: {_first_line(str(exc))}; next try at {until:%H:%M:%S} UTC, "
        f"its takes fail at {since + window:%H:%M:%S} UTC if it does not answer by then"
    )


def _outage_start(session: Any, row: RenderJob, now: datetime) -> datetime:
    """When the generator of ``row`` was first found unreachable in this outage."""
    earliest = session.scalar(
        select(func.min(RenderJob.outage_since)).where(
            RenderJob.generator == row.generator,
            RenderJob.state.in_((JobState.QUEUED, JobState.RUNNING)),
        )
    )
    candidates = [m for m in (earliest, row.outage_since) if m is not None]
    return min(candidates) if candidates else now


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else ""


def _store(production: Production, worker: str, job: _Running, result: RenderResult) -> bool:
    """Stores the finished file and records the take ready; False when the job is no longer
    this worker's (its lease was lost, or it was cancelled), and nothing is recorded."""
    from setpiece.production.ingest import probe_files, store_files

    if not result.path.is_file() or job.workdir not in result.path.resolve().parents:
        raise RenderError(f"generator {job.generator} returned no file inside its work folder")
    (item,) = probe_files([result.path], what="take")
    store_files(production, [item])
    sent = store_workflow(production, result.workflow) if result.workflow is not None else None
    try:
        return _record(production, worker, job, result, item, sent)
    except ConflictError:
        # Another worker recorded the same file (equal bytes) at the same moment: its media
        # row is there now, and the take refers to it.
        return _record(production, worker, job, result, item, sent)


def _record(
    production: Production,
    worker: str,
    job: _Running,
    result: RenderResult,
    item: Any,
    sent: tuple[str, int] | None,
) -> bool:
    from setpiece.production.ingest import media_row

    with production.transaction() as session:
        row = session.get(RenderJob, job.job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != worker:
            return False  # the lease was lost and another worker took over: its result counts
        take = session.get(Take, job.take_id)
        assert take is not None
        take.media = media_row(session, item)
        take.kind = item.info.kind
        take.model_name = result.model or take.model_name
        take.model_hash = result.model_hash
        # What the generator is, as declared when the take was queued (older queued jobs:
        # as it declares now); the backend's own parameters cannot overwrite it.
        origin = Origin.recorded(take.parameters) or declared_origin(job.generator)
        take.parameters = {**result.parameters, ORIGIN_KEY: origin.value}
        if result.cost is not None:  # billed or measured; None leaves it unknown, not zero
            take.cost_amount, take.cost_unit = str(result.cost.amount), result.cost.unit
        if sent is not None:
            attach_workflow(session, take, *sent)
        take.failure = None
        move_job(row, JobState.DONE)
        if row.outage_since is not None or row.last_error is not None:
            # It answered: the outage is over for every job of this generator.
            session.execute(
                update(RenderJob)
                .where(RenderJob.generator == row.generator, RenderJob.outage_since.is_not(None))
                .values(outage_since=None)
                .execution_options(synchronize_session=False)
            )
        row.lease_owner, row.lease_expires_at, row.updated_at = None, None, utcnow()
        move_take(
            session,
            production,
            take,
            TakeStatus.READY,
            mover=Mover.SYSTEM,
            action="rendered",
            data={"generator": job.generator, "attempts": job.attempts},
        )
        first_take(session, production, take.shot, how="rendered")
    return True


def _failed(
    production: Production,
    worker: str,
    job: _Running,
    report: RunReport,
    message: str,
    *,
    transient: bool,
    backoff: Callable[[int], float] = _backoff,
) -> None:
    with production.transaction() as session:
        row = session.get(RenderJob, job.job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != worker:
            return
        take = session.get(Take, job.take_id)
        assert take is not None
        if release_job(row, message, transient=transient, backoff=backoff):
            move_take(
                session, production, take, TakeStatus.PENDING, mover=Mover.SYSTEM, action=None
            )
            report.retried += 1
            return
        move_take(
            session,
            production,
            take,
            TakeStatus.FAILED,
            mover=Mover.SYSTEM,
            action="failed",
            note=message[:500],
        )
        take.failure = message
        report.failed += 1
        report.failures.append(f"{take.shot.code}/{take.number}: {message}")
