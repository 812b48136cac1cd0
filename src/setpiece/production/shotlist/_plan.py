"""Planning an import against the production: what each row of the sheet does to its shot.

Every row is checked against the shots, scenes and bible as they are, read once
(``Known``), and becomes a ``Plan``: the shot's new scene, position, fields and
blocking, each change recorded for the report. What it decides:

- ``order`` orders the shots, not the rows: two shots of a scene may not share
  an order; gaps are kept; a shot moved to another scene with its order cleared
  goes to the end of that scene (``place``).
- Whichever of ``frames`` and ``duration`` was edited since the export wins;
  both edited and disagreeing is a problem.
- ``status`` and ``version`` are for checking only: a status that differs is
  refused, a version that differs is a conflict (someone changed the shot).
- Characters and props name bible entries; a name in the wrong column, unknown
  or named twice is a problem.

Nothing here writes: ``_apply`` does, once every row has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.model.enums import BibleKind, ShotStatus
from setpiece.model.orm import BibleEntry, Scene, Shot, ShotSubject
from setpiece.production.shotlist._cells import (
    BadCell,
    Row,
    cell_text,
    duration_text,
    subject_label,
)
from setpiece.production.shotlist._report import FieldChange, RowProblem

__all__ = [
    "Known",
    "Plan",
    "PlanProblems",
    "Subject",
    "current_subjects",
    "place",
    "plan_row",
]

Subject = tuple[BibleEntry, str | None, str | None]  # entry, side, depth

_SIMPLE = (
    ("description", "description"),
    ("size", "size"),
    ("angle", "angle"),
    ("lens_mm", "lens_mm"),
    ("move", "camera_move"),
    ("workflow", "workflow"),
)


class PlanProblems(Exception):
    """What is wrong with one row, against the production."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems


@dataclass
class Plan:
    """What one row does to its shot (``shot`` is None for a shot to create)."""

    row: Row
    shot: Shot | None
    scene: Scene
    position: int | None  # None until placed: the end of the scene
    attributes: dict[str, Any] = field(default_factory=dict)  # Shot attribute -> new value
    subjects: dict[str, list[Subject]] = field(default_factory=dict)  # column -> new subjects
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class Known:
    """What the rows are checked against, read once."""

    shots: dict[str, Shot]
    scenes: dict[str, Scene]
    scenes_by_id: dict[int, Scene]
    bible: dict[tuple[str, str], BibleEntry]

    @classmethod
    def read(cls, session: Session, codes: list[str]) -> Known:
        """The shots with these codes, every scene, and the bible's characters and props."""
        shots: dict[str, Shot] = {}
        for start in range(0, len(codes), 500):  # SQLite caps the parameters of one query
            query = (
                select(Shot)
                .where(Shot.code.in_(codes[start : start + 500]))
                .options(selectinload(Shot.subjects).selectinload(ShotSubject.entry))
            )
            shots.update((shot.code, shot) for shot in session.scalars(query))
        scenes = {scene.number: scene for scene in session.scalars(select(Scene))}
        kinds = [BibleKind.CHARACTER.value, BibleKind.PROP.value]
        entries = session.scalars(select(BibleEntry).where(BibleEntry.kind.in_(kinds)))
        return cls(
            shots,
            scenes,
            {scene.id: scene for scene in scenes.values()},
            {(entry.kind, entry.name.upper()): entry for entry in entries},
        )


def _subject_text(subjects: Sequence[Subject]) -> str:
    return "; ".join(subject_label(entry.name, side, depth) for entry, side, depth in subjects)


def current_subjects(shot: Shot, kind: BibleKind) -> list[Subject]:
    """The shot's characters (or props) as they are blocked now, in order."""
    return [(s.entry, s.side, s.depth) for s in shot.subjects if s.entry.kind == kind.value]


def _planned_frames(row: Row, current: int | None, fps: Fraction) -> tuple[bool, int | None]:
    """Whether the row sets the planned length, and to how many frames.

    Raises:
        BadCell: frames and duration disagree and both changed since the export.
    """
    if not ({"frames", "duration"} & row.raw.keys()) or not (
        row.readable("frames") and row.readable("duration")
    ):
        return False, None
    frames: int | None = row.values.get("frames")
    from_duration: int | None = row.values.get("duration")
    if frames is None or from_duration is None or frames == from_duration:
        return True, frames if frames is not None else from_duration
    if frames == current:
        return True, from_duration  # the duration was edited
    if from_duration == current:
        return True, frames  # the frames were edited
    raise BadCell(
        f"disagrees with frames {frames} ({duration_text(frames, fps)} s at "
        f"{fps.numerator}/{fps.denominator} fps): correct one of them, or clear one"
    )


