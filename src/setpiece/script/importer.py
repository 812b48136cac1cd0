"""`script import`: a screenplay fills the production, and a revision never loses work.

Matching a revised script to the scenes a project already has, in this order:

1. By scene number, where the script carries numbers (``#12A#`` or FDX Number).
2. By aligning the sequence of headings (difflib, no auto-junk: "INT. KITCHEN -
   NIGHT" repeats in real scripts). Equal headings in equal runs are the same
   scene; a one-for-one replaced run is the same scene with a revised heading.
3. By identical content, for scenes that moved.

A matched scene whose content (its elements, notes aside) hashes differently is
*changed*: it keeps its number, shots, takes and reviews, and is flagged for
review. Scenes the script no longer has are marked OMITTED, never deleted (the
film convention). New scenes take the script's number, or the previous scene's
number with a letter (12A, 12B), as production drafts do; before the first
scene they become A1, B1. Everything happens in one transaction.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.model.enums import BibleKind
from setpiece.model.orm import Appearance, BibleEntry, Scene
from setpiece.production.context import Production
from setpiece.production.entries import names_of
from setpiece.production.history import record_event
from setpiece.script.elements import Action, Character, Note, PageBreak, SceneHeading, Script
from setpiece.script.introductions import propose_descriptions
from setpiece.script.props import find_props

__all__ = ["ScriptImportReport", "import_script", "split_scenes"]


@dataclass(frozen=True)
class ParsedScene:
    """One scene of the script as the importer uses it."""

    number: str | None
    heading: str
    int_ext: str | None
    location: str | None
    time: str | None
    eighths: int
    body: list[dict[str, Any]]
    content_hash: str
    characters: tuple[str, ...]
    dialogue: dict[str, int]
    props: tuple[str, ...]


@dataclass(frozen=True)
class ScriptImportReport:
    title: str | None
    scenes: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    new_characters: list[str] = field(default_factory=list)
    new_locations: list[str] = field(default_factory=list)
    new_props: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _normal(heading: str) -> str:
    return " ".join(heading.upper().replace("–", "-").split())


def split_scenes(script: Script) -> list[ParsedScene]:
    """Cuts the element list at each scene heading and breaks each scene down."""
    speakers = {e.name for e in script.elements if isinstance(e, Character)}
    starts = [i for i, e in enumerate(script.elements) if isinstance(e, SceneHeading)]
    parsed: list[ParsedScene] = []
    for index, (scene, start) in enumerate(zip(script.scenes, starts, strict=True)):
        end = starts[index + 1] if index + 1 < len(starts) else len(script.elements)
        elements = script.elements[start + 1 : end]
        body = [_element_json(e) for e in elements if not isinstance(e, PageBreak)]
        hashed = [(e.type, e.text) for e in elements if not isinstance(e, Note | PageBreak)]
        digest = hashlib.sha256(
            json.dumps([_normal(scene.heading), hashed], ensure_ascii=False).encode()
        ).hexdigest()
        dialogue = Counter(e.name for e in elements if isinstance(e, Character))
        props = find_props((e.text for e in elements if isinstance(e, Action)), speakers)
        parsed.append(
            ParsedScene(
                number=scene.number.upper() if scene.number else None,
                heading=scene.heading,
                int_ext=scene.int_ext,
                location=scene.location,
                time=scene.time,
                eighths=scene.eighths,
                body=body,
                content_hash=digest,
                characters=tuple(scene.characters),
                dialogue=dict(dialogue),
                props=tuple(props),
            )
        )
    return parsed


def _element_json(element: Any) -> dict[str, Any]:
    data = element.to_dict()
    data.pop("line", None)
    data.pop("runs", None)
    return data


def import_script(production: Production, path: str | os.PathLike[str]) -> ScriptImportReport:
    """Reads a Fountain or FDX screenplay into the project (or updates it from a revision).

    Raises:
        InvalidInputError: The file cannot be read as a screenplay.
        PermissionDeniedError: The acting user may not edit the breakdown.
    """
    from setpiece.script.reading import read_script

    script = read_script(Path(path))
    parsed = split_scenes(script)
    title = script.title_page.get("title") or script.title_page.get("Title")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        old = list(
            session.scalars(
                select(Scene).options(selectinload(Scene.appearances)).order_by(Scene.position)
            )
        )
        matches = _match(old, parsed)
        report = _apply(production, session, old, parsed, matches, title, script.warnings)
        record_event(
            session,
            production,
            "script",
            Path(path).name,
            "import",
            data={
                "title": title,
                "added": report.added,
                "changed": report.changed,
                "omitted": report.omitted,
                "restored": report.restored,
            },
        )
        return report


def _match(old: Sequence[Scene], new: Sequence[ParsedScene]) -> list[Scene | None]:
    """For each new scene, the existing scene it continues (or None)."""
    result: list[Scene | None] = [None] * len(new)
    taken: set[int] = set()
    by_number = {scene.number: scene for scene in old}
    for i, scene in enumerate(new):
        if scene.number and scene.number in by_number:
            result[i] = by_number[scene.number]
            taken.add(by_number[scene.number].id)
    free_old = [s for s in old if s.id not in taken]
    free_new = [i for i, m in enumerate(result) if m is None]
    matcher = difflib.SequenceMatcher(
        a=[_normal(s.heading) for s in free_old],
        b=[_normal(new[i].heading) for i in free_new],
        autojunk=False,
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            for offset in range(a1 - a0):
                result[free_new[b0 + offset]] = free_old[a0 + offset]
                taken.add(free_old[a0 + offset].id)
    by_hash = {s.content_hash: s for s in old if s.id not in taken and s.content_hash}
    for i, scene in enumerate(new):
        if result[i] is None and scene.content_hash in by_hash:
            result[i] = by_hash.pop(scene.content_hash)
    return result


_NUMBER = re.compile(r"^(?P<prefix>[A-Z]*)(?P<digits>\d+)(?P<suffix>[A-Z]*)$")


def _insert_number(after: str | None, before: str | None, used: set[str]) -> str:
    """A number for a scene inserted after ``after`` (12 -> 12A, 12A -> 12B), or before the first (A1)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if after is None:
        base = before or "1"
        match = _NUMBER.match(base)
        digits = match.group("digits") if match else "1"
        for letter in letters:
            if f"{letter}{digits}" not in used:
                return f"{letter}{digits}"
    else:
        match = _NUMBER.match(after)
        stem, start = (after, 0)
        if match and match.group("suffix"):
            stem = match.group("prefix") + match.group("digits")
            start = letters.index(match.group("suffix")[-1]) + 1
        for letter in letters[start:]:
            if f"{stem}{letter}" not in used:
                return f"{stem}{letter}"
    counter = 1
    while f"{after or 'X'}-{counter}" in used:
        counter += 1
    return f"{after or 'X'}-{counter}"


