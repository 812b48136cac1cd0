"""Commands of the continuity capability: ``setpiece check continuity`` and ``setpiece match``."""

from __future__ import annotations

from pathlib import Path

import typer

from setpiece.cli._common import console, emit_json, open_production, progress_bar
from setpiece.cli.check import check_app

JSON = typer.Option(False, "--json", help="Print one JSON document.")


@check_app.command("continuity")
def check_continuity_command(
    ctx: typer.Context,
    scene: str | None = typer.Option(None, "--scene", help="Only this scene's shots."),
    shot: str | None = typer.Option(
        None, "--shot", help="Only this shot's takes (and its cut from the shot before)."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write an HTML report with the evidence side by side."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 when anything is found."),
    as_json: bool = JSON,
) -> None:
    """Identity, look and format continuity over the takes; findings are stored.

    A take that cannot be read is reported and the others checked: done in part (exit 4).
    """
    from setpiece.continuity.check import check_continuity
    from setpiece.continuity.report import skipped_summary, write_html
    from setpiece.errors import ExitCode, InvalidInputError
    from setpiece.pipeline.hooks import continuity_checkers
    from setpiece.store.frames import check_target

    if scene is not None and shot is not None:
        raise InvalidInputError("give --scene or --shot, not both")
    if html is not None:
        check_target(html, (".html", ".htm"), "HTML report")
    with (
        open_production(ctx) as production,
        progress_bar("continuity", enabled=not as_json) as bar,
    ):
        report = check_continuity(
            production, scene=scene, shot=shot, checkers=continuity_checkers(), progress=bar
        )
        frames = production.frames
    if html is not None:
        write_html(report, html)
    if as_json:
        emit_json(report)
    else:
        out = console()
        for f in report.findings:
            where = " ".join(
                x
                for x in (
                    report.label(f.take) or f.shot,
                    f.character,
                    frames.label(f.frame) if f.frame is not None else None,
                )
                if x
            )
            out.print(f"{f.kind} {where}: {f.detail}")
        for item in report.unreadable:
            out.print(f"unreadable {item.label}: {item.reason}")
        for check, reason, takes in skipped_summary(report):
            shown = ", ".join(takes[:5]) + (f" and {len(takes) - 5} more" if len(takes) > 5 else "")
            out.print(f"not applied: {check} to {len(takes)} take(s) ({shown}): {reason}")
        for note in report.notes:
            out.print(f"note: {note}")
        out.print(
            f"{report.takes_checked} take(s) checked, {len(report.findings)} finding(s)",
            style="green" if not report.findings else "red",
        )
    if strict and report.findings:
        raise typer.Exit(ExitCode.FOUND)
    if report.unreadable:
        raise typer.Exit(ExitCode.PARTIAL)


def match(
    ctx: typer.Context,
    take: str = typer.Argument(..., help="The take to fix (id or SHOT/NUMBER)."),
    to: str = typer.Option(..., "--to", help="The reference take whose colour is matched."),
    method: str = typer.Option(
        "light", "--method", help="light (gains in linear light), statistics or histogram."
    ),
    as_json: bool = JSON,
) -> None:
    """Make a derived take whose colour matches another take (the fix for a look jump)."""
    from setpiece.continuity.match import match_take

    with open_production(ctx) as production, progress_bar("match", enabled=not as_json) as bar:
        result = match_take(
            production, take, to, method=method, progress=lambda d, t: bar("frames", d, t)
        )
    if as_json:
        emit_json(result)
        return
    console().print(
        f"take {result.take.label} ({result.take.id}) "
        + ("made" if result.created else "already existed")
        + f": ΔE2000 {result.before.delta_e:.1f} -> {result.after.delta_e:.1f}, "
        f"exposure {result.before.stops:+.2f} -> {result.after.stops:+.2f} stops"
    )


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the root ``app`` (``check continuity`` is on ``check_app``)."""
    app.command("match")(match)
