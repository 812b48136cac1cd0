"""Shots: the shot list, its blocking, and status changes checked against the workflow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from setpiece.errors import ConflictError, InvalidInputError, NotFoundError
from setpiece.model.enums import BibleKind, Depth, FrameSide, ShotSize, ShotStatus, parse_enum
from setpiece.model.orm import BibleEntry, Scene, Shot, ShotSubject, Take
from setpiece.production.context import Production
from setpiece.production.entries import find_entry
from setpiece.production.history import record_event
from setpiece.production.moves import move_shot
from setpiece.production.rows import (
    check_version,
    normalise_code,
    scene_row,
    shot_row,
    shot_view,
    touch_shot,
)
from setpiece.production.views import ShotView, SubjectView
from setpiece.timebase import seconds_to_frames

__all__ = [
    "SubjectSpec",
    "add_shot",
    "get_shot",
    "list_shots",
    "parse_subjects",
    "set_shot_prompt",
    "set_shot_status",
]

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
        entry = find_entry(session, (BibleKind.CHARACTER, BibleKind.PROP), spec.name)
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
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        scene_id = scene_row(session, scene).id if scene is not None else None
        return _read_shots(session, production.fps, scene_id=scene_id)


def get_shot(production: Production, code: str) -> ShotView:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        return _read_shots(session, production.fps, shot_id=shot_row(session, code).id)[0]


def _read_shots(
    session: Session, fps: Fraction, *, scene_id: int | None = None, shot_id: int | None = None
) -> list[ShotView]:
    """Reads shots with plain column queries: the shot list of a feature is tens of thousands
    of rows, and ORM objects for each shot, subject and entry cost 1 s per 10,000 shots
    (bench/shot_list.py), where these three queries cost a tenth of that."""
    shots = (
        select(
            Shot.id,
            Shot.code,
            Scene.number,
            Shot.position,
            Shot.description,
            Shot.size,
            Shot.angle,
            Shot.lens_mm,
            Shot.camera_move,
            Shot.planned_frames,
            Shot.status,
            Shot.version,
            Shot.updated_at,
            Shot.updated_by,
            Shot.workflow,
        )
        .join(Scene, Shot.scene_id == Scene.id)
        .order_by(Scene.position, Shot.position)
    )
    subjects = (
        select(
            ShotSubject.shot_id,
            BibleEntry.name,
            BibleEntry.kind,
            ShotSubject.side,
            ShotSubject.depth,
            ShotSubject.prompt_override,
        )
        .join(BibleEntry, ShotSubject.entry_id == BibleEntry.id)
        .order_by(ShotSubject.shot_id, ShotSubject.position)
    )
    counts = select(Take.shot_id, func.count()).group_by(Take.shot_id)
    if scene_id is not None:
        shots = shots.where(Shot.scene_id == scene_id)
        in_scene = select(Shot.id).where(Shot.scene_id == scene_id)
        subjects = subjects.where(ShotSubject.shot_id.in_(in_scene))
        counts = counts.where(Take.shot_id.in_(in_scene))
    if shot_id is not None:
        shots = shots.where(Shot.id == shot_id)
        subjects = subjects.where(ShotSubject.shot_id == shot_id)
        counts = counts.where(Take.shot_id == shot_id)
    # Core execution on the session's connection: the ORM's row loading is not needed for columns.
    connection = session.connection()
    blocking: dict[int, list[SubjectView]] = {}
    for owner, name, kind, side, depth, override in connection.execute(subjects).all():
        blocking.setdefault(owner, []).append(SubjectView(name, kind, side, depth, override))
    take_counts: dict[int, int] = dict(connection.execute(counts).all())
    seconds_per_frame = fps.denominator / fps.numerator
    return [
        ShotView(
            code=code,
            scene=number,
            position=position,
            description=description,
            size=size,
            angle=angle,
            lens_mm=lens,
            camera_move=move,
            planned_frames=frames,
            planned_seconds=round(frames * seconds_per_frame, 6) if frames is not None else None,
            status=ShotStatus(status),
            subjects=blocking.get(row_id, []),
            takes=take_counts.get(row_id, 0),
            version=version,
            updated_at=updated_at,
            updated_by=updated_by,
            workflow=workflow,
        )
        for (
            row_id,
            code,
            number,
            position,
            description,
            size,
            angle,
            lens,
            move,
            frames,
            status,
            version,
            updated_at,
            updated_by,
            workflow,
        ) in session.execute(shots)
    ]


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
    fps = production.fps  # read before the transaction: on SQLite a second one would wait on it
    with production.transaction() as session:
        production.authorize(
            session, "request_retake" if new == ShotStatus.RETAKE else "set_shot_status"
        )
        shot = shot_row(session, code)
        check_version(shot, expected_version)
        if new != shot.status:
            move_shot(session, production, shot, new, note=note)
        session.flush()
        return _read_shots(session, fps, shot_id=shot.id)[0]


def set_shot_prompt(production: Production, code: str, prompt: str | None) -> ShotView:
    """Sets the shot's prompt override ("+TEXT" extends the composed prompt); None or "" clears it."""
    text = (prompt or "").strip() or None
    if text is not None and len(text) > 4000:
        raise InvalidInputError("a prompt override may be at most 4000 characters")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        shot = shot_row(session, code)
        if shot.prompt_override != text:
            record_event(session, production, "shot", shot.code, "prompt", note=text or "(cleared)")
            shot.prompt_override = text
            touch_shot(shot, production)
        session.flush()
        return _read_shots(session, production.fps, shot_id=shot.id)[0]


def set_shot_workflow(production: Production, code: str, workflow: str | None) -> ShotView:
    """Sets the ComfyUI workflow file the shot's renders use (relative to the project folder,
    over the configured ones); None or "" clears it.

    The file must exist; that it is an API-format workflow is checked by the caller.

    Raises:
        InvalidInputError: A file that does not exist.
    """
    text = (workflow or "").strip() or None
    if text is not None:
        path = Path(text).expanduser()
        found = path if path.is_absolute() else production.config.root / path
        if not found.is_file():
            raise InvalidInputError(
                f"workflow {found} does not exist: give an API-format workflow file"
            )
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        shot = shot_row(session, code)
        if shot.workflow != text:
            record_event(
                session,
                production,
                "shot",
                shot.code,
                "workflow",
                before=shot.workflow,
                after=text or "(cleared)",
            )
            shot.workflow = text
            touch_shot(shot, production)
        session.flush()
        return _read_shots(session, production.fps, shot_id=shot.id)[0]


def set_shot_duration(production: Production, code: str, frames: int) -> ShotView:
    """Sets the shot's planned duration in frames of the project's rate (1 or more)."""
    if frames < 1:
        raise InvalidInputError(f"a planned duration of {frames} frames: give 1 or more")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        shot = shot_row(session, code)
        if shot.planned_frames != frames:
            record_event(
                session,
                production,
                "shot",
                shot.code,
                "duration",
                before=str(shot.planned_frames),
                after=str(frames),
            )
            shot.planned_frames = frames
            touch_shot(shot, production)
        session.flush()
        return _read_shots(session, production.fps, shot_id=shot.id)[0]