def _apply(
    production: Production,
    session: Session,
    old: list[Scene],
    parsed: list[ParsedScene],
    matches: list[Scene | None],
    title: str | None,
    warnings: Sequence[str],
) -> ScriptImportReport:
    first_import = not any(s.content_hash for s in old)
    used = {s.number for s in old}
    matched_ids = {m.id for m in matches if m is not None}
    report = ScriptImportReport(title=title, scenes=len(parsed), warnings=list(warnings))

    # Scenes in the new order, with omitted ones kept where they stood.
    ordered: list[Scene] = []
    old_index = {s.id: i for i, s in enumerate(old)}
    emitted: set[int] = set()
    previous_number: str | None = None
    targets: list[Scene] = []
    for i, (scene, existing) in enumerate(zip(parsed, matches, strict=True)):
        if existing is not None:
            for earlier in old[: old_index[existing.id]]:
                if earlier.id not in matched_ids and earlier.id not in emitted:
                    ordered.append(earlier)
                    emitted.add(earlier.id)
            _update(production, session, existing, scene, report)
            target = existing
        else:
            if scene.number and scene.number not in used:
                number = scene.number
            elif first_import and not scene.number and str(i + 1) not in used:
                number = str(i + 1)
            else:
                following = next((m.number for m in matches[i + 1 :] if m is not None), None)
                number = _insert_number(previous_number, following, used)
            used.add(number)
            target = Scene(number=number, heading=scene.heading, position=0)
            _fill(target, scene)
            session.add(target)
            session.flush()
            record_event(session, production, "scene", number, "script_added", after=scene.heading)
            report.added.append(number)
        ordered.append(target)
        targets.append(target)
        emitted.add(target.id)
        previous_number = target.number
    for scene_row in old:
        if scene_row.id not in matched_ids and scene_row.id not in emitted:
            ordered.append(scene_row)
    for scene_row in old:
        if (
            scene_row.id not in matched_ids
            and not scene_row.omitted
            and scene_row.content_hash is not None
        ):
            scene_row.omitted = True
            record_event(session, production, "scene", scene_row.number, "omitted", after="OMITTED")
            report.omitted.append(scene_row.number)
    for position, scene_row in enumerate(ordered, start=1):
        if scene_row.position != position:
            scene_row.position = position
    session.flush()
    _breakdown(session, parsed, targets, report)
    propose_descriptions(session, parsed)  # candidates only, see script/introductions.py
    return report


