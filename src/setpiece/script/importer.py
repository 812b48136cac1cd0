"""`script import`: a screenplay fills the production, and a revision never loses work.

Which scene of a revision continues which scene of the project, and the numbers
every scene gets, are decided in ``setpiece.script.revisions`` (by content: its
docstring gives the rules, ``bench/script_revisions.py`` the measure). This
module reads the script, refuses what cannot be a revision of this project, and
writes the outcome in one transaction:

- A continued scene whose content (its elements, notes aside) hashes
  differently is *changed*: it keeps its number, shots, takes and reviews, and
  is flagged for review. A continued OMITTED scene is *restored*.
- Scenes the script no longer has are marked OMITTED, never deleted (the film
  convention); their shots and takes stay with them. A script with no scene at
  all omits every scene, with a warning.
- What stands before the first scene heading belongs to no scene (a title card, FADE
  IN:), in Fountain and in Final Draft alike. Dialogue there is no line, since a line
  lives in a scene's shots; the import says how many blocks it left out and how to
  keep them (a heading above them), rather than invent a scene the writer did not
  write. A script without any scene heading (a fragment such as a dual-dialogue
  exchange) imports nothing, and says so, on a first import too.
- Numbers: once the project has shots they are locked (``revisions.revise``).
- Refused, writing nothing: a script whose numbers repeat or go backwards
  (``revisions.check_numbers``), and, unless forced, a script that shares no
  scene with the project, or has another title and shares fewer than half of
  its scenes: that is another screenplay (``make`` refuses the same way).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from setpiece.errors import InvalidInputError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import Appearance, BibleEntry, Event, Scene, Shot
from setpiece.production.context import Production
from setpiece.production.entries import names_of
from setpiece.production.history import record_event
from setpiece.script.breakdown import opens_scene, speaker_lookup
from setpiece.script.cues import cue_speakers
from setpiece.script.elements import Action, Character, Note, PageBreak, SceneHeading, Script
from setpiece.script.introductions import propose_descriptions
from setpiece.script.lines import LineChanges, script_lines, sync_lines, wordless_blocks
from setpiece.script.props import find_props
from setpiece.script.revisions import Draft, Outcome, Standing, check_numbers, revise, units_of

__all__ = ["ScriptImportReport", "dialogue_warnings", "import_script", "split_scenes"]


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
    where: str = ""


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
    lines: LineChanges = field(default_factory=LineChanges)


def _normal(heading: str) -> str:
    return " ".join(heading.upper().replace("–", "-").split())


def _speakers(script: Script) -> dict[str, None]:
    """The names of the script's cues, in script order (the first spelling wins)."""
    return {e.name: None for e in script.elements if isinstance(e, Character)}


def split_scenes(script: Script) -> list[ParsedScene]:
    """Cuts the element list at each scene heading and breaks each scene down."""
    speakers = _speakers(script)
    speaker = speaker_lookup(speakers)
    starts: list[int] = []
    for i, e in enumerate(script.elements):
        if isinstance(e, SceneHeading) and opens_scene(e.text, in_scene=bool(starts)):
            starts.append(i)
    parsed: list[ParsedScene] = []
    for index, (scene, start) in enumerate(zip(script.scenes, starts, strict=True)):
        end = starts[index + 1] if index + 1 < len(starts) else len(script.elements)
        elements = script.elements[start + 1 : end]
        body = [_element_json(e) for e in elements if not isinstance(e, PageBreak)]
        hashed = [(e.type, e.text) for e in elements if not isinstance(e, Note | PageBreak)]
        digest = hashlib.sha256(
            json.dumps([_normal(scene.heading), hashed], ensure_ascii=False).encode()
        ).hexdigest()
        # Each speaker of a joint cue says the line; a group cue is no one's.
        dialogue = Counter(
            who
            for e in elements
            if isinstance(e, Character)
            for who in cue_speakers(e.name, speaker)
        )
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
                where=f"line {scene.line}"
                if scene.line is not None
                else f"scene heading {index + 1} ({scene.heading[:40]!r})",
            )
        )
    return parsed


