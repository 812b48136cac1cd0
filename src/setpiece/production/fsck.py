"""``fsck``: proving that every recorded file is there and intact.

Problems (exit 3): a media row whose file is missing or whose content no longer
hashes to its name; a take that claims to be made (ready, circled, rejected)
but has no media; a file in a local store that no row names and that is older
than an hour (an orphan: what a crash between storing and committing left, see
``ingest``).

Not problems, but listed:

- media **in use** are every hash a row points at, read from the ORM's own
  declarations (``referenced_media``: each foreign key to ``media.sha256`` and
  each JSON column marked with ``MEDIA_HASHES``), so a table added later is
  counted without touching this module; a column marked ``MEDIA_OWNER`` (a take's poster,
  ``production/posters.py``) counts only while the media it belongs to is in use, so a
  poster is kept as long as its take's file and collected in the same pass;
- **collectable** media: rows nothing points at any more, which is routine: a
  check re-run replaces its findings, and the evidence images of the old ones
  stay until ``fsck --gc`` removes the rows and their files;
- files younger than an hour that no row names, and temp files of interrupted
  writes: an import may be writing them right now, so ``--gc`` leaves them until
  they are an hour old.

Nothing in use is ever removed: ``--gc`` reads the references again in the
transaction that deletes the rows.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, delete, or_, select

from setpiece.model.enums import TakeStatus
from setpiece.model.orm import MEDIA_HASHES, MEDIA_OWNER, Base, Media, Poster, Shot, Take
from setpiece.production.context import Production
from setpiece.production.views import jsonable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["FsckProblem", "FsckReport", "fsck", "media_columns", "referenced_media"]

MADE = (TakeStatus.READY.value, TakeStatus.CIRCLED.value, TakeStatus.REJECTED.value)
GC_AGE_S = 3600.0


@dataclass(frozen=True)
class FsckProblem:
    kind: str  # missing | corrupt | take_without_media | orphan_file
    detail: str
    sha256: str | None = None
    path: str | None = None
    takes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FsckReport:
    checked: int
    bytes: int
    problems: list[FsckProblem]
    unreferenced: list[str]  # store keys no row names
    stale_temp: list[str]
    removed: list[str]  # store keys and temp files --gc removed
    collectable: list[str] = field(default_factory=list)  # store keys of rows nothing uses
    collectable_bytes: int = 0
    freed_bytes: int = 0  # what --gc removed, in bytes of media rows

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "bytes": self.bytes,
            "problems": jsonable(self.problems),
            "unreferenced": self.unreferenced,
            "collectable": self.collectable,
            "collectable_bytes": self.collectable_bytes,
            "stale_temp": self.stale_temp,
            "removed": self.removed,
            "freed_bytes": self.freed_bytes,
        }


def media_columns() -> list[Column[Any]]:
    """Every column that holds media hashes: foreign keys to media.sha256, marked JSON."""
    media_key = Media.__table__.c.sha256
    found: list[Column[Any]] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column is media_key for fk in column.foreign_keys) or (
                MEDIA_HASHES in column.info
            ):
                found.append(column)
    return found


def referenced_media(session: Session) -> dict[str, list[str]]:
    """Every media hash a row points at -> the ``table.column`` names that point at it.

    The one place that decides what is in use: read from the ORM's declarations, so
    findings' evidence, corpus thumbnails, bible references, takes, render requests and any
    table added later are all counted.
    """
    used: dict[str, list[str]] = {}
    owned: list[Column[Any]] = []
    for column in media_columns():
        if MEDIA_OWNER in column.info:
            owned.append(column)
            continue
        where = f"{column.table.name}.{column.name}"
        read = column.info.get(MEDIA_HASHES)
        for value in session.scalars(select(column).where(column.is_not(None))):
            for sha in read(value) if read else [value]:
                if where not in used.setdefault(sha, []):
                    used[sha].append(where)
    # Media that belong to other media (a take's poster) are in use while their owner is.
    for column in owned:
        where = f"{column.table.name}.{column.name}"
        owner = column.table.c[column.info[MEDIA_OWNER]]
        for value, source in session.execute(select(column, owner).where(column.is_not(None))):
            if source in used and where not in used.setdefault(value, []):
                used[value].append(where)
    return used


def fsck(
    production: Production, *, gc: bool = False, progress: Callable[[int, int], None] | None = None
) -> FsckReport:
    """Re-hashes every media file and cross-checks the rows.

    Args:
        production: The open project.
        gc: Remove collectable media (rows nothing uses, and their files), and files no row
            names and temp files once they are older than an hour. Needs the admin role.
        progress: Called as (files done, total).

    Raises:
        PermissionDeniedError: ``gc`` by someone who is not an admin of the project.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "edit_project" if gc else "read")
        media = session.scalars(select(Media).order_by(Media.sha256)).all()
        users: dict[str, list[str]] = {}
        for take_id, code, number, sha in session.execute(
            select(Take.id, Shot.code, Take.number, Take.media_sha256).join(
                Shot, Take.shot_id == Shot.id
            )
        ):
            if sha:
                users.setdefault(sha, []).append(f"{take_id} ({code}/{number})")
        referenced = referenced_media(session)
        bare = session.execute(
            select(Take.id, Shot.code, Take.number, Take.status)
            .join(Shot, Take.shot_id == Shot.id)
            .where(Take.media_sha256.is_(None), Take.status.in_(MADE))
        ).all()
        rows = [(m.sha256, m.key, m.size) for m in media]

    problems: list[FsckProblem] = [
        FsckProblem(
            "take_without_media",
            f"take {tid} ({code}/{num}) is {status} but has no media",
            takes=[tid],
        )
        for tid, code, num, status in bare
    ]
    total_bytes = 0
    collectable: dict[str, tuple[str, int]] = {}
    for index, (sha, key, size) in enumerate(rows):
        state = production.store.verify(key, sha)
        path = production.store.url_for(key)
        if state != "ok":
            what = "is missing" if state == "missing" else "no longer matches its sha256"
            problems.append(FsckProblem(state, f"{path} {what}", sha, path, users.get(sha, [])))
        else:
            total_bytes += size
        if sha not in referenced:
            collectable[sha] = (key, size)
        if progress:
            progress(index + 1, len(rows))

    known_keys = {key for _, key, _ in rows}
    unreferenced = sorted(k for k in production.store.iter_keys() if k not in known_keys)
    cutoff = time.time() - GC_AGE_S
    removed: list[str] = []
    freed = 0
    if gc:
        freed = _collect(production, collectable, removed)
        for key in unreferenced:
            if _modified(production, key) < cutoff:
                production.store.remove(key)
                removed.append(key)
        for temp in production.store.stale_temp_files(older_than_s=GC_AGE_S):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            removed.append(temp)
        unreferenced = [k for k in unreferenced if k not in removed]
        collectable = {s: c for s, c in collectable.items() if c[0] not in removed}
    for key in unreferenced:
        # Only where the age is known (a local store): a remote object may be an import's.
        if production.store.local_path(key) is not None and _modified(production, key) < cutoff:
            path = production.store.url_for(key)
            problems.append(
                FsckProblem(
                    "orphan_file",
                    f"{path} is in the store but no row names it (left by an interrupted "
                    "import: 'setpiece fsck --gc' removes it)",
                    path=path,
                )
            )
    stale = production.store.stale_temp_files(older_than_s=0)
    return FsckReport(
        len(rows),
        total_bytes,
        problems,
        unreferenced,
        stale,
        removed,
        collectable=sorted(key for key, _ in collectable.values()),
        collectable_bytes=sum(size for _, size in collectable.values()),
        freed_bytes=freed,
    )


