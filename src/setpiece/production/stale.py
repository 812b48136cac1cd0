"""Stale takes: takes made from a version of the bible that has changed since.

Every take records the version of each bible entry (and look) its prompt and references
came from (``Take.bible``, written when it is queued). Staleness is computed from those
records and the bible as it is now, never stored and never acted on by deleting: a take
is stale when an entry it recorded has another version now (or was removed), or when the
look in force for its shot's scene is another look, or another version of it, than the
one it was made with. Takes recorded before 0010 carry no records and are never stale.

A *shot* is stale when its pick (the circled take, else the provisional pick, else its
newest finished take) is stale and it has no fresh take, finished or being made: exactly
the shots ``render --stale`` renders again, so a second run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.model.enums import BibleKind, TakeStatus
from setpiece.model.orm import BibleEntry, BibleLook, Scene, Shot, Take
from setpiece.production.context import Production
from setpiece.production.entries import entry_label
from setpiece.production.looks import look_in_force, look_span
from setpiece.production.rows import shot_row

__all__ = ["StaleShot", "shot_pick", "stale_reasons", "stale_shots"]

_LOOKED = (BibleKind.CHARACTER.value, BibleKind.PROP.value)
_FINISHED = (TakeStatus.READY.value, TakeStatus.CIRCLED.value)
_COMING = (TakeStatus.PENDING.value, TakeStatus.RENDERING.value)


@dataclass(frozen=True)
class StaleShot:
    """A shot whose pick is stale and that has no fresh take."""

    shot: str
    scene: str
    pick: str  # the stale pick, as 3B/2
    because: list[dict[str, Any]] = field(default_factory=list)


def _entries(session: Session) -> dict[int, BibleEntry]:
    return {
        e.id: e
        for e in session.scalars(
            select(BibleEntry).options(
                selectinload(BibleEntry.looks).selectinload(BibleLook.from_scene),
                selectinload(BibleEntry.looks).selectinload(BibleLook.to_scene),
            )
        )
    }


def stale_reasons(session: Session, takes: Iterable[Take]) -> dict[str, list[dict[str, Any]]]:
    """For each stale take (by id): what changed, ``{"entry", "was", "now"}`` each.

    ``entry`` names an entry (``character/MARA``) or a look (``character/MARA look scenes
    3-``); ``was`` is the version the take was made from (None: not used then), ``now`` the
    version in force now (None: removed, or no longer in force for the take's scene).
    """
    entries: dict[int, BibleEntry] | None = None
    found: dict[str, list[dict[str, Any]]] = {}
    for take in takes:
        if not take.bible:
            continue
        if entries is None:
            entries = _entries(session)
        because = _take_reasons(take, take.shot.scene, entries)
        if because:
            found[take.id] = because
    return found


def _take_reasons(take: Take, scene: Scene, entries: dict[int, BibleEntry]) -> list[dict[str, Any]]:
    because: list[dict[str, Any]] = []
    for record in take.bible:
        entry = entries.get(record.get("entry_id", -1))
        if entry is None:
            because.append(
                {"entry": record.get("entry"), "was": record.get("version"), "now": None}
            )
            continue
        if entry.version != record.get("version"):
            because.append(
                {"entry": entry_label(entry), "was": record.get("version"), "now": entry.version}
            )
        if entry.kind not in _LOOKED:
            continue
        look = look_in_force(entry, scene)
        was_id, was_version = record.get("look_id"), record.get("look_version")
        if look is not None and look.id == was_id:
            if look.version != was_version:
                because.append(
                    {
                        "entry": f"{entry_label(entry)} look {look_span(look)}",
                        "was": was_version,
                        "now": look.version,
                    }
                )
            continue
        if was_id is not None:
            because.append(
                {
                    "entry": f"{entry_label(entry)} look {record.get('look')}",
                    "was": was_version,
                    "now": None,
                }
            )
        if look is not None:
            because.append(
                {
                    "entry": f"{entry_label(entry)} look {look_span(look)}",
                    "was": None,
                    "now": look.version,
                }
            )
    return because


def shot_pick(takes: Sequence[Take]) -> Take | None:
    """The shot's pick: circled, else the provisional pick, else the newest finished leaf
    (of its takes in number order; anything with the columns of ``Take`` will do)."""
    circled = [t for t in takes if t.status == TakeStatus.CIRCLED.value]
    if circled:
        return circled[-1]
    provisional = [t for t in takes if t.provisional and t.media_sha256]
    if provisional:
        return provisional[-1]
    finished = [t for t in takes if t.status in _FINISHED and t.media_sha256]
    parents = {t.parent_take_id for t in finished if t.parent_take_id}
    leaves = [t for t in finished if t.id not in parents]
    return leaves[-1] if leaves else None


def stale_shots(production: Production, shots: Sequence[str] = ()) -> list[StaleShot]:
    """The stale shots of the film (omitted scenes aside), or of the shots named.

    Raises:
        NotFoundError: An unknown shot.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        query = (
            select(Shot)
            .join(Scene, Shot.scene_id == Scene.id)
            .where(Scene.omitted.is_(False))
            .options(selectinload(Shot.takes), selectinload(Shot.scene))
            .order_by(Scene.position, Shot.position)
        )
        if shots:
            query = query.where(Shot.id.in_([shot_row(session, code).id for code in shots]))
        rows = list(session.scalars(query))
        reasons = stale_reasons(session, (t for shot in rows for t in shot.takes))
        found = []
        for shot in rows:
            pick = shot_pick(shot.takes)
            if pick is None or pick.id not in reasons:
                continue
            fresh = [
                t
                for t in shot.takes
                if t.id not in reasons and (t.status in _FINISHED or t.status in _COMING)
            ]
            if fresh:
                continue
            found.append(
                StaleShot(
                    shot.code, shot.scene.number, f"{shot.code}/{pick.number}", reasons[pick.id]
                )
            )
        return found
