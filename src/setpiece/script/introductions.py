"""Candidate descriptions from the script: how it introduces its characters and places.

A screenplay describes a character once, where they first appear in the action, in a
parenthetical after the name in capitals: "MARA (60s, grey braid, ink-stained fingers)
threads the last reel". A location is described by the first action paragraph of its
first scene. These become *candidate* descriptions of the bible entries: offered
(``character show``, ``character accept``), never written over a description a person
wrote, because a script's shorthand is not always what a generator should be told.

Only the first appearance counts: a later "(O.S.)" or "(beat)" is not an introduction,
and a character whose first appearance has no parenthetical gets no candidate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from setpiece.model.enums import BibleKind
from setpiece.production.entries import find_entry

__all__ = ["Introductions", "introductions", "propose_descriptions"]

_LONGEST = 300  # characters: a parenthetical longer than this is stage direction, not a look


class _Scene(Protocol):
    @property
    def body(self) -> list[dict[str, Any]]: ...

    @property
    def characters(self) -> tuple[str, ...]: ...

    @property
    def location(self) -> str | None: ...


@dataclass(frozen=True)
class Introductions:
    """What the script says of each character and location, by name in capitals."""

    characters: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)


def _actions(scene: _Scene) -> list[str]:
    return [str(e.get("text") or "") for e in scene.body if e.get("type") == "action"]


def _first_mention(name: str, paragraphs: Sequence[str]) -> str | None:
    """The parenthetical after the first mention of ``name`` in the action, or None."""
    pattern = re.compile(
        rf"(?<![\w'’]){re.escape(name)}(?![\w'’])(\s*\(([^()]*)\))?", re.IGNORECASE
    )
    for paragraph in paragraphs:
        match = pattern.search(" ".join(paragraph.split()))
        if match is None:
            continue
        said = (match.group(2) or "").strip()
        return said if said and len(said) <= _LONGEST else None
    return None


def introductions(scenes: Sequence[_Scene]) -> Introductions:
    """Reads each character's introduction and each location's first paragraph."""
    found = Introductions()
    seen: set[str] = set()
    for scene in scenes:
        paragraphs = _actions(scene)
        place = (scene.location or "").upper()
        if place and place not in found.locations and paragraphs:
            found.locations[place] = " ".join(paragraphs[0].split())
        for name in scene.characters:
            key = name.upper()
            if key in seen:
                continue
            if any(re.search(rf"(?<!\w){re.escape(key)}(?!\w)", p, re.I) for p in paragraphs):
                seen.add(key)
                said = _first_mention(key, paragraphs)
                if said:
                    found.characters[key] = said
    return found


def propose_descriptions(session: Session, scenes: Sequence[_Scene]) -> dict[str, str]:
    """Sets the candidate descriptions of the script's entries; returns those that changed.

    Only ``candidate_description`` is written: the description a person wrote is never touched.
    """
    found = introductions(scenes)
    changed: dict[str, str] = {}
    tables: Mapping[BibleKind, dict[str, str]] = {
        BibleKind.CHARACTER: found.characters,
        BibleKind.LOCATION: found.locations,
    }
    for kind, said in tables.items():
        for name, text in said.items():
            entry = find_entry(session, kind, name)
            if entry is not None and entry.candidate_description != text:
                entry.candidate_description = text
                changed[f"{kind.value}/{entry.name}"] = text
    session.flush()
    return changed
