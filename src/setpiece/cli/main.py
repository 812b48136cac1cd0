"""The `setpiece` command: the root options, project-wide commands, and error handling.

Every command keeps the exit-code table of ``setpiece.errors`` (``ExitCode``), mapped
here in one place: errors Setpiece raises on purpose become one line on stderr with
their class's exit code (2 bad input or refused, 5 the environment failed); usage
errors exit 2; only a genuine internal error exits 1 (with a traceback when
``SETPIECE_DEBUG=1``). Commands exit 3 when a check finds something, 4 when done in part.
"""

from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import typer

from setpiece.cli import edit as edit_cli
from setpiece.cli import render as render_cli
from setpiece.cli import shotlist  # noqa: F401  registers 'shot export' and 'shot import'
from setpiece.cli._common import (
    console,
    emit_json,
    human_size,
    open_production,
    progress_bar,
    state,
)
from setpiece.cli.breakdown import bible_app, scene_app, shot_app
from setpiece.cli.dialogue import dialogue_app
from setpiece.cli.edit import edit_app
from setpiece.cli.playlist import playlist_app
from setpiece.cli.review import review_app
from setpiece.cli.script import app as script_app
from setpiece.cli.takes import take_app
from setpiece.model.enums import BibleKind

app = typer.Typer(
    name="setpiece",
    help="Setpiece: the film set around any AI generator. Scenes, shots, takes, the bible, and the cut.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(scene_app, name="scene")
app.add_typer(shot_app, name="shot")
for _kind in BibleKind:
    app.add_typer(bible_app(_kind), name=_kind.value)
app.add_typer(take_app, name="take")
user_app = typer.Typer(help="Members of the production and their roles.", no_args_is_help=True)
app.add_typer(user_app, name="user")
findings_app = typer.Typer(help="What the checks found.", no_args_is_help=True)
app.add_typer(findings_app, name="findings")
db_app = typer.Typer(help="The database schema (for maintainers and CI).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(review_app, name="review")
app.add_typer(playlist_app, name="playlist")
app.add_typer(edit_app, name="edit")
app.add_typer(dialogue_app, name="dialogue")
app.command("contact-sheet")(edit_cli.contact_sheet)
app.command("generators")(render_cli.generators)
app.command("render")(render_cli.render)

app.add_typer(script_app, name="script", help="Screenplays: parse Fountain and Final Draft.")

# Capabilities that register their own commands (each keeps heavy imports inside its
# command functions, so --help stays fast).
from setpiece.cli import continuity as continuity_cli  # noqa: E402  check continuity, match
from setpiece.cli import cost as cost_cli  # noqa: E402  cost
from setpiece.cli import integrity as integrity_cli  # noqa: E402  reference, check integrity
from setpiece.cli import jobs as jobs_cli  # noqa: E402  jobs, worker
from setpiece.cli import make as make_cli  # noqa: E402  make, demo
from setpiece.cli import motion as motion_cli  # noqa: E402  retime, deflicker, cuts, measure
from setpiece.cli import provenance as provenance_cli  # noqa: E402  keys, sign, verify, disclose
from setpiece.cli import web as web_cli  # noqa: E402  serve
from setpiece.cli.check import check_app  # noqa: E402

for _capability in (
    continuity_cli,
    integrity_cli,
    motion_cli,
    provenance_cli,
    web_cli,
    make_cli,
    jobs_cli,
    cost_cli,
):
    _capability.register(app)
app.add_typer(check_app, name="check")

JSON = typer.Option(False, "--json", help="Print one JSON document.")


def _version(value: bool) -> None:
    if value:
        from setpiece import __version__

        print(f"setpiece {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    project: Path | None = typer.Option(
        None,
        "--project",
        "-C",
        help="Project folder (default: found upward from here, or SETPIECE_PROJECT).",
    ),
    db: str | None = typer.Option(None, "--db", help="Database URL (or SETPIECE_DATABASE_URL)."),
    as_user: str | None = typer.Option(
        None, "--as", help="Act as this member (or SETPIECE_USER, or [user] name in setpiece.toml)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    options = state(ctx)
    options.project = str(project) if project is not None else None
    options.database_url = db
    options.actor = as_user


@app.command()
def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(Path("."), help="Project folder (created if needed)."),
    name: str | None = typer.Option(
        None, "--name", help="Film title (default: the folder's name)."
    ),
    fps: str = typer.Option("24", "--fps", help="Frame rate: 24, 25, 23.976 or 24000/1001."),
    resolution: str = typer.Option("1920x1080", "--resolution", help="WIDTHxHEIGHT."),
    aspect: str | None = typer.Option(
        None, "--aspect", help="Display aspect, e.g. 2.39 or 16/9 (default: from the resolution)."
    ),
    media: str | None = typer.Option(
        None,
        "--media",
        help="Media store URL, e.g. s3://bucket/film (default: media/ in the folder).",
    ),
) -> None:
    """Create a project: setpiece.toml, the database and the media store."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.context import init_production
    from setpiece.timebase import parse_rate, parse_resolution

    rate = parse_rate(fps)
    size = parse_resolution(resolution)
    ratio = None
    if aspect is not None:
        try:
            ratio = Fraction(aspect.replace(":", "/")).limit_denominator(1000)
        except (ValueError, ZeroDivisionError):
            raise InvalidInputError(
                f"aspect {aspect!r} is not a ratio: write 2.39, 16/9 or 16:9"
            ) from None
        if not 0.2 <= ratio <= 5:
            raise InvalidInputError(f"aspect {aspect!r} is out of range")
    options = state(ctx)
    with init_production(
        directory,
        name=name,
        fps=rate,
        resolution=size,
        aspect=ratio,
        database_url=options.database_url,
        media_url=media,
        actor=options.actor,
    ) as production:
        row = production.project_row()
        console().print(
            f"Setpiece project {row.name} in {production.config.root} "
            f"({size[0]}x{size[1]}, {rate.numerator}/{rate.denominator} fps)"
        )


@app.command()
def status(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Counts of shots and takes by status, and the size of the media store."""
    from setpiece.production.records import production_status

    with open_production(ctx) as production:
        report = production_status(production)
    if as_json:
        emit_json(report)
        return
    out = console()
    out.print(
        f"{report.name}  {report.width}x{report.height} "
        f"{report.fps.numerator}/{report.fps.denominator} fps"
    )
    out.print(
        f"scenes: {report.scenes}"
        + (f" ({report.omitted_scenes} omitted)" if report.omitted_scenes else "")
    )
    out.print("shots:  " + "  ".join(f"{k} {v}" for k, v in report.shots.items()))
    out.print("takes:  " + "  ".join(f"{k} {v}" for k, v in report.takes.items()))
    out.print(f"media:  {report.media_files} files, {human_size(report.media_bytes)}")
    if report.stale_shots:
        out.print(
            f"stale:  {len(report.stale_shots)} shot(s) made from an older bible: "
            + " ".join(report.stale_shots)
            + " ('setpiece render --stale')"
        )


@app.command()
def fsck(
    ctx: typer.Context,
    gc: bool = typer.Option(
        False,
        "--gc",
        help="Remove media nothing uses any more (evidence of replaced findings...), and files "
        "no row names and stale temp files older than an hour. Admins only.",
    ),
    as_json: bool = JSON,
) -> None:
    """Re-hash every media file; report missing or corrupted files and orphans (exit 3)."""
    from setpiece.errors import ExitCode
    from setpiece.production.fsck import fsck as run_fsck

    with open_production(ctx) as production, progress_bar("fsck", enabled=not as_json) as bar:
        report = run_fsck(
            production, gc=gc, progress=lambda done, total: bar("verify", done, total)
        )
    if as_json:
        emit_json(report)
    else:
        out = console()
        out.print(f"checked {report.checked} files, {human_size(report.bytes)}")
        for problem in report.problems:
            out.print(
                f"{problem.kind}: {problem.detail}"
                + (f" (takes: {', '.join(problem.takes)})" if problem.takes else "")
            )
        if report.collectable:
            out.print(
                f"{len(report.collectable)} file(s), {human_size(report.collectable_bytes)}, no "
                "longer used (evidence of replaced findings...): 'setpiece fsck --gc' frees them"
            )
        young = len(report.unreferenced) - sum(p.kind == "orphan_file" for p in report.problems)
        if young:
            out.print(
                f"{young} file(s) in the store no row names yet (an import may be running; "
                "'setpiece fsck --gc' removes them once they are an hour old)"
            )
        for removed in report.removed:
            out.print(f"removed {removed}")
        if gc:
            out.print(f"freed {human_size(report.freed_bytes)}")
        out.print(
            "clean" if report.ok else f"{len(report.problems)} problem(s)",
            style="green" if report.ok else "red",
        )
    if not report.ok:
        raise typer.Exit(ExitCode.FOUND)


@app.command("log")
def log(
    ctx: typer.Context,
    shot: str | None = typer.Option(None, "--shot", help="Only this shot's history."),
    take: str | None = typer.Option(
        None, "--take", help="Only this take's history (SHOT/NUMBER or id)."
    ),
    limit: int = typer.Option(200, "--limit", min=1, max=100000),
    as_json: bool = JSON,
) -> None:
    """The history of changes: who did what, when."""
    from setpiece.production.records import history
    from setpiece.production.takes import get_take

    entity, entity_id = (
        ("shot", shot.upper()) if shot else ("take", take.lower()) if take else (None, None)
    )
    with open_production(ctx) as production:
        if take and "/" in take:  # SHOT/NUMBER, as the log prints it: history is kept by id
            entity_id = get_take(production, take).id
        events = history(production, entity, entity_id, limit=limit)
    if as_json:
        emit_json(events)
        return
    out = console()
    for e in events:
        change = f"{e.before} -> {e.after}" if e.before else (e.after or "")
        out.print(
            f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor}: {e.action} {e.entity}"
            f" {e.label or e.entity_id} {change}" + (f" ({e.note})" if e.note else "")
        )


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str,
    role: str = typer.Option(..., "--role", help="viewer, artist, director or admin."),
    as_json: bool = JSON,
) -> None:
    """Add a member and print their one-time password. The first must be an admin.

    From the first member on, every command on the project needs a member: act as one with
    --as NAME, SETPIECE_USER or [user] name in setpiece.toml.
    """
    from setpiece.production.accounts import add_member
    from setpiece.production.context import act_as

    with open_production(ctx) as production:
        added = add_member(production, name, role)
    first = (
        f"{added.user.name} is the first member: from now on every command on this project "
        f"needs a member; act as {added.user.name} with {act_as(added.user.name)}"
    )
    if as_json:
        emit_json(added)
        if added.first:
            console(stderr=True).print(first)
        return
    console().print(f"user {added.user.name} ({added.user.role}) added")
    console().print(f"one-time password: {added.password}  (shown once: hand it over privately)")
    if added.first:
        console().print(first)


