"""`setpiece playlist`: takes to review in order, from a query or named by hand."""

from __future__ import annotations

import typer

from setpiece.cli._common import console, emit_json, open_production

playlist_app = typer.Typer(
    help="Playlists of takes to review in order, each in its place in the cut.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Print one JSON document.")


@playlist_app.command("create")
def playlist_create(
    ctx: typer.Context,
    name: str,
    takes: list[str] | None = typer.Argument(
        None, help="With --takes: the takes in order, as SHOT/NUMBER or ids (1A/1 2B/3)."
    ),
    query: str | None = typer.Option(
        None, "--query", help="scene:N, review (waiting for review), findings or stale."
    ),
    by_hand: bool = typer.Option(
        False, "--takes", help="The playlist is the takes named after the name, in that order."
    ),
    as_json: bool = JSON,
) -> None:
    """Make a playlist from a query (--query review) or from takes named by hand (--takes 1A/1 2B/3)."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.playlists import create_playlist

    if by_hand and not takes:
        raise InvalidInputError("--takes needs the takes after it, e.g. --takes 1A/1 2B/3")
    if takes and not by_hand:
        raise InvalidInputError(f"{' '.join(takes)!r} after the name: name takes with --takes")
    with open_production(ctx) as production:
        made = create_playlist(production, name, query=query, takes=takes or None)
    if as_json:
        emit_json(made)
        return
    console().print(f"playlist {made.name}: {made.takes} take(s)")


@playlist_app.command("list")
def playlist_list(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List playlists, newest first."""
    from setpiece.production.playlists import list_playlists

    with open_production(ctx) as production:
        found = list_playlists(production)
    if as_json:
        emit_json(found)
        return
    from rich.table import Table

    table = Table("playlist", "query", "takes", "by", "made", box=None)
    for playlist in found:
        table.add_row(
            playlist.name,
            playlist.query or "(by hand)",
            str(playlist.takes),
            playlist.created_by,
            f"{playlist.created_at:%Y-%m-%d %H:%M}",
        )
    console().print(table)


@playlist_app.command("show")
def playlist_show(ctx: typer.Context, name: str, as_json: bool = JSON) -> None:
    """Show a playlist's takes in order, with the shots before and after each in the cut."""
    from setpiece.production.playlists import get_playlist

    with open_production(ctx) as production:
        playlist = get_playlist(production, name)
    if as_json:
        emit_json(playlist)
        return
    from rich.table import Table

    fps = playlist.fps
    out = console()
    out.print(
        f"{playlist.name}: {playlist.takes} take(s), {playlist.query or 'by hand'}, "
        f"at {fps.numerator}/{fps.denominator} fps"
    )
    table = Table("#", "take", "status", "before", "after", "", box=None)
    for item in playlist.items:
        table.add_row(
            str(item.position),
            item.label,
            item.status or "",
            item.before.take or item.before.shot if item.before else "(start)",
            item.after.take or item.after.shot if item.after else "(end)",
            f"MISSING: {item.missing}" if item.missing else "",
        )
    out.print(table)
