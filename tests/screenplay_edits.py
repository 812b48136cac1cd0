"""Screenplays and the edits writers make to them, each edit with the outcome it must have.

Shared by the property tests (``tests/script/test_revisions.py``, driven by
hypothesis) and the bench (``bench/script_revisions.py``, driven by a seeded
``random.Random`` over real scripts): both pass ``pick(lo, hi)``, an integer
between ``lo`` and ``hi`` inclusive.

A scene here is its heading and its body units (``revisions.units_of`` without
the heading), plus ``ident``: the project scene it must continue after the next
import, or None for a scene the project must add. Each edit records what it
expects: which project scenes it drops (OMITTED after the import), which it
changes, and its kind, so the outcome can be scored per edit kind:

- insert: a new scene at any place; added, numbered after the previous scene.
- drop: a scene taken out; OMITTED.
- move: a scene taken out and put back elsewhere; same number, unchanged.
- split: a scene cut in two at a unit boundary, the second part under a new
  heading; the first part keeps the number, the second is added.
- merge: two neighbouring scenes made one under the first heading; the first
  keeps its number (changed), the second is OMITTED.
- rewrite: fewer than half of a scene's units (heading included) rewritten; same
  number, changed.
- full_rewrite: every unit rewritten, heading included; a drop plus an insert.

Edits of one revision touch disjoint scenes, as a week's pages do.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from setpiece.script.numbers import inserted_number
from setpiece.script.revisions import Draft, Outcome, Standing, revise

Pick = Callable[[int, int], int]

KINDS = ("insert", "drop", "move", "split", "merge", "rewrite", "full_rewrite")

_WORDS = (
    "rain door lamp coat train river glass knife window letter radio engine field "
    "mirror bridge candle ticket garden violin harbour ladder bell"
).split()
_serial = itertools.count(1)


def fresh_text(pick: Pick) -> str:
    """A line no script has yet (a serial number keeps it unique)."""
    words = [_WORDS[pick(0, len(_WORDS) - 1)] for _ in range(pick(2, 6))]
    return f"{' '.join(words).capitalize()} {next(_serial)}."


def fresh_heading(pick: Pick) -> str:
    place = _WORDS[pick(0, len(_WORDS) - 1)].upper()
    return (
        f"{('INT.', 'EXT.')[pick(0, 1)]} {place} {next(_serial)} - {('DAY', 'NIGHT')[pick(0, 1)]}"
    )


def fresh_unit(pick: Pick) -> str:
    """A body unit as ``revisions.units_of`` writes it: action, or a speech."""
    if pick(0, 2) == 0:
        name = ("ANNA", "BEN", "CLARA", "DEV")[pick(0, 3)]
        return f"S:{name} / {fresh_text(pick)}"
    return f"a:{fresh_text(pick)}"


@dataclass
class Scene:
    """A scene of the script being edited."""

    heading: str
    body: list[str]
    ident: int | None
    number: str | None = None
    touched: bool = False

    @property
    def units(self) -> tuple[str, ...]:
        return ("H:" + " ".join(self.heading.split()).upper(), *self.body)


@dataclass
class Edit:
    """One edit and what the import must make of it.

    Attributes:
        kind: One of ``KINDS``.
        keep: Scenes of the revision that must continue their ``ident``.
        new: Scenes of the revision the project must add.
        gone: Project scenes that must be OMITTED.
    """

    kind: str
    keep: list[Scene] = field(default_factory=list)
    new: list[Scene] = field(default_factory=list)
    gone: set[int] = field(default_factory=set)


@dataclass
class Revision:
    """One week's pages: the edited script, and the edits made to it."""

    scenes: list[Scene]
    edits: list[Edit] = field(default_factory=list)

    @property
    def dropped(self) -> set[int]:
        return {ident for edit in self.edits for ident in edit.gone}

    @property
    def changed(self) -> set[int]:
        kinds = ("split", "merge", "rewrite")
        return {
            s.ident for e in self.edits if e.kind in kinds for s in e.keep if s.ident is not None
        }