@user_app.command("token")
def user_token(
    ctx: typer.Context,
    name: str,
    label: str = typer.Option("", "--label", help="What the token is for, e.g. 'render farm'."),
) -> None:
    """Print a new API token for NAME (yourself, or anyone for an admin); shown once."""
    from setpiece.production.accounts import issue_token

    with open_production(ctx) as production:
        token = issue_token(production, name, label)
    print(token)


@user_app.command("password")
def user_password(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="The member whose password to reset."),
    change: bool = typer.Option(
        False, "--change", help="Set your own password instead (asks for the current one)."
    ),
) -> None:
    """Reset NAME's password (yourself, or anyone for an admin), or --change your own.

    A reset prints a one-time password, ends every session of NAME and revokes NAME's API
    tokens. --change asks for your current password and a new one (12 characters or more);
    when standard input is not a terminal it reads them as two lines. It ends your other
    sessions and keeps your tokens.
    """
    from setpiece.errors import InvalidInputError
    from setpiece.production.accounts import change_password, reset_password

    if change == (name is not None):
        raise InvalidInputError("give a NAME to reset, or --change to set your own password")
    if change:
        current, new = _read_passwords()
        with open_production(ctx) as production:
            change_password(production, current, new)
            who = production.actor
        console(stderr=True).print(f"password of {who} changed; your other sessions have ended")
        return
    assert name is not None
    with open_production(ctx) as production:
        changed = reset_password(production, name)
    console(stderr=True).print(
        f"every session of {changed.user.name} ended and their API tokens revoked; "
        "the one-time password logs in once"
    )
    print(changed.password)


