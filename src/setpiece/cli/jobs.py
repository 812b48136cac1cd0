"""`setpiece jobs` and `setpiece worker`: the render queue seen and worked from the command line.

``jobs list|retry|cancel`` call ``production.jobs``, the functions the board's buttons call.
``worker`` is ``setpiece render`` with no shots that does not exit when the queue is empty:
a long-lived service (a systemd unit on a render machine, or ``serve --render-worker``).
SIGTERM stops it gracefully: it claims nothing more, lets the takes in flight finish within
``--grace`` seconds and gives the rest back to the queue, so no take is rendered twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from setpiece.cli._common import console, emit_json, open_production

if TYPE_CHECKING:
    from setpiece.generate.queue import Speaker
    from setpiece.production.context import Production

JSON = typer.Option(False, "--json", help="Print one JSON document.")

jobs_app = typer.Typer(
    help="The render queue: list its jobs, retry failed ones, cancel.", no_args_is_help=True
)


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None, "--state", help="queued, running, done, failed or cancelled."
    ),
    cursor: str | None = typer.Option(None, "--cursor", help="The next page, from --json."),
    limit: int | None = typer.Option(None, "--limit", help="Jobs per page."),
    as_json: bool = JSON,
) -> None:
    """Render jobs, newest first, with why each failed one failed.

    A picture job shows its take as SHOT/TAKE (3B/2), a speech job as LINE/TAKE and the
    character (3/5/1 MARA).
    """
    from setpiece.production.jobs import list_jobs

    with open_production(ctx) as production:
        page = list_jobs(production, state=state, cursor=cursor, limit=limit)
    if as_json:
        emit_json(page)
        return
    out = console()
    for job in page.items:
        line = f"{job.id:>6} {job.label:<10} {job.generator:10s} {job.state:9s}"
        line += f" {job.attempts}/{job.max_attempts}"
        if job.last_error and job.state in ("failed", "cancelled", "queued"):
            line += f"  {job.last_error}"
        out.print(line, highlight=False, markup=False)
    if not page.items:
        out.print("no jobs" + (f" {state}" if state else ""))
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}")


@jobs_app.command("retry")
def jobs_retry(
    ctx: typer.Context,
    targets: list[str] = typer.Argument(
        None, help="A job id; with --failed, shot codes (none: every shot)."
    ),
    failed: bool = typer.Option(False, "--failed", help="Every failed job (of the shots named)."),
    as_json: bool = JSON,
) -> None:
    """Queue a failed or cancelled job again, or every failed one (--failed)."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.jobs import retry_failed, retry_job

    if not failed and (not targets or len(targets) != 1):
        raise InvalidInputError("give one job id, or --failed [SHOTS] for every failed job")
    with open_production(ctx) as production:
        if failed:
            retried = retry_failed(production, targets or [])
        else:
            retried = [retry_job(production, _job_id(targets[0]))]
    if as_json:
        emit_json(retried)
        return
    who = "'setpiece render' or a running worker renders them"
    if any(view.line is not None for view in retried):  # render does not speak
        who = "'setpiece dialogue render' or a running worker speaks them"
    console().print(f"queued {len(retried)} job(s) again" + (f": {who}" if retried else ""))


@jobs_app.command("cancel")
def jobs_cancel(
    ctx: typer.Context,
    job: str = typer.Argument(..., help="The job's id ('setpiece jobs list')."),
    as_json: bool = JSON,
) -> None:
    """Cancel a queued or running job; its take fails with the reason (retry brings it back)."""
    from setpiece.production.jobs import cancel_job

    with open_production(ctx) as production:
        view = cancel_job(production, _job_id(job))
    if as_json:
        emit_json(view)
        return
    console().print(f"cancelled job {view.id} ({view.label})", markup=False)


def _job_id(text: str) -> int:
    """A job id as typed.

    Raises:
        InvalidInputError: Not a positive whole number.
    """
    from setpiece.errors import InvalidInputError

    if not text.isdigit() or int(text) < 1:
        raise InvalidInputError(f"job id {text!r} is not a job number ('setpiece jobs list')")
    return int(text)


def worker(
    ctx: typer.Context,
    generator: list[str] = typer.Option(
        None, "--generator", help="Render only this generator's jobs (repeatable)."
    ),
    once: bool = typer.Option(
        False, "--once", help="Exit when the queue is empty (as 'setpiece render' does)."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="local, or ray (a cluster from [ray] address)."
    ),
    grace: float = typer.Option(
        30.0, "--grace", min=0, help="Seconds the takes in flight may take to finish on SIGTERM."
    ),
) -> None:
    """Render queued takes as they arrive, until stopped (SIGTERM: gracefully).

    The takes in flight when SIGTERM arrives finish within --grace seconds; the others go
    back to the queue, never rendered twice. Ctrl-C gives them back at once (exit 130).
    """
    import signal
    import threading

    from setpiece.cli.render import fail_partly, work_queue
    from setpiece.errors import InvalidInputError

    if executor not in ("local", "ray"):
        raise InvalidInputError(f"executor {executor!r} is not local or ray")
    drain = threading.Event()
    err = console(stderr=True)

    def on_term(signum: int, frame: object) -> None:
        if drain.is_set():  # a second SIGTERM: give everything back now
            raise KeyboardInterrupt
        err.print(f"worker: stopping: the takes in flight finish within {grace:g} s")
        drain.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with open_production(ctx) as production:
            which = ", ".join(generator) if generator else "every generator"
            err.print(
                f"worker: rendering the queue of {production.config.root} ({which}); "
                "SIGTERM stops it after the takes in flight"
            )
            report = work_queue(
                production,
                executor,
                as_json=False,
                forever=not once,
                generators=list(generator or []),
                drain=drain,
                grace_s=grace,
                speak=_speaker(production, generator),
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
    err.print(f"worker: rendered {report.done}, failed {report.failed}, retried {report.retried}")
    for failure in report.failures:
        err.print(f"failed {failure}", style="red")
    if once and report.failed:
        fail_partly(report.failed)


def _speaker(production: Production, generators: list[str] | None) -> Speaker | None:
    """The voices, when the worker works speech jobs (no --generator, or a ``voice:`` one)."""
    if generators and not any(name.startswith("voice:") for name in generators):
        return None
    from setpiece.pipeline.dialogue import voice_speaker

    return voice_speaker(production)


def register(app: typer.Typer) -> None:
    """Adds ``jobs`` and ``worker`` to the root ``app``."""
    app.add_typer(jobs_app, name="jobs")
    app.command("worker")(worker)
