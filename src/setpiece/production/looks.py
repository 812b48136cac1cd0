"""Looks over time: a character's wardrobe and appearance from one scene to another.

A look is in force from its first scene to its last (or to the end of the film), by the
scenes' script order, so a scene inserted later by a revision falls inside the range it
sits in. Two looks of one character may not overlap: which one a shot shows would be a
guess. Prompts and reference images use the look in force for the shot's scene
(``look_in_force``); a take records the look's version, so changing a look makes stale
exactly the takes of the scenes it covers.

Giving a look again with the same first scene edits that look (its version rises).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sqlalchemy.orm import Session

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, BibleLook, Scene
from setpiece.production.bible import entry_view, probe_references
from setpiece.production.context import Production
from setpiece.production.entries import entry_label, entry_row
from setpiece.production.history import record_event
from setpiece.production.ingest import media_row, store_files
from setpiece.production.rows import scene_row
from setpiece.production.views import BibleEntryView

__all__ = ["look_in_force", "look_span", "set_look"]


def look_span(look: BibleLook) -> str:
    """How a report names a look's scenes: "scenes 3-5", "scenes 3-" (to the end)."""
    end = look.to_scene.number if look.to_scene else ""
    if look.to_scene is not None and look.to_scene_id == look.from_scene_id:
        return f"scene {look.from_scene.number}"
    return f"scenes {look.from_scene.number}-{end}"


def look_in_force(entry: BibleEntry, scene: Scene) -> BibleLook | None:
    """The entry's look for a scene, or None (its bible description alone)."""
    for look in entry.looks:
        last = look.to_scene.position if look.to_scene is not None else None
        if look.from_scene.position <= scene.position and (last is None or scene.position <= last):
            return look
    return None


def set_look(
    production: Production,
    kind: BibleKind,
    name: str,
    *,
    from_scene: str,
    to_scene: str | None = None,
    description: str = "",
    refs: Sequence[str | os.PathLike[str]] = (),
) -> BibleEntryView:
    """Adds a look to an entry (or edits the one that starts at ``from_scene``).

    Raises:
        NotFoundError: An unknown entry or scene.
        InvalidInputError: A reversed or empty range, an omitted scene, a look with neither
            description nor references, a reference that is no still image.
        ConflictError: The range overlaps another look of the entry (both are named).
    """
    if not description.strip() and not refs:
        raise InvalidInputError("a look needs --description and/or --ref")
    files = probe_references(refs)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "edit_breakdown")
        _check(session, entry_row(session, kind, name), from_scene, to_scene)
    store_files(production, files)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, kind, name)
        first, last, same = _check(session, entry, from_scene, to_scene)
        hashes = [media_row(session, item).sha256 for item in files]
        if same is None:
            look = BibleLook(
                entry=entry,
                from_scene=first,
                to_scene=last,
                description=description.strip(),
                references=hashes,
            )
            session.add(look)
            action = "look"
        else:
            look = same
            look.to_scene = last
            if description.strip():
                look.description = description.strip()
            if hashes:
                look.references = hashes
            action = "look edit"
        session.flush()
        record_event(
            session,
            production,
            entry.kind,
            entry.name,
            action,
            note=f"{look_span(look)}: {look.description}",
            data={"entry_id": entry.id, "look_id": look.id, "look_version": look.version},
        )
        session.refresh(entry)
        return entry_view(session, production, entry)


def _check(
    session: Session, entry: BibleEntry, from_scene: str, to_scene: str | None
) -> tuple[Scene, Scene | None, BibleLook | None]:
    """The range's scenes, and the look that starts at the same scene (edited), if any.

    Raises:
        NotFoundError: An unknown scene.
        InvalidInputError: A reversed range or an omitted scene.
        ConflictError: An overlap with another look.
    """
    if not from_scene.strip() or (to_scene is not None and not to_scene.strip()):
        raise InvalidInputError("the look's scene range is empty: give --from-scene N")
    first = scene_row(session, from_scene)
    last = scene_row(session, to_scene) if to_scene is not None else None
    for scene in (first, last):
        if scene is not None and scene.omitted:
            raise InvalidInputError(
                f"scene {scene.number} is omitted: a look cannot start or end there"
            )
    if last is not None and last.position < first.position:
        raise InvalidInputError(
            f"the look's scenes run backwards: scene {last.number} comes before scene "
            f"{first.number} in the script"
        )
    same = None
    end = last.position if last is not None else None
    for look in entry.looks:
        if look.from_scene_id == first.id:
            same = look
            continue
        other_end = look.to_scene.position if look.to_scene is not None else None
        starts_before_other_ends = other_end is None or first.position <= other_end
        other_starts_before_end = end is None or look.from_scene.position <= end
        if starts_before_other_ends and other_starts_before_end:
            asked = f"scenes {first.number}-{last.number if last else ''}"
            raise ConflictError(
                f"the look of {entry_label(entry)} for {asked} overlaps its look for "
                f"{look_span(look)}: end one before the other starts (--to-scene)"
            )
    return first, last, same
