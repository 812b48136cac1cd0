"""The bible: characters, locations, props and styles, each with reference images.

These are what continuity is held against and what prompts are composed from, and they
change while the film is made: a description is written after the script is imported,
photographs arrive later, a character is renamed. Each entry therefore carries a version
that every edit of what a picture depends on (name, description, references) raises, and
every take records the versions it was made from (``production.stale`` compares them).

The version is also the entry's edit check: every UPDATE compares it (``BibleEntry``'s
``version_id_col``), so of two people editing one entry at once the second gets a
conflict instead of overwriting the first, and ``expected_version`` (``--if-version``,
the API's ``If-Match``) names what changed since the version the caller saw.

Looks by scene live in ``production.looks``, likenesses in ``production.likeness``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import (
    Appearance,
    BibleEntry,
    BibleLook,
    BibleRef,
    Event,
    Likeness,
    Line,
    Scene,
    ShotSubject,
    Take,
)
from setpiece.production.context import Production
from setpiece.production.entries import entry_label, entry_row, find_entry
from setpiece.production.history import record_event
from setpiece.production.ingest import Ingested, media_row, probe_files, store_files
from setpiece.production.rows import media_view
from setpiece.production.views import BibleEntryView, LikenessView, LookView

__all__ = [
    "accept_candidate",
    "add_entry",
    "entry_view",
    "get_entry",
    "list_entries",
    "probe_references",
    "remove_entry",
    "set_entry",
    "takes_using",
]


def _label(name: str, kind: BibleKind) -> str:
    label = " ".join(name.split())
    if not label or len(label) > 200:
        raise InvalidInputError(f"a {kind} needs a name of 1-200 characters")
    return label


def probe_references(refs: Sequence[str | os.PathLike[str]]) -> list[Ingested]:
    """Reference images checked (``store.probe``: a still, not a decompression bomb) and hashed.

    Raises:
        InvalidMediaError: A file that is no still image, unreadable, or a decompression bomb.
        InvalidInputError: A missing file.
    """
    return probe_files(refs, kinds=frozenset({"image"}), what="reference") if refs else []


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
        ConflictError: An entry of that kind answers to that name (its own or a former one).
    """
    label = _label(name, kind)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        _refuse_duplicate(session, kind, label)
    files = probe_references(refs)
    store_files(production, files)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        _refuse_duplicate(session, kind, label)
        entry = BibleEntry(
            kind=kind.value, name=label, description=description.strip(), version=1, aliases=[]
        )
        entry.refs = [
            BibleRef(media=media_row(session, item), position=index)
            for index, item in enumerate(files)
        ]
        session.add(entry)
        session.flush()
        record_event(
            session,
            production,
            kind.value,
            label,
            "create",
            data={"entry_id": entry.id, "version": 1},
        )
        return entry_view(session, production, entry)


def _refuse_duplicate(
    session: Session, kind: BibleKind, name: str, *, other_than: int | None = None
) -> None:
    found = find_entry(session, kind, name)
    if found is not None and found.id != other_than:
        if found.name.upper() == name.upper():
            raise ConflictError(f"{kind} {found.name} already exists")
        raise ConflictError(f"{kind} {found.name} was called {name} before: that name is taken")


