"""What every command shares: the global options, opening the project, printing.

Read commands print exactly one JSON document with ``--json``; otherwise Rich
tables. Nothing here imports a database or media library at import time, so
``setpiece --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from setpiece.production.context import Production

__all__ = [
    "PROGRESS_EVERY",
    "State",
    "console",
    "emit_json",
    "open_production",
    "progress_bar",
    "progress_lines",
    "progress_step",
    "state",
]


@dataclass
class State:
    """The global options, set by the root callback."""

    project: str | None = None
    database_url: str | None = None
    actor: str | None = None


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def open_production(ctx: typer.Context) -> Production:
    """The project the command acts on, with the capabilities' hooks installed."""
    from setpiece.pipeline.hooks import install
    from setpiece.production.context import Production

    install()

    options = state(ctx)
    return Production.open(options.project, database_url=options.database_url, actor=options.actor)


def emit_json(value: Any) -> None:
    """Prints one JSON document on stdout: indented on a terminal, compact in a pipe.

    orjson, not the standard library: a 10,000-shot list serialises in a fifth of the time
    (bench/shot_list.py). Views keep their own ``to_json``; orjson hands dataclasses back to
    ``jsonable`` so that shape is the one printed.
    """
    import orjson

    from setpiece.production.views import jsonable

    options = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE
    if sys.stdout.isatty():
        options |= orjson.OPT_INDENT_2
    sys.stdout.flush()
    sys.stdout.buffer.write(orjson.dumps(value, default=jsonable, option=options))
    sys.stdout.buffer.flush()


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    # markup off: user text (headings, prompts) must never be read as Rich markup.
    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False)


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A Rich progress bar on stderr, fed as (phase, done, total); silent when not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda phase, done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(f"{label}: {phase}", total=total)
            progress.update(tasks[phase], completed=done)

        yield update


# Items (takes, frames) between two progress lines when stderr is not a terminal; a long
# phase gets at most PROGRESS_LINES lines (a 2,000-frame movie: one every 100 frames).
PROGRESS_EVERY = 10
PROGRESS_LINES = 20


def progress_step(total: int) -> int:
    """How many items apart two progress lines of a phase of ``total`` items are."""
    return max(PROGRESS_EVERY, -(-total // PROGRESS_LINES))


def progress_lines(label: str) -> Callable[[str, int, int], None]:
    """Progress for a pipe or a log file: plain lines on stderr, fed as (phase, done, total).

    A line when a phase starts, every ``progress_step(total)`` items and when it ends,
    each flushed at once: a long run piped to a file shows where it is, never a Rich
    bar's control codes.
    """
    shown: dict[str, int] = {}

    def update(phase: str, done: int, total: int) -> None:
        last = shown.get(phase)
        if last == done or not (
            last is None or done >= total or done - last >= progress_step(total)
        ):
            return
        shown[phase] = done
        print(f"{label}: {phase} {done}/{total}", file=sys.stderr, flush=True)

    return update


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
