"""`setpiece generators` and `setpiece render`: making takes through the durable queue."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import typer

from setpiece.cli._common import console, emit_json, open_production, progress_step, state

if TYPE_CHECKING:
    import threading

    from setpiece.generate.queue import EnqueueReport, RunReport, Speaker
    from setpiece.production.context import Production

JSON = typer.Option(False, "--json", help="Print one JSON document.")


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[RunReport, int], None]]:
    """Takes done, failed, remaining and the rate, on stderr: a Rich bar on a terminal, and
    piped or redirected a plain line every ``progress_step`` takes and at the end."""
    if not enabled:
        yield lambda report, remaining: None
        return
    if not sys.stderr.isatty():
        shown = [-1]

        def line(report: RunReport, remaining: int) -> None:
            finished = report.done + report.failed
            if finished == shown[0] or (
                remaining
                and shown[0] >= 0
                and finished - shown[0] < progress_step(finished + remaining)
            ):
                return
            shown[0] = finished
            print(
                f"render: {finished}/{finished + remaining} "
                f"({report.done} done, {report.failed} failed)",
                file=sys.stderr,
                flush=True,
            )

        yield line
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.monotonic()
    with Progress(
        TextColumn("render"),
        BarColumn(),
        TextColumn("{task.fields[summary]}"),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("render", total=1, summary="")

        def show(report: RunReport, remaining: int) -> None:
            finished = report.done + report.failed
            rate = finished / max(time.monotonic() - started, 1e-6) * 60
            progress.update(
                task,
                completed=finished,
                total=max(finished + remaining, 1),
                summary=f"{report.done} done, {report.failed} failed, {remaining} left, {rate:.1f}/min",
            )

        yield show


def _queue_recipe(production: Any, take: str, named: bool, dry_run: bool) -> EnqueueReport:
    """``--from-recipe TAKE``: the take's request queued again (shots may not be named too)."""
    from setpiece.errors import InvalidInputError
    from setpiece.generate.queue import enqueue_recipe

    if named:
        raise InvalidInputError("--from-recipe renders that take's shot: name no shots with it")
    return enqueue_recipe(production, take, dry_run=dry_run)


def _print_plan(queued: EnqueueReport, as_json: bool) -> None:
    """A dry run: each take's shot, generator and seed (those the real run uses), and request,
    with the workflow it would be sent with (a generator that runs workflows: its file or
    graph, what chose it, its hash; ``"workflow"`` in JSON), then the quote per unit against
    the budgets (``"quote"`` in JSON)."""
    if as_json:
        emit_json(queued)
        return
    for planned in queued.takes:
        request = dict(planned.request)
        request.pop("brief", None)
        parameters = dict(request.get("parameters") or {})
        if isinstance(parameters.get("workflow"), dict):  # a whole graph: the line below says it
            parameters["workflow"] = "(graph)"
            request["parameters"] = parameters
        console().print(
            f"{planned.shot} -> {planned.generator} seed {request.get('seed')}: "
            f"{json.dumps(request)}",
            markup=False,
            highlight=False,
        )
        if planned.workflow is not None:
            chosen = planned.workflow
            console().print(
                f"  workflow {chosen.source}, chosen by {chosen.chosen_by} "
                f"(sha256 {chosen.sha256[:12]})",
                markup=False,
                highlight=False,
            )
    for line in queued.quote.lines() if queued.quote else []:
        console().print(line, markup=False, highlight=False)


def _confirm(production: Production, plan: Callable[[], EnqueueReport], yes: bool) -> None:
    """``[render] confirm_over``: a render quoted above it asks first, or needs ``--yes``.

    Raises:
        InvalidInputError: Not a terminal and no ``--yes``, or the answer was no (exit 2).
    """
    from setpiece.errors import InvalidInputError
    from setpiece.generate.queue import over_confirm
    from setpiece.production.cost import check_budget

    if yes:
        return
    quote = plan().quote
    if quote is not None:
        check_budget(quote)  # a render over budget is refused, not offered
    said = over_confirm(production.config.settings, quote)
    if said is None:
        return
    if not sys.stdin.isatty():
        raise InvalidInputError(f"this render is {said}: add --yes to start it")
    if not typer.confirm(f"This render is {said}. Start it?", default=False):
        raise InvalidInputError("not started: the quote was declined (nothing queued)")


_ORIGIN_WORDS = {
    "trained": "trained-model (AI) media",
    "algorithm": "procedural drawings (no AI model)",
    "captured": "camera captures",
}