def set_entry(
    production: Production,
    kind: BibleKind,
    name: str,
    *,
    description: str | None = None,
    refs: Sequence[str | os.PathLike[str]] = (),
    remove_refs: Sequence[int] = (),
    rename: str | None = None,
    expected_version: int | None = None,
) -> BibleEntryView:
    """Edits an entry: its description, references (removed by number, then added) or name.

    A rename keeps the old name as an alias. Any change raises the entry's version, which
    makes the takes made from the old one stale.

    Args:
        production: The open project.
        kind: Character, location, prop or style.
        name: The entry's name (or a former one).
        description: The new description; None keeps it.
        refs: Reference images to add after the kept ones.
        remove_refs: 1-based numbers of references to remove, as ``show`` lists them.
        rename: A new name.
        expected_version: The version the caller saw; another is a conflict.

    Raises:
        InvalidInputError: Nothing to change, a reference number that does not exist, a bad name.
        InvalidMediaError: A reference that is no still image or a decompression bomb.
        NotFoundError: An unknown entry.
        ConflictError: The entry changed since ``expected_version`` (what changed is named), a
            rename onto a name another entry answers to, or someone edited it meanwhile.
    """
    if description is None and not refs and not remove_refs and rename is None:
        raise InvalidInputError(
            "nothing to set: give --description, --ref, --remove-ref or --rename"
        )
    new_name = _label(rename, kind) if rename is not None else None
    with production.transaction(read_only=True) as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, kind, name)
        _check_version(session, entry, expected_version)
        _check_ref_numbers(entry, remove_refs)
    files = probe_references(refs)
    store_files(production, files)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, kind, name)
        _check_version(session, entry, expected_version)
        _check_ref_numbers(entry, remove_refs)
        changed: list[str] = []
        before: dict[str, Any] = {}
        if new_name is not None and new_name != entry.name:
            _refuse_duplicate(session, kind, new_name, other_than=entry.id)
            before["name"] = entry.name
            kept = [a for a in entry.aliases or [] if a.upper() != new_name.upper()]
            if entry.name.upper() != new_name.upper():
                kept.append(entry.name)
            entry.aliases = kept
            entry.name = new_name
            changed.append("name")
        if description is not None and description.strip() != entry.description:
            before["description"] = entry.description
            entry.description = description.strip()
            changed.append("description")
        if remove_refs or files:
            before["refs"] = [r.media_sha256 for r in entry.refs]
            _replace_refs(session, entry, set(remove_refs), files)
            changed.append("references")
        if not changed:
            return entry_view(session, production, entry)
        _bump(session, production, entry, changed, before)
        return entry_view(session, production, entry)


def _replace_refs(
    session: Session, entry: BibleEntry, removed: set[int], files: list[Ingested]
) -> None:
    kept = [r for number, r in enumerate(entry.refs, start=1) if number not in removed]
    for ref in entry.refs:
        if ref not in kept:
            session.delete(ref)
    session.flush()
    added = [BibleRef(media=media_row(session, item)) for item in files]
    entry.refs = kept + added
    for position, ref in enumerate(entry.refs):
        ref.position = position


def _bump(
    session: Session,
    production: Production,
    entry: BibleEntry,
    changed: list[str],
    before: dict[str, Any],
) -> None:
    """Raises the entry's version and records what changed."""
    entry.version = entry.version + 1
    session.flush()
    record_event(
        session,
        production,
        entry.kind,
        entry.name,
        "edit",
        note=", ".join(changed),
        data={"entry_id": entry.id, "version": entry.version, "changed": changed, "before": before},
    )


def _check_ref_numbers(entry: BibleEntry, numbers: Sequence[int]) -> None:
    count = len(entry.refs)
    for number in numbers:
        if not 1 <= number <= count:
            have = f"1 to {count}" if count else "none"
            raise InvalidInputError(
                f"{entry.kind} {entry.name} has no reference {number}: its references are "
                f"numbered {have} ('setpiece {entry.kind} show {entry.name}')"
            )
    if len(set(numbers)) != len(numbers):
        raise InvalidInputError("a reference number is given twice")


def _check_version(session: Session, entry: BibleEntry, expected: int | None) -> None:
    """Refuses an edit based on another version, naming the changes made since it.

    Raises:
        ConflictError: ``expected`` is not the entry's version.
    """
    if expected is None or expected == entry.version:
        return
    since = []
    for event in session.scalars(
        select(Event).where(Event.entity == entry.kind).order_by(Event.at, Event.id)
    ):
        data = event.data or {}
        if data.get("entry_id") == entry.id and int(data.get("version", 0)) > expected:
            what = ", ".join(data.get("changed") or [event.action])
            since.append(f"version {data['version']}: {what} by {event.actor}")
    detail = f" ({'; '.join(since)})" if since else ""
    raise ConflictError(
        f"{entry_label(entry)} changed since version {expected}: it is now version "
        f"{entry.version}{detail}; look again ('setpiece {entry.kind} show {entry.name}') "
        "and retry with --if-version"
        f" {entry.version}"
    )


def accept_candidate(
    production: Production, kind: BibleKind, name: str, *, expected_version: int | None = None
) -> BibleEntryView:
    """Makes the script's candidate description the entry's description.

    Raises:
        NotFoundError: An unknown entry.
        InvalidInputError: The script gave the entry no description.
        ConflictError: The entry changed since ``expected_version``.
    """
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, kind, name)
        _check_version(session, entry, expected_version)
        candidate = (entry.candidate_description or "").strip()
        if not candidate:
            raise InvalidInputError(
                f"the script gives {entry_label(entry)} no description to accept: write one "
                f"with 'setpiece {kind.value} set {entry.name} --description TEXT'"
            )
        if candidate != entry.description:
            before = {"description": entry.description}
            entry.description = candidate
            _bump(session, production, entry, ["description"], before)
        return entry_view(session, production, entry)


