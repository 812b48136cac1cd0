"""Speech jobs: dialogue takes made through the same durable queue as picture takes.

A speech job is a ``render_jobs`` row whose ``line_take_id`` names a pending dialogue take
(``take_id`` is NULL, so the picture claim never leases it) and whose generator reads
``voice:BACKEND``. It lives by the picture jobs' rules: leased with an expiry, ``done`` is
final (a take is never spoken twice), a transient failure waits ``backoff(attempt)`` and
goes back to the queue up to ``max_attempts``, a permanent one fails the take with the
reason, and the file is stored before the take that names it is committed.

What speaks is handed in by the caller (``Speaker``): the voice backends are a capability
of their own (``setpiece.voice``), which this one may not import; ``setpiece.pipeline``
joins them. Speech is short (a line, seconds of audio on a CPU), so a worker speaks one
job at a time between its picture rounds rather than in the executor's threads.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from setpiece.errors import InvalidInputError, SetpieceError
from setpiece.generate.queue._lease import release_job
from setpiece.model.enums import JobState
from setpiece.model.orm import Line, LineTake, Media, RenderJob, utcnow
from setpiece.production.context import Production
from setpiece.production.dialogue import (
    MAX_TEXT,
    audio_media,
    dialogue_settings,
    next_take_number,
    select_lines,
    take_is_stale,
    voice_of,
)
from setpiece.production.history import record_event
from setpiece.production.moves import move_job, move_line_take

__all__ = [
    "SPEECH_PREFIX",
    "Speaker",
    "SpeechEnqueueReport",
    "SpeechJob",
    "Spoken",
    "enqueue_speech",
    "speech_next_wait",
    "speech_turn",
]

SPEECH_PREFIX = "voice:"


@dataclass(frozen=True)
class SpeechJob:
    """What a speaker is asked to say."""

    line: str  # SCENE/NUMBER
    character: str
    text: str
    voice: dict[str, Any]  # {"backend", "voice", "rate", "pitch", "sample", "default"?}
    seed: int | None
    sample: Path | None  # the reference recording's local path, for a cloned voice


@dataclass(frozen=True)
class Spoken:
    """A finished WAV (inside the work folder the speaker was given), measured."""

    path: Path
    frames: int
    sample_rate: int
    lufs: float
    recipe: dict[str, Any] = field(default_factory=dict)


#: Speaks one job into a WAV inside the given folder. Raises ``SetpieceError`` when it
#: cannot; one with ``transient=True`` is tried again later.
Speaker = Callable[[SpeechJob, Path], Spoken]


@dataclass(frozen=True)
class SpeechEnqueueReport:
    """Lines queued (``SCENE/NUMBER``), lines whose take is fresh already, and the
    characters that speak with the default voice (said once each)."""

    queued: list[str]
    fresh: list[str]
    default_voices: dict[str, str]
    # Lines that cannot be spoken as written (empty, too long), each with why; the others
    # are queued all the same (the command ends "done in part").
    refused: list[str] = field(default_factory=list)


def _same_default(recorded: dict[str, Any] | None, voice: dict[str, Any]) -> bool:
    """A take made with a default voice is fresh while the default is what it was: a
    default chosen anew (the script now says the character is a woman) speaks again."""
    if not voice.get("default"):
        return True
    keys = ("backend", "voice", "rate", "pitch")
    return recorded is not None and all(recorded.get(k) == voice.get(k) for k in keys)


def _fresh(line: Line, voice: dict[str, Any]) -> bool:
    """A synthetic take, finished or on its way, that says the line with this voice now."""
    for take in line.takes:
        if take.source != "synthetic" or take.status not in ("ready", "pending"):
            continue
        if (
            take.status == "ready"
            and not take_is_stale(take, line)
            and _same_default(take.voice, voice)
        ):
            return True
        if take.status == "pending" and take.voice == voice and take.text == line.text:
            return True
    return False


def enqueue_speech(
    production: Production,
    *,
    default_voice: Callable[[str], dict[str, Any]],
    scene: str | None = None,
    character: str | None = None,
    line: str | None = None,
    again: bool = False,
    seed: int | None = None,
) -> SpeechEnqueueReport:
    """Queues a synthetic take for each chosen line that has no fresh one.

    A line is skipped when it has a synthetic take, ready or pending, made with its
    character's voice as it is now and its text as it is now (``again`` queues it all the
    same): after a voice change, only that character's lines are queued.

    Args:
        production: The project.
        default_voice: The voice of a character that has none (``{"backend", "voice",
            "rate", "pitch"}``).
        scene, character, line: Which lines (all when none is given).
        again: Queue a take even for lines whose take is fresh.
        seed: Recorded on the takes, for backends whose speech varies.

    Raises:
        NotFoundError: An unknown scene, character or line.
        InvalidInputError: An empty line, or one longer than ``MAX_TEXT`` characters.
        PermissionDeniedError: The acting user may not render.
    """
    settings = dialogue_settings(production.config.settings)
    queued: list[str] = []
    fresh: list[str] = []
    defaults: dict[str, str] = {}
    with production.transaction() as session:
        production.authorize(session, "render")
        rows = select_lines(session, scene=scene, character=character, line=line)
        problems = {row.id: _text_problem(row) for row in rows}
        refused = [problem for problem in problems.values() if problem is not None]
        if refused and len(refused) == len(rows):
            more = f" (and {len(refused) - 1} more line(s) like it)" if len(refused) > 1 else ""
            raise InvalidInputError(refused[0] + more)
        for row in rows:
            if problems[row.id] is not None:
                continue
            name = f"{row.scene.number}/{row.number}"
            voice = voice_of(row.entry)
            if voice is None:
                voice = {**default_voice(row.character), "sample": None, "default": True}
            if not again and _fresh(row, voice):
                fresh.append(name)
                continue
            if voice.get("default"):
                defaults.setdefault(row.character, f"{voice['backend']}:{voice['voice']}")
            take = LineTake(
                line=row,
                number=next_take_number(row),
                source="synthetic",
                status="pending",
                circled=False,
                voice=voice,
                text=row.text,
                seed=seed,
                recipe={},
                created_by=production.actor,
            )
            session.add(take)
            session.flush()
            session.add(
                RenderJob(
                    idempotency_key=uuid.uuid4().hex,
                    take_id=None,
                    line_take_id=take.id,
                    generator=f"{SPEECH_PREFIX}{voice['backend']}",
                    request={"line": name, "max_seconds": settings.max_seconds},
                    state=JobState.QUEUED.value,
                )
            )
            record_event(session, production, "line", name, "queued", after=str(take.number))
            queued.append(name)
    return SpeechEnqueueReport(queued, fresh, defaults, refused)


def _text_problem(line: Line) -> str | None:
    """Why the line cannot be spoken as written, or None."""
    name = f"{line.scene.number}/{line.number}"
    if not line.text.strip():
        return f"line {name} is empty: there is nothing to say"
    if len(line.text) > MAX_TEXT:
        return (
            f"line {name} is {len(line.text):,} characters; speech takes at most {MAX_TEXT:,}: "
            "split it in the script"
        )
    return None


def _due(now: Any) -> Any:
    return select(RenderJob).where(
        RenderJob.line_take_id.is_not(None),
        or_(
            (RenderJob.state == JobState.QUEUED) & (RenderJob.next_attempt_at <= now),
            (RenderJob.state == JobState.RUNNING) & (RenderJob.lease_expires_at < now),
        ),
    )


def speech_next_wait(production: Production) -> float | None:
    """Seconds until a speech job may run (or a lease runs out); None when none is left."""
    with production.transaction() as session:
        soonest = session.scalar(
            select(func.min(RenderJob.next_attempt_at)).where(
                RenderJob.line_take_id.is_not(None), RenderJob.state == JobState.QUEUED
            )
        )
        lease = session.scalar(
            select(func.min(RenderJob.lease_expires_at)).where(
                RenderJob.line_take_id.is_not(None), RenderJob.state == JobState.RUNNING
            )
        )
    moments = [m for m in (soonest, lease) if m is not None]
    if not moments:
        return None
    return max(0.0, (min(moments) - utcnow()).total_seconds())


@dataclass
class SpeechTurn:
    """What one ``speech_turn`` did."""

    done: int = 0
    failed: int = 0
    retried: int = 0
    failures: list[str] = field(default_factory=list)


def _lease(production: Production, worker: str, lease_s: float) -> tuple[int, SpeechJob] | None:
    """Leases the oldest due speech job: its id and what to say."""
    now = utcnow()
    with production.transaction() as session:
        job = session.scalars(
            _due(now).order_by(RenderJob.id).limit(1).with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return None
        take = session.get(LineTake, job.line_take_id)
        assert take is not None
        if job.state == JobState.QUEUED:
            move_job(job, JobState.RUNNING)
        job.attempts += 1
        job.lease_owner, job.lease_expires_at = worker, now + timedelta(seconds=lease_s)
        job.heartbeat_at = job.updated_at = now
        move_line_take(take, "rendering")
        voice = dict(take.voice or {})
        sample = None
        if voice.get("sample"):
            media = session.get(Media, voice["sample"])
            if media is not None:
                sample = production.store.local_path(media.key)
        return job.id, SpeechJob(
            line=f"{take.line.scene.number}/{take.line.number}",
            character=take.line.character,
            text=take.text,
            voice=voice,
            seed=take.seed,
            sample=sample,
        )


def speech_turn(
    production: Production,
    *,
    worker: str,
    lease_s: float,
    speak: Speaker,
    backoff: Callable[[int], float],
) -> SpeechTurn | None:
    """Speaks one due speech job, if any (None when none was due)."""
    leased = _lease(production, worker, lease_s)
    if leased is None:
        return None
    job_id, job = leased
    turn = SpeechTurn()
    scratch = Path(tempfile.mkdtemp(prefix="setpiece-speech-"))
    try:
        spoken = speak(job, scratch)
        if not spoken.path.is_file() or scratch not in spoken.path.resolve().parents:
            raise SetpieceError(f"the {job.voice.get('backend')} voice returned no file")
        stored = production.store.put(spoken.path, ".wav")
        if _record(production, worker, job_id, spoken, stored.sha256, stored.size):
            turn.done += 1
    except SetpieceError as exc:
        _fail(
            production,
            worker,
            job_id,
            job,
            str(exc),
            getattr(exc, "transient", False),
            backoff,
            turn,
        )
    except Exception as exc:  # a backend's own bug: the take fails with it, the worker goes on
        _fail(production, worker, job_id, job, f"{type(exc).__name__}: {exc}", False, backoff, turn)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return turn


def _record(
    production: Production, worker: str, job_id: int, spoken: Spoken, sha256: str, size: int
) -> bool:
    with production.transaction() as session:
        row = session.get(RenderJob, job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != worker:
            return False
        take = session.get(LineTake, row.line_take_id)
        assert take is not None
        media = audio_media(
            session, sha256, size, spoken.frames, spoken.sample_rate, spoken.path.name
        )
        take.media = media
        take.frames, take.sample_rate, take.lufs = spoken.frames, spoken.sample_rate, spoken.lufs
        take.recipe = dict(spoken.recipe)
        move_line_take(take, "ready")
        take.failure = None
        move_job(row, JobState.DONE)
        row.lease_owner, row.lease_expires_at, row.updated_at = None, None, utcnow()
        name = f"{take.line.scene.number}/{take.line.number}"
        record_event(session, production, "line", name, "spoken", after=str(take.number))
    return True


def _fail(
    production: Production,
    worker: str,
    job_id: int,
    job: SpeechJob,
    message: str,
    transient: bool,
    backoff: Callable[[int], float],
    turn: SpeechTurn,
) -> None:
    with production.transaction() as session:
        row = session.get(RenderJob, job_id)
        if row is None or row.state != JobState.RUNNING or row.lease_owner != worker:
            return
        take = session.get(LineTake, row.line_take_id)
        assert take is not None
        if release_job(row, message, transient=transient, backoff=backoff):
            move_line_take(take, "pending")
            turn.retried += 1
            return
        move_line_take(take, "failed")
        take.failure = message
        turn.failed += 1
        turn.failures.append(f"{job.line}/{take.number}: {message}")