def generators(
    ctx: typer.Context,
    check: bool = typer.Option(
        False, "--check", help="Ping each server and validate its key (spends nothing)."
    ),
    as_json: bool = JSON,
) -> None:
    """List generators: installed, configured (what is missing), reachable (--check), available.

    Read in the project here (or --project) when there is one, for its [generators.NAME]
    tables; elsewhere each generator is judged on its defaults.
    """
    from setpiece.errors import ProjectError
    from setpiece.generate.registry import list_generators
    from setpiece.project import find_project_root, load_config

    options = state(ctx)
    settings, root = None, None
    try:
        root = find_project_root(options.project)
        settings = load_config(root, database_url=options.database_url).settings
    except ProjectError:
        if options.project is not None:
            raise
    infos = list_generators(settings, check=check, project_dir=root)
    if as_json:
        emit_json(infos)
        return
    out = console()
    for info in infos:
        modes = ", ".join(info.capabilities["modes"]) if info.capabilities else ""
        if not info.installed:
            state_text = f"not installed ({info.install_hint})"
        elif not info.configured:
            state_text = f"not configured ({info.problem})"
        elif info.reachable is False:
            state_text = f"unreachable ({info.problem})"
        else:
            state_text = "available" + (", reachable" if info.reachable else "")
        made = f", makes {_ORIGIN_WORDS[info.origin]}" if info.origin else ""
        out.print(
            f"{info.name:10s} {state_text}{made}" + (f"\n           {modes}" if modes else "")
        )


def _version_word(version: int | None, missing: str) -> str:
    return missing if version is None else str(version)


def _stale_shots(production: Production, named: list[str], other: object, quiet: bool) -> list[str]:
    """The stale shots to render again (``production.stale``), each with why, or none."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.stale import stale_shots

    if other:
        raise InvalidInputError("--stale takes shot codes, not --scene or --all")
    found = stale_shots(production, named)
    if quiet and not found:
        emit_json({"stale": [], "queued": [], "run": None})
    for shot in found if not quiet else []:
        why = ", ".join(
            f"{b['entry']} {_version_word(b['was'], 'none')} -> {_version_word(b['now'], 'removed')}"
            for b in shot.because
        )
        console().print(f"stale {shot.shot} (pick {shot.pick}): {why}")
    if not found and not quiet:
        console().print("nothing is stale")
    return [shot.shot for shot in found]


def render(
    ctx: typer.Context,
    shots: list[str] = typer.Argument(None, help="Shot codes; none: resume the queue."),
    scene: str | None = typer.Option(None, "--scene", help="Every shot of this scene."),
    all_shots: bool = typer.Option(
        False, "--all", help="Every shot of the film (omitted scenes aside)."
    ),
    takes: int = typer.Option(1, "--takes", help="Takes per shot (1-100)."),
    generator: str = typer.Option("previs", "--generator", help="Which generator makes them."),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="image (a frame) or video (a clip of the planned length); default: [render] kind"
        " in setpiece.toml, image.",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Pin the seed (take n gets seed+n-1)."),
    prompt: str | None = typer.Option(
        None, "--prompt", help="Replace the composed prompt, or '+TEXT' to extend it."
    ),
    style: str | None = typer.Option(None, "--style", help="A Style entry of the bible."),
    from_take: str | None = typer.Option(
        None, "--from", help="A still take as the first frame (image to video)."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="local, or ray (a cluster from [ray] address)."
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Show what each backend would receive, with the seeds the real run uses; write nothing.",
    ),
    workflow: str | None = typer.Option(
        None,
        "--workflow",
        help="A ComfyUI API-format workflow for every take (over the shots' and the configured).",
    ),
    from_recipe: str | None = typer.Option(
        None,
        "--from-recipe",
        help="Render take TAKE's request again, its workflow as it was sent (a new take).",
    ),
    stale: bool = typer.Option(
        False,
        "--stale",
        help="Only the shots (of those named, or all) whose pick is stale and that have no "
        "fresh take: the bible changed since it was made.",
    ),
    again: bool = typer.Option(
        False,
        "--again",
        help="Queue the takes again even if this same request still has takes pending.",
    ),
    retry_failed: bool = typer.Option(
        False,
        "--retry-failed",
        help="Queue the failed takes again (of SHOTS, or all), then render: jobs retry --failed.",
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Start without asking, even when quoted over [render] confirm_over."
    ),
    as_json: bool = JSON,
) -> None:
    """Queue takes for shots and render them; a killed or interrupted render resumes next time.

    The same command again while its takes are pending or were interrupted resumes them
    instead of queueing more (--again queues more). Exits 4 when any take failed (the
    others are kept), with the count and the command that retries them. --dry-run prints
    the quote per unit; a render quoted over [render] confirm_over asks first (or needs
    --yes), and one over [budget] is refused (exit 2) with the quote and what remains.
    """
    from setpiece.errors import InvalidInputError
    from setpiece.generate.queue import enqueue

    if executor not in ("local", "ray"):
        raise InvalidInputError(f"executor {executor!r} is not local or ray")
    if retry_failed and (scene or all_shots or dry_run or again):
        raise InvalidInputError(
            "--retry-failed takes shot codes only: leave out --scene, --all, --dry-run, --again"
        )
    with open_production(ctx) as production:
        queued = None
        if stale:
            shots = _stale_shots(production, shots or [], scene or all_shots, as_json)
            if not shots:
                return
        if retry_failed:
            _retry_failed(production, shots or [], as_json)
        elif from_recipe is not None:
            named = bool(shots or scene or all_shots)
            if not dry_run:
                _confirm(
                    production, lambda: _queue_recipe(production, from_recipe, named, True), yes
                )
            queued = _queue_recipe(production, from_recipe, named, dry_run)
        elif shots or scene or all_shots or dry_run:

            def queue(plan_only: bool) -> EnqueueReport:
                return enqueue(
                    production,
                    shots or [],
                    scene=scene,
                    all_shots=all_shots,
                    takes=takes,
                    generator=generator,
                    kind=kind,
                    seed=seed,
                    prompt=prompt,
                    style=style,
                    from_take=from_take,
                    dry_run=plan_only,
                    workflow=workflow,
                    again=again,
                )

            if not dry_run:
                _confirm(production, lambda: queue(True), yes)
            queued = queue(dry_run)
        if dry_run and queued is not None:
            _print_plan(queued, as_json)
            return
        report = work_queue(production, executor, as_json=as_json)
    _print_run(queued, report, as_json)
    failed = report.failed + (queued.failed if queued else 0)
    if failed:
        fail_partly(failed)


def _print_run(queued: EnqueueReport | None, report: RunReport, as_json: bool) -> None:
    """What a render queued (or resumed) and what the queue's run did."""
    if as_json:
        emit_json({"queued": queued.takes if queued else [], "run": report})
        return
    out = console()
    if queued and queued.takes:
        out.print(f"queued {len(queued.takes)} take(s)")
    elif queued and (queued.resumed or queued.failed):
        out.print(
            f"this request has {queued.resumed} take(s) pending and {queued.failed} failed: "
            "resuming it, nothing more queued ('--again' queues more)"
        )
    out.print(f"rendered {report.done}, failed {report.failed}, retried {report.retried}")
    for failure in report.failures:
        out.print(f"failed {failure}", style="red")


