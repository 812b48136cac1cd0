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

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from setpiece.model.enums import BibleKind, TakeStatus
from setpiece.model.orm import BibleEntry, BibleLook, Scene, Shot, Take
from setpiece.production.context import Production
from setpiece.production.entries import entry_label
from setpiece.production.looks import look_in_force, look_span
from setpiece.production.rows import shot_row

__all__ = [
    "BIBLE_TEXT",
    "StaleShot",
    "bible_records",
    "shot_pick",
    "shot_staleness",
    "stale_entries",
    "stale_reasons",
    "stale_shots",
    "take_rows",
]

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
    return _reasons(session, ((t.id, t.bible, t.shot.scene) for t in takes))


def _reasons(
    session: Session, takes: Iterable[tuple[str, Any, Scene]]
) -> dict[str, list[dict[str, Any]]]:
    """``stale_reasons`` over (take id, its bible records, its scene)."""
    entries: dict[int, BibleEntry] | None = None
    found: dict[str, list[dict[str, Any]]] = {}
    for take_id, bible, scene in takes:
        if not bible:
            continue
        if entries is None:
            entries = _entries(session)
        because = _take_reasons(bible, scene, entries)
        if because:
            found[take_id] = because
    return found


def _take_reasons(
    bible: list[dict[str, Any]], scene: Scene, entries: dict[int, BibleEntry]
) -> list[dict[str, Any]]:
    because: list[dict[str, Any]] = []
    for record in bible:
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


class _Entries:
    """The bible's entries with their looks, read once when a take first needs them."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._entries: dict[int, BibleEntry] | None = None

    def __call__(self) -> dict[int, BibleEntry]:
        if self._entries is None:
            self._entries = _entries(self._session)
        return self._entries


def bible_records(value: Any) -> list[dict[str, Any]]:
    """A take's bible records, from the ORM's list or the column's JSON text.

    The board reads the column as text (``BIBLE_TEXT``): decoding every take's records
    cost 0.3 s of the board at 10,000 takes, where only the picks' are needed.
    """
    if isinstance(value, str):
        return [] if value in ("", "null", "[]") else list(json.loads(value))
    return list(value or [])


# Take.bible without decoding its JSON (``bible_records`` decodes only what is read).
BIBLE_TEXT = type_coerce(Take.bible, Text).label("bible")


def take_rows(connection: Any) -> dict[int, list[Any]]:
    """Every take as a plain row with the columns the pick and staleness read (its bible
    records as text, ``bible_records``), by shot id, in number order."""
    takes: dict[int, list[Any]] = {}
    for take in connection.execute(
        select(
            Take.shot_id,
            Take.id,
            Take.number,
            Take.status,
            Take.media_sha256,
            Take.provisional,
            Take.parent_take_id,
            BIBLE_TEXT,
        ).order_by(Take.shot_id, Take.number)
    ):
        takes.setdefault(take.shot_id, []).append(take)
    return takes


def stale_entries(session: Session) -> Callable[[], dict[int, BibleEntry]]:
    """The bible's entries by id for ``shot_staleness``, read once and only if asked for."""
    return _Entries(session)


def shot_staleness(
    takes: Sequence[Any], scene: Any, entries: Callable[[], dict[int, BibleEntry]]
) -> tuple[int, list[dict[str, Any]]] | None:
    """The number of a shot's stale pick and why, or None when the shot is not stale.

    Args:
        takes: The shot's takes in number order: rows with ``Take``'s columns, ``bible``
            among them (ORM takes or plain rows, as the board reads them).
        scene: The shot's scene, or a row with its ``position`` (for the looks in force).
        entries: The bible's entries by id, asked for only when a pick has records.
    """
    pick = shot_pick(takes)
    if pick is None or not bible_records(pick.bible):
        return None
    known = entries()
    reasons = {t.id: r for t in takes if (r := _take_reasons(bible_records(t.bible), scene, known))}
    if pick.id not in reasons:
        return None
    coming = (*_FINISHED, *_COMING)
    if any(t.id not in reasons and t.status in coming for t in takes):
        return None  # a fresh take is there or on its way
    return pick.number, reasons[pick.id]


def stale_shots(production: Production, shots: Sequence[str] = ()) -> list[StaleShot]:
    """The stale shots of the film (omitted scenes aside), or of the shots named.

    Raises:
        NotFoundError: An unknown shot.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        # Plain rows, not ORM takes (the board asks for this on every card: 2.2 s of a 2.5 s
        # board at 10,000 takes when every take was loaded as an object, bench/web_board_scale.py).
        query = (
            select(Shot.id, Shot.code, Shot.scene_id)
            .join(Scene, Shot.scene_id == Scene.id)
            .where(Scene.omitted.is_(False))
            .order_by(Scene.position, Shot.position)
        )
        if shots:
            query = query.where(Shot.id.in_([shot_row(session, code).id for code in shots]))
        connection = session.connection()
        rows = connection.execute(query).all()
        scenes = {scene.id: scene for scene in session.scalars(select(Scene))}
        takes = take_rows(connection)
        known = stale_entries(session)
        found = []
        for shot in rows:
            scene = scenes[shot.scene_id]
            stale = shot_staleness(takes.get(shot.id, []), scene, known)
            if stale is not None:
                pick, because = stale
                found.append(StaleShot(shot.code, scene.number, f"{shot.code}/{pick}", because))
        return found
