"""`setpiece edit` (assemble the cut, bring an editor's cut back) and `setpiece contact-sheet`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from setpiece.cli._common import console, emit_json, open_production, progress_bar
from setpiece.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable

    from setpiece.pipeline.deliver import DeliveryReport
    from setpiece.production.cut import Cut

edit_app = typer.Typer(
    help="The cut: assembly, timelines for the editor, the preview movie.", no_args_is_help=True
)


@edit_app.command("assemble")
def assemble(
    ctx: typer.Context,
    scene: str | None = typer.Option(None, "--scene", help="Only this scene."),
    otio: Path | None = typer.Option(
        None, "--otio", help="OpenTimelineIO file (.otio, or .otioz with media)."
    ),
    edl: Path | None = typer.Option(None, "--edl", help="CMX 3600 EDL."),
    fcpxml: Path | None = typer.Option(
        None, "--fcpxml", help="Final Cut Pro 7 XML (Premiere, Resolve)."
    ),
    movie: Path | None = typer.Option(None, "--movie", help="Preview movie (MP4, H.264 and AAC)."),
    burn_in: bool = typer.Option(
        False, "--burn-in", help="Scene, shot, take and timecode on the movie."
    ),
    sheet: Path | None = typer.Option(
        None, "--contact-sheet", help="Contact sheet (PNG): each shot's middle frame."
    ),
    include_unapproved: bool = typer.Option(
        False, "--include-unapproved", help="Use the newest take where a shot has none circled."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the cut, and what was delivered, as one JSON document."
    ),
) -> None:
    """Build the cut in script order from circled takes (slates where a shot has none) and deliver it.

    Each file is watermarked and signed (the timelines with a .c2pa sidecar), verified, and
    the AI-use disclosure (NAME.disclosure.json and .html) is written beside them.
    """
    from setpiece.pipeline.timing import line_overruns
    from setpiece.production.cut import assemble as assemble_cut
    from setpiece.timebase import timecode

    delivery = None
    with open_production(ctx) as production:
        cut = assemble_cut(production, scene=scene, include_unapproved=include_unapproved)
        overruns = line_overruns(production, cut, scene=scene)
        if movie or otio or edl or fcpxml or sheet:
            from setpiece.pipeline.deliver import deliver_cut

            with progress_bar("preview", enabled=not as_json and movie is not None) as bar:
                delivery = deliver_cut(
                    production,
                    cut,
                    otio=otio,
                    edl=edl,
                    fcp_xml=fcpxml,
                    movie=movie,
                    burn_in=burn_in,
                    contact_sheet=sheet,
                    scene=scene,
                    include_unapproved=include_unapproved,
                    progress=bar,
                )
    if as_json:
        from setpiece.production.views import jsonable

        found = {**jsonable(cut), "dialogue_overruns": overruns}
        emit_json(found if delivery is None else {**found, "delivery": jsonable(delivery)})
    else:
        _print_delivery(cut, delivery, timecode(cut.duration, cut.fps))
        for warning in overruns:
            console().print(f"warning: {warning}", style="yellow")
    if delivery is not None and not delivery.ok:
        raise typer.Exit(ExitCode.PARTIAL)


def _print_delivery(cut: Cut, delivery: DeliveryReport | None, duration: str) -> None:
    out = console()
    slates = sum(1 for c in cut.clips if c.kind == "slate")
    provisional = sum(1 for c in cut.clips if c.status == "provisional")
    out.print(f"{len(cut.clips)} shots, {duration} ({slates} slate(s), {provisional} provisional)")
    for warning in cut.warnings:
        out.print(f"conformed: {warning}", style="yellow")
    if delivery is None:
        return
    labels = {"otio": "otio", "otioz": "otio bundle", "edl": "edl", "fcp_xml": "fcp xml"}
    labels |= {"movie": "movie", "contact_sheet": "contact sheet"}
    for kind, path in delivery.files.items():
        state = delivery.verified[kind]
        style = None if state in ("Valid", "Trusted") else "red"
        out.print(f"{labels[kind]}: {path} ({state})", style=style)
        if kind in delivery.manifests:
            out.print(f"  signed sidecar: {delivery.manifests[kind]}")
    for path in delivery.disclosure_files:
        out.print(f"AI-use disclosure: {path}")
    out.print(f"signed by {delivery.signer}")


@edit_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="An editor's cut: .otio or .edl."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would change; write nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
) -> None:
    """Bring an editor's cut back: new in and out points become the shots' planned durations."""
    from setpiece.edit.conform_import import import_edit

    with open_production(ctx) as production:
        report = import_edit(production, file, dry_run=dry_run)
    if as_json:
        emit_json(report)
        return
    out = console()
    verb = "would change" if not report.applied else "changed"
    out.print(f"{report.clips} clips in {file.name}, {report.matched} matched to takes")
    if report.lines:
        out.print(f"{len(report.lines)} dialogue line(s) on its audio tracks, kept as placed")
    for change in report.changes:
        before = "none" if change.before is None else f"{change.before}"
        out.print(f"{verb} {change.shot}: planned {before} -> {change.after} frames")
    if report.order_changed:
        out.print(
            f"the edit reorders shots (not applied: the script decides order): moved {', '.join(report.moved)}"
        )
    for clip in report.unmatched:
        out.print(f"no take for clip {clip.index} {clip.name!r}: {clip.reason}", style="yellow")
    for name in report.missing_media:
        out.print(f"media not found: {name}", style="yellow")
    for warning in report.warnings:
        out.print(f"warning: {warning}", style="yellow")


def contact_sheet(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The PNG to write."),
    scene: str | None = typer.Option(None, "--scene", help="Only this scene."),
    columns: int = typer.Option(4, "--columns", min=1, max=12),
) -> None:
    """A grid of each shot's circled take (middle frame), with code and status."""
    from setpiece.edit.contact_sheet import contact_sheet as write_sheet
    from setpiece.provenance.deliver import Delivered, cut_deliverer

    delivered: list[Delivered] = []

    def deliver_sheet(cut: Cut) -> Callable[[Path, Path], Delivered]:
        deliver = cut_deliverer(production, cut)  # watermarked and signed as delivered

        def keep(raw: Path, target: Path) -> Delivered:
            delivered.append(deliver(raw, target))
            return delivered[-1]

        return keep

    with open_production(ctx) as production:
        path = write_sheet(production, out, scene=scene, columns=columns, deliver=deliver_sheet)
    note = next((d.note for d in delivered if d.note), None)
    console().print(f"contact sheet: {path}" + (f" ({note})" if note else ""))
