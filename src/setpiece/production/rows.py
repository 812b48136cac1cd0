"""Rows by the names people use, and rows as views: what every service that reads the
database shares, production's own and the capabilities' above it.

Lookups take the names on the call sheet (shot code ``3A``, scene number, take id or
``SHOT/NUMBER`` such as ``3A/2``) and refuse an unknown one with the command that lists
the right ones; views are the frozen objects the CLI and the web are given (no ORM row
leaves a transaction). A change to a shot is stamped with ``touch_shot`` and guarded by
``check_version``; what changed is written to the history by ``setpiece.production.history``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING

from sqlalchemy import select

from setpiece.errors import ConflictError, InvalidInputError, NotFoundError
from setpiece.model.enums import ShotStatus, TakeKind, TakeStatus
from setpiece.model.operations import Operation
from setpiece.model.orm import Media, Scene, Shot, Take, utcnow
from setpiece.production.views import MediaView, Recipe, ShotView, SubjectView, TakeView

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from setpiece.production.context import Production

SHOT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")
SCENE_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9.-]{0,19}$")
TAKE_REF = re.compile(r"^(?P<shot>[^/\s]+)/(?P<number>\d{1,9})$")

__all__ = [
    "SCENE_NUMBER",
    "SHOT_CODE",
    "TAKE_REF",
    "check_version",
    "media_view",
    "normalise_code",
    "recipe_of",
    "scene_row",
    "shot_row",
    "shot_view",
    "take_row",
    "take_view",
    "touch_shot",
]


def normalise_code(code: str, what: str = "shot code") -> str:
    value = code.strip().upper()
    pattern = SHOT_CODE if what == "shot code" else SCENE_NUMBER
    if not pattern.match(value):
        raise InvalidInputError(
            f"{what} {code!r} is not valid: use letters, digits, '.', '-' (up to 20), e.g. 12A"
        )
    return value


def shot_row(session: Session, code: str) -> Shot:
    wanted = code.strip().upper()
    shot = session.scalars(select(Shot).where(Shot.code == wanted)).first()
    if shot is None:
        raise NotFoundError(f"no shot {code!r}: 'setpiece shot list' shows the shots")
    return shot


def touch_shot(shot: Shot, production: Production) -> None:
    """Marks ``shot`` as changed now by the acting user (its version column moves on flush)."""
    shot.updated_at = utcnow()
    shot.updated_by = production.actor


def check_version(shot: Shot, expected_version: int | None) -> None:
    """Refuses a change based on a stale view of ``shot``, naming what changed, by whom, when."""
    if expected_version is not None and shot.version != expected_version:
        raise ConflictError(
            f"shot {shot.code} changed since version {expected_version}: it is now "
            f"{shot.status} (version {shot.version}, by {shot.updated_by or 'unknown'} "
            f"at {shot.updated_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


def scene_row(session: Session, number: str) -> Scene:
    wanted = number.strip().upper()
    scene = session.scalars(select(Scene).where(Scene.number == wanted)).first()
    if scene is None:
        raise NotFoundError(f"no scene {number!r}: 'setpiece scene list' shows the scenes")
    return scene


def take_row(session: Session, ref: str) -> Take:
    """A take by its id or by SHOT/NUMBER (``3A/2``)."""
    text = ref.strip()
    match = TAKE_REF.match(text)
    if match:
        shot = shot_row(session, match.group("shot"))
        take = session.scalars(
            select(Take).where(Take.shot_id == shot.id, Take.number == int(match.group("number")))
        ).first()
        if take is None:
            raise NotFoundError(f"shot {shot.code} has no take {match.group('number')}")
        return take
    take = session.get(Take, text.lower())
    if take is None:
        raise NotFoundError(f"no take {ref!r}: give a take id or SHOT/NUMBER such as 3A/2")
    return take


def media_view(production: Production, media: Media) -> MediaView:
    return MediaView(
        sha256=media.sha256,
        path=production.store.url_for(media.key),
        kind=TakeKind(media.kind),
        width=media.width,
        height=media.height,
        fps=media.fps,
        frames=media.frames,
        duration=media.duration,
        size=media.size,
        container=media.container,
        codec=media.codec,
        audio_streams=media.audio_streams,
    )


def recipe_of(take: Take) -> Recipe:
    return Recipe(
        backend=take.backend,
        model=take.model_name,
        model_hash=take.model_hash,
        prompt=take.prompt,
        negative_prompt=take.negative_prompt,
        seed=take.seed,
        parameters=dict(take.parameters or {}),
        references=list(take.reference_hashes or []),
        parent=take.parent_take_id,
        operations=tuple(Operation.from_record(op) for op in take.operations or ()),
        cost=take.cost_amount,
        cost_unit=take.cost_unit,
    )


def take_view(production: Production, take: Take, shot_code: str | None = None) -> TakeView:
    return TakeView(
        id=take.id,
        shot=shot_code or take.shot.code,
        number=take.number,
        kind=TakeKind(take.kind),
        status=TakeStatus(take.status),
        provisional=take.provisional,
        created_at=take.created_at,
        created_by=take.created_by,
        recipe=recipe_of(take),
        media=media_view(production, take.media) if take.media is not None else None,
        version=take.version,
        failure=take.failure,
    )


def shot_view(shot: Shot, fps: Fraction, *, scene_number: str, takes: int) -> ShotView:
    return ShotView(
        code=shot.code,
        scene=scene_number,
        position=shot.position,
        description=shot.description,
        size=shot.size,
        angle=shot.angle,
        lens_mm=shot.lens_mm,
        camera_move=shot.camera_move,
        planned_frames=shot.planned_frames,
        planned_seconds=(
            round(float(Fraction(shot.planned_frames) / fps), 6)
            if shot.planned_frames is not None
            else None
        ),
        status=ShotStatus(shot.status),
        subjects=[
            SubjectView(
                name=s.entry.name,
                kind=s.entry.kind,
                side=s.side,
                depth=s.depth,
                prompt_override=s.prompt_override,
            )
            for s in shot.subjects
        ],
        takes=takes,
        version=shot.version,
        updated_at=shot.updated_at,
        updated_by=shot.updated_by,
        workflow=shot.workflow,
    )