def _outside_scenes(
    script: Script, parsed: Sequence[ParsedScene], name: str, *, omitting: bool
) -> list[str]:
    """Warnings for a script with no scene, and for dialogue before the first heading.

    ``omitting``: the import omits every scene of the project, and says so already.
    """
    before: list[Any] = []
    for element in script.elements:
        if isinstance(element, SceneHeading) and opens_scene(element.text, in_scene=False):
            break
        before.append(element)
    blocks = script_lines([_element_json(e) for e in before if not isinstance(e, PageBreak)])
    said = ""
    if blocks:
        first = " ".join(blocks[0].text.split())
        said = (
            f"; {len(blocks)} dialogue block(s) belong to no scene and are not lines "
            f"(the first: {blocks[0].character}, {first[:40]!r})"
        )
    if not parsed and omitting:
        return [f"{name}: {said.removeprefix('; ')}"] if said else []
    if not parsed:
        return [
            f"{name} has no scene heading, so no scene was imported{said}; start each scene "
            "with a heading such as 'INT. BOOTH - NIGHT' (in Fountain a line that starts "
            "with '.' is a heading too)"
        ]
    if blocks:
        return [
            f"{name}: {len(blocks)} dialogue block(s) stand before the first scene heading, "
            f"so they belong to no scene and are not lines (the first: {blocks[0].character}, "
            f"{first[:40]!r}); put a scene heading above them to have them spoken"
        ]
    return []


def _wordless_warning(blocks: Sequence[str]) -> list[str]:
    """The import's one warning for the dialogue blocks that say nothing, or none."""
    if not blocks:
        return []
    shown = "; ".join(blocks[:3]) + (f"; and {len(blocks) - 3} more" if len(blocks) > 3 else "")
    return [
        f"{len(blocks)} dialogue block(s) say nothing, so they are not lines ({shown}): a "
        "cue with only a parenthetical is a beat for the picture"
    ]


def dialogue_warnings(script: Script, name: str) -> list[str]:
    """What an import of ``script`` says of its dialogue that makes no line (blocks before
    the first heading or in a script without one, blocks that say nothing), for
    ``script parse``; scenes are named by their number, else their place (``#3``)."""
    parsed = split_scenes(script)
    wordless = [
        f"scene {scene.number or f'#{place}'}: {block}"
        for place, scene in enumerate(parsed, start=1)
        for block in wordless_blocks(scene.body)
    ]
    return _outside_scenes(script, parsed, name, omitting=False) + _wordless_warning(wordless)


def _element_json(element: Any) -> dict[str, Any]:
    data = element.to_dict()
    data.pop("line", None)
    data.pop("runs", None)
    return data