def _resolve_subjects(row: Row, column: str, known: Known) -> list[Subject]:
    kind = BibleKind.CHARACTER if column == "characters" else BibleKind.PROP
    other = BibleKind.PROP if kind == BibleKind.CHARACTER else BibleKind.CHARACTER
    resolved: list[Subject] = []
    for spec in row.values[column] or []:
        entry = known.bible.get((kind.value, spec.name.upper()))
        if entry is None and (other.value, spec.name.upper()) in known.bible:
            raise BadCell(
                f"{spec.name} is a {other.value}: move it to the "
                f"{'props' if other == BibleKind.PROP else 'characters'} column"
            )
        if entry is None:
            raise BadCell(
                f"no {kind.value} {spec.name} in the bible: correct the name, or add it with "
                f"'setpiece {kind.value} add {spec.name}'"
            )
        if any(e.id == entry.id for e, _, _ in resolved):
            raise BadCell(f"{entry.name} is named twice: name each once")
        side = spec.side.value if spec.side else None
        resolved.append((entry, side, spec.depth.value if spec.depth else None))
    return resolved


def plan_row(row: Row, known: Known, fps: Fraction, add_new: bool) -> Plan | None:
    """The plan for one row (None when it changes nothing).

    Args:
        row: The row, its cells read.
        known: The production's shots, scenes and bible entries.
        fps: The project's rate.
        add_new: Whether an unknown code creates a shot.

    Returns:
        What the row does to its shot, its position still None where the row leaves
        the shot at the end of a scene (``place`` decides it).

    Raises:
        PlanProblems: What is wrong with the row.
    """
    problems: list[RowProblem] = []
    shot = known.shots.get(row.code)
    if shot is None and not add_new:
        problems.append(
            _problem(row, "code", "no such shot: correct the code, or pass --add-new to create it")
        )
        raise PlanProblems(problems)
    scene = _scene(row, shot, known, problems)
    if shot is not None:
        _check_existing(row, shot, problems)
    else:
        _check_new(row, problems)
    subjects: dict[str, list[Subject]] = {}
    for column in ("characters", "props"):
        if column in row.values:
            try:
                subjects[column] = _resolve_subjects(row, column, known)
            except BadCell as exc:
                problems.append(_problem(row, column, str(exc)))
    sets_frames, frames = False, None
    try:
        sets_frames, frames = _planned_frames(row, shot.planned_frames if shot else None, fps)
    except BadCell as exc:
        problems.append(_problem(row, "duration", str(exc)))
    if problems or scene is None:  # no scene and no problem here: its cell was unreadable
        raise PlanProblems(problems)
    plan = _placed(row, shot, scene, known)
    _plan_fields(plan, sets_frames, frames)
    _plan_subjects(plan, subjects)
    if shot is not None and not plan.changes and plan.position == shot.position:
        return None
    return plan


def _problem(row: Row, column: str | None, message: str, conflict: bool = False) -> RowProblem:
    value = row.raw.get(column, "") if column else ""
    return RowProblem(row.number, column, value, message, conflict)


def _scene(row: Row, shot: Shot | None, known: Known, problems: list[RowProblem]) -> Scene | None:
    """The row's scene: its scene cell, else the shot's own."""
    if row.values.get("scene") is not None:
        scene = known.scenes.get(row.values["scene"])
        if scene is None:
            problems.append(
                _problem(row, "scene", "no such scene: 'setpiece scene list' shows the scenes")
            )
        return scene
    if shot is not None:
        return known.scenes_by_id[shot.scene_id]
    if row.readable("scene"):
        problems.append(
            _problem(
                row, "code", "a new shot needs a scene: give its scene number in the scene column"
            )
        )
    return None


def _check_existing(row: Row, shot: Shot, problems: list[RowProblem]) -> None:
    """A version that differs is a conflict; a status that differs is refused."""
    version, status = row.values.get("version"), row.values.get("status")
    if version is not None and version != shot.version:
        problems.append(
            _problem(
                row,
                "version",
                f"shot {shot.code} changed since the export (it is at version {shot.version}, "
                f"by {shot.updated_by or 'unknown'} at {shot.updated_at:%Y-%m-%d %H:%M} UTC): "
                "export again and redo this row",
                conflict=True,
            )
        )
    elif status is not None and status != shot.status:  # a newer version explains it
        problems.append(
            _problem(
                row,
                "status",
                f"shot {shot.code} is {shot.status}, and the shot list does not change "
                f"statuses: use 'setpiece shot set {shot.code} --status {status}' or review, "
                f"and put back {shot.status} here",
            )
        )