def _retry_failed(production: Production, shots: list[str], quiet: bool) -> None:
    """``render --retry-failed``: the failed takes of ``shots`` (or all) queued again."""
    from setpiece.production.jobs import retry_failed

    retried = retry_failed(production, shots)
    if not quiet:
        console().print(f"queued {len(retried)} failed take(s) again")


def fail_partly(failed: int) -> None:
    """Exit 4 (issue 12's table): how many takes failed, where to read why, how to retry."""
    from setpiece.errors import ExitCode

    console(stderr=True).print(
        f"setpiece: error: {failed} take(s) failed to render; the others are kept. "
        "Why: 'setpiece jobs list --state failed'; "
        "retry them: 'setpiece render --retry-failed'"
    )
    raise typer.Exit(ExitCode.PARTIAL)


def notice_line(text: str) -> None:
    """What an outage makes the queue wait for, on stderr."""
    print(f"render: {text}", file=sys.stderr, flush=True)


def work_queue(
    production: Production,
    executor: str,
    *,
    as_json: bool,
    forever: bool = False,
    generators: list[str] | None = None,
    drain: threading.Event | None = None,
    grace_s: float = 30.0,
    speak: Speaker | None = None,
) -> RunReport:
    """Runs the queue with progress on stderr: ``render`` and ``worker`` both call this
    (``worker`` with ``speak``, so that it speaks dialogue takes too).

    Raises:
        typer.Exit: Interrupted (130): the takes in flight went back to the queue.
    """
    from setpiece.errors import ExitCode
    from setpiece.generate.queue import Executor, LocalExecutor, run_queue

    runner: Executor
    if executor == "ray":
        from setpiece.generate.ray_executor import RayExecutor

        runner = RayExecutor(production.config.settings.get("ray", {}))
    else:
        runner = LocalExecutor()
    with _progress(enabled=not as_json) as show:
        try:
            return run_queue(
                production,
                executor=runner,
                progress=show,
                generators=generators,
                forever=forever,
                drain=drain,
                grace_s=grace_s,
                notice=notice_line,
                speak=speak,
            )
        except KeyboardInterrupt:
            console(stderr=True).print(
                "stopped: the unfinished takes go back to the queue; run 'setpiece render' to resume"
            )
            raise typer.Exit(ExitCode.INTERRUPTED) from None
