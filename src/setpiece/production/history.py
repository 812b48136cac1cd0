"""The production's history: every change written as an event, with who and when.

Whatever changes a shot, a take, a scene, the bible or the members (a person through the
CLI or the shot board, the render queue, an import) records it here, in the same
transaction as the change, so the history never says something happened that was rolled
back, nor misses what was kept. Events are never updated (``model.orm.Event``); the shot
board's feed and the AI-use disclosure's decisions read them. The actor is the
production's acting user (``Production.actor``), never a name the caller passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setpiece.model.orm import Event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from setpiece.production.context import Production

__all__ = ["record_event"]


def record_event(
    session: Session,
    production: Production,
    entity: str,
    entity_id: str,
    action: str,
    *,
    before: str | None = None,
    after: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Adds one event to the history, in ``session``'s transaction.

    Args:
        session: The transaction that makes the change.
        production: The open project; its acting user is the event's actor.
        entity: What changed: ``shot``, ``take``, ``scene``, ``user``...
        entity_id: Its code or id.
        action: What happened: ``status``, ``approve``, ``create``...
        before: The value before (a status), if the action has one.
        after: The value after.
        note: The person's note, or why the system acted.
        data: Anything else the action records.
    """
    session.add(
        Event(
            actor=production.actor,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=before,
            after=after,
            note=note,
            data=data or {},
        )
    )
