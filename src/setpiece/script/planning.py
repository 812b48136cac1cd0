"""`shot plan`: running a planner over the script's scenes and recording the shots.

Dialogue is timed from sound where it can be: a line with a dialogue take counts at the
measured length of the take the cut plays (``production.dialogue.pick_line_take``) plus
``[dialogue] pause`` (the pause the cut places before it, ``edit.sound``), instead of the
words-a-second estimate. Re-timing the shots a scene has already is
``pipeline.timing.time_shots`` (``dialogue time`` and ``make``), which asks
``proposed_lengths`` what the planner gives each shot now.

Scenes that already have shots are left alone unless ``replace`` is asked for;
even then a shot that has takes, or that someone has moved past ``todo``, is
never removed (it is reported as kept), so planning cannot lose work. All
shots of one run are written in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from setpiece.model.enums import BibleKind, ShotStatus
from setpiece.model.orm import Appearance, BibleEntry, Scene, Shot, ShotSubject, Take
from setpiece.production.context import Production
from setpiece.production.dialogue import dialogue_settings, line_seconds
from setpiece.production.history import record_event
from setpiece.production.rows import scene_row
from setpiece.script.planner import INSERT_CONFIDENCE, PlannedShot, SceneToPlan, get_planner
from setpiece.script.props import find_candidates
from setpiece.timebase import seconds_to_frames

__all__ = ["PlanReport", "plan_shots", "proposed_lengths"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class PlanReport:
    planner: str
    created: list[dict[str, Any]] = field(default_factory=list)
    skipped_scenes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _codes(scene_number: str, used: set[str]) -> Any:
    """12A, 12B ... 12Z, 12AA ...: the next free codes for a scene's shots."""
    index = 0
    while True:
        letters = ""
        n = index
        while True:
            letters = _LETTERS[n % 26] + letters
            n = n // 26 - 1
            if n < 0:
                break
        index += 1
        code = f"{scene_number}{letters}"
        if code not in used:
            used.add(code)
            yield code


def plan_shots(
    production: Production,
    *,
    scene: str | None = None,
    replace: bool = False,
    planner: str = "rules",
) -> PlanReport:
    """Proposes and records coverage for every scene (or one), in script order.

    Raises:
        NotFoundError: Unknown scene or planner.
        PermissionDeniedError: The acting user may not edit the breakdown.
    """
    chosen = get_planner(planner)
    report = PlanReport(planner=chosen.name)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        fps = production.project_row(session).fps
        query = select(Scene).options(selectinload(Scene.shots)).order_by(Scene.position)
        rows = list(session.scalars(query))
        only = scene_row(session, scene).id if scene is not None else None
        used = set(session.scalars(select(Shot.code)))
        entries = {
            e.name.upper(): e
            for e in session.scalars(select(BibleEntry))
            if e.kind in (BibleKind.CHARACTER.value, BibleKind.PROP.value)
        }
        with_takes = set(session.scalars(select(Take.shot_id).distinct()))
        previous_location: str | None = None
        for row in rows:
            if row.omitted:
                continue
            location = row.location
            if only is not None and row.id != only:
                previous_location = location
                continue
            if row.shots and not replace:
                report.skipped_scenes.append(row.number)
                previous_location = location
                continue
            for shot in list(row.shots):
                if shot.id in with_takes or shot.status != ShotStatus.TODO.value:
                    report.kept.append(shot.code)
                else:
                    report.removed.append(shot.code)
                    used.discard(shot.code)
                    record_event(
                        session,
                        production,
                        "shot",
                        shot.code,
                        "delete",
                        before=shot.status,
                        note="replaced by shot plan",
                    )
                    session.delete(shot)
            session.flush()
            plans = chosen.plan(
                _scene_input(session, row, previous_location, production.config.settings)
            )
            position = (
                session.scalar(select(func.max(Shot.position)).where(Shot.scene_id == row.id)) or 0
            )
            codes = _codes(row.number, used)
            for plan in plans:
                position += 1
                code = next(codes)
                shot = _shot(plan, row, code, position, entries, fps, production.actor)
                session.add(shot)
                record_event(
                    session,
                    production,
                    "shot",
                    code,
                    "create",
                    after=shot.status,
                    note=f"planned ({chosen.name}: {plan.kind})",
                )
                report.created.append(
                    {
                        "code": code,
                        "scene": row.number,
                        "kind": plan.kind,
                        "size": plan.size,
                        "duration": plan.duration,
                        "description": plan.description,
                    }
                )
            previous_location = location
        session.flush()
    return report


