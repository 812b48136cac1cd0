"""Scenes: numbered as the script numbers them, kept in script order, never deleted (omitted).

An OMITTED scene keeps its shots and takes (a later draft may restore it), so the
list counts them for every scene, omitted ones included: that is where a
producer sees what a cut scene had cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.model.enums import IntExt
from setpiece.model.orm import Scene, Shot, Take
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import normalise_code
from setpiece.production.views import SceneView

__all__ = ["Heading", "accept_revision", "add_scene", "list_scenes", "parse_heading"]

_PREFIX = re.compile(
    r"^(?P<ie>INT\.?\s*/\s*EXT\.?|EXT\.?\s*/\s*INT\.?|I\s*/\s*E\.?|INT\.|EXT\.|EST\.|INT\b|EXT\b|EST\b)\s*(?P<rest>.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Heading:
    int_ext: IntExt | None
    location: str | None
    time_of_day: str | None


def parse_heading(heading: str) -> Heading:
    """Splits "INT. KITCHEN - NIGHT" into INT, KITCHEN, NIGHT (each part may be missing)."""
    text = " ".join(heading.split())
    match = _PREFIX.match(text)
    int_ext: IntExt | None = None
    rest = text
    if match:
        prefix = re.sub(r"[\s.]", "", match.group("ie").upper())
        int_ext = {
            "INT": IntExt.INT,
            "EXT": IntExt.EXT,
            "EST": IntExt.EST,
        }.get(prefix, IntExt.INT_EXT)
        rest = match.group("rest")
    location, _, time = rest.rpartition(" - ")
    if not location:
        location, time = rest, ""
    return Heading(int_ext, location.strip(" .-") or None, time.strip(" .-").upper() or None)


def _next_number(session: Session) -> str:
    numbers = session.scalars(select(Scene.number)).all()
    highest = 0
    for number in numbers:
        digits = re.match(r"\d+", number)
        if digits:
            highest = max(highest, int(digits.group()))
    return str(highest + 1)


def add_scene(
    production: Production,
    heading: str,
    *,
    number: str | None = None,
    synopsis: str | None = None,
) -> SceneView:
    """Adds a scene at the end of the script.

    Raises:
        InvalidInputError: An empty heading or a malformed number.
        ConflictError: A scene with that number exists.
    """
    text = " ".join(heading.split())
    if not text:
        raise InvalidInputError("a scene needs a heading, e.g. 'INT. KITCHEN - NIGHT'")
    wanted = normalise_code(number, "scene number") if number is not None else None
    parts = parse_heading(text)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        value = wanted or _next_number(session)
        if session.scalars(select(Scene).where(Scene.number == value)).first():
            raise ConflictError(f"scene {value} already exists")
        position = (session.scalar(select(func.max(Scene.position))) or 0) + 1
        scene = Scene(
            number=value,
            heading=text,
            int_ext=parts.int_ext.value if parts.int_ext else None,
            location=parts.location,
            time_of_day=parts.time_of_day,
            synopsis=synopsis,
            position=position,
        )
        session.add(scene)
        session.flush()
        record_event(session, production, "scene", value, "create", after=text)
        return _view(scene, 0)


def accept_revision(production: Production, number: str) -> SceneView:
    """Clears a scene's "changed in the script" flag once someone has reviewed its shots."""
    from setpiece.production.rows import scene_row

    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        scene = scene_row(session, number)
        if scene.needs_review:
            scene.needs_review = False
            record_event(session, production, "scene", scene.number, "revision_accepted")
        session.flush()
        shots, takes = _counts(session, scene.id)
        return _view(scene, shots, takes)


def list_scenes(production: Production) -> list[SceneView]:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        shots = dict(
            session.execute(select(Shot.scene_id, func.count()).group_by(Shot.scene_id)).all()
        )
        takes = dict(
            session.execute(
                select(Shot.scene_id, func.count(Take.id))
                .join(Take, Take.shot_id == Shot.id)
                .group_by(Shot.scene_id)
            ).all()
        )
        scenes = session.scalars(select(Scene).order_by(Scene.position)).all()
        return [_view(scene, shots.get(scene.id, 0), takes.get(scene.id, 0)) for scene in scenes]


def _counts(session: Session, scene_id: int) -> tuple[int, int]:
    """A scene's shots and takes."""
    shots = session.scalar(select(func.count()).select_from(Shot).where(Shot.scene_id == scene_id))
    takes = session.scalar(
        select(func.count(Take.id))
        .join(Shot, Take.shot_id == Shot.id)
        .where(Shot.scene_id == scene_id)
    )
    return shots or 0, takes or 0


def _view(scene: Scene, shots: int, takes: int = 0) -> SceneView:
    return SceneView(
        number=scene.number,
        heading=scene.heading,
        int_ext=scene.int_ext,
        location=scene.location,
        time_of_day=scene.time_of_day,
        synopsis=scene.synopsis,
        position=scene.position,
        omitted=scene.omitted,
        shots=shots,
        version=scene.version,
        eighths=scene.eighths,
        needs_review=scene.needs_review,
        takes=takes,
    )