def _fill(target: Scene, scene: ParsedScene) -> None:
    target.heading = scene.heading
    target.int_ext = scene.int_ext
    target.location = scene.location
    target.time_of_day = scene.time
    target.eighths = scene.eighths
    target.body = scene.body
    target.content_hash = scene.content_hash


def _update(
    production: Production,
    session: Session,
    existing: Scene,
    scene: ParsedScene,
    report: ScriptImportReport,
) -> None:
    if existing.omitted:
        existing.omitted = False
        existing.needs_review = True
        _fill(existing, scene)
        record_event(
            session,
            production,
            "scene",
            existing.number,
            "restored",
            before="OMITTED",
            after=scene.heading,
        )
        report.restored.append(existing.number)
    elif existing.content_hash == scene.content_hash:
        existing.eighths = scene.eighths
        report.unchanged.append(existing.number)
    else:
        had_script = existing.content_hash is not None
        before = existing.heading
        _fill(existing, scene)
        if had_script:
            existing.needs_review = True
            record_event(
                session,
                production,
                "scene",
                existing.number,
                "script_changed",
                before=before[:50],
                after=scene.heading[:50],
            )
            report.changed.append(existing.number)
        else:
            report.unchanged.append(existing.number)


def _breakdown(
    session: Session, parsed: list[ParsedScene], targets: list[Scene], report: ScriptImportReport
) -> None:
    """Characters, locations and candidate props, and who appears in which scene."""
    # By every name an entry answers to: a renamed character keeps its former name as an alias.
    entries = {(e.kind, n): e for e in session.scalars(select(BibleEntry)) for n in names_of(e)}

    def entry(kind: BibleKind, name: str, *, candidate: bool = False) -> BibleEntry:
        key = (kind.value, name.upper())
        if key not in entries:
            created = BibleEntry(kind=kind.value, name=name, candidate=candidate)
            session.add(created)
            entries[key] = created
            {
                BibleKind.CHARACTER: report.new_characters,
                BibleKind.LOCATION: report.new_locations,
                BibleKind.PROP: report.new_props,
            }[kind].append(name)
        return entries[key]

    characters = {name.upper() for scene in parsed for name in scene.characters}
    for scene, row in zip(parsed, targets, strict=True):
        wanted: dict[int, int] = {}
        for name in scene.characters:
            item = entry(BibleKind.CHARACTER, name)
            session.flush()
            wanted[item.id] = scene.dialogue.get(name, 0)
        if scene.location:
            item = entry(BibleKind.LOCATION, scene.location)
            session.flush()
            wanted.setdefault(item.id, 0)
        for prop in scene.props:
            if prop.upper() in characters or (BibleKind.CHARACTER.value, prop.upper()) in entries:
                continue
            item = entry(BibleKind.PROP, prop, candidate=True)
            session.flush()
            wanted.setdefault(item.id, 0)
        current = {a.entry_id: a for a in row.appearances}
        for entry_id, appearance in current.items():
            if entry_id not in wanted:
                session.delete(appearance)
        for entry_id, lines in wanted.items():
            if entry_id in current:
                current[entry_id].dialogue_lines = lines
            else:
                session.add(Appearance(scene_id=row.id, entry_id=entry_id, dialogue_lines=lines))
    session.flush()
