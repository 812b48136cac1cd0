"""Likeness and consent: a character who is the likeness of a real person.

A character whose reference images show a real person may only be rendered from those
images with that person's consent on record. ``record_likeness`` marks the character
(``--person``) and, when the paperwork exists, the consent: the document's content hash,
its date and its scope. ``check_consent`` is asked before anything is queued; with
``[bible] require_consent = true`` (the default) a render that would send such a
character's references without a consent record is refused, naming the character.

The consent document is hashed, not copied: it is a contract, kept with the
production's other paperwork; the hash proves which document the record means.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from setpiece.config import load_section, setting
from setpiece.errors import InvalidInputError
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, Likeness
from setpiece.production.bible import entry_view
from setpiece.production.context import Production
from setpiece.production.entries import entry_label, entry_row
from setpiece.production.history import record_event
from setpiece.production.views import BibleEntryView

__all__ = [
    "BibleSettings",
    "ConsentRecord",
    "bible_settings",
    "check_consent",
    "likenesses",
    "record_likeness",
]


@dataclass(frozen=True)
class BibleSettings:
    """``[bible]`` of setpiece.toml."""

    require_consent: bool = setting(
        True,
        help="Refuse to render a real person's likeness from references without a consent record.",
    )


def bible_settings(settings: dict[str, Any] | None) -> BibleSettings:
    """The ``[bible]`` table over the defaults.

    Raises:
        InvalidInputError: An unknown key or a value of the wrong type.
    """
    return load_section(BibleSettings, (settings or {}).get("bible"), section="bible")


@dataclass(frozen=True)
class ConsentRecord:
    """A likeness as the disclosure lists it."""

    character: str
    person: str
    consent: bool
    consent_sha256: str | None
    consent_file: str | None
    consent_date: str | None
    scope: str | None


def record_likeness(
    production: Production,
    name: str,
    *,
    person: str,
    consent: str | os.PathLike[str] | None = None,
    date: str | None = None,
    scope: str | None = None,
) -> BibleEntryView:
    """Records that a character is a real person's likeness, with the consent if given.

    Raises:
        NotFoundError: An unknown character.
        InvalidInputError: An empty person; a consent file that is missing, not a file or
            empty; a consent without its date and scope; a date that is not YYYY-MM-DD.
    """
    from setpiece.store.media import hash_file

    who = " ".join(person.split())
    if not who or len(who) > 300:
        raise InvalidInputError("--person needs the real person's name (1-300 characters)")
    sha = size = when = path = None
    if consent is not None:
        path = Path(consent)
        if not path.is_file():
            raise InvalidInputError(f"consent file {path} does not exist or is not a file")
        if path.stat().st_size == 0:
            raise InvalidInputError(f"consent file {path} is empty: give the signed document")
        if not date or not (scope or "").strip():
            raise InvalidInputError("a consent needs its --date and --scope")
        when = _date(date)
        sha, size = hash_file(path)
    elif date or scope:
        raise InvalidInputError("--date and --scope describe a consent: give --consent FILE")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, BibleKind.CHARACTER, name)
        row = session.scalars(select(Likeness).where(Likeness.entry_id == entry.id)).first()
        if row is None:
            row = Likeness(entry_id=entry.id, person=who)
            session.add(row)
        row.person = who
        if sha is not None:
            row.consent_sha256, row.consent_size = sha, size
            row.consent_file = str(Path(str(path)).resolve())
            row.consent_date, row.scope = when, (scope or "").strip()
        row.recorded_at = dt.datetime.now(dt.UTC)
        row.recorded_by = production.actor
        session.flush()
        record_event(
            session,
            production,
            entry.kind,
            entry.name,
            "likeness",
            note=f"likeness of {who}" + (f", consent {when}" if sha else ", no consent yet"),
            data={"entry_id": entry.id, "person": who, "consent_sha256": sha, "scope": scope},
        )
        return entry_view(session, production, entry)


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InvalidInputError(f"--date {text!r} is not a date: give YYYY-MM-DD") from None


def check_consent(session: Session, settings: dict[str, Any], entries: Iterable[int]) -> None:
    """Refuses references of a likeness without consent, when ``[bible] require_consent``.

    Args:
        session: An open session.
        settings: The project's parsed setpiece.toml.
        entries: Ids of the entries whose reference images a request would send.

    Raises:
        InvalidInputError: A character is a real person's likeness and no consent is on
            record (exit 2, the character named).
    """
    ids = set(entries)
    if not ids or not bible_settings(settings).require_consent:
        return
    for row in session.scalars(select(Likeness).where(Likeness.entry_id.in_(ids))):
        if row.consent_sha256 is None:
            entry = session.get(BibleEntry, row.entry_id)
            label = entry_label(entry) if entry else str(row.entry_id)
            raise InvalidInputError(
                f"{label} is the likeness of {row.person} and no consent is on record: record it "
                f"with 'setpiece character likeness {entry.name if entry else ''} --person ... "
                "--consent FILE --date D --scope TEXT' (or set [bible] require_consent = false)"
            )


def likenesses(session: Session) -> list[ConsentRecord]:
    """Every likeness of the film, by character name."""
    rows = session.execute(
        select(Likeness, BibleEntry.name)
        .join(BibleEntry, Likeness.entry_id == BibleEntry.id)
        .order_by(BibleEntry.name)
    )
    return [
        ConsentRecord(
            character=name,
            person=row.person,
            consent=row.consent_sha256 is not None,
            consent_sha256=row.consent_sha256,
            consent_file=row.consent_file,
            consent_date=row.consent_date,
            scope=row.scope,
        )
        for row, name in rows
    ]
