"""Shot lengths from the dialogue's sound: the one rule, for `dialogue time` and `make`.

Once lines have takes, a shot's length follows what is heard. ``time_shots`` decides it
for every shot (of one scene, or all) and reports each shot whose length changed:

- **The planner's length, measured.** A shot whose description is one the planner
  proposes for its scene now (``script.planning.proposed_lengths``) takes the planned
  length, where each line counts at its take's measured length plus ``[dialogue] pause``
  (the take the cut plays: circled, else newest recorded, else newest) instead of the
  words-a-second estimate. This can shorten a shot as well as lengthen it.
- **Never shorter than its lines.** Each shot lasts at least until its last line, placed
  as the cut places it (``edit.sound.place_lines``: a pause after the in-point, a pause
  between lines, dual lines together), ends, plus a closing pause: the preview movie
  never plays a line past its shot.
- **A person's length stands.** A shot whose last length was set by a person
  (``shot set --duration``, the board, the demo's cap) keeps it unless its lines outlast
  it; then it is lengthened to fit them.
- **The edit wins over both.** A shot whose length came from ``edit import`` (its last
  "duration" event says "from the edit") is left as the edit cut it, and named in
  ``kept_by_edit``.

It lives in ``pipeline`` because it joins two capabilities: the planner (``script``) and
the cut's placement of the lines (``edit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.model.orm import Event, Scene, Shot
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import scene_row, touch_shot
from setpiece.timebase import seconds_to_frames

if TYPE_CHECKING:
    from setpiece.production.cut import Cut

__all__ = ["TIMED_NOTE", "ShotTiming", "TimingReport", "line_overruns", "time_shots"]

#: The note of the "duration" events this rule records (how a later run knows its own).
TIMED_NOTE = "timed from the dialogue takes"


@dataclass(frozen=True)
class ShotTiming:
    """A shot whose planned length changed (or would, in a dry run), in frames and seconds."""

    code: str
    scene: str
    before: int | None
    after: int
    before_seconds: float | None
    after_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "scene": self.scene,
            "before": self.before,
            "after": self.after,
            "before_seconds": self.before_seconds,
            "after_seconds": self.after_seconds,
        }


@dataclass(frozen=True)
class TimingReport:
    """What ``time_shots`` changed, and the shots the edit's lengths kept."""

    changed: list[ShotTiming] = field(default_factory=list)
    kept_by_edit: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def lengthened(self) -> list[str]:
        """Codes of the shots made longer (their clips may now be too short)."""
        return [c.code for c in self.changed if c.before is None or c.after > c.before]

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": [c.to_json() for c in self.changed],
            "kept_by_edit": self.kept_by_edit,
            "dry_run": self.dry_run,
        }


def time_shots(
    production: Production,
    *,
    scene: str | None = None,
    planner: str = "rules",
    dry_run: bool = False,
) -> TimingReport:
    """Times the existing shots of every scene (or one) from the dialogue's takes, by the
    rule in the module docstring.

    Args:
        production: The project.
        scene: Only this scene's shots.
        planner: The planner whose lengths the shots take.
        dry_run: Report what would change; change nothing.

    Raises:
        NotFoundError: An unknown scene or planner.
        PermissionDeniedError: The acting user may not edit the breakdown.
    """
    from setpiece.script.planning import proposed_lengths

    with production.transaction(read_only=True) as session:
        production.authorize(session, "edit_breakdown")
        only = scene_row(session, scene).id if scene is not None else None
    needed = _frames_for_lines(production, scene)
    changed: list[ShotTiming] = []
    kept: list[str] = []
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        fps = production.project_row(session).fps
        proposed = proposed_lengths(session, production, planner=planner, scene_id=only)
        owners = _length_owners(session)
        rows = session.scalars(
            select(Scene).options(selectinload(Scene.shots)).order_by(Scene.position)
        )
        for row in rows:
            if row.id not in proposed:
                continue
            lengths: dict[str, list[float]] = {}
            for description, length in proposed[row.id]:
                lengths.setdefault(description, []).append(length)
            for shot in sorted(row.shots, key=lambda s: s.position):
                planned = lengths.get(shot.description)
                seconds = planned.pop(0) if planned else None
                owner = owners.get(shot.code)
                frames = _wanted(shot, seconds, needed.get(shot.code, 0), owner, fps)
                if frames is None or frames == shot.planned_frames:
                    continue
                if owner == "edit":
                    kept.append(shot.code)
                    continue
                changed.append(_timing(shot, row.number, frames, fps))
                if not dry_run:
                    _set_length(session, production, shot, frames)
        if not dry_run:
            session.flush()
    return TimingReport(changed, kept, dry_run)