def import_script(
    production: Production, path: str | os.PathLike[str], *, force: bool = False
) -> ScriptImportReport:
    """Reads a Fountain or FDX screenplay into the project (or updates it from a revision).

    Args:
        production: The project.
        path: The screenplay file.
        force: Import a script that looks like another screenplay over this project.

    Raises:
        InvalidInputError: The file cannot be read as a screenplay, its scene numbers
            repeat or go backwards, or it is another screenplay (without ``force``).
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
        drafts = [_draft(scene) for scene in parsed]
        check_numbers(drafts, {s.number for s in old}, Path(path).name)
        standing = [
            Standing(
                s.number,
                s.heading,
                units_of(s.heading, s.body or ()) if s.content_hash else None,
                s.omitted,
            )
            for s in old
        ]
        locked = session.scalar(select(func.count()).select_from(Shot)) != 0
        first_import = not any(s.content_hash for s in old)
        outcome = revise(standing, drafts, locked=locked, first_import=first_import)
        if not force:
            _check_same_screenplay(session, Path(path), title, standing, outcome)
        warnings = list(script.warnings) + outcome.warnings
        omitting = not parsed and any(not s.omitted for s in standing if s.units is not None)
        if omitting:
            warnings.append(
                f"{Path(path).name} has no scenes: every scene of the project is now OMITTED "
                "(nothing is deleted; their shots and takes stay)"
            )
        warnings += _outside_scenes(script, parsed, Path(path).name, omitting=omitting)
        speaker = speaker_lookup(_speakers(script))
        report = _apply(production, session, old, parsed, outcome, title, warnings, speaker)
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


def _draft(scene: ParsedScene) -> Draft:
    return Draft(
        heading=scene.heading,
        units=units_of(scene.heading, scene.body),
        number=scene.number,
        where=scene.where,
    )


def _check_same_screenplay(
    session: Session,
    path: Path,
    title: str | None,
    standing: Sequence[Standing],
    outcome: Outcome,
) -> None:
    """Refuses a script that is not a revision of the one the project holds."""
    scripted = [j for j, s in enumerate(standing) if s.units is not None and not s.omitted]
    if not scripted or not outcome.continues:
        return
    # A scene it restores counts as shared: the project had it.
    kept = {j for j in outcome.continues if j is not None and standing[j].units is not None}
    theirs = session.scalars(
        select(Event.data)
        .where(Event.entity == "script", Event.action == "import")
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    before = str((theirs or {}).get("title") or "").strip()
    retitled = bool(title and before and title.strip().casefold() != before.casefold())
    if kept and not (retitled and 2 * len(kept) < len(scripted)):
        return
    named = f" ({' '.join(before.split())!r})" if before else ""  # a title may span lines
    raise InvalidInputError(
        f"{path.name} looks like another screenplay: it shares {len(kept)} of the project's "
        f"{len(scripted)} scenes{named}; import it into a new project, or pass --force to "
        "import it over this one (scenes it lacks become OMITTED)"
    )


def _apply(
    production: Production,
    session: Session,
    old: list[Scene],
    parsed: list[ParsedScene],
    outcome: Outcome,
    title: str | None,
    warnings: Sequence[str],
    speaker: Callable[[str], str | None],
) -> ScriptImportReport:
    report = ScriptImportReport(title=title, scenes=len(parsed), warnings=list(warnings))
    _renumber(production, session, old, outcome)
    targets: list[Scene] = []
    for i, (scene, j) in enumerate(zip(parsed, outcome.continues, strict=True)):
        if j is not None:
            _update(production, session, old[j], scene, report)
            targets.append(old[j])
            continue
        number = outcome.numbers[i]
        target = Scene(number=number, heading=scene.heading, position=0)
        _fill(target, scene)
        session.add(target)
        session.flush()
        record_event(session, production, "scene", number, "script_added", after=scene.heading)
        report.added.append(number)
        targets.append(target)
    for j in outcome.omitted:
        row = old[j]
        if not row.omitted and row.content_hash is not None:
            row.omitted = True
            record_event(session, production, "scene", row.number, "omitted", after="OMITTED")
            report.omitted.append(row.number)
    ordered = [targets[k] if side == "new" else old[k] for side, k in outcome.order]
    for position, row in enumerate(ordered, start=1):
        if row.position != position:
            row.position = position
    session.flush()
    _breakdown(session, parsed, targets, report)
    wordless: list[str] = []
    for scene, row in zip(parsed, targets, strict=True):
        sync_lines(production, session, row, scene.body, report.lines, speaker)
        wordless += [f"scene {row.number}: {block}" for block in wordless_blocks(scene.body)]
    report.warnings.extend(_wordless_warning(wordless))
    propose_descriptions(session, parsed)  # candidates only, see script/introductions.py
    return report


def _renumber(production: Production, session: Session, old: list[Scene], outcome: Outcome) -> None:
    """Gives continued scenes the numbers the (unlocked) script gives them.

    Two steps, so that scenes trading numbers never hold the same one at a flush.
    """
    moves = [
        (old[j], outcome.numbers[i])
        for i, j in enumerate(outcome.continues)
        if j is not None and old[j].number != outcome.numbers[i]
    ]
    if not moves:
        return
    for row, _ in moves:
        row.number = f"~{row.id}"
    session.flush()
    for row, number in moves:
        record_event(session, production, "scene", number, "renumbered", after=number)
        row.number = number
    session.flush()


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
