"""``setpiece script ...``: screenplay commands, which work without a project.

It lives with the other commands in ``cli`` (the top layer); ``setpiece.script`` below it
reads screenplays and knows nothing of the command line.

The main CLI mounts ``app`` as ``script``. Commands raise ``SetpieceError``
subclasses and leave printing them to the main CLI. ``parse --json`` writes one
JSON document while the script streams: elements as they are read, scene drafts
set aside in a spooled temporary file (a scene's characters are only known once
every speaker is), then the scenes and the warnings; so a 50 MB script prints
in bounded memory. The parser is imported inside the command, so
``setpiece --help`` does not pay for it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

if TYPE_CHECKING:
    from setpiece.script.elements import ScriptStream

__all__ = ["app", "write_json"]

app = typer.Typer(
    name="script",
    help="Read screenplays: Fountain (.fountain) and Final Draft (.fdx).",
    no_args_is_help=True,
    add_completion=False,
)

_SPOOL_BYTES = 1 << 20


@app.callback()
def script() -> None:
    """Read screenplays: Fountain (.fountain) and Final Draft (.fdx)."""


def write_json(stream: ScriptStream, out: TextIO) -> None:
    """Write a script as one JSON document while reading it.

    The document is ``{"title_page", "elements", "scenes", "warnings"}``, the
    shape of ``Script.to_dict``.

    Args:
        stream: The script, not yet read.
        out: Where the JSON goes.
    """
    from setpiece.script.breakdown import Breakdown, SceneDraft

    breakdown = Breakdown()
    out.write('{"title_page": ' + json.dumps(stream.title_page) + ', "elements": [')
    separator = ""
    with tempfile.SpooledTemporaryFile(
        max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8"
    ) as drafts:
        for element in stream:
            out.write(separator + json.dumps(element.to_dict()))
            separator = ", "
            if (draft := breakdown.feed(element)) is not None:
                drafts.write(draft.to_json() + "\n")
        if (last := breakdown.close()) is not None:
            drafts.write(last.to_json() + "\n")
        out.write('], "scenes": [')
        drafts.seek(0)
        separator = ""
        for line in drafts:
            scene = breakdown.finish(SceneDraft.from_json(line))
            out.write(separator + json.dumps(scene.to_dict()))
            separator = ", "
    out.write('], "warnings": ' + json.dumps(stream.warnings) + "}\n")


def _pages(eighths: int) -> str:
    whole, rest = divmod(eighths, 8)
    if not rest:
        return f"{whole}"
    return f"{whole} {rest}/8" if whole else f"{rest}/8"


def _summary(stream: ScriptStream, source: Path) -> None:
    """Print title, scene count, length, speakers and warnings with Rich."""
    import warnings

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from setpiece.script.breakdown import Breakdown, eighths, speaker_lookup
    from setpiece.script.cues import cue_speakers
    from setpiece.script.importer import dialogue_warnings
    from setpiece.script.reading import read_script

    breakdown = Breakdown()
    title = stream.title_page.get("title", "").replace("\n", " ")
    scene_count = total_eighths = element_count = 0
    for element in stream:
        element_count += 1
        if (draft := breakdown.feed(element)) is not None:
            scene_count += 1
            total_eighths += eighths(draft.lines)
    if (last := breakdown.close()) is not None:
        scene_count += 1
        total_eighths += eighths(last.lines)
    cues = list(breakdown.speakers.values())
    speaker = speaker_lookup(cues)
    # The characters as the bible will have them (script.cues): a joint cue is its
    # speakers, a group cue nobody.
    speakers = list(dict.fromkeys(who for cue in cues for who in cue_speakers(cue, speaker)))
    shared = [cue for cue in cues if cue_speakers(cue, speaker) != (cue,)]
    rows = [
        ("Script", str(source)),
        ("Title", title or "(no title page)"),
        ("Scenes", f"{scene_count} ({_pages(total_eighths)} pages)"),
        ("Elements", str(element_count)),
        (f"Characters ({len(speakers)})", ", ".join(speakers) or "(none)"),
    ]
    if shared:
        rows.append((f"Joint and group cues ({len(shared)})", ", ".join(shared)))
    # What an import would also say of the dialogue (a second, whole read: the summary
    # only; --json streams).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        said = list(stream.warnings) + dialogue_warnings(read_script(source), source.name)
    rows.append((f"Warnings ({len(said)})", "\n".join(said) or "(none)"))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, Text(value))  # Text: a title may hold [brackets]
    Console(highlight=False).print(table)


@app.command("parse")
def parse(
    file: Path = typer.Argument(
        ...,
        help="A Fountain (.fountain, .txt) or Final Draft (.fdx) screenplay.",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the whole script as one JSON document on stdout."
    ),
) -> None:
    """Read a screenplay and summarise it, or print it as JSON."""
    import warnings

    from setpiece.script.elements import ScriptWarning
    from setpiece.script.reading import open_script

    with warnings.catch_warnings():
        # Warnings are part of the output (JSON "warnings", or the summary).
        warnings.simplefilter("ignore", ScriptWarning)
        stream = open_script(file)
        if as_json:
            write_json(stream, sys.stdout)
        else:
            _summary(stream, file)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="The screenplay (.fountain or .fdx), first draft or revision."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the import report as one JSON document."
    ),
    force: bool = typer.Option(
        False, "--force", help="Import a script that looks like another screenplay over this one."
    ),
) -> None:
    """Fill the project from a screenplay; a revision keeps every scene's number, shots and takes.

    Scenes are matched by content: a scene that moved keeps its number, a split keeps it
    on its first part, a merge on its first scene. Scenes the revision changed are flagged
    for review, scenes it dropped are marked OMITTED (never deleted), new scenes take the
    previous scene's number with a letter (12A). Once shots exist, numbers are locked.
    """
    import warnings

    from setpiece.cli._common import console, emit_json, open_production
    from setpiece.script.elements import ScriptWarning
    from setpiece.script.importer import import_script

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScriptWarning)  # reported in the summary
        with open_production(ctx) as production:
            report = import_script(production, file, force=force)
    if as_json:
        emit_json(report)
        return
    out = console()
    out.print(
        f"{report.scenes} scenes from {file.name}"
        + (f" ({' '.join(report.title.split())})" if report.title else "")
    )
    for label, items in (
        ("added", report.added),
        ("changed, to review", report.changed),
        ("omitted", report.omitted),
        ("restored", report.restored),
        ("new characters", report.new_characters),
        ("new locations", report.new_locations),
        ("candidate props", report.new_props),
    ):
        if items:
            shown = ", ".join(items[:20]) + (
                f" and {len(items) - 20} more" if len(items) > 20 else ""
            )
            out.print(f"{label}: {shown}")
    if report.unchanged:
        out.print(f"unchanged: {len(report.unchanged)} scenes")
    lines = report.lines
    said = [
        f"{len(items)} {label}" + (f" ({', '.join(items[:10])})" if label != "added" else "")
        for label, items in (
            ("added", lines.added),
            ("changed, to review", lines.changed),
            ("omitted", lines.omitted),
            ("restored", lines.restored),
        )
        if items
    ]
    if said:
        out.print(f"dialogue lines: {'; '.join(said)}")
    for warning in report.warnings:
        out.print(f"warning: {warning}", style="yellow")