def _wanted(
    shot: Shot, seconds: float | None, needed: int, owner: str | None, fps: Fraction
) -> int | None:
    """The frames the rule gives ``shot`` (None: no length to give it). An edit's length is
    weighed as the planner's would be: the caller keeps it, and names it when this differs."""
    base = shot.planned_frames
    if seconds is not None and owner != "person":
        base = max(1, seconds_to_frames(seconds, fps))
    if base is None:
        return needed or None
    return max(base, needed)


def _timing(shot: Shot, scene: str, frames: int, fps: Fraction) -> ShotTiming:
    before = shot.planned_frames
    return ShotTiming(
        code=shot.code,
        scene=scene,
        before=before,
        after=frames,
        before_seconds=round(float(before / fps), 3) if before is not None else None,
        after_seconds=round(float(frames / fps), 3),
    )


def _set_length(session: Session, production: Production, shot: Shot, frames: int) -> None:
    before = shot.planned_frames
    shot.planned_frames = frames
    touch_shot(shot, production)
    record_event(
        session,
        production,
        "shot",
        shot.code,
        "duration",
        before=str(before) if before is not None else None,
        after=str(frames),
        note=TIMED_NOTE,
    )


def _frames_for_lines(production: Production, scene: str | None) -> dict[str, int]:
    """For each shot that covers lines, the frames from its in-point to its last line's
    end as the cut places them, plus a closing pause."""
    from setpiece.edit.sound import place_lines
    from setpiece.production.cut import assemble
    from setpiece.production.dialogue import cut_lines, dialogue_settings

    pause = dialogue_settings(production.config.settings).pause
    with production.transaction(read_only=True) as session:
        lines = cut_lines(production, session, scene=scene)
    if not lines:
        return {}
    cut = assemble(production)
    gap = round(Fraction(pause).limit_denominator(10000) * cut.fps)
    starts = {(clip.scene, clip.shot): clip.record_in for clip in cut.clips}
    needed: dict[str, int] = {}
    for placed in place_lines(cut, lines, pause=pause).lines:
        key = (placed.line.scene, placed.line.shot)
        frames = placed.record_out + gap - starts[key]
        needed[placed.line.shot] = max(needed.get(placed.line.shot, 0), frames)
    return needed


def line_overruns(production: Production, cut: Cut, *, scene: str | None = None) -> list[str]:
    """One warning line per shot of ``cut`` whose lines, placed as the cut places them,
    run past its end (``edit.sound.shot_overruns``): say it, since the movie would carry
    them into the next shot."""
    from setpiece.edit.sound import place_lines, shot_overruns
    from setpiece.production.dialogue import cut_lines, dialogue_settings

    pause = dialogue_settings(production.config.settings).pause
    with production.transaction(read_only=True) as session:
        lines = cut_lines(production, session, scene=scene)
    if not lines:
        return []
    return shot_overruns(cut, place_lines(cut, lines, pause=pause).lines)


def _length_owners(session: Session) -> dict[str, str]:
    """Who set each shot's length, by code: "edit" (``edit import``) or "person"; shots
    whose length is the planner's are absent. This rule's own changes are not counted: a
    person's length this rule lengthened to fit the lines is still the person's."""
    rows = session.execute(
        select(Event.entity_id, Event.note)
        .where(Event.entity == "shot", Event.action == "duration")
        .order_by(Event.id)
    ).all()
    owners: dict[str, str] = {}
    for code, note in rows:
        if note == TIMED_NOTE:
            continue
        owners[code] = "edit" if note and note.startswith("from the edit") else "person"
    return owners
