"""Provisional picks: automation's choice of a take for each shot nobody has circled yet.

The cut needs a picture for every shot before a director has seen them all. A pick is
the take with the fewest findings among the shot's finished "leaf" takes (a take that
was retimed or colour-matched gives way to its derived child, which is what the cut
should show), a fresh take before any stale one (``production.stale``: made from a
bible entry or look that has changed since); ties go to the newest. It is flagged ``provisional`` so every view and
export labels it, and it never overrides a human: a shot with a circled take is left
alone, and approving a take clears the flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func, select

from setpiece.model.enums import TakeKind, TakeStatus
from setpiece.model.orm import Finding, Scene, Shot, Take
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.stale import stale_reasons

__all__ = ["Pick", "pick_provisional"]


@dataclass(frozen=True)
class Pick:
    shot: str
    take: str
    findings: int


def covers(seconds: float | None, planned_frames: int | None, fps: Fraction) -> bool | None:
    """Whether a clip of ``seconds`` lasts the shot's planned length (within a frame); None
    when either is unknown (a still, a take still to render, a shot with no length)."""
    if seconds is None or not planned_frames:
        return None
    return Fraction(seconds).limit_denominator(100_000) * fps >= planned_frames - 1


def pick_provisional(production: Production) -> list[Pick]:
    """Flags one provisional take for every shot without a circled take; returns the picks.

    A shot whose previous pick is still the best keeps it (no event is written), so
    running this again changes nothing.
    """
    picks: list[Pick] = []
    with production.transaction() as session:
        production.authorize(session, "set_take_status")
        counts = dict(
            session.execute(
                select(Finding.take_id, func.count())
                .where(Finding.take_id.is_not(None))
                .group_by(Finding.take_id)
            ).all()
        )
        shots = session.scalars(
            select(Shot)
            .join(Scene, Shot.scene_id == Scene.id)
            .where(Scene.omitted.is_(False))
            .order_by(Scene.position, Shot.position)
        ).all()
        takes_by_shot: dict[int, list[Take]] = {}
        for take in session.scalars(select(Take).order_by(Take.number)):
            takes_by_shot.setdefault(take.shot_id, []).append(take)
        for shot in shots:
            takes = takes_by_shot.get(shot.id, [])
            if any(t.status == TakeStatus.CIRCLED.value for t in takes):
                continue
            ready = [t for t in takes if t.status == TakeStatus.READY.value and t.media_sha256]
            parents = {t.parent_take_id for t in ready if t.parent_take_id}
            leaves = [t for t in ready if t.id not in parents]
            if not leaves:
                continue
            # A fresh take (made from the bible as it is) goes before a stale one.
            stale = stale_reasons(session, leaves)
            # ... and one that lasts the shot before one cut short (rendered before the shot
            # was lengthened to fit its lines).
            short = {
                t.id
                for t in leaves
                if t.kind == TakeKind.VIDEO.value
                and t.media is not None
                and covers(t.media.duration, shot.planned_frames, production.fps) is False
            }
            best = min(
                leaves,
                key=lambda t: (t.id in stale, t.id in short, counts.get(t.id, 0), -t.number),
            )
            for take in takes:
                if take.provisional and take.id != best.id:
                    take.provisional = False
            if not best.provisional:
                best.provisional = True
                record_event(
                    session,
                    production,
                    "take",
                    best.id,
                    "pick",
                    note=f"provisional pick for {shot.code}: "
                    f"{counts.get(best.id, 0)} finding(s), fewest of {len(leaves)}",
                )
            picks.append(Pick(shot.code, best.id, int(counts.get(best.id, 0))))
    return picks
