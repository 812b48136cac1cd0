"""`setpiece review`: submit, approve (circle), retake, comment, history."""

from __future__ import annotations

import typer

from setpiece.cli._common import console, emit_json, open_production

review_app = typer.Typer(
    help="Review: approvals, retakes and comments, with who and when.", no_args_is_help=True
)


@review_app.command("submit")
def submit(ctx: typer.Context, shot: str, note: str | None = typer.Option(None, "--note")) -> None:
    """Send a shot to review."""
    from setpiece.production.review import submit as submit_shot

    with open_production(ctx) as production:
        view = submit_shot(production, shot, note=note)
    console().print(f"shot {view.code} is in review")


@review_app.command("approve")
def approve(
    ctx: typer.Context,
    shot: str,
    take: str = typer.Argument(..., help="Take id or SHOT/NUMBER."),
    note: str | None = typer.Option(None, "--note"),
    if_version: int | None = typer.Option(
        None, "--if-version", help="Refuse if the shot changed since this version."
    ),
) -> None:
    """Circle a take and approve its shot (any other circled take of the shot is un-circled)."""
    from setpiece.production.review import approve as approve_take

    with open_production(ctx) as production:
        view = approve_take(production, shot, take, note=note, expected_version=if_version)
    console().print(f"shot {view.shot} approved: take {view.label} (id {view.id}) circled")


@review_app.command("retake")
def retake(
    ctx: typer.Context,
    shot: str,
    note: str = typer.Option(..., "--note", help="Why: what the next take must fix."),
    if_version: int | None = typer.Option(None, "--if-version"),
) -> None:
    """Ask for a retake, with the reason."""
    from setpiece.production.review import request_retake

    with open_production(ctx) as production:
        view = request_retake(production, shot, note, expected_version=if_version)
    console().print(f"shot {view.code} needs a retake")


@review_app.command("comment")
def comment(
    ctx: typer.Context,
    shot: str,
    note: str = typer.Option(..., "--note"),
    take: str | None = typer.Option(None, "--take", help="Take id or SHOT/NUMBER."),
    frame: int | None = typer.Option(
        None,
        "--frame",
        help="Frame of the take as the board shows it: from [project] first_frame (default 0).",
    ),
) -> None:
    """Comment on a shot, a take, or one frame of a take."""
    from setpiece.production.review import add_comment

    with open_production(ctx) as production:
        frames = production.frames
        stored = frames.stored(frame) if frame is not None else None
        view = add_comment(production, shot, note, take=take, frame=stored)
    where = (
        f"take {view.take_label}"
        + (f" {frames.label(view.frame)}" if view.frame is not None else "")
        if view.take
        else "shot"
    )
    console().print(f"comment {view.id} on {view.shot} {where}")


@review_app.command("history")
def history(ctx: typer.Context, shot: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every decision about a shot and its takes: who, what and when."""
    from setpiece.production.review import shot_history

    with open_production(ctx) as production:
        items = shot_history(production, shot)
    if as_json:
        emit_json(items)
        return
    out = console()
    for item in items:
        change = (
            f" {item.before} -> {item.after}"
            if item.before
            else (f" {item.after}" if item.after else "")
        )
        out.print(
            f"{item.at:%Y-%m-%d %H:%M:%S} {item.actor}: {item.action} {item.target}{change}"
            + (f" ({item.note})" if item.note else "")
        )