def _props_to_insert(
    body: list[dict[str, Any]], props: list[tuple[str, bool]], characters: list[str]
) -> list[str]:
    """Confirmed props, and candidates the scene's action shows or handles confidently enough.

    A candidate's confidence is read again from the scene's action (``script.props``), so a
    candidate left by an older import (a name, a sound) gets no insert.
    """
    action = [str(e.get("text", "")) for e in body if e.get("type") == "action"]
    sure = {c.name: c.confidence for c in find_candidates(action, characters)}
    return [
        name
        for name, candidate in props
        if not candidate or sure.get(name.upper(), 0.0) >= INSERT_CONFIDENCE
    ]


def _placed(characters: list[str], body: list[dict[str, Any]], speakers: list[str]) -> list[str]:
    """The scene's characters, and those its action names as a person ("Brandt sits alone"):
    a speaker's name written with a capital, not only in capitals, also places them in it."""
    found = list(characters)
    action = " ".join(str(e.get("text", "")) for e in body if e.get("type") == "action")
    for name in speakers:
        if name in found or not name.strip():
            continue
        spelled = re.escape(name.title())
        if re.search(rf"(?<![\w'])(?:{spelled}|{re.escape(name)})(?![\w'’])", action):
            found.append(name)
    return found


def _scene_input(
    session: Session, row: Scene, previous_location: str | None, settings: dict[str, Any]
) -> SceneToPlan:
    appearing = session.execute(
        select(BibleEntry.name, BibleEntry.kind, BibleEntry.candidate)
        .join(Appearance, Appearance.entry_id == BibleEntry.id)
        .where(Appearance.scene_id == row.id)
        .order_by(Appearance.id)
    ).all()
    speakers = list(
        session.scalars(select(BibleEntry.name).where(BibleEntry.kind == BibleKind.CHARACTER.value))
    )
    body = list(row.body or [])
    pause = dialogue_settings(settings).pause
    measured = {k: float(v) + pause for k, v in line_seconds(session, row.id).items()}
    return SceneToPlan(
        number=row.number,
        heading=row.heading,
        int_ext=row.int_ext,
        location=row.location,
        eighths=row.eighths,
        body=body,
        characters=_placed(
            [name for name, kind, _ in appearing if kind == BibleKind.CHARACTER.value],
            body,
            speakers,
        ),
        props=_props_to_insert(
            body,
            [(name, bool(c)) for name, kind, c in appearing if kind == BibleKind.PROP.value],
            speakers,
        ),
        previous_location=previous_location,
        line_seconds=measured,
    )


def _shot(
    plan: PlannedShot,
    scene: Scene,
    code: str,
    position: int,
    entries: dict[str, BibleEntry],
    fps: Any,
    actor: str,
) -> Shot:
    shot = Shot(
        code=code,
        scene=scene,
        position=position,
        description=plan.description,
        size=plan.size,
        angle=plan.angle,
        planned_frames=max(1, seconds_to_frames(plan.duration, fps)),
        status=ShotStatus.TODO.value,
        updated_by=actor,
    )
    seen: set[int] = set()
    for index, subject in enumerate(plan.subjects):
        entry = entries.get(subject.name.upper())
        if entry is None or entry.id in seen:
            continue  # a name the bible does not hold (a planner may propose freely)
        seen.add(entry.id)
        shot.subjects.append(
            ShotSubject(entry=entry, position=index, side=subject.side, depth=subject.depth)
        )
    return shot


def proposed_lengths(
    session: Session,
    production: Production,
    *,
    planner: str = "rules",
    scene_id: int | None = None,
) -> dict[int, list[tuple[str, float]]]:
    """What the planner proposes now for each scene (or one), with the lines' measured
    lengths: each shot's description and seconds, in order, by scene id (omitted scenes
    left out). Re-timing from sound (``pipeline.timing``) compares the shots with these.

    Raises:
        NotFoundError: An unknown planner.
    """
    chosen = get_planner(planner)
    proposed: dict[int, list[tuple[str, float]]] = {}
    previous_location: str | None = None
    for row in session.scalars(select(Scene).order_by(Scene.position)):
        if row.omitted:
            continue
        if scene_id is None or row.id == scene_id:
            plans = chosen.plan(
                _scene_input(session, row, previous_location, production.config.settings)
            )
            proposed[row.id] = [(plan.description, plan.duration) for plan in plans]
        previous_location = row.location
    return proposed