def takes_using(session: Session, entry: BibleEntry) -> list[Take]:
    """The takes made with an entry: those that recorded it, and those of shots it is in."""
    in_shots = set(
        session.scalars(select(ShotSubject.shot_id).where(ShotSubject.entry_id == entry.id))
    )
    found: list[Take] = []
    for take in session.scalars(select(Take).order_by(Take.created_at, Take.id)):
        recorded = any(r.get("entry_id") == entry.id for r in take.bible or [])
        if recorded or take.shot_id in in_shots:
            found.append(take)
    return found


def remove_entry(
    production: Production, kind: BibleKind, name: str, *, force: bool = False
) -> list[str]:
    """Removes an entry, its references, looks, likeness and its place in shots and scenes.

    Takes are never removed: with ``force`` the takes made with it stay (and are stale).

    Returns:
        The labels (``3B/2``) of the takes that used it.

    Raises:
        NotFoundError: An unknown entry.
        ConflictError: Takes used the entry and ``force`` is not given (they are named).
    """
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, kind, name)
        used = [f"{t.shot.code}/{t.number}" for t in takes_using(session, entry)]
        if used and not force:
            shown = ", ".join(used[:10]) + (f" and {len(used) - 10} more" if len(used) > 10 else "")
            raise ConflictError(
                f"{entry_label(entry)} was used by {len(used)} take(s) ({shown}): "
                "remove it anyway with --force (the takes are kept)"
            )
        for table in (ShotSubject, Appearance, Likeness, BibleLook, BibleRef):
            session.execute(delete(table).where(table.entry_id == entry.id))
        # Its lines stay (they are the script's), spoken by a name the bible no longer holds.
        session.execute(update(Line).where(Line.entry_id == entry.id).values(entry_id=None))
        session.expire(entry)
        record_event(
            session,
            production,
            entry.kind,
            entry.name,
            "remove",
            data={"entry_id": entry.id, "version": entry.version, "takes": used},
        )
        session.delete(entry)
        return used


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
        return [entry_view(session, production, e, found[e.id], counted=False) for e in entries]


def get_entry(production: Production, kind: BibleKind, name: str) -> BibleEntryView:
    """One entry, by its name or a former one.

    Raises:
        NotFoundError: An unknown entry.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        entry = entry_row(session, kind, name)
        return entry_view(session, production, entry, _appearances(session, [entry.id])[entry.id])


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


def entry_view(
    session: Session,
    production: Production,
    entry: BibleEntry,
    appearances: tuple[list[str], int] = ([], 0),
    *,
    counted: bool = True,
) -> BibleEntryView:
    """An entry as the CLI and the web show it (``counted``: with its number of takes)."""
    from setpiece.model.orm import Media

    looks = []
    for look in entry.looks:
        media = [session.get(Media, sha) for sha in look.references or []]
        looks.append(
            LookView(
                id=look.id,
                from_scene=look.from_scene.number,
                to_scene=look.to_scene.number if look.to_scene else None,
                description=look.description,
                refs=[media_view(production, m) for m in media if m is not None],
                version=look.version,
            )
        )
    likeness = session.scalars(select(Likeness).where(Likeness.entry_id == entry.id)).first()
    return BibleEntryView(
        kind=entry.kind,
        name=entry.name,
        description=entry.description,
        refs=[media_view(production, ref.media) for ref in entry.refs],
        candidate=entry.candidate,
        scenes=appearances[0],
        dialogue_lines=appearances[1],
        version=entry.version,
        aliases=list(entry.aliases or []),
        candidate_description=entry.candidate_description,
        looks=looks,
        likeness=None
        if likeness is None
        else LikenessView(
            person=likeness.person,
            consent_sha256=likeness.consent_sha256,
            consent_file=likeness.consent_file,
            consent_date=likeness.consent_date,
            scope=likeness.scope,
            recorded_by=likeness.recorded_by,
        ),
        takes=len(takes_using(session, entry)) if counted else 0,
        voice=dict(entry.voice) if entry.voice else None,
    )
