"""Findings, history, users and the production's status: the records every capability shares."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.model.enums import Role, ShotStatus, TakeStatus, parse_enum
from setpiece.model.findings import FindingPayload
from setpiece.model.names import check_user_name, fold_user_name
from setpiece.model.orm import Event, Finding, Media, Scene, Shot, Take, User
from setpiece.production.context import Production
from setpiece.production.feed import take_labels
from setpiece.production.history import record_event
from setpiece.production.ingest import media_row, probe_files, store_files
from setpiece.production.rows import media_view, shot_row, take_row
from setpiece.production.views import EventView, FindingView, jsonable

__all__ = [
    "NewFinding",
    "StatusReport",
    "UserView",
    "add_user",
    "history",
    "list_findings",
    "list_users",
    "production_status",
    "record_finding",
    "replace_findings",
]


def record_finding(
    production: Production,
    kind: str,
    *,
    shot: str | None = None,
    take: str | None = None,
    frame: int | None = None,
    score: float | None = None,
    threshold: float | None = None,
    detail: str = "",
    evidence: str | os.PathLike[str] | None = None,
    data: FindingPayload | Mapping[str, Any] | None = None,
) -> FindingView:
    """Stores what a check found. ``kind`` is namespaced by the check, e.g. "continuity.face"."""
    if not kind.strip() or len(kind) > 50:
        raise InvalidInputError("a finding needs a kind of 1-50 characters, e.g. continuity.face")
    if frame is not None and frame < 0:
        raise InvalidInputError(f"frame {frame} is negative: frames count from 0")
    files = (
        probe_files([evidence], kinds=frozenset({"image", "video"}), what="evidence")
        if evidence
        else []
    )
    store_files(production, files)
    with production.transaction() as session:
        production.authorize(session, "record_finding")
        take_obj = take_row(session, take) if take else None
        shot_obj = shot_row(session, shot) if shot else (take_obj.shot if take_obj else None)
        if take_obj is not None and shot_obj is not None and take_obj.shot_id != shot_obj.id:
            raise InvalidInputError(
                f"take {take_obj.id} belongs to shot {take_obj.shot.code}, not {shot_obj.code}"
            )
        finding = Finding(
            kind=kind.strip(),
            shot=shot_obj,
            take=take_obj,
            frame=frame,
            score=score,
            threshold=threshold,
            detail=detail,
            evidence_sha256=media_row(session, files[0]).sha256 if files else None,
            data=jsonable(data) if data is not None else {},
        )
        session.add(finding)
        session.flush()
        return _finding_view(production, finding, session)


@dataclass(frozen=True)
class NewFinding:
    """A finding a check is about to store (see :func:`replace_findings`)."""

    kind: str
    shot: str | None = None
    take: str | None = None
    frame: int | None = None
    score: float | None = None
    threshold: float | None = None
    detail: str = ""
    evidence: str | os.PathLike[str] | None = None
    # The kind's payload (``setpiece.model.findings``), stored as its fields in order.
    data: FindingPayload | Mapping[str, Any] = field(default_factory=dict)


def replace_findings(
    production: Production,
    kinds: frozenset[str],
    findings: list[NewFinding],
    *,
    takes: Sequence[str] = (),
    shots: Sequence[str] = (),
) -> list[FindingView]:
    """Stores a check's findings in place of what the same check found before.

    A check re-run over some takes and shots must not pile up stale findings: every
    finding of one of ``kinds`` attached to one of ``takes`` (by take) or ``shots``
    (by shot, for findings with no take, such as a look jump between two shots) is
    deleted, and ``findings`` are stored, in one transaction. Evidence files are put
    in the media store first (content-addressed, so a crash leaves no dangling row).

    Raises:
        InvalidInputError: A finding of a kind outside ``kinds``, or a bad frame.
    """
    for item in findings:
        if item.kind not in kinds:
            raise InvalidInputError(f"finding kind {item.kind!r} is not one of {sorted(kinds)}")
        if item.frame is not None and item.frame < 0:
            raise InvalidInputError(f"frame {item.frame} is negative: frames count from 0")
    evidence = [item.evidence for item in findings if item.evidence]
    files = (
        probe_files(evidence, kinds=frozenset({"image", "video"}), what="evidence")
        if evidence
        else []
    )
    store_files(production, files)
    by_path = {str(item.path): item for item in files}
    stored: list[Finding] = []
    with production.transaction() as session:
        production.authorize(session, "record_finding")
        take_ids = [take_row(session, ref).id for ref in takes]
        shot_ids = [shot_row(session, code).id for code in shots]
        old = select(Finding).where(Finding.kind.in_(sorted(kinds)))
        if take_ids:
            for row in session.scalars(old.where(Finding.take_id.in_(take_ids))):
                session.delete(row)
        if shot_ids:
            for row in session.scalars(
                old.where(Finding.shot_id.in_(shot_ids), Finding.take_id.is_(None))
            ):
                session.delete(row)
        session.flush()
        for item in findings:
            take_obj = take_row(session, item.take) if item.take else None
            shot_obj = (
                shot_row(session, item.shot) if item.shot else (take_obj.shot if take_obj else None)
            )
            media = None
            if item.evidence:
                ingested = by_path.get(str(Path(item.evidence)))
                media = media_row(session, ingested) if ingested else None
            finding = Finding(
                kind=item.kind,
                shot=shot_obj,
                take=take_obj,
                frame=item.frame,
                score=item.score,
                threshold=item.threshold,
                detail=item.detail,
                evidence_sha256=media.sha256 if media else None,
                data=jsonable(item.data),
            )
            session.add(finding)
            stored.append(finding)
        session.flush()
        return [_finding_view(production, f, session) for f in stored]


def list_findings(
    production: Production, *, shot: str | None = None, kind: str | None = None
) -> list[FindingView]:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        query = (
            select(Finding)
            .options(selectinload(Finding.shot), selectinload(Finding.take).selectinload(Take.shot))
            .order_by(Finding.id)
        )
        if shot is not None:
            query = query.where(Finding.shot_id == shot_row(session, shot).id)
        if kind is not None:
            query = query.where((Finding.kind == kind) | Finding.kind.startswith(kind + "."))
        return [_finding_view(production, f, session) for f in session.scalars(query).all()]


def _finding_view(production: Production, finding: Finding, session: Any) -> FindingView:
    evidence = session.get(Media, finding.evidence_sha256) if finding.evidence_sha256 else None
    return FindingView(
        id=finding.id,
        kind=finding.kind,
        shot=finding.shot.code if finding.shot else None,
        take=finding.take_id,
        frame=finding.frame,
        score=finding.score,
        threshold=finding.threshold,
        detail=finding.detail,
        evidence=media_view(production, evidence) if evidence else None,
        data=dict(finding.data or {}),
        created_at=finding.created_at,
        take_label=f"{finding.take.shot.code}/{finding.take.number}" if finding.take else None,
    )


def history(
    production: Production,
    entity: str | None = None,
    entity_id: str | None = None,
    *,
    limit: int = 1000,
) -> list[EventView]:
    """The change history, newest last; of one entity when given."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        query = select(Event).order_by(Event.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(Event.entity == entity)
        if entity_id is not None:
            query = query.where(Event.entity_id == entity_id)
        events = list(reversed(session.scalars(query).all()))
        takes = take_labels(session, events)
        return [
            EventView(
                e.at,
                e.actor,
                e.entity,
                e.entity_id,
                e.action,
                e.before,
                e.after,
                e.note,
                e.entity_id if e.entity == "shot" else takes.get(e.entity_id),
            )
            for e in events
        ]


