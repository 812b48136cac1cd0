"""The bible: characters, locations, props and styles, each with reference images.

These are what continuity is held against and what prompts are composed from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from setpiece.errors import ConflictError, InvalidInputError, NotFoundError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import Appearance, BibleEntry, BibleRef, Scene
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.ingest import media_row, probe_files, store_files
from setpiece.production.rows import media_view
from setpiece.production.views import BibleEntryView

__all__ = ["add_entry", "get_entry", "list_entries"]


def add_entry(
    production: Production,
    kind: BibleKind,
    name: str,
    *,
    description: str = "",
    refs: Sequence[str | os.PathLike[str]] = (),
) -> BibleEntryView:
    """Adds a character, location, prop or style, with its reference images.

    Raises:
        InvalidInputError: An empty name, or a reference that is no still image.
        InvalidMediaError: A reference file that cannot be read.
        ConflictError: An entry of that kind and name exists.
    """
    label = " ".join(name.split())
    if not label or len(label) > 200:
        raise InvalidInputError(f"a {kind} needs a name of 1-200 characters")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        _refuse_duplicate(session, kind, label)
    files = probe_files(refs, kinds=frozenset({"image"}), what="reference") if refs else []
    store_files(production, files)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        _refuse_duplicate(session, kind, label)
        entry = BibleEntry(kind=kind.value, name=label, description=description.strip())
        entry.refs = [
            BibleRef(media=media_row(session, item), position=index)
            for index, item in enumerate(files)
        ]
        session.add(entry)
        session.flush()
        record_event(session, production, kind.value, label, "create")
        return _view(production, entry)


def _refuse_duplicate(session: object, kind: BibleKind, name: str) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    found = session.scalars(
        select(BibleEntry).where(
            BibleEntry.kind == kind.value, func.upper(BibleEntry.name) == name.upper()
        )
    ).first()
    if found is not None:
        raise ConflictError(f"{kind} {found.name} already exists")


def list_entries(production: Production, kind: BibleKind) -> list[BibleEntryView]:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        entries = session.scalars(
            select(BibleEntry)
            .where(BibleEntry.kind == kind.value)
            .options(selectinload(BibleEntry.refs).selectinload(BibleRef.media))
            .order_by(BibleEntry.name)
        ).all()
        found = _appearances(session, [e.id for e in entries])
        return [_view(production, entry, found[entry.id]) for entry in entries]


def get_entry(production: Production, kind: BibleKind, name: str) -> BibleEntryView:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        entry = session.scalars(
            select(BibleEntry).where(
                BibleEntry.kind == kind.value, func.upper(BibleEntry.name) == name.strip().upper()
            )
        ).first()
        if entry is None:
            raise NotFoundError(f"no {kind} {name!r}: 'setpiece {kind} list' shows them")
        return _view(production, entry, _appearances(session, [entry.id])[entry.id])


def _appearances(session: Session, entry_ids: list[int]) -> dict[int, tuple[list[str], int]]:
    """For each entry: the scenes it appears in (script order, omitted ones left out) and its lines."""
    found: dict[int, tuple[list[str], int]] = {i: ([], 0) for i in entry_ids}
    rows = session.execute(
        select(Appearance.entry_id, Scene.number, Appearance.dialogue_lines)
        .join(Scene, Appearance.scene_id == Scene.id)
        .where(Appearance.entry_id.in_(entry_ids), Scene.omitted.is_(False))
        .order_by(Scene.position)
    )
    for entry_id, number, lines in rows:
        scenes, total = found[entry_id]
        scenes.append(number)
        found[entry_id] = (scenes, total + lines)
    return found


def _view(
    production: Production, entry: BibleEntry, appearances: tuple[list[str], int] = ([], 0)
) -> BibleEntryView:
    return BibleEntryView(
        kind=entry.kind,
        name=entry.name,
        description=entry.description,
        refs=[media_view(production, ref.media) for ref in entry.refs],
        candidate=entry.candidate,
        scenes=appearances[0],
        dialogue_lines=appearances[1],
    )
