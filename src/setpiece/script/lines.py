"""Lines of dialogue from the script: each dialogue block becomes a line, and a revision
updates the lines as it updates scenes.

A line is one character cue and what follows it until the next element that is not
dialogue, a parenthetical or lyrics: its text is the spoken paragraphs joined, its
parenthetical the first wryly, its extension what the cue carries in parentheses
(``V.O.``, ``O.S.``, ``CONT'D``), ``dual`` the cue's dual-dialogue mark. A block with
nothing spoken (a cue alone) is no line.

A joint cue (``ODE & GODUHA``, each part a speaker of the script) gives one line per
speaker, each with the whole text, marked dual so the cut overlaps them, and spoken in
each speaker's own voice; a group cue (``ALL``, ``BOTH``) gives one line that belongs to
no bible character unless the bible has one of that name (``script.cues``).

A line is named ``SCENE/NUMBER`` and keeps its number for life; ``position`` follows the
script: the lines of one joint cue share the position of their speech, so positions
stay one per speech, as the shot planner counts them. A revision of a scene aligns its
lines with the old ones by speaker and text (difflib): equal lines keep their number;
a line whose speaker stayed and whose text changed is *changed* (updated and flagged
``needs_review``, its takes then stale); a line the script no longer has is omitted,
never deleted; a new line takes the next free number; a line spoken again as it was
when omitted is restored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, Line, Scene
from setpiece.production.context import Production
from setpiece.production.entries import names_of
from setpiece.production.history import record_event
from setpiece.script.cues import cue_speakers

__all__ = ["LineChanges", "ScriptLine", "script_lines", "sync_lines", "wordless_blocks"]

_EXTENSIONS = re.compile(r"\(([^)]*)\)")
_SPOKEN = ("dialogue", "lyrics", "parenthetical")


@dataclass(frozen=True)
class ScriptLine:
    """One dialogue block as the script has it."""

    character: str
    text: str
    parenthetical: str | None
    extension: str | None
    dual: bool
    speech: int = 1  # the speech's place in the scene, from 1 (shared by a joint cue's lines)

    @property
    def key(self) -> tuple[str, str]:
        return (self.character.upper(), " ".join(self.text.split()))


@dataclass
class LineChanges:
    """What an import did to the lines (names ``SCENE/NUMBER``)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def script_lines(
    body: Sequence[dict[str, Any]], speaker: Callable[[str], str | None] | None = None
) -> list[ScriptLine]:
    """The dialogue blocks of a scene's body (``Scene.body``), in order.

    Args:
        body: The scene's elements.
        speaker: The script's speakers by name (``Breakdown.speaker``), to split joint
            cues; None splits none.
    """
    found: list[ScriptLine] = []
    for cue, spoken in _blocks(body):
        text = _said(spoken)
        if not text:
            continue
        wrylies = [
            str(e.get("text", "")).strip() for e in spoken if e.get("type") == "parenthetical"
        ]
        written = str(cue.get("text", ""))
        marks = [" ".join(m.split()) for m in _EXTENSIONS.findall(written) if m.strip()]
        name = str(cue.get("name") or written).strip()
        speakers = cue_speakers(name, speaker) if speaker is not None else (name,)
        speech = len({line.speech for line in found}) + 1
        for who in speakers or (name,):
            found.append(
                ScriptLine(
                    character=who.upper(),
                    text=text,
                    parenthetical=wrylies[0] if wrylies else None,
                    extension=" ".join(marks) if marks else None,
                    dual=bool(cue.get("dual")) or len(speakers) > 1,
                    speech=speech,
                )
            )
    return found