@dataclass(frozen=True)
class UserView:
    name: str
    role: str


def add_user(
    production: Production, name: str, role: str, *, password_hash: str | None = None
) -> UserView:
    """Adds a member. The first member must be an admin, so someone can manage the rest.

    ``password_hash`` is stored as given and marked one-time (``accounts.add_member`` makes
    a one-time password, which logs in once).

    Raises:
        InvalidInputError: A bad name (``model.names.check_user_name``) or role, or a first
            member who is not an admin.
        ConflictError: The name is taken, in any case or Unicode form.
        PermissionDeniedError: The acting user is not an admin (once users exist).
    """
    wanted = parse_enum(Role, role, "role")
    label = check_user_name(name)
    key = fold_user_name(label)
    with production.transaction() as session:
        production.authorize(session, "manage_users")
        if not session.scalar(select(func.count()).select_from(User)) and wanted != Role.ADMIN:
            raise InvalidInputError("the first member must be an admin: add one with --role admin")
        taken = session.scalars(select(User.name).where(User.name_key == key)).first()
        if taken is not None:
            same = "" if taken == label else f" as {taken} (names ignore case)"
            raise ConflictError(f"user {label} already exists{same}")
        session.add(
            User(
                name=label,
                name_key=key,
                role=wanted.value,
                password_hash=password_hash,
                password_one_time=password_hash is not None,  # logs in once (accounts.py)
            )
        )
        record_event(session, production, "user", label, "create", after=wanted)
        return UserView(label, wanted.value)


def list_users(production: Production) -> list[UserView]:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        return [UserView(u.name, u.role) for u in session.scalars(select(User).order_by(User.name))]


@dataclass(frozen=True)
class StatusReport:
    name: str
    fps: Fraction
    width: int
    height: int
    scenes: int
    omitted_scenes: int
    shots: dict[str, int] = field(default_factory=dict)
    takes: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    media_bytes: int = 0
    database: str = ""
    media_store: str = ""
    stale_shots: list[str] = field(default_factory=list)  # ``production.stale``

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "resolution": f"{self.width}x{self.height}",
            "scenes": self.scenes,
            "omitted_scenes": self.omitted_scenes,
            "shots": self.shots,
            "takes": self.takes,
            "media": {"files": self.media_files, "bytes": self.media_bytes},
            "database": self.database,
            "media_store": self.media_store,
            "stale_shots": self.stale_shots,
        }


def production_status(production: Production) -> StatusReport:
    from setpiece.store.db import safe_url

    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        project = production.project_row(session)
        shots = dict(session.execute(select(Shot.status, func.count()).group_by(Shot.status)).all())
        takes = dict(session.execute(select(Take.status, func.count()).group_by(Take.status)).all())
        files, size = session.execute(
            select(func.count(), func.coalesce(func.sum(Media.size), 0))
        ).one()
        report = StatusReport(
            name=project.name,
            fps=project.fps,
            width=project.width,
            height=project.height,
            scenes=session.scalar(select(func.count()).select_from(Scene)) or 0,
            omitted_scenes=session.scalar(
                select(func.count()).select_from(Scene).where(Scene.omitted)
            )
            or 0,
            shots={s.value: shots.get(s.value, 0) for s in ShotStatus},
            takes={s.value: takes.get(s.value, 0) for s in TakeStatus},
            media_files=files,
            media_bytes=int(size),
            database=safe_url(production.config.database_url),
            media_store=production.config.media_url,
        )
    from dataclasses import replace

    from setpiece.production.stale import stale_shots

    return replace(report, stale_shots=[s.shot for s in stale_shots(production)])
