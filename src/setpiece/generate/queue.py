"""The render queue: takes to make, as rows that survive crashes, rate limits and restarts.

``enqueue`` turns a render request into pending takes and one job per take, in
one transaction. ``run_queue`` works the jobs: it leases one (``lease_owner``,
``lease_expires_at``), keeps the lease alive with heartbeats while the backend
renders, stores the finished file in the media store and only then, in one
transaction that first checks the lease is still its own, marks the take ready
with its recipe and the job done. So:

- a worker that dies loses its lease, and the job is picked up again;
- a job that is ``done`` is never run again, so a take is never made twice;
- a crash between storing and committing leaves an unreferenced file
  (``fsck --gc`` removes it), never a take without its media.

Transient failures (``RenderError(transient=True)``) wait ``2**attempt`` seconds
(capped, with jitter of ±50%) and go back to the queue, up to ``max_attempts``;
a lease lasts ``[render] lease_seconds`` (60) and heartbeats renew it every third of that;
permanent ones fail the take with the reason. Concurrency is per backend
(``[generators.NAME] concurrency`` in ``setpiece.toml``, a field of every backend's
``Settings``, like ``batch_size``). The driver owns the
database: executors (threads here, Ray tasks in ``ray_executor``) only render.

Every status the queue writes, a job's or a take's, goes through ``production.moves``
and the render queue's tables of ``model/workflow.py``; a move they forbid (a job whose
take was circled meanwhile) stops the run with ``InvalidTransitionError``. A heartbeat or
a release of leases that fails is logged as a warning saying what it puts at risk.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update

from setpiece.errors import InvalidInputError, SetpieceError
from setpiece.generate.base import (
    GeneratorSettings,
    Mode,
    RenderError,
    RenderRequest,
    RenderResult,
    ShotBrief,
    SubjectBrief,
)
from setpiece.generate.prompts import compose
from setpiece.generate.registry import (
    check_generator_tables,
    declared_origin,
    generator_class,
    get_generator,
)
from setpiece.generate.settings import render_settings
from setpiece.model.enums import ORIGIN_KEY, JobState, Origin, TakeKind, TakeStatus
from setpiece.model.orm import Media, RenderJob, Scene, Shot, Take, utcnow
from setpiece.model.workflow import Mover
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.moves import first_take, move_job, move_take
from setpiece.production.rows import shot_row, take_row

__all__ = [
    "EnqueueReport",
    "Executor",
    "LocalExecutor",
    "PlannedTake",
    "RunReport",
    "enqueue",
    "request_from_json",
    "request_to_json",
    "run_queue",
]

log = logging.getLogger(__name__)

MAX_TAKES = 100
BACKOFF_CAP_S = 300.0


# Requests as JSON -------------------------------------------------------------------------------


def request_to_json(
    request: RenderRequest, *, init_sha: str | None, reference_shas: Sequence[str]
) -> dict[str, Any]:
    """A request as stored on the job: media by content hash, never by path."""
    brief = request.brief
    return {
        "mode": request.mode.value,
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "seed": request.seed,
        "width": request.width,
        "height": request.height,
        "fps": f"{request.fps.numerator}/{request.fps.denominator}",
        "frames": request.frames,
        "init_image": init_sha,
        "references": list(reference_shas),
        "model": request.model,
        "parameters": request.parameters,
        "brief": None
        if brief is None
        else {
            **{
                k: getattr(brief, k)
                for k in (
                    "code",
                    "scene",
                    "heading",
                    "description",
                    "size",
                    "angle",
                    "lens_mm",
                    "camera_move",
                    "int_ext",
                    "location",
                    "time_of_day",
                    "style",
                )
            },
            "subjects": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "description": s.description,
                    "side": s.side,
                    "depth": s.depth,
                    "color": list(s.color) if s.color else None,
                }
                for s in brief.subjects
            ],
        },
    }


def request_from_json(data: dict[str, Any], media: Callable[[str], Path]) -> RenderRequest:
    """Rebuilds a request; ``media`` turns a content hash into a readable local file."""
    brief_data = data.get("brief")
    brief = None
    if brief_data:
        subjects = tuple(
            SubjectBrief(
                name=s["name"],
                kind=s["kind"],
                description=s.get("description", ""),
                side=s.get("side"),
                depth=s.get("depth"),
                color=tuple(s["color"]) if s.get("color") else None,
            )
            for s in brief_data.get("subjects", [])
        )
        brief = ShotBrief(
            **{k: v for k, v in brief_data.items() if k != "subjects"}, subjects=subjects
        )
    num, _, den = str(data["fps"]).partition("/")
    return RenderRequest(
        mode=Mode(data["mode"]),
        prompt=data["prompt"],
        negative_prompt=data.get("negative_prompt"),
        seed=int(data["seed"]),
        width=int(data["width"]),
        height=int(data["height"]),
        fps=Fraction(int(num), int(den or 1)),
        frames=int(data["frames"]),
        init_image=media(data["init_image"]) if data.get("init_image") else None,
        references=tuple(media(sha) for sha in data.get("references", [])),
        model=data.get("model"),
        parameters=dict(data.get("parameters") or {}),
        brief=brief,
    )


# Enqueueing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedTake:
    shot: str
    number: int | None  # None in a dry run
    take: str | None
    generator: str
    request: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "shot": self.shot,
            "number": self.number,
            "take": self.take,
            "generator": self.generator,
            "request": self.request,
        }


@dataclass(frozen=True)
class EnqueueReport:
    takes: list[PlannedTake] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "takes": [t.to_json() for t in self.takes]}


def _generator_config(production: Production, name: str) -> dict[str, Any]:
    """``[generators.NAME]`` from setpiece.toml, as written (read by the backend's Settings).

    The project folder is not put in it: it reaches the backend as ``project_dir``.

    Raises:
        InvalidInputError: ``[generators]`` or ``[generators.NAME]`` is not a table.
    """
    generators = production.config.settings.get("generators", {})
    if not isinstance(generators, dict):
        raise InvalidInputError("setpiece.toml [generators]: expected a table of generators")
    config = generators.get(name, {})
    if not isinstance(config, dict):
        raise InvalidInputError(f"setpiece.toml [generators.{name}]: expected a table of settings")
    return dict(config)


def _generator_settings(
    production: Production, name: str, memo: dict[str, GeneratorSettings] | None = None
) -> GeneratorSettings:
    """``[generators.NAME]`` read by the backend's own ``Settings`` (unknown keys refused).

    ``memo`` keeps what one pass over the queue has read: finding a plugin's entry point
    takes about 20 ms, and a claim asks once or twice per candidate job.

    Raises:
        InvalidInputError: Its table has an unknown key or a bad value.
    """
    if memo is not None:
        if name not in memo:
            memo[name] = _generator_settings(production, name)
        return memo[name]
    try:
        found = generator_class(name)
    except InvalidInputError:
        found = None  # a plugin broken since its jobs were queued: they fail with the reason
    if found is None:
        return GeneratorSettings()  # the executor fails the takes, naming the generator
    return found[1].load_settings(_generator_config(production, name))


def _seeds(count: int, pinned: int | None) -> list[int]:
    if pinned is not None:
        return [pinned + i for i in range(count)]
    seeds: list[int] = []
    while len(seeds) < count:
        candidate = secrets.randbits(31)
        if candidate not in seeds:
            seeds.append(candidate)
    return seeds


def enqueue(
    production: Production,
    shots: Sequence[str] = (),
    *,
    scene: str | None = None,
    all_shots: bool = False,
    takes: int = 1,
    generator: str = "previs",
    kind: str = "image",
    seed: int | None = None,
    prompt: str | None = None,
    style: str | None = None,
    from_take: str | None = None,
    dry_run: bool = False,
    fps: Fraction | None = None,
) -> EnqueueReport:
    """Plans takes for shots and (unless ``dry_run``) records them with their jobs.

    Raises:
        InvalidInputError: A bad take count or kind, no shots named, a capability the
            generator lacks, ``--from`` a take that is not a still of the shot.
        NotFoundError: An unknown shot, scene, take, style or generator.

    ``fps`` renders video at another rate than the project's (a generator's native 12 fps,
    retimed to the project's rate later); the clip keeps the shot's planned duration.
    """
    if fps is not None and fps <= 0:
        raise InvalidInputError(f"render rate {fps} must be positive")
    if not 1 <= takes <= MAX_TAKES:
        raise InvalidInputError(f"take count {takes} is out of range: give 1 to {MAX_TAKES}")
    if kind not in ("image", "video"):
        raise InvalidInputError(f"kind {kind!r} is not image or video")
    check_generator_tables(production.config.settings)
    backend = get_generator(
        generator, _generator_config(production, generator), project_dir=production.config.root
    )
    origin = declared_origin(generator)  # recorded on each take (see Generator.origin)
    capabilities = backend.capabilities()
    if seed is not None and not capabilities.seeds:
        raise InvalidInputError(
            f"generator {generator} does not make the same take again from a seed: leave out --seed"
        )
    planned: list[tuple[Shot, RenderRequest, dict[str, Any], str | None]] = []
    with production.transaction() as session:
        production.authorize(session, "render")
        project = production.project_row(session)
        query = select(Shot).join(Scene, Shot.scene_id == Scene.id).where(Scene.omitted.is_(False))
        if all_shots:
            targets = list(session.scalars(query.order_by(Scene.position, Shot.position)))
        elif scene is not None:
            from setpiece.production.rows import scene_row

            number = scene_row(session, scene).id
            targets = list(
                session.scalars(query.where(Shot.scene_id == number).order_by(Shot.position))
            )
        else:
            targets = [shot_row(session, code) for code in shots]
        if not targets:
            raise InvalidInputError("no shots to render: name shots, --scene N or --all")
        parent = None
        if from_take is not None:
            parent = take_row(session, from_take)
            if len(targets) != 1 or parent.shot_id != targets[0].id:
                raise InvalidInputError(
                    f"--from {from_take}: render exactly the shot that take belongs to "
                    f"({parent.shot.code})"
                )
            if parent.kind != TakeKind.IMAGE.value or parent.media_sha256 is None:
                raise InvalidInputError(f"--from {from_take}: the take must be a finished still")
        for shot in targets:
            composed = compose(
                session, shot.id, production.config.settings, prompt=prompt, style=style
            )
            video = kind == "video" or parent is not None
            mode = (
                (Mode.IMAGE_TO_VIDEO if parent else Mode.TEXT_TO_VIDEO)
                if video
                else Mode.TEXT_TO_IMAGE
            )
            rate = fps or project.fps
            planned_frames = shot.planned_frames or int(project.fps * 2)
            frames = max(1, round(planned_frames * rate / project.fps)) if video else 1
            # References go to stills only: video modes take a first frame instead (Runway refuses both).
            with_refs = bool(composed.references) and not video and capabilities.reference_images
            for take_seed in _seeds(takes, seed):
                request = RenderRequest(
                    mode=mode,
                    prompt=composed.prompt,
                    negative_prompt=composed.negative_prompt,
                    seed=take_seed,
                    width=project.width,
                    height=project.height,
                    fps=rate,
                    frames=frames,
                    model=getattr(backend.settings, "model", None),
                    brief=composed.brief,
                    init_image=Path("init") if parent else None,
                    references=tuple(Path(sha) for sha in composed.references) if with_refs else (),
                    parameters={"reference_tags": list(composed.reference_names)}
                    if with_refs
                    else {},
                )
                backend.check(request)  # every capability, before anything is queued
                stored = request_to_json(
                    request,
                    init_sha=parent.media_sha256 if parent else None,
                    reference_shas=composed.references if request.references else (),
                )
                planned.append((shot, request, stored, parent.id if parent else None))
        if dry_run:
            return EnqueueReport(
                [PlannedTake(s.code, None, None, generator, data) for s, _, data, _ in planned],
                dry_run=True,
            )
        report = EnqueueReport()
        numbers: dict[int, int] = {}
        for shot, request, stored, parent_id in planned:
            if shot.id not in numbers:
                numbers[shot.id] = (
                    session.scalar(select(func.max(Take.number)).where(Take.shot_id == shot.id))
                    or 0
                )
            numbers[shot.id] += 1
            take = Take(
                shot=shot,
                number=numbers[shot.id],
                kind="video" if request.is_video else "image",
                status=TakeStatus.PENDING.value,
                created_by=production.actor,
                backend=generator,
                model_name=request.model,
                prompt=request.prompt,
                negative_prompt=request.negative_prompt,
                seed=request.seed,
                parameters={ORIGIN_KEY: origin.value},
                reference_hashes=list(stored["references"]),
                parent_take_id=parent_id,
            )
            session.add(take)
            session.flush()
            session.add(
                RenderJob(
                    idempotency_key=uuid.uuid4().hex,
                    take_id=take.id,
                    generator=generator,
                    request=stored,
                )
            )
            record_event(
                session,
                production,
                "take",
                take.id,
                "queued",
                after=TakeStatus.PENDING,
                data={
                    "shot": shot.code,
                    "generator": generator,
                    "seed": request.seed,
                    # What shaped the prompt beyond the bible, kept with the take's history.
                    "shot_prompt": shot.prompt_override,
                    "render_prompt": prompt,
                    "style": style,
                },
            )
            report.takes.append(PlannedTake(shot.code, take.number, take.id, generator, stored))
        return report


# Running ----------------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs renders away from the driver; the driver alone writes the database.

    ``submit`` takes a batch (takes of one shot that differ only in seed; often a batch of one)
    and returns one future per request; each finished file lies in that request's own work folder.
    ``config`` is the generator's ``[generators.NAME]`` table and ``project_dir`` the project
    folder, both given to the generator as it is made.
    """

    def submit(
        self,
        generator: str,
        config: dict[str, Any],
        requests: list[RenderRequest],
        workdirs: list[Path],
        *,
        project_dir: Path | None = None,
    ) -> list[Future[RenderResult]]: ...

    def shutdown(self) -> None: ...


def _settle(
    results: list[RenderResult], workdirs: list[Path], futures: list[Future[RenderResult]]
) -> None:
    """Moves each finished file into its own job's folder and completes its future.

    The backend was given ``workdirs[0]``; a result anywhere else is refused, never moved.
    """
    given = workdirs[0].resolve()
    for result, workdir, future in zip(results, workdirs, futures, strict=True):
        if not result.path.is_file() or given not in result.path.resolve().parents:
            future.set_exception(
                RenderError("the generator returned no file inside its work folder")
            )
            continue
        target = workdir / result.path.name
        if result.path.resolve() != target.resolve() and result.path.is_file():
            os.replace(result.path, target)
        future.set_result(
            RenderResult(target, result.model, result.model_hash, dict(result.parameters))
        )


class LocalExecutor:
    """Renders in daemon threads of this process.

    Backend instances are pooled per generator: a thread borrows one, so a loaded model is
    reused by the next take instead of loaded again, and no instance is used by two threads at
    once (a diffusers pipeline is not thread-safe).
    """

    def __init__(self) -> None:
        self._idle: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def _borrow(self, name: str, config: dict[str, Any], project_dir: Path | None) -> Any:
        with self._lock:
            pool = self._idle.setdefault(name, [])
            if pool:
                return pool.pop()
        return get_generator(name, config, project_dir=project_dir)

    def _give_back(self, name: str, backend: Any) -> None:
        with self._lock:
            self._idle.setdefault(name, []).append(backend)

    def submit(
        self,
        generator: str,
        config: dict[str, Any],
        requests: list[RenderRequest],
        workdirs: list[Path],
        *,
        project_dir: Path | None = None,
    ) -> list[Future[RenderResult]]:
        futures: list[Future[RenderResult]] = [Future() for _ in requests]

        def work() -> None:
            backend = None
            try:
                backend = self._borrow(generator, config, project_dir)
                for request in requests:
                    backend.check(request)
                if len(requests) == 1:
                    results = [backend.render(requests[0], workdirs[0])]
                else:
                    results = backend.render_batch(requests, workdirs[0])
                _settle(results, workdirs, futures)
            except BaseException as exc:  # handed to the driver, which classifies it
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            finally:
                if backend is not None:
                    self._give_back(generator, backend)

        threading.Thread(target=work, daemon=True, name=f"render-{generator}").start()
        return futures

    def shutdown(self) -> None:
        with self._lock:
            for pool in self._idle.values():
                for backend in pool:
                    with contextlib.suppress(Exception):
                        backend.close()
            self._idle.clear()


@dataclass
class RunReport:
    done: int = 0
    failed: int = 0
    retried: int = 0
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "failed": self.failed,
            "retried": self.retried,
            "failures": self.failures,
        }