@user_app.command("unlock")
def user_unlock(ctx: typer.Context, name: str) -> None:
    """Clear NAME's login lock-outs and failure counts, from every address (admin)."""
    from setpiece.production.accounts import unlock

    with open_production(ctx) as production:
        locked = unlock(production, name)
    console().print(f"user {name} unlocked ({locked} locked address{'es' if locked != 1 else ''})")


def _read_passwords() -> tuple[str, str]:
    """The current and the new password: asked on a terminal, else two lines of stdin."""
    from getpass import getpass

    from setpiece.errors import InvalidInputError

    if sys.stdin.isatty():
        current = getpass("current password: ")
        new = getpass("new password: ")
        if getpass("new password again: ") != new:
            raise InvalidInputError("the two new passwords differ: nothing was changed")
        return current, new
    lines = sys.stdin.read(4096).splitlines()
    if len(lines) < 2 or not lines[0] or not lines[1]:
        raise InvalidInputError(
            "standard input must hold two lines: the current password, then the new one"
        )
    return lines[0], lines[1]


@user_app.command("tokens")
def user_tokens(ctx: typer.Context, name: str, as_json: bool = JSON) -> None:
    """List NAME's API tokens (yourself, or anyone for an admin): id, label, created, last
    used, revoked."""
    from setpiece.production.accounts import list_tokens

    with open_production(ctx) as production:
        tokens = list_tokens(production, name)
    if as_json:
        emit_json(tokens)
        return

    if not tokens:
        console().print(f"{name} has no API tokens")
        return

    def when(at: Any) -> str:
        return f"{at:%Y-%m-%d %H:%M}" if at is not None else "-"

    for t in tokens:
        state = f"revoked {when(t.revoked_at)}" if t.revoked_at else "active"
        console().print(
            f"{t.id}  {t.label or '-'}  created {when(t.created_at)}  "
            f"last used {when(t.last_used_at)}  {state}"
        )


