"""Commands of the integrity capability: the reference corpus and ``check integrity``.

Heavy imports (numpy, OpenCV, the integrity package) stay inside the command
functions so ``setpiece --help`` does not pay for them.
"""

from __future__ import annotations

from pathlib import Path

import typer

from setpiece.cli._common import console, emit_json, open_production, progress_bar
from setpiece.cli.check import check_app

__all__ = ["check_integrity_command", "reference_app", "register"]

JSON = typer.Option(False, "--json", help="Print one JSON document.")

reference_app = typer.Typer(
    help="The reference corpus: existing works the production must not copy.",
    no_args_is_help=True,
)


@reference_app.command("add")
def reference_add(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Pictures, videos or folders of them."),
    title: str | None = typer.Option(None, "--title", help="The work's title (one file only)."),
    as_json: bool = JSON,
) -> None:
    """Index existing works: stills whole, videos at shot changes and a fixed stride."""
    from setpiece.integrity.corpus import add_references

    with open_production(ctx) as production, progress_bar("reference", enabled=not as_json) as bar:
        report = add_references(production, paths, title=title, progress=bar)
    if as_json:
        emit_json(report)
        return
    out, err = console(), console(stderr=True)
    for work in report.added:
        out.print(f"added reference {work.id}: {work.title} ({work.kind}, {work.frames} frame(s))")
        if work.note:
            err.print(f"note: {work.title}: {work.note}")
    for work in report.existing:
        out.print(f"already in the corpus: reference {work.id}: {work.title}")
    for skipped in report.skipped:
        err.print(f"skipped {skipped.path}: {skipped.reason}")


@reference_app.command("list")
def reference_list(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List the works in the reference corpus."""
    from setpiece.integrity.corpus import list_references

    with open_production(ctx) as production:
        works = list_references(production)
    if as_json:
        emit_json(works)
        return
    out = console()
    if not works:
        out.print("the reference corpus is empty: 'setpiece reference add PATH' adds works")
    for work in works:
        out.print(
            f"{work.id}  {work.title}  {work.kind} {work.width}x{work.height}  "
            f"{work.frames} frame(s)  {work.source}"
        )


@reference_app.command("remove")
def reference_remove(
    ctx: typer.Context, work_id: int = typer.Argument(..., help="The work's id (see list).")
) -> None:
    """Remove a work and its indexed frames from the corpus."""
    from setpiece.integrity.corpus import remove_reference

    with open_production(ctx) as production:
        work = remove_reference(production, work_id)
    console().print(f"removed reference {work.id}: {work.title}")


@check_app.command("integrity")
def check_integrity_command(
    ctx: typer.Context,
    takes: list[str] | None = typer.Option(
        None, "--take", help="Only this take (id or SHOT/NUMBER); repeat for more."
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Also write an HTML report with the evidence pictures."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 3 when anything is found or a take cannot be read."
    ),
    as_json: bool = JSON,
) -> None:
    """Look every take's frames up in the reference corpus; near-duplicates become findings.

    A take whose media do not decode is reported and left out: the check is done in part
    (exit 4). With --strict, anything found or unread exits 3.
    """
    from setpiece.errors import ExitCode
    from setpiece.integrity.check import check_integrity
    from setpiece.integrity.report import write_report
    from setpiece.store.frames import check_target

    if report is not None:
        check_target(report, (".html", ".htm"), "integrity report")
    with open_production(ctx) as production, progress_bar("integrity", enabled=not as_json) as bar:
        result = check_integrity(production, takes or (), progress=bar)
        written = write_report(production, report) if report is not None else None
    if as_json:
        emit_json(result)
    else:
        out, err = console(), console(stderr=True)
        for finding in result.findings:
            out.print(f"{finding.kind} {finding.shot} {finding.take}: {finding.detail}")
        out.print(
            f"checked {len(result.checked)} take(s), {result.frames} frame(s) against "
            f"{result.references} reference work(s): {len(result.findings)} near-duplicate(s)"
        )
        if written is not None:
            out.print(f"report: {written}")
        for bad in result.unreadable:
            err.print(f"setpiece: error: take {bad.label} was not checked: {bad.reason}")
    if strict and (result.findings or result.unreadable):
        raise typer.Exit(ExitCode.FOUND)
    if result.unreadable:
        raise typer.Exit(ExitCode.PARTIAL)


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the root ``app`` (and to ``check_app``)."""
    app.add_typer(reference_app, name="reference")