@dataclass
class _Running:
    job_id: int
    take_id: str
    generator: str
    workdir: Path
    future: Future[RenderResult]
    attempts: int
    max_attempts: int


def _backoff(attempt: int) -> float:
    return min(BACKOFF_CAP_S, 2.0 ** max(0, attempt - 1)) * random.uniform(0.5, 1.5)


def run_queue(
    production: Production,
    *,
    executor: Executor | None = None,
    progress: Callable[[RunReport, int], None] | None = None,
    stop: threading.Event | None = None,
    lease_s: float | None = None,
    poll_s: float = 0.05,
    backoff: Callable[[int], float] = _backoff,
) -> RunReport:
    """Works the queue until no job is left to run (or ``stop`` is set).

    Jobs waiting for a retry are waited for. On KeyboardInterrupt the jobs in flight go back to
    the queue at once, so the next run picks them up, and the interrupt is re-raised.

    Raises:
        PermissionDeniedError: The acting user may not render (the renderer is recorded on
            the takes' history).
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "render")
    if lease_s is None:
        lease_s = _lease_seconds(production)
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    executor = executor or LocalExecutor()
    stop = stop or threading.Event()
    report = RunReport()
    running: dict[int, _Running] = {}
    scratch = Path(tempfile.mkdtemp(prefix="setpiece-render-"))
    beat = threading.Thread(
        target=_heartbeats, args=(production, worker, running, lease_s, stop), daemon=True
    )
    beat.start()
    try:
        while not stop.is_set():
            claimed = _claim(production, worker, running, lease_s, executor)
            for job in claimed:
                running[job.job_id] = job
            finished = [j for j in list(running.values()) if j.future.done()]
            for job in finished:
                del running[job.job_id]
                _finish(production, worker, job, report, backoff)
            if progress:
                progress(report, _remaining(production))
            if not running and not claimed and not finished:
                wait = _next_wait(production)
                if wait is None:
                    break
                stop.wait(min(wait, 1.0))
            elif not finished:
                time.sleep(poll_s)
    except KeyboardInterrupt:
        stop.set()
        _release(production, worker, running)
        raise
    finally:
        stop.set()
        executor.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _lease_seconds(production: Production) -> float:
    """``[render] lease_seconds``: how long a silent worker keeps a job (default 60)."""
    return render_settings(production.config.settings).lease_seconds


def _remaining(production: Production) -> int:
    with production.transaction() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RenderJob)
                .where(RenderJob.state.in_((JobState.QUEUED, JobState.RUNNING)))
            )
            or 0
        )


def _next_wait(production: Production) -> float | None:
    """Seconds until a queued job may run (or a lease runs out); None when nothing is left."""
    with production.transaction() as session:
        soonest = session.scalar(
            select(func.min(RenderJob.next_attempt_at)).where(RenderJob.state == JobState.QUEUED)
        )
        lease = session.scalar(
            select(func.min(RenderJob.lease_expires_at)).where(RenderJob.state == JobState.RUNNING)
        )
    moments = [m for m in (soonest, lease) if m is not None]
    if not moments:
        return None
    return max(0.0, (min(moments) - utcnow()).total_seconds())


def _concurrency(
    production: Production, generator: str, memo: dict[str, GeneratorSettings] | None = None
) -> int:
    """``[generators.NAME] concurrency``: the backend's Settings default when not set."""
    return _generator_settings(production, generator, memo).concurrency


