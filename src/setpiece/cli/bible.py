"""Editing the bible from the command line: ``set``, ``remove``, ``accept``, and for
characters ``look``, ``likeness`` and ``voice``. Every command calls one service of
``production.bible``, ``production.looks``, ``production.likeness`` or (a voice, checked
against its backend) ``pipeline.dialogue``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from setpiece.cli._common import console, open_production
from setpiece.model.enums import BibleKind

if TYPE_CHECKING:
    from setpiece.production.views import BibleEntryView

__all__ = ["add_editing_commands", "check_faces", "print_entry"]


def check_faces(refs: list[Path]) -> None:
    """Refuses a character reference without exactly one face (identity checks need one).

    Without the faces extra the pictures are kept unchecked, and the user is told so.
    """
    from setpiece.continuity.faces import check_reference
    from setpiece.errors import InvalidMediaError, MissingExtraError

    for path in refs:
        try:
            check_reference(path)
        except InvalidMediaError:
            return  # not a picture: the bible refuses it, saying what the file is
        except MissingExtraError as exc:
            console(stderr=True).print(f"note: references not checked for a face ({exc})")
            return


IF_VERSION = typer.Option(
    None, "--if-version", help="Refuse if the entry changed since this version."
)


def print_entry(entry: BibleEntryView) -> None:
    """An entry as ``show`` prints it, references numbered as ``--remove-ref`` takes them."""
    out = console()
    out.print(f"{entry.name} ({entry.kind}), version {entry.version}")
    if entry.aliases:
        out.print("formerly: " + ", ".join(entry.aliases))
    if entry.description:
        out.print(entry.description)
    if entry.candidate_description and entry.candidate_description != entry.description:
        out.print(
            f"the script says: {entry.candidate_description} "
            f"('setpiece {entry.kind} accept {entry.name}' takes it)"
        )
    for number, media in enumerate(entry.refs, start=1):
        out.print(f"  ref {number}: {media.path} {media.width}x{media.height}")
    for look in entry.looks:
        span = f"{look.from_scene}-{look.to_scene or ''}"
        out.print(f"  look scenes {span} (version {look.version}): {look.description}")
        for media in look.refs:
            out.print(f"    ref {media.path} {media.width}x{media.height}")
    if entry.likeness is not None:
        like = entry.likeness
        consent = (
            f"consent {like.consent_date}, {like.scope} (sha256 {like.consent_sha256})"
            if like.consented
            else "NO consent on record"
        )
        out.print(f"likeness of {like.person}: {consent}")
    if entry.scenes:
        out.print("scenes: " + ", ".join(entry.scenes))
    if entry.takes:
        out.print(f"used by {entry.takes} take(s)")


def add_editing_commands(app: typer.Typer, kind: BibleKind) -> None:
    """Adds ``set``, ``remove`` and ``accept`` (and ``look``, ``likeness`` for characters)."""

    @app.command("set")
    def set_(
        ctx: typer.Context,
        name: str,
        description: str | None = typer.Option(None, "--description", help="The new description."),
        ref: list[Path] = typer.Option([], "--ref", help="Add a reference image (repeat)."),
        remove_ref: list[int] = typer.Option(
            [], "--remove-ref", help="Remove reference N, as 'show' numbers them (repeat)."
        ),
        rename: str | None = typer.Option(
            None, "--rename", help="A new name; the old one stays an alias."
        ),
        if_version: int | None = IF_VERSION,
    ) -> None:
        from setpiece.production.bible import set_entry

        if kind == BibleKind.CHARACTER and ref:
            check_faces(ref)
        with open_production(ctx) as production:
            entry = set_entry(
                production,
                kind,
                name,
                description=description,
                refs=ref,
                remove_refs=remove_ref,
                rename=rename,
                expected_version=if_version,
            )
        console().print(
            f"{kind.value} {entry.name} is version {entry.version} "
            f"with {len(entry.refs)} reference(s)"
        )

    set_.__doc__ = (
        f"Change a {kind.value}: description, references, name. Takes made from the "
        "old version become stale."
    )

    @app.command("remove")
    def remove(
        ctx: typer.Context,
        name: str,
        force: bool = typer.Option(
            False, "--force", help="Remove it even if takes used it (the takes are kept)."
        ),
    ) -> None:
        from setpiece.production.bible import remove_entry

        with open_production(ctx) as production:
            used = remove_entry(production, kind, name, force=force)
        kept = f"; {len(used)} take(s) made with it are kept" if used else ""
        console().print(f"{kind.value} {name} removed{kept}")

    remove.__doc__ = f"Remove a {kind.value} (refused while takes used it, unless --force)."

    @app.command("accept")
    def accept(ctx: typer.Context, name: str, if_version: int | None = IF_VERSION) -> None:
        from setpiece.production.bible import accept_candidate

        with open_production(ctx) as production:
            entry = accept_candidate(production, kind, name, expected_version=if_version)
        console().print(f"{kind.value} {entry.name}: {entry.description} (version {entry.version})")

    accept.__doc__ = f"Make the script's description of a {kind.value} its description."

    if kind is not BibleKind.CHARACTER:
        return

    @app.command("look")
    def look(
        ctx: typer.Context,
        name: str,
        from_scene: str = typer.Option(..., "--from-scene", help="The first scene of the look."),
        to_scene: str | None = typer.Option(
            None, "--to-scene", help="Its last scene (default: to the end of the film)."
        ),
        description: str = typer.Option("", "--description", help='e.g. "oilskin coat, wet hair"'),
        ref: list[Path] = typer.Option([], "--ref", help="A reference image of the look (repeat)."),
    ) -> None:
        """Give a character a look from one scene on (wardrobe, hair); the same --from-scene
        again edits it."""
        from setpiece.production.looks import set_look

        if ref:
            check_faces(ref)
        with open_production(ctx) as production:
            entry = set_look(
                production,
                kind,
                name,
                from_scene=from_scene,
                to_scene=to_scene,
                description=description,
                refs=ref,
            )
        console().print(f"{entry.name} has {len(entry.looks)} look(s)")

    @app.command("likeness")
    def likeness(
        ctx: typer.Context,
        name: str,
        person: str = typer.Option(..., "--person", help="The real person the character is."),
        consent: Path | None = typer.Option(None, "--consent", help="The signed consent."),
        date: str | None = typer.Option(None, "--date", help="The consent's date, YYYY-MM-DD."),
        scope: str | None = typer.Option(None, "--scope", help="What the consent allows."),
    ) -> None:
        """Record that a character is a real person's likeness, and under what consent."""
        from setpiece.production.likeness import record_likeness

        with open_production(ctx) as production:
            entry = record_likeness(
                production, name, person=person, consent=consent, date=date, scope=scope
            )
        assert entry.likeness is not None
        said = "with consent" if entry.likeness.consented else "WITHOUT consent on record"
        console().print(f"{entry.name} is the likeness of {entry.likeness.person}, {said}")

    @app.command("voice")
    def voice(
        ctx: typer.Context,
        name: str,
        backend: str = typer.Option(..., "--backend", help="The voice backend (espeak, ...)."),
        voice_id: str = typer.Option(..., "--voice", help="The backend's voice id (en-us+m3)."),
        rate: int | None = typer.Option(None, "--rate", help="Words a minute (175 normal)."),
        pitch: int | None = typer.Option(None, "--pitch", help="0 to 100 (50 normal)."),
        sample: Path | None = typer.Option(
            None, "--sample", help="A reference recording, for a backend that clones."
        ),
    ) -> None:
        """Give a character a voice; its lines' synthetic takes made with another turn stale."""
        from setpiece.pipeline.dialogue import character_voice

        with open_production(ctx) as production:
            set_ = character_voice(
                production,
                name,
                backend=backend,
                voice=voice_id,
                rate=rate,
                pitch=pitch,
                sample=sample,
            )
        extra = "".join(
            f" {label} {value}"
            for label, value in (("rate", set_.rate), ("pitch", set_.pitch))
            if value is not None
        )
        console().print(
            f"{set_.character} speaks with {set_.backend}:{set_.voice}{extra}; "
            f"'setpiece dialogue render --character {set_.character}' speaks the lines again"
        )