def new_scene(pick: Pick, units: int | None = None) -> Scene:
    count = pick(0, 6) if units is None else units
    return Scene(fresh_heading(pick), [fresh_unit(pick) for _ in range(count)], None)


def _untouched(scenes: list[Scene]) -> list[int]:
    return [k for k, s in enumerate(scenes) if not s.touched]


def apply_edit(kind: str, revision: Revision, pick: Pick) -> bool:
    """Applies one edit of ``kind`` to the revision, if some scene allows it.

    Returns:
        Whether the edit was made (a split needs a scene of two body units, ...).
    """
    scenes = revision.scenes
    free = [k for k in _untouched(scenes) if scenes[k].ident is not None]
    edit = Edit(kind)
    if kind == "insert":
        scene = new_scene(pick)
        scenes.insert(pick(0, len(scenes)), scene)
        edit.new.append(scene)
    elif kind in ("drop", "move", "full_rewrite"):
        if not free or (kind == "move" and len(scenes) < 2):
            return False
        k = free[pick(0, len(free) - 1)]
        scene = scenes.pop(k)
        assert scene.ident is not None
        if kind == "move":
            spot = pick(0, len(scenes) - 1)
            scenes.insert(spot if spot < k else spot + 1, scene)
            edit.keep.append(scene)
        elif kind == "full_rewrite":
            rewritten = Scene(fresh_heading(pick), [fresh_unit(pick) for _ in scene.body], None)
            scenes.insert(k, rewritten)
            edit.new.append(rewritten)
            edit.gone.add(scene.ident)
        else:
            edit.gone.add(scene.ident)
    elif kind == "rewrite":
        able = [k for k in free if len(scenes[k].units) >= 3]
        if not able:
            return False
        scene = scenes[able[pick(0, len(able) - 1)]]
        total = len(scene.units)
        count = pick(1, (total - 1) // 2)  # fewer than half
        chosen: set[int] = set()
        while len(chosen) < count:
            chosen.add(pick(0, total - 1))
        for unit in chosen:
            if unit == 0:
                scene.heading = fresh_heading(pick)
            else:
                scene.body[unit - 1] = fresh_unit(pick)
        edit.keep.append(scene)
    elif kind == "split":
        able = [k for k in free if len(scenes[k].body) >= 2]
        if not able:
            return False
        k = able[pick(0, len(able) - 1)]
        scene = scenes[k]
        cut = pick(1, len(scene.body) - 1)
        second = Scene(fresh_heading(pick), scene.body[cut:], None)
        scene.body = scene.body[:cut]
        scenes.insert(k + 1, second)
        edit.keep.append(scene)
        edit.new.append(second)
    elif kind == "merge":
        pairs = [k for k in free if k + 1 in free]
        if not pairs:
            return False
        k = pairs[pick(0, len(pairs) - 1)]
        first, second = scenes[k], scenes.pop(k + 1)
        first.body = first.body + second.body
        assert second.ident is not None
        edit.keep.append(first)
        edit.gone.add(second.ident)
    else:
        raise ValueError(kind)
    for scene in edit.keep + edit.new:
        scene.touched = True
    revision.edits.append(edit)
    return True


def score(
    revision: Revision, idents: list[int], continues: list[int | None], omitted: list[int]
) -> list[tuple[str, bool]]:
    """Whether each edit came out right, and each untouched scene (kind ``untouched``).

    Args:
        revision: The revision as generated.
        idents: The project scene (``ident``) of each old scene the matcher saw.
        continues: The matcher's answer, per scene of the revision.
        omitted: The old scenes it left out.
    """
    found = {
        id(scene): (idents[j] if j is not None else None)
        for scene, j in zip(revision.scenes, continues, strict=True)
    }
    gone = {idents[j] for j in omitted}
    results = []
    for edit in revision.edits:
        right = (
            all(found[id(s)] == s.ident for s in edit.keep)
            and all(found[id(s)] is None for s in edit.new)
            and edit.gone <= gone
        )
        results.append((edit.kind, right))
    for scene in revision.scenes:
        if not scene.touched:
            results.append(("untouched", found[id(scene)] == scene.ident))
    return results


def revise_script(scenes: list[Scene], pick: Pick, kinds: list[str]) -> Revision:
    """A copy of ``scenes`` with the edits ``kinds`` applied in order (those that fit)."""
    copy = [Scene(s.heading, list(s.body), s.ident, s.number) for s in scenes]
    revision = Revision(copy)
    for kind in kinds:
        apply_edit(kind, revision, pick)
    return revision


def fountain(scenes: list[Scene], title: str = "Generated") -> str:
    """The script as Fountain text (headings forced with '.', numbers where set)."""
    out = [f"Title: {title}", ""]
    for scene in scenes:
        number = f" #{scene.number}#" if scene.number else ""
        out += [f".{scene.heading}{number}", ""]
        for unit in scene.body:
            kind, _, text = unit.partition(":")
            if kind == "S":
                name, _, line = text.partition(" / ")
                out += [f"@{name}", line, ""]
            else:
                out += [f"!{text}", ""]
    return "\n".join(out) + "\n"


@dataclass
class Record:
    """A scene as the project holds it (what ``Standing`` is made of)."""

    ident: int
    number: str
    heading: str
    units: tuple[str, ...]
    omitted: bool = False


class Project:
    """The project's scenes across imports, driven by ``revisions.revise`` alone (no database).

    Each import is checked against its edits by the caller (``score``); ``numbers_right``
    checks the numbering rules.
    """

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._idents = itertools.count(1)
        self.made: list[int] = []

    def standing(self) -> list[Standing]:
        return [Standing(r.number, r.heading, r.units, r.omitted) for r in self.records]

    def drafts(self, scenes: list[Scene]) -> list[Draft]:
        return [Draft(s.heading, s.units, s.number, f"scene {k + 1}") for k, s in enumerate(scenes)]

    def run(self, scenes: list[Scene], *, locked: bool = True) -> Outcome:
        """Imports ``scenes`` (``adopt`` then gives them the project's idents)."""
        first = not self.records
        outcome = revise(self.standing(), self.drafts(scenes), locked=locked, first_import=first)
        old = self.records
        made: list[Record] = []
        for scene, j, number in zip(scenes, outcome.continues, outcome.numbers, strict=True):
            if j is None:
                record = Record(next(self._idents), number, scene.heading, scene.units)
            else:
                record = old[j]
                record.number, record.heading, record.units = number, scene.heading, scene.units
                record.omitted = False
            made.append(record)
        for j in outcome.omitted:
            old[j].omitted = True
        self.records = [made[k] if side == "new" else old[k] for side, k in outcome.order]
        self.made = [record.ident for record in made]
        return outcome

    def adopt(self, scenes: list[Scene]) -> None:
        """Gives the scenes of the last import the project's idents, for the next revision."""
        for scene, ident in zip(scenes, self.made, strict=True):
            scene.ident, scene.touched = ident, False


def numbers_right(before: list[Record], outcome: Outcome, scenes_count: int) -> list[str]:
    """The numbering rules an import broke (empty when it kept them all)."""
    problems = []
    used = {r.number for r in before}
    fresh = before and not any(j is not None for j in outcome.continues)
    for i in range(scenes_count):
        j, number = outcome.continues[i], outcome.numbers[i]
        if j is not None and number != before[j].number:
            problems.append(f"scene {before[j].number} renumbered {number}")
        if j is None:
            if i > 0 and fresh and outcome.numbers[i - 1].isdigit():
                expected = str(int(outcome.numbers[i - 1]) + 1)
            elif i > 0:
                expected = inserted_number(outcome.numbers[i - 1], None, used)
            elif fresh:  # nothing continued: numbered on from the project's highest number
                expected = str(
                    max(
                        int(re.sub(r"\D.*", "", r.number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) or 0)
                        for r in before
                    )
                    + 1
                )
            else:
                expected = inserted_number(None, _following(before, outcome, i), used)
            if number != expected and before:
                problems.append(f"new scene {i + 1} numbered {number}, not {expected}")
        used.add(number)
    return problems


def _following(before: list[Record], outcome: Outcome, i: int) -> str | None:
    return next((before[j].number for j in outcome.continues[i + 1 :] if j is not None), None)