def _blocks(
    body: Sequence[dict[str, Any]],
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each cue with the dialogue, lyrics and parentheticals that follow it."""
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for element in body:
        kind = element.get("type")
        if kind == "character":
            blocks.append((element, []))
        elif kind in _SPOKEN and blocks:
            blocks[-1][1].append(element)
        elif blocks and blocks[-1][0]:
            blocks.append(({}, []))  # a break: what follows is no longer this cue's
    return [(cue, spoken) for cue, spoken in blocks if cue]


def _said(spoken: Sequence[dict[str, Any]]) -> str:
    said = [str(e.get("text", "")).strip() for e in spoken if e.get("type") != "parenthetical"]
    return "\n".join(t for t in said if t)


def wordless_blocks(body: Sequence[dict[str, Any]]) -> list[str]:
    """The dialogue blocks of a scene's body that say nothing (a cue alone, or a cue with
    only a parenthetical, such as "MARA / (nods)"), each told as ``CUE (wryly)``: no line
    is made of them, and the import says so rather than drop them unseen."""
    found: list[str] = []
    for cue, spoken in _blocks(body):
        if _said(spoken):
            continue
        name = " ".join(str(cue.get("name") or cue.get("text") or "").split())
        wrylies = [
            " ".join(str(e.get("text", "")).split())
            for e in spoken
            if e.get("type") == "parenthetical"
        ]
        found.append(" ".join([name, *[w for w in wrylies if w]]))
    return found


def _name(scene: Scene, line: Line) -> str:
    return f"{scene.number}/{line.number}"


def _fill(line: Line, new: ScriptLine, position: int, entry: BibleEntry | None) -> None:
    line.position = position
    line.character = new.character
    line.entry = entry
    line.text = new.text
    line.parenthetical = new.parenthetical
    line.extension = new.extension
    line.dual = new.dual


def _key(line: Line) -> tuple[str, str]:
    return (line.character.upper(), " ".join(line.text.split()))


def _align(live: Sequence[Line], new: Sequence[ScriptLine]) -> tuple[list[Line | None], set[int]]:
    """For each new line, the live line it continues (or None), and those whose text changed."""
    matched: list[Line | None] = [None] * len(new)
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(
        a=[_key(line) for line in live], b=[line.key for line in new], autojunk=False
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            matched[b0:b1] = live[a0:a1]
        elif tag == "replace":
            # Same speaker, other words: the line changed (paired in order).
            olds = list(range(a0, a1))
            for i in range(b0, b1):
                j = next((j for j in olds if live[j].character.upper() == new[i].key[0]), None)
                if j is not None:
                    olds.remove(j)
                    matched[i] = live[j]
                    changed.add(i)
    return matched, changed


def _characters(session: Session) -> dict[str, BibleEntry]:
    """Character entries by every name they answer to."""
    found: dict[str, BibleEntry] = {}
    for known in session.scalars(
        select(BibleEntry).where(BibleEntry.kind == BibleKind.CHARACTER.value)
    ):
        for name in names_of(known):
            found[name.upper()] = known
    return found


def sync_lines(
    production: Production,
    session: Session,
    scene: Scene,
    body: Sequence[dict[str, Any]],
    changes: LineChanges,
    speaker: Callable[[str], str | None] | None = None,
) -> None:
    """Brings the scene's lines in line with its body (see the module docstring).

    Args:
        production: The project.
        session: The import's session.
        scene: The scene.
        body: Its elements as the script has them now.
        changes: Where the added, changed, omitted and restored lines are told.
        speaker: The script's speakers by name, to split joint cues (``script_lines``).
    """
    new = script_lines(body, speaker)
    characters = _characters(session)
    old = list(
        session.scalars(
            select(Line).where(Line.scene_id == scene.id).order_by(Line.position, Line.number)
        )
    )
    live = [line for line in old if not line.omitted]
    omitted = [line for line in old if line.omitted]
    matched, changed = _align(live, new)
    for i, line in enumerate(new):
        again = next((o for o in omitted if _key(o) == line.key), None)
        if matched[i] is None and again is not None:
            omitted.remove(again)
            again.omitted = False
            matched[i] = again
            changes.restored.append(_name(scene, again))
            record_event(session, production, "line", _name(scene, again), "restored")
    kept = {id(line) for line in matched if line is not None}
    for dropped in live:
        if id(dropped) not in kept:
            dropped.omitted = True
            changes.omitted.append(_name(scene, dropped))
            record_event(session, production, "line", _name(scene, dropped), "omitted")
    top = max((line.number for line in old), default=0)
    for index, (line, existing) in enumerate(zip(new, matched, strict=True)):
        entry = characters.get(line.character)
        position = line.speech
        if existing is None:
            top += 1
            row = Line(scene=scene, number=top, omitted=False, needs_review=False)
            _fill(row, line, position, entry)
            session.add(row)
            changes.added.append(_name(scene, row))
            continue
        if index in changed or (
            existing.parenthetical,
            existing.extension,
            existing.dual,
        ) != (line.parenthetical, line.extension, line.dual):
            record_event(
                session,
                production,
                "line",
                _name(scene, existing),
                "script_changed",
                before=existing.text[:50],
                after=line.text[:50],
            )
            existing.needs_review = True
            changes.changed.append(_name(scene, existing))
        _fill(existing, line, position, entry)
    session.flush()
