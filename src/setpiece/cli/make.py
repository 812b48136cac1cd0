"""`setpiece make` (a screenplay to a reviewed, signed cut in one command) and `setpiece demo`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from setpiece.cli._common import console, emit_json, progress_lines, state

if TYPE_CHECKING:
    from setpiece.pipeline.make import MakeReport


def register(app: typer.Typer) -> None:
    app.command("make")(make)
    app.command("demo")(demo)


def make(
    ctx: typer.Context,
    script: Path = typer.Argument(
        ..., help="The screenplay: Fountain (.fountain) or Final Draft (.fdx)."
    ),
    project: Path | None = typer.Option(
        None,
        "--project",
        "-p",
        help="The project folder (default: a folder named after the script).",
    ),
    generator: str = typer.Option(
        "previs", "--generator", help="Which generator renders the takes."
    ),
    takes: int = typer.Option(1, "--takes", help="Takes per shot (1-100)."),
    fps: str = typer.Option("24", "--fps", help="The film's frame rate, e.g. 24 or 24000/1001."),
    render_fps: str | None = typer.Option(
        None, "--render-fps", help="Render video at this rate and retime it to --fps."
    ),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="image (one frame a shot) or video (clips); default: [render] kind in"
        " setpiece.toml, image.",
    ),
    resolution: str = typer.Option(
        "1920x1080", "--resolution", help="WIDTHxHEIGHT of a new project."
    ),
    no_movie: bool = typer.Option(False, "--no-movie", help="Skip the preview movie."),
    dialogue: bool = typer.Option(
        False,
        "--dialogue",
        help="Speak the lines (the voices extra) and lengthen shots to fit them.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Use a folder that holds other files or another script."
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help="Base of the shots' seeds (default 1): the same seed makes the same takes.",
    ),
    random_seeds: bool = typer.Option(
        False, "--random-seeds", help="Draw every take's seed at random instead."
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Start without asking, even when quoted over [render] confirm_over."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
) -> None:
    """The whole pipeline: import, plan, speak, render, retime, check, pick, assemble, sign, disclose.

    Every step is resumable: run it again after an interruption and it continues. A step
    that fails is reported and the steps that do not need it still run: exits 4 when a
    step failed (takes that did not render included), 5 when the disk or the database
    failed, 1 when a step hit a bug. A render quoted over [render] confirm_over needs
    --yes, and one over [budget] is refused: the run stops there (exit 2) with the quote,
    nothing queued; the report shows the render's quote.
    """
    from setpiece.errors import InvalidInputError
    from setpiece.pipeline.make import DEFAULT_SEED, MakeOptions
    from setpiece.pipeline.make import make as run_make
    from setpiece.timebase import parse_rate, parse_resolution

    if random_seeds and seed is not None:
        raise InvalidInputError("give --seed or --random-seeds, not both")
    if seed is not None and not 0 <= seed < 2**31:
        raise InvalidInputError(f"--seed {seed} is out of range: give 0 to {2**31 - 1}")

    options = MakeOptions(
        script=script.expanduser().absolute(),
        project=(project or Path(script.stem)).expanduser().absolute(),
        generator=generator,
        takes=takes,
        fps=parse_rate(fps),
        render_fps=parse_rate(render_fps) if render_fps else None,
        kind=kind,
        resolution=parse_resolution(resolution),
        force=force,
        movie=not no_movie,
        dialogue=dialogue,
        actor=state(ctx).actor,
        seed=None if random_seeds else (DEFAULT_SEED if seed is None else seed),
        yes=yes,
    )
    with _steps(enabled=not as_json) as show:
        report = run_make(options, progress=show)
    _finish(report, as_json)


def demo(
    ctx: typer.Context,
    folder: Path = typer.Argument(Path("setpiece-demo"), help="Where to make the demo project."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
) -> None:
    """Make a finished previs cut of a short film that ships with Setpiece (no GPU, no network)."""
    from setpiece.pipeline.demo import run_demo

    with _steps(enabled=not as_json) as show:
        report = run_demo(folder.expanduser().absolute(), progress=show, actor=state(ctx).actor)
    _finish(report, as_json)


def _finish(report: MakeReport, as_json: bool) -> None:
    err = console(stderr=True)
    for step in report.steps:
        if step.traceback and os.environ.get("SETPIECE_DEBUG"):
            err.print(f"step {step.name}:\n{step.traceback}")
    if as_json:
        emit_json(report)
    else:
        out = console()
        for step in report.steps:
            style = {"done": "green", "skipped": "yellow", "failed": "red"}.get(step.status)
            out.print(f"{step.name:11s} {step.status:8s} {step.detail}", style=style)
            for warning in step.warnings:
                out.print(f"{'':20s} warning: {warning}", style="yellow")
        if report.outputs:
            out.print("\noutputs:")
            for name, path in report.outputs.items():
                out.print(f"  {name:16s} {path}")
        if report.needs_human:
            out.print("\nneeds a human:")
            for note in report.needs_human:
                out.print(f"  - {note}")
        # Once the project has members, adding one needs an admin acting (--as).
        adder = "--as ADMIN " if report.members else ""
        out.print(
            "\nopen it on the shot board (pip install 'setpiece[web]'):\n"
            f"  setpiece -C {report.project} {adder}user add YOUR_NAME --role "
            f"{'artist' if report.members else 'admin'}   (prints a one-time password)\n"
            f"  setpiece -C {report.project} --as YOUR_NAME serve   "
            "then open http://127.0.0.1:8000/"
        )
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@contextmanager
def _steps(*, enabled: bool) -> Iterator[Callable[[str, str, int, int], None]]:
    """A Rich display on a terminal: one line per step, and a bar for the step's takes or
    frames. Piped or redirected, plain lines instead (see ``_step_lines``)."""
    if not enabled:
        yield lambda step, what, done, total: None
        return
    if not sys.stderr.isatty():
        yield _step_lines()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from setpiece.pipeline.make import STEPS

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
    ) as progress:
        overall = progress.add_task("make", total=len(STEPS))
        work: dict[str, Any] = {}

        def show(step: str, what: str, done: int, total: int) -> None:
            if what == "start":
                progress.update(overall, description=f"make: {step}")
            elif what in ("done", "failed", "skipped"):
                progress.advance(overall)
                for task in work.values():
                    progress.remove_task(task)
                work.clear()
            elif total:
                key = f"{step}:{what}"
                if key not in work:
                    work[key] = progress.add_task(f"  {step}: {what}", total=total)
                progress.update(work[key], completed=done, total=total)

        yield show


def _step_lines() -> Callable[[str, str, int, int], None]:
    """One line on stderr when a step starts and when it ends (with its time), and one per
    ``progress_step`` takes or frames: what a log file of a long run needs. The project and
    the script, where a refusal stops the run, show only when they end: a refusal stays the
    one line on stderr that every refused command prints."""
    from setpiece.pipeline.make import PRECONDITIONS

    counted = progress_lines("make")
    started: dict[str, float] = {}

    def show(step: str, what: str, done: int, total: int) -> None:
        if what == "start":
            started[step] = time.monotonic()
            if step not in PRECONDITIONS:
                print(f"make: {step} ...", file=sys.stderr, flush=True)
        elif what in ("done", "failed", "skipped"):
            took = time.monotonic() - started[step] if step in started else 0.0
            print(f"make: {step} {what} ({took:.1f} s)", file=sys.stderr, flush=True)
        elif total:
            counted(f"{step} {what}", done, total)

    return show
