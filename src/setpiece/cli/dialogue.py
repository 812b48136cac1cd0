"""``setpiece dialogue``: the lines of the script and their audio takes.

``list`` shows them, ``render`` speaks them through the render queue, ``import`` takes an
actor's recording, ``circle`` chooses. Each calls one service (``production.dialogue``,
``pipeline.dialogue``); heavy imports stay inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from setpiece.cli._common import console, emit_json, open_production

__all__ = ["dialogue_app"]

dialogue_app = typer.Typer(
    help="Dialogue: lines from the script, audio takes (synthetic or recorded), circling.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Print one JSON document.")
SCENE = typer.Option(None, "--scene", help="Only this scene's lines.")
CHARACTER = typer.Option(None, "--character", help="Only this character's lines.")
LINE = typer.Option(None, "--line", help="Only this line (SCENE/NUMBER, such as 3/5).")


@dialogue_app.command("list")
def list_(
    ctx: typer.Context,
    scene: str | None = SCENE,
    character: str | None = CHARACTER,
    line: str | None = LINE,
    as_json: bool = JSON,
) -> None:
    """List the lines in script order, with their takes (* circled, ! stale)."""
    from setpiece.production.dialogue import list_lines

    with open_production(ctx) as production:
        lines = list_lines(production, scene=scene, character=character, line=line)
    if as_json:
        emit_json({"lines": [item.to_json() for item in lines]})
        return
    out = console()
    if not lines:
        out.print("no lines (import a script with dialogue: 'setpiece script import FILE')")
    for item in lines:
        cue = item.character + (f" ({item.extension})" if item.extension else "")
        flags = (" ^dual" if item.dual else "") + ("  CHANGED" if item.needs_review else "")
        wryly = f" {item.parenthetical}" if item.parenthetical else ""
        out.print(f"{item.id}  {cue}{flags}:{wryly} {' '.join(item.text.split())}", markup=False)
        for take in item.takes:
            mark = ("*" if take.circled else " ") + ("!" if take.stale else " ")
            length = f"{take.duration:.2f} s" if take.duration is not None else take.status
            loud = f" {take.lufs:.1f} LUFS" if take.lufs is not None else ""
            who = take.voice or "recorded"
            out.print(
                f"  {mark} {item.id}/{take.number} {take.source} {who} {length}{loud}"
                + (f" failed: {take.failure}" if take.failure else ""),
                markup=False,
            )


@dialogue_app.command("render")
def render(
    ctx: typer.Context,
    scene: str | None = SCENE,
    character: str | None = CHARACTER,
    line: str | None = LINE,
    again: bool = typer.Option(
        False, "--again", help="Speak lines whose take is fresh too (a new take each)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Recorded on the takes."),
    as_json: bool = JSON,
) -> None:
    """Speak each chosen line that has no fresh synthetic take, through the render queue.

    A take is fresh while its character's voice and the line's text are as they were
    when it was made: after 'setpiece character voice MARA ...' only MARA's lines are
    spoken again.
    """
    from setpiece.pipeline.dialogue import render_dialogue

    with open_production(ctx) as production:
        report = render_dialogue(
            production, scene=scene, character=character, line=line, again=again, seed=seed
        )
    if as_json:
        emit_json(report.to_json())
    else:
        from setpiece.script.cues import is_group_cue

        out = console()
        for name, voice in report.default_voices.items():
            if is_group_cue(name):
                out.print(
                    f"note: {name} is a group cue, not a character: spoken once with the "
                    f"default {voice} (name the speakers in the script's cue, 'MARA & TEO', "
                    "to hear each in their own voice)"
                )
                continue
            out.print(
                f"note: {name} has no voice; speaking with the default {voice} "
                f"('setpiece character voice {name} --backend ... --voice ...' sets one)"
            )
        out.print(
            f"spoke {report.done} line(s), failed {report.failed}; "
            f"{len(report.fresh)} already fresh"
        )
        for failure in report.failures:
            console(stderr=True).print(f"failed {failure}", style="red", markup=False)
    for refused in report.refused:
        console(stderr=True).print(f"not spoken: {refused}", style="red", markup=False)
    if report.refused and not report.failed:
        from setpiece.errors import ExitCode

        console(stderr=True).print(
            f"setpiece: error: {len(report.refused)} line(s) not spoken as written; the others "
            "were. Fix them in the script and run 'setpiece dialogue render' again"
        )
        raise typer.Exit(ExitCode.PARTIAL)
    if report.failed:
        from setpiece.errors import ExitCode

        console(stderr=True).print(
            f"setpiece: error: {report.failed} line(s) failed to speak; the others are kept. "
            "Why: 'setpiece dialogue list' (each failed take says why); run 'setpiece dialogue "
            "render' again once it is fixed"
        )
        raise typer.Exit(ExitCode.PARTIAL)


@dialogue_app.command("import")
def import_(
    ctx: typer.Context,
    line: str = typer.Argument(..., help="The line, SCENE/NUMBER (3/5)."),
    file: Path = typer.Argument(..., help="The actor's recording, a WAV file."),
    allow_silence: bool = typer.Option(
        False, "--allow-silence", help="Take a silent recording (a deliberate silent beat)."
    ),
    as_json: bool = JSON,
) -> None:
    """Take an actor's recording of a line as a new take (preferred over synthesis).

    A silent recording (nothing above -70 LUFS) is refused: it would silence the line in
    the cut. --allow-silence takes it anyway.
    """
    from setpiece.pipeline.dialogue import import_recording

    with open_production(ctx) as production:
        take = import_recording(production, line, file, allow_silence=allow_silence)
    if as_json:
        emit_json(take.to_json())
        return
    console().print(
        f"{take.line}/{take.number}: recorded, {take.duration:.2f} s"
        + (f", {take.lufs:.1f} LUFS" if take.lufs is not None else "")
    )


@dialogue_app.command("circle")
def circle(
    ctx: typer.Context,
    line: str = typer.Argument(..., help="The line, SCENE/NUMBER (3/5)."),
    take: str = typer.Argument(..., help="The take's number (or id)."),
) -> None:
    """Circle the take a line is heard with in the cut."""
    from setpiece.production.dialogue import circle_line_take

    with open_production(ctx) as production:
        chosen = circle_line_take(production, line, take)
    console().print(f"circled {chosen.line}/{chosen.number}")


@dialogue_app.command("time")
def time_(
    ctx: typer.Context,
    scene: str | None = typer.Option(None, "--scene", help="Only this scene's shots."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report, change nothing."),
    as_json: bool = JSON,
) -> None:
    """Re-time the shots from the dialogue's takes, and list the shots whose length changed.

    Each line counts at its take's measured length (circled, else newest recorded, else
    newest) plus [dialogue] pause; lines without a take keep the words-a-second estimate.
    A shot never ends before its lines do; a length set by hand is only lengthened to fit
    them; a length set by 'setpiece edit import' is kept. 'setpiece make --dialogue'
    times the shots by the same rule.
    """
    from setpiece.pipeline.timing import time_shots

    with open_production(ctx) as production:
        report = time_shots(production, scene=scene, dry_run=dry_run)
    if as_json:
        emit_json(report.to_json())
        return
    out = console()
    verb = "would change" if dry_run else "changed"
    for change in report.changed:
        before = f"{change.before_seconds:.2f} s" if change.before_seconds is not None else "unset"
        out.print(f"{change.code}: {before} -> {change.after_seconds:.2f} s")
    out.print(f"{len(report.changed)} shot(s) {verb} length")
    if report.kept_by_edit:
        out.print(f"kept the edit's length: {', '.join(report.kept_by_edit)}")
