"""`setpiece shot export` and `shot import`: the shot list through a spreadsheet.

Registered on ``shot_app`` when imported (``cli.main`` imports this module). The
format and its rules are in ``setpiece.production.shotlist``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from setpiece.cli._common import console, emit_json, open_production
from setpiece.cli.breakdown import shot_app

__all__ = ["shot_export", "shot_import"]

JSON = typer.Option(False, "--json", help="Print one JSON document.")


@shot_app.command("export")
def shot_export(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The CSV file to write, e.g. shots.csv."),
    scene: str | None = typer.Option(None, "--scene", help="Only this scene's shots."),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
    as_json: bool = JSON,
) -> None:
    """Write the shot list as CSV (UTF-8 with BOM) for Excel, LibreOffice or Sheets."""
    from setpiece.production.shotlist import export_shot_list

    with open_production(ctx) as production:
        report = export_shot_list(production, file, scene=scene, force=force)
    if as_json:
        emit_json(report)
        return
    console().print(f"wrote {report.shots} shots in {report.scenes} scenes to {report.path}")


@shot_app.command("import")
def shot_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A CSV file 'shot export' wrote, edited."),
    add_new: bool = typer.Option(
        False, "--add-new", help="Create shots whose codes are unknown (they need a scene)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; change nothing."),
    as_json: bool = JSON,
) -> None:
    """Apply an edited shot list: every row is checked first; any problem changes nothing."""
    from setpiece.production.shotlist import import_shot_list

    with open_production(ctx) as production:
        report = import_shot_list(production, file, add_new=add_new, dry_run=dry_run)
    if as_json:
        emit_json(report)
        return
    for warning in report.warnings:
        console(stderr=True).print(f"setpiece: warning: {warning}")
    out = console()
    for title, shots in (("created", report.created), ("changed", report.changed)):
        for shot in shots:
            fields = ", ".join(
                f"{c.field} {_short(c.before)} -> {_short(c.after)}" for c in shot.changes
            )
            out.print(f"{title} {shot.code} (scene {shot.scene}): {fields}")
    verb = "would change" if report.dry_run else "changed"
    out.print(
        f"{report.source}: {verb} {len(report.changed)}, "
        f"{'would create' if report.dry_run else 'created'} {len(report.created)}, "
        f"unchanged {report.unchanged}" + (" (dry run: nothing was written)" if dry_run else "")
    )


def _short(value: object) -> str:
    """A value on one line: text quoted when it has spaces, long text cut."""
    if value is None or value == "":
        return "(empty)"
    text = " ".join(str(value).split())
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text) if isinstance(value, str) and " " in text else text
