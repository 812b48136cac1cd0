"""Applying a checked import: the planned shots written, each with its history event.

Runs only after every row has passed ``_plan``; it decides how the changes are
written: a new shot starts as todo, a changed shot is touched (its version goes
up), blocking is set in place so that an entry that stays keeps its row and its
prompt override, and every shot gets one "create" or "edit" event naming its
fields, with the file's name as the note.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from setpiece.model.enums import BibleKind, ShotStatus
from setpiece.model.orm import Shot, ShotSubject
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import touch_shot
from setpiece.production.shotlist._plan import Plan, Subject, current_subjects

__all__ = ["apply_plan"]


def apply_plan(session: Session, production: Production, plan: Plan, source: str) -> None:
    """Writes one planned shot and its event, in the import's transaction.

    Args:
        session: The import's transaction.
        production: The open project (the acting user signs the change).
        plan: The row's plan, placed.
        source: The file's name, for the event's note.
    """
    assert plan.position is not None
    shot = plan.shot
    if shot is None:
        shot = Shot(
            code=plan.row.code,
            scene=plan.scene,
            position=plan.position,
            description="",
            status=ShotStatus.TODO.value,
            updated_by=production.actor,
        )
        session.add(shot)
    else:
        if shot.scene_id != plan.scene.id:
            shot.scene = plan.scene
        shot.position = plan.position
        touch_shot(shot, production)
    for attribute, value in plan.attributes.items():
        setattr(shot, attribute, value)
    if plan.subjects:
        _set_subjects(shot, plan.subjects)
    after = {c.field: c.after for c in plan.changes}
    if plan.shot is None:
        data = {"fields": list(after), "after": after}
        action, status = "create", shot.status
    else:
        data = {"fields": list(after), "before": {c.field: c.before for c in plan.changes}}
        data["after"] = after
        action, status = "edit", None
    record_event(
        session,
        production,
        "shot",
        shot.code,
        action,
        after=status,
        note=f"shot list {source}",
        data=data,
    )


def _set_subjects(shot: Shot, wanted: dict[str, list[Subject]]) -> None:
    """Sets the blocking in place: an entry that stays keeps its row and prompt override."""
    ordered = [
        *wanted.get("characters", current_subjects(shot, BibleKind.CHARACTER)),
        *wanted.get("props", current_subjects(shot, BibleKind.PROP)),
    ]
    existing = {s.entry_id: s for s in shot.subjects if s.entry_id is not None}
    keep = {entry.id for entry, _, _ in ordered}
    for subject in list(shot.subjects):
        if subject.entry_id not in keep:
            shot.subjects.remove(subject)
    for index, (entry, side, depth) in enumerate(ordered):
        row = existing.get(entry.id)
        if row is None:
            shot.subjects.append(ShotSubject(entry=entry, position=index, side=side, depth=depth))
        else:
            row.position, row.side, row.depth = index, side, depth