def _claim(
    production: Production,
    worker: str,
    running: dict[int, _Running],
    lease_s: float,
    executor: Executor,
) -> list[_Running]:
    """Leases the jobs that may start now, within each backend's concurrency."""
    busy: dict[str, int] = {}
    memo: dict[str, GeneratorSettings] = {}  # each generator's settings, read once per claim
    for active in running.values():
        busy[active.generator] = busy.get(active.generator, 0) + 1
    claimed: list[_Running] = []
    now = utcnow()
    with production.transaction() as session:
        candidates = session.scalars(
            select(RenderJob)
            .where(
                or_(
                    (RenderJob.state == JobState.QUEUED) & (RenderJob.next_attempt_at <= now),
                    (RenderJob.state == JobState.RUNNING) & (RenderJob.lease_expires_at < now),
                )
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
                _generator_config(production, generator),
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
    import json

    request = {k: v for k, v in job.request.items() if k != "seed"}
    return job.generator + ":" + json.dumps(request, sort_keys=True, default=str)


def _batch_size(
    production: Production, generator: str, memo: dict[str, GeneratorSettings] | None = None
) -> int:
    """``[generators.NAME] batch_size`` (diffusers: 4; others render one at a time)."""
    return _generator_settings(production, generator, memo).batch_size


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

    Letting go is a courtesy: when it fails (the database is gone, say), the jobs wait
    until their leases run out and another worker takes them; that is logged, not raised,
    so the interrupt itself still reaches the caller.
    """
    try:
        with production.transaction() as session:
            for job in session.scalars(select(RenderJob).where(RenderJob.id.in_(list(running)))):
                if job.lease_owner == worker and job.state == JobState.RUNNING:
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
    worker: str,
    job: _Running,
    report: RunReport,
    backoff: Callable[[int], float],
) -> None:
    try:
        result = job.future.result()
        _store(production, worker, job, result)
        report.done += 1
        from setpiece.production.arrival import takes_arrived

        takes_arrived(production, [job.take_id])
    except RenderError as exc:
        _failed(production, worker, job, report, str(exc), transient=exc.transient, backoff=backoff)
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


def _store(production: Production, worker: str, job: _Running, result: RenderResult) -> None:
    from setpiece.production.ingest import media_row, probe_files, store_files

    if not result.path.is_file() or job.workdir not in result.path.resolve().parents:
        raise RenderError(f"generator {job.generator} returned no file inside its work folder")
    (item,) = probe_files([result.path], what="take")
    store_files(production, [item])
    with production.transaction() as session:
        row = session.get(RenderJob, job.job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != worker:
            return  # the lease was lost and another worker took over: its result counts
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
        take.failure = None
        move_job(row, JobState.DONE)
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


def _failed(
    production: Production,
    worker: str,
    job: _Running,
    report: RunReport,
    message: str,
    *,
    transient: bool,
    backoff: Callable[[int], float],
) -> None:
    with production.transaction() as session:
        row = session.get(RenderJob, job.job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != worker:
            return
        take = session.get(Take, job.take_id)
        assert take is not None
        row.last_error, row.lease_owner, row.lease_expires_at, row.updated_at = (
            message,
            None,
            None,
            utcnow(),
        )
        if transient and row.attempts < row.max_attempts:
            move_job(row, JobState.QUEUED)
            row.next_attempt_at = utcnow() + timedelta(seconds=backoff(row.attempts))
            move_take(
                session, production, take, TakeStatus.PENDING, mover=Mover.SYSTEM, action=None
            )
            report.retried += 1
            return
        move_job(row, JobState.FAILED)
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
