"""``fsck``: proving that every recorded file is there and intact.

Problems (exit 3): a media row whose file is missing or whose content no longer
hashes to its name; a take that claims to be made (ready, circled, rejected)
but has no media; a media row nothing refers to (an orphan row).

Not problems, but listed: files in the store that no row names, and temp files
of interrupted writes. Both are what a crash between storing and committing
leaves (see ``ingest``); ``gc`` removes them once they are older than an hour,
so an import running at the same moment is never disturbed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from setpiece.model.enums import TakeStatus
from setpiece.model.orm import BibleRef, Finding, Media, Shot, Take
from setpiece.production.context import Production

__all__ = ["FsckProblem", "FsckReport", "fsck"]

MADE = (TakeStatus.READY.value, TakeStatus.CIRCLED.value, TakeStatus.REJECTED.value)
GC_AGE_S = 3600.0


@dataclass(frozen=True)
class FsckProblem:
    kind: str  # missing | corrupt | take_without_media | orphan_row
    detail: str
    sha256: str | None = None
    path: str | None = None
    takes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "detail": self.detail,
            "sha256": self.sha256,
            "path": self.path,
            "takes": self.takes,
        }


@dataclass(frozen=True)
class FsckReport:
    checked: int
    bytes: int
    problems: list[FsckProblem]
    unreferenced: list[str]
    stale_temp: list[str]
    removed: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "bytes": self.bytes,
            "problems": [p.to_json() for p in self.problems],
            "unreferenced": self.unreferenced,
            "stale_temp": self.stale_temp,
            "removed": self.removed,
        }


def fsck(
    production: Production, *, gc: bool = False, progress: Callable[[int, int], None] | None = None
) -> FsckReport:
    """Re-hashes every media file and cross-checks the rows.

    Args:
        production: The open project.
        gc: Remove unreferenced files and temp files older than an hour.
        progress: Called as (files done, total).
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        media = session.scalars(select(Media).order_by(Media.sha256)).all()
        users: dict[str, list[str]] = {}
        for take_id, code, number, sha in session.execute(
            select(Take.id, Shot.code, Take.number, Take.media_sha256).join(
                Shot, Take.shot_id == Shot.id
            )
        ):
            if sha:
                users.setdefault(sha, []).append(f"{take_id} ({code}/{number})")
        referenced = set(users)
        referenced.update(session.scalars(select(BibleRef.media_sha256)))
        referenced.update(s for s in session.scalars(select(Finding.evidence_sha256)) if s)
        for hashes in session.scalars(select(Take.reference_hashes)):
            referenced.update(hashes or [])
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
    for index, (sha, key, size) in enumerate(rows):
        state = production.store.verify(key, sha)
        path = production.store.url_for(key)
        if state != "ok":
            what = "is missing" if state == "missing" else "no longer matches its sha256"
            problems.append(FsckProblem(state, f"{path} {what}", sha, path, users.get(sha, [])))
        else:
            total_bytes += size
        if sha not in referenced:
            problems.append(
                FsckProblem(
                    "orphan_row", f"media {sha[:12]} is recorded but used by nothing", sha, path
                )
            )
        if progress:
            progress(index + 1, len(rows))

    known_keys = {key for _, key, _ in rows}
    unreferenced = sorted(k for k in production.store.iter_keys() if k not in known_keys)
    stale = production.store.stale_temp_files(older_than_s=0)
    removed: list[str] = []
    if gc:
        cutoff = time.time() - GC_AGE_S
        for key in unreferenced:
            if _modified(production, key) < cutoff:
                production.store.remove(key)
                removed.append(key)
        for temp in production.store.stale_temp_files(older_than_s=GC_AGE_S):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            removed.append(temp)
    return FsckReport(len(rows), total_bytes, problems, unreferenced, stale, removed)


def _modified(production: Production, key: str) -> float:
    path = production.store.local_path(key)
    if path is not None:
        try:
            return path.stat().st_mtime
        except OSError:
            return time.time()
    return 0.0  # remote stores: no cheap mtime; unreferenced objects are removed on gc