@user_app.command("revoke")
def user_revoke(
    ctx: typer.Context,
    name: str,
    token: int | None = typer.Option(
        None, "--token", min=1, help="The id of the token ('setpiece user tokens NAME')."
    ),
    every: bool = typer.Option(False, "--all", help="Revoke every token of NAME."),
) -> None:
    """Revoke one API token of NAME (--token ID) or all of them (--all)."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.accounts import revoke_tokens

    if every == (token is not None):
        raise InvalidInputError("give --token ID or --all")
    with open_production(ctx) as production:
        revoked = revoke_tokens(production, name, token)
    console().print(f"{revoked} API token{'s' if revoked != 1 else ''} of {name} revoked")


@user_app.command("list")
def user_list(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List members and roles."""
    from setpiece.production.records import list_users

    with open_production(ctx) as production:
        users = list_users(production)
    if as_json:
        emit_json(users)
        return
    for user in users:
        console().print(f"{user.name}  {user.role}")


@findings_app.command("list")
def findings_list(
    ctx: typer.Context,
    shot: str | None = typer.Option(None, "--shot"),
    kind: str | None = typer.Option(
        None, "--kind", help="A kind or its namespace, e.g. continuity."
    ),
    as_json: bool = JSON,
) -> None:
    """List findings of every check."""
    from setpiece.production.records import list_findings

    with open_production(ctx) as production:
        findings = list_findings(production, shot=shot, kind=kind)
        frames = production.frames
    if as_json:
        emit_json(findings)
        return
    for f in findings:
        where = " ".join(
            x
            for x in (
                f.take_label or f.shot,
                frames.label(f.frame) if f.frame is not None else None,
            )
            if x
        )
        console().print(f"{f.kind} {where}: {f.detail}")


@db_app.command("heads")
def db_heads(as_json: bool = JSON) -> None:
    """Heads of the migration history; exits 3 unless there is exactly one."""
    from setpiece.errors import ExitCode
    from setpiece.store.db import migration_heads

    heads = migration_heads()
    if as_json:
        emit_json({"heads": heads})
    else:
        print("\n".join(heads))
    if len(heads) != 1:
        print(
            f"setpiece: error: {len(heads)} migration heads; merge them into one", file=sys.stderr
        )
        raise typer.Exit(ExitCode.FOUND)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: runs the command and maps what escapes to the
    exit-code table (``setpiece.errors.ExitCode``)."""
    from setpiece.errors import ExitCode, SetpieceError, as_setpiece_error

    args = sys.argv[1:] if argv is None else list(argv)
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            print(f"setpiece: error: argument {shown!r} is not valid UTF-8", file=sys.stderr)
            return ExitCode.REFUSED
    try:
        result = app(args=args, prog_name="setpiece", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except SetpieceError as exc:
        print(f"setpiece: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return ExitCode.DONE
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0))
    except (typer.Abort, KeyboardInterrupt):
        print("setpiece: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:
        # Usage errors: Typer's own click (vendored since 0.26) or click itself, told by shape.
        if callable(getattr(exc, "show", None)) and isinstance(
            getattr(exc, "exit_code", None), int
        ):
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        known = as_setpiece_error(exc)  # a full disk, a read-only folder: the environment
        if known is not None:
            print(f"setpiece: error: {known}", file=sys.stderr)
            return known.exit_code
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    """The last line of defence: a one-line report and exit 1 (the traceback with SETPIECE_DEBUG=1)."""
    from setpiece.errors import ExitCode

    if os.environ.get("SETPIECE_DEBUG"):
        raise exc
    print(
        f"setpiece: internal error: {type(exc).__name__}: {exc} "
        "(run with SETPIECE_DEBUG=1 for the traceback, and please report it)",
        file=sys.stderr,
    )
    return ExitCode.BUG


if __name__ == "__main__":
    sys.exit(main())