def _check_new(row: Row, problems: list[RowProblem]) -> None:
    """A new shot has no version yet and starts as todo."""
    if row.values.get("version") is not None:
        problems.append(
            _problem(
                row, "version", f"shot {row.code} is new and has no version yet: clear the cell"
            )
        )
    if row.values.get("status") not in (None, ShotStatus.TODO.value):
        problems.append(
            _problem(row, "status", "a new shot starts as todo: write todo or clear the cell")
        )


def _placed(row: Row, shot: Shot | None, scene: Scene, known: Known) -> Plan:
    """The plan with its scene and position: the order cell, else the shot's own place when
    it stays in its scene, else None (the end of the scene)."""
    order = row.values.get("order")
    stays = shot is not None and shot.scene_id == scene.id
    position = order if order is not None else shot.position if shot and stays else None
    plan = Plan(row, shot, scene, position)
    if not stays:
        before = known.scenes_by_id[shot.scene_id].number if shot is not None else None
        plan.changes.append(FieldChange("scene", before, scene.number))
    return plan


def _plan_fields(plan: Plan, sets_frames: bool, frames: int | None) -> None:
    """The plain fields the row changes, and the planned length."""
    row, shot = plan.row, plan.shot
    for column, attribute in _SIMPLE:
        if column in row.values:
            old = getattr(shot, attribute) if shot is not None else None
            new = row.values[column]
            if column == "description":
                old = cell_text(old or "")
            if new != old and (shot is not None or new):
                plan.attributes[attribute] = new
                plan.changes.append(FieldChange(column, old, new))
    current = shot.planned_frames if shot else None
    if sets_frames and frames != current:
        plan.attributes["planned_frames"] = frames
        plan.changes.append(FieldChange("frames", current, frames))


def _plan_subjects(plan: Plan, subjects: dict[str, list[Subject]]) -> None:
    """The characters and props whose blocking the row changes."""
    shot = plan.shot
    for column, new_subjects in subjects.items():
        kind = BibleKind.CHARACTER if column == "characters" else BibleKind.PROP
        old_subjects = current_subjects(shot, kind) if shot is not None else []
        if [(e.id, s, d) for e, s, d in new_subjects] != [(e.id, s, d) for e, s, d in old_subjects]:
            plan.subjects[column] = new_subjects
            before_text = _subject_text(old_subjects) if shot is not None else None
            plan.changes.append(FieldChange(column, before_text, _subject_text(new_subjects)))


def place(
    session: Session, plans: list[Plan], rows: dict[str, int], known: Known
) -> list[RowProblem]:
    """Gives every planned shot its final position, and refuses two shots at one place.

    Shots the file leaves alone keep theirs; a shot moved to a scene without an order
    goes to the end of it, after the shots placed there by the file.
    """
    current: dict[str, tuple[int, int]] = {
        code: (scene_id, position)
        for code, scene_id, position in session.execute(
            select(Shot.code, Shot.scene_id, Shot.position)
        )
    }
    final = dict(current)
    for plan in plans:
        final.pop(plan.row.code, None)
        if plan.position is not None:
            final[plan.row.code] = (plan.scene.id, plan.position)
    last: dict[int, int] = {}
    for scene_id, position in final.values():
        last[scene_id] = max(last.get(scene_id, 0), position)
    for plan in plans:
        if plan.position is None:
            plan.position = last[plan.scene.id] = last.get(plan.scene.id, 0) + 1
            final[plan.row.code] = (plan.scene.id, plan.position)
    holders: dict[tuple[int, int], list[str]] = {}
    for code, place in final.items():
        holders.setdefault(place, []).append(code)
    problems: list[RowProblem] = []
    for plan in plans:
        code, place = plan.row.code, final[plan.row.code]
        old = current.get(code)
        if place == old:
            continue
        if old is None or old[1] != place[1]:
            plan.changes.append(FieldChange("order", old[1] if old else None, place[1]))
        for other in holders[place]:
            if other != code:
                where = f"row {rows[other]}" if other in rows else "not in this file"
                problems.append(
                    RowProblem(
                        plan.row.number,
                        "order",
                        plan.row.raw.get("order", ""),
                        f"shot {other} ({where}) has order {place[1]} in scene "
                        f"{known.scenes_by_id[place[0]].number} too: give each shot in a "
                        "scene its own order"
                        + (
                            " (clear the order of a shot moved to another scene to put it "
                            "at the end)"
                            if plan.shot is not None and plan.shot.scene_id != place[0]
                            else ""
                        ),
                    )
                )
                break
    return problems
