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

Each part has its own reason to change, and its own module: ``_request`` the form a job
stores its request in (shared with Ray's executor), ``_enqueue`` planning takes and jobs,
``_executors`` where renders run, ``_worker`` claiming, leasing, heartbeats and back-off,
``_config`` reading ``[generators.NAME]`` for both ends, ``_recipe`` the graph a take was
sent, kept with it, and rendering a take's recipe again; ``_speech`` dialogue takes, whose
jobs share the table and the worker (``run_queue(speak=...)``). Callers import from this package.
"""

from __future__ import annotations

from setpiece.generate.queue._enqueue import EnqueueReport, PlannedTake, enqueue, over_confirm
from setpiece.generate.queue._executors import Executor, LocalExecutor
from setpiece.generate.queue._recipe import enqueue_recipe, take_workflow
from setpiece.generate.queue._request import request_from_json, request_to_json
from setpiece.generate.queue._speech import (
    Speaker,
    SpeechEnqueueReport,
    SpeechJob,
    Spoken,
    enqueue_speech,
    speech_next_wait,
)
from setpiece.generate.queue._worker import RunReport, run_queue

__all__ = [
    "EnqueueReport",
    "Executor",
    "LocalExecutor",
    "PlannedTake",
    "RunReport",
    "Speaker",
    "SpeechEnqueueReport",
    "SpeechJob",
    "Spoken",
    "enqueue",
    "enqueue_recipe",
    "enqueue_speech",
    "over_confirm",
    "request_from_json",
    "request_to_json",
    "run_queue",
    "speech_next_wait",
    "take_workflow",
]
