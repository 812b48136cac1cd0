"""Finding a bible entry by the name a person, a shot or a script uses for it.

An entry answers to its name and to every former name (``set --rename`` keeps the old one
as an alias), in any case, so shots, prompts and a later import of the script that still
says "MARA" resolve to the entry now called "MARA VOSS". One function owns this rule and
every caller (the bible's services, shots, prompts, the script importer) asks it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from setpiece.errors import NotFoundError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry

__all__ = ["entry_label", "entry_row", "find_entry", "names_of"]


def _kinds(kinds: BibleKind | Iterable[BibleKind]) -> list[str]:
    if isinstance(kinds, BibleKind):
        return [kinds.value]
    return [BibleKind(k).value for k in kinds]


def names_of(entry: BibleEntry) -> list[str]:
    """Every name an entry answers to, its own first, upper-cased."""
    return [entry.name.upper(), *(a.upper() for a in entry.aliases or [])]


def find_entry(
    session: Session, kinds: BibleKind | Iterable[BibleKind], name: str
) -> BibleEntry | None:
    """The entry of one of ``kinds`` called ``name`` now or before, or None.

    A current name wins over a former one (an entry renamed to a name another used before).
    """
    wanted = " ".join(name.split()).upper()
    kind_values = _kinds(kinds)
    found = session.scalars(
        select(BibleEntry).where(
            BibleEntry.kind.in_(kind_values), func.upper(BibleEntry.name) == wanted
        )
    ).first()
    if found is not None:
        return found
    for entry in session.scalars(
        select(BibleEntry).where(BibleEntry.kind.in_(kind_values)).order_by(BibleEntry.id)
    ):
        if wanted in (a.upper() for a in entry.aliases or []):
            return entry
    return None


def entry_row(session: Session, kind: BibleKind, name: str) -> BibleEntry:
    """The entry, by its name or a former one.

    Raises:
        NotFoundError: No entry of that kind answers to the name.
    """
    found = find_entry(session, kind, name)
    if found is None:
        raise NotFoundError(
            f"no {kind.value} {name.strip()!r} in the bible: 'setpiece {kind.value} list' shows them"
        )
    return found


def entry_label(entry: BibleEntry) -> str:
    """How reports name an entry: ``character/MARA``."""
    return f"{entry.kind}/{entry.name}"
