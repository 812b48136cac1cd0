"""Shots: the shot list, its blocking, and status changes checked against the workflow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from setpiece.errors import ConflictError, InvalidInputError, NotFoundError
from setpiece.model.enums import BibleKind, Depth, FrameSide, ShotSize, ShotStatus, parse_enum
from setpiece.model.orm import BibleEntry, Scene, Shot, ShotSubject, Take, utcnow
from setpiece.model.workflow import check_shot_transition
from setpiece.production._rows import (
    normalise_code,
    record_event,
    scene_row,
    shot_row,
    shot_view,
)
from setpiece.production.context import Production
from setpiece.production.views import ShotView
from setpiece.timebase import seconds_to_frames

__all__ = ["SubjectSpec", "add_shot", "get_shot", "list_shots", "parse_subjects", "set_shot_status"]

_SIDES = {
    "left": FrameSide.LEFT,
    "l": FrameSide.LEFT,
    "centre": FrameSide.CENTRE,
    "center": FrameSide.CENTRE,
    "c": FrameSide.CENTRE,
    "right": FrameSide.RIGHT,
    "r": FrameSide.RIGHT,
}
_DEPTHS = {
    "foreground": Depth.FOREGROUND,
    "fg": Depth.FOREGROUND,
    "midground": Depth.MIDGROUND,
    "mg": Depth.MIDGROUND,
    "background": Depth.BACKGROUND,
    "bg": Depth.BACKGROUND,
}


@dataclass(frozen=True)
class SubjectSpec:
    """A character or prop to put in a shot, with its blocking."""

    name: str
    side: FrameSide | None = None
    depth: Depth | None = None
    prompt_override: str | None = None


def parse_subjects(text: str) -> list[SubjectSpec]:
    """Reads "ANNA@left-fg, BEN@right" (blocking after '@': a side and/or a depth, '-' between).

    Raises:
        InvalidInputError: An empty name or an unknown blocking word.
    """
    specs: list[SubjectSpec] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, blocking = item.partition("@")
        if not name.strip():
            raise InvalidInputError(f"subject {item!r} has no name: write NAME or NAME@left-fg")
        side: FrameSide | None = None
        depth: Depth | None = None
        for word in filter(None, re.split(r"[-/ ]", blocking.lower())):
            if word in _SIDES:
                side = _SIDES[word]
            elif word in _DEPTHS:
                depth = _DEPTHS[word]
            else:
                raise InvalidInputError(
                    f"unknown blocking {word!r} for {name.strip()}: use left, centre, right "
                    "and fg, mg, bg (e.g. ANNA@left-fg)"
                )
        specs.append(SubjectSpec(name.strip(), side, depth))
    return specs


def _subject_rows(session: object, specs: list[SubjectSpec]) -> list[ShotSubject]:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    rows: list[ShotSubject] = []
    seen: set[int] = set()
    for index, spec in enumerate(specs):
        entry = session.scalars(
            select(BibleEntry).where(
                func.upper(BibleEntry.name) == spec.name.upper(),
                BibleEntry.kind.in_([BibleKind.CHARACTER.value, BibleKind.PROP.value]),
            )
        ).first()
        if entry is None:
            raise NotFoundError(
                f"no character or prop {spec.name!r} in the bible: add it with "
                f"'setpiece character add {spec.name}' or 'setpiece prop add {spec.name}'"
            )
        if entry.id in seen:
            raise InvalidInputError(f"{entry.name} is named twice in the shot")
        seen.add(entry.id)
        rows.append(
            ShotSubject(
                entry=entry,
                position=index,
                side=spec.side.value if spec.side else None,
                depth=spec.depth.value if spec.depth else None,
                prompt_override=spec.prompt_override,
            )
        )
    return rows


def add_shot(
    production: Production,
    scene: str,
    code: str,
    *,
    description: str = "",
    size: str | None = None,
    angle: str | None = None,
    lens_mm: float | None = None,
    camera_move: str | None = None,
    duration: float | Fraction | None = None,
    subjects: list[SubjectSpec] | None = None,
) -> ShotView:
    """Adds a shot at the end of a scene's coverage.

    Args:
        production: The open project.
        scene: The scene number.
        code: The shot code, unique in the project (e.g. "12A").
        description: What the shot shows.
        size: ECU, CU, MCU, MS, MWS, WS or EWS.
        angle: Camera angle in words (eye, low, high, overhead, dutch...).
        lens_mm: Focal length in millimetres.
        camera_move: static, push-in, pan, dolly, handheld...
        duration: Planned duration in seconds; stored as whole frames at the project rate.
        subjects: Characters and props in frame, with blocking.

    Raises:
        InvalidInputError: A bad code, size, lens or duration.
        NotFoundError: The scene, or a named character or prop, is unknown.
        ConflictError: The shot code exists.
    """
    value = normalise_code(code)
    shot_size = parse_enum(ShotSize, size, "shot size").value if size else None
    if lens_mm is not None and not 1 <= lens_mm <= 2000:
        raise InvalidInputError(f"lens {lens_mm} mm is out of range: give 1 to 2000")
    if duration is not None and not 0 < duration <= 3600:
        raise InvalidInputError(
            f"duration {duration} s is out of range: give more than 0, up to 3600"
        )
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        scene_obj = scene_row(session, scene)
        existing = session.scalars(select(Shot).where(Shot.code == value)).first()
        if existing is not None:
            raise ConflictError(f"shot {value} already exists (in scene {existing.scene.number})")
        frames = seconds_to_frames(Fraction(duration), production.fps) if duration else None
        position = (
            session.scalar(select(func.max(Shot.position)).where(Shot.scene_id == scene_obj.id))
            or 0
        ) + 1
        subject_rows = _subject_rows(session, subjects or [])
        shot = Shot(
            code=value,
            scene=scene_obj,
            position=position,
            description=description.strip(),
            size=shot_size,
            angle=angle.strip().lower() if angle else None,
            lens_mm=lens_mm,
            camera_move=camera_move.strip().lower() if camera_move else None,
            planned_frames=max(frames, 1) if frames is not None else None,
            status=ShotStatus.TODO.value,
            updated_by=production.actor,
        )
        shot.subjects = subject_rows
        session.add(shot)
        session.flush()
        record_event(session, production, "shot", value, "create", after=shot.status)
        return shot_view(shot, production.fps, scene_number=scene_obj.number, takes=0)


def list_shots(production: Production, scene: str | None = None) -> list[ShotView]:
    """Shots in script order (scene order, then coverage order)."""
    with production.transaction() as session:
        production.authorize(session, "read")
        query = (
            select(Shot, Scene.number)
            .join(Scene, Shot.scene_id == Scene.id)
            .options(selectinload(Shot.subjects).selectinload(ShotSubject.entry))
            .order_by(Scene.position, Shot.position)
        )
        if scene is not None:
            query = query.where(Shot.scene_id == scene_row(session, scene).id)
        counts = dict(
            session.execute(select(Take.shot_id, func.count()).group_by(Take.shot_id)).all()
        )
        fps = production.project_row(session).fps
        return [
            shot_view(shot, fps, scene_number=number, takes=counts.get(shot.id, 0))
            for shot, number in session.execute(query).all()
        ]


def get_shot(production: Production, code: str) -> ShotView:
    with production.transaction() as session:
        production.authorize(session, "read")
        shot = shot_row(session, code)
        takes = session.scalar(
            select(func.count()).select_from(Take).where(Take.shot_id == shot.id)
        )
        return shot_view(shot, production.fps, scene_number=shot.scene.number, takes=takes or 0)


def set_shot_status(
    production: Production,
    code: str,
    status: str,
    *,
    expected_version: int | None = None,
    note: str | None = None,
) -> ShotView:
    """Moves a shot to ``status`` if the workflow allows it.

    Args:
        production: The open project.
        code: The shot code.
        status: The new status (todo, wip, review, retake; approved only by approving a take).
        expected_version: The version the caller last saw; a newer one is a conflict.
        note: Why, kept in the history.

    Raises:
        NotFoundError: Unknown shot.
        InvalidInputError: Unknown status.
        InvalidTransitionError: The workflow does not allow the change.
        ConflictError: Someone changed the shot since ``expected_version``.
    """
    new = parse_enum(ShotStatus, status, "shot status")
    with production.transaction() as session:
        production.authorize(
            session, "request_retake" if new == ShotStatus.RETAKE else "set_shot_status"
        )
        shot = shot_row(session, code)
        if expected_version is not None and shot.version != expected_version:
            raise ConflictError(
                f"shot {shot.code} changed since version {expected_version}: it is now "
                f"{shot.status} (version {shot.version}, by {shot.updated_by or 'unknown'} "
                f"at {shot.updated_at:%Y-%m-%d %H:%M:%S} UTC)"
            )
        current = ShotStatus(shot.status)
        check_shot_transition(current, new, code=shot.code)
        if new != current:
            shot.status = new.value
            shot.updated_at = utcnow()
            shot.updated_by = production.actor
            record_event(
                session,
                production,
                "shot",
                shot.code,
                "status",
                before=current,
                after=new,
                note=note,
            )
        session.flush()
        takes = session.scalar(
            select(func.count()).select_from(Take).where(Take.shot_id == shot.id)
        )
        return shot_view(shot, production.fps, scene_number=shot.scene.number, takes=takes or 0)