def _collect(
    production: Production, candidates: dict[str, tuple[str, int]], removed: list[str]
) -> int:
    """Deletes the media rows nothing uses, then their files; returns the bytes freed.

    The references are read again in the deleting transaction, so a row that came into use
    since the check is kept. (An import of the very same file that commits between that
    transaction and the file's removal would point at a missing file: fsck then reports it
    missing, and importing the file again restores it.)
    """
    if not candidates:
        return 0
    with production.transaction() as session:
        production.authorize(session, "edit_project")
        in_use = referenced_media(session)
        gone = [sha for sha in candidates if sha not in in_use]
        # A poster goes with its source (and its row before its media row, for the key).
        session.execute(
            delete(Poster).where(
                or_(Poster.source_sha256.in_(gone), Poster.poster_sha256.in_(gone))
            )
        )
        for sha in gone:
            row = session.get(Media, sha)
            if row is not None:
                session.delete(row)
    freed = 0
    for sha in gone:
        key, size = candidates[sha]
        production.store.remove(key)
        removed.append(key)
        freed += size
    return freed


def _modified(production: Production, key: str) -> float:
    path = production.store.local_path(key)
    if path is not None:
        try:
            return path.stat().st_mtime
        except OSError:
            return time.time()
    return 0.0  # remote stores: no cheap mtime; unreferenced objects are removed on gc
