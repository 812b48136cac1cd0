"""Takes: importing them with their recipe, listing them, and circling one.

A take made outside Setpiece records what the user tells us about it
(generator, model, prompt, seed...), so it can be made again later. Importing
the same file into the same shot twice does not make a second take: the
existing one is reported, so a batch script can be re-run safely.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from setpiece.errors import InvalidInputError, InvalidTransitionError
from setpiece.model.enums import ORIGIN_KEY, Origin, ShotStatus, TakeKind, TakeStatus, parse_enum
from setpiece.model.orm import Scene, Shot, Take
from setpiece.model.workflow import Mover, check_shot_transition, check_take_transition
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.ingest import media_row, probe_files, store_files
from setpiece.production.moves import first_take, move_shot, move_take
from setpiece.production.rows import check_version, shot_row, take_row, take_view
from setpiece.production.stale import stale_reasons
from setpiece.production.views import Recipe, TakeView

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "ImportResult",
    "approve_take",
    "get_take",
    "import_takes",
    "list_takes",
    "set_take_status",
]

_INT64 = 2**63


@dataclass(frozen=True)
class ImportResult:
    created: list[TakeView] = field(default_factory=list)
    existing: list[TakeView] = field(default_factory=list)


def _check_recipe(recipe: Recipe) -> None:
    if recipe.seed is not None and not -_INT64 <= recipe.seed < _INT64:
        raise InvalidInputError(f"seed {recipe.seed} does not fit in 64 bits")
    for name, value in (("generator", recipe.backend), ("model", recipe.model)):
        if value is not None and not 0 < len(value.strip()) <= 100:
            raise InvalidInputError(f"{name} name must be 1-100 characters")


def _import_origin(session: Session, recipe: Recipe, parent: Take | None) -> Origin | None:
    """What made an imported take: as the recipe says (a derived take carries its source's),
    else as its generator declares (``--generator runway``: trained; a name no generator has:
    trained too), else as its parent's chain says, else nothing is claimed (no generator).

    Raises:
        InvalidInputError: The recipe names an origin that is not one.
    """
    from setpiece.production.generators import generator_directory

    given = recipe.parameters.get(ORIGIN_KEY)
    if given is not None:
        return parse_enum(Origin, str(given), "origin")
    if recipe.backend:
        return generator_directory().origin(recipe.backend)
    chain = []
    seen: set[str] = set()
    link = parent
    while link is not None and link.id not in seen:
        seen.add(link.id)
        chain.append((link.backend, link.parameters))
        link = session.get(Take, link.parent_take_id) if link.parent_take_id else None
    return Origin.of_chain(chain)


def import_takes(
    production: Production,
    shot: str,
    files: Sequence[str | os.PathLike[str]],
    recipe: Recipe | None = None,
    *,
    references: Sequence[str | os.PathLike[str]] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportResult:
    """Imports media files as new takes of ``shot``, each with ``recipe``.

    Every file is validated before anything is written; one bad file refuses the batch.

    Args:
        production: The open project.
        shot: The shot code.
        files: Images or videos, one take each, numbered in the order given.
        recipe: How they were made (generator, model, prompt, seed...).
        references: Reference images the generator was given; stored, their hashes recorded.
        progress: Called as (phase, done, total) with phase "check" or "store".

    Raises:
        NotFoundError: Unknown shot or parent take.
        InvalidInputError / InvalidMediaError: A bad file or recipe value.
    """
    base = recipe or Recipe()
    _check_recipe(base)
    with production.transaction() as session:
        production.authorize(session, "import_take")
        shot_row(session, shot)
        parent = take_row(session, base.parent) if base.parent is not None else None
        if parent is not None:
            base = replace(base, parent=parent.id)
        origin = _import_origin(session, base, parent)
        if origin is not None:
            base = replace(base, parameters={**base.parameters, ORIGIN_KEY: origin.value})
    check = (lambda done, total: progress("check", done, total)) if progress else None
    items = probe_files(files, what="take", progress=check)
    refs = (
        probe_files(references, kinds=frozenset({"image"}), what="reference") if references else []
    )
    store = (lambda done, total: progress("store", done, total)) if progress else None
    store_files(production, [*refs, *items], progress=store)

    result = ImportResult()
    with production.transaction() as session:
        production.authorize(session, "import_take")
        target = shot_row(session, shot)
        for ref in refs:
            media_row(session, ref)
        reference_hashes = list(base.references) + [ref.sha256 for ref in refs]
        known = {
            take.media_sha256: take
            for take in session.scalars(select(Take).where(Take.shot_id == target.id)).all()
        }
        number = session.scalar(select(func.max(Take.number)).where(Take.shot_id == target.id)) or 0
        for item in items:
            if item.sha256 in known:
                result.existing.append(take_view(production, known[item.sha256], target.code))
                continue
            number += 1
            take = Take(
                shot=target,
                number=number,
                kind=TakeKind(item.info.kind).value,
                media=media_row(session, item),
                status=TakeStatus.READY.value,
                created_by=production.actor,
                backend=base.backend,
                model_name=base.model,
                model_hash=base.model_hash,
                prompt=base.prompt,
                negative_prompt=base.negative_prompt,
                seed=base.seed,
                parameters=dict(base.parameters),
                reference_hashes=reference_hashes,
                parent_take_id=base.parent,
                operations=[operation.record() for operation in base.operations],
            )
            session.add(take)
            known[item.sha256] = take
            session.flush()
            record_event(
                session,
                production,
                "take",
                take.id,
                "import",
                after=take.status,
                data={"shot": target.code, "number": number, "file": item.path.name},
            )
            result.created.append(take_view(production, take, target.code))
        if result.created:
            first_take(session, production, target, how="imported")
    if result.created:
        from setpiece.production.arrival import takes_arrived

        takes_arrived(production, [take.id for take in result.created])
    return result


def list_takes(production: Production, shot: str | None = None) -> list[TakeView]:
    """Takes in script order, or of one shot."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        query = (
            select(Take, Shot.code)
            .join(Shot, Take.shot_id == Shot.id)
            .join(Scene, Shot.scene_id == Scene.id)
            .options(selectinload(Take.media))
            .order_by(Scene.position, Shot.position, Take.number)
        )
        if shot is not None:
            query = query.where(Take.shot_id == shot_row(session, shot).id)
        rows = list(session.execute(query))
        stale = stale_reasons(session, (take for take, _ in rows))
        return [
            replace(
                take_view(production, take, code),
                stale=take.id in stale,
                stale_because=stale.get(take.id, []),
            )
            for take, code in rows
        ]


def get_take(production: Production, ref: str) -> TakeView:
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        return take_view(production, take_row(session, ref))


def set_take_status(
    production: Production, ref: str, status: str, *, note: str | None = None
) -> TakeView:
    """Changes a take's status (reject, restore). Circling goes through ``approve_take``."""
    new = parse_enum(TakeStatus, status, "take status")
    with production.transaction() as session:
        production.authorize(session, "set_take_status")
        take = take_row(session, ref)
        if new == TakeStatus.CIRCLED:
            raise InvalidTransitionError(
                f"take {take.id} is circled by approving it: 'setpiece review approve "
                f"{take.shot.code} {take.id}'"
            )
        current = TakeStatus(take.status)
        if new != current:
            move_take(session, production, take, new, note=note)
            if current == TakeStatus.CIRCLED and take.shot.status == ShotStatus.APPROVED:
                move_shot(
                    session,
                    production,
                    take.shot,
                    ShotStatus.RETAKE,
                    note=f"circled take {take.id} now {new}",
                )
        session.flush()
        return take_view(production, take)


def approve_take(
    production: Production,
    shot: str,
    take: str,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> TakeView:
    """Circles ``take``, approves its shot and un-circles any other take of the shot.

    This is the only way a shot becomes approved.

    Raises:
        NotFoundError: Unknown shot or take.
        InvalidInputError: The take belongs to another shot.
        InvalidTransitionError: The take is not ready (pending, rendering or failed).
        ConflictError: The shot changed since ``expected_version``, or concurrently.
    """
    with production.transaction() as session:
        production.authorize(session, "approve")
        target = shot_row(session, shot)
        chosen = take_row(session, take)
        if chosen.shot_id != target.id:
            raise InvalidInputError(
                f"take {chosen.id} belongs to shot {chosen.shot.code}, not {target.code}"
            )
        check_version(target, expected_version)
        check_shot_transition(
            ShotStatus(target.status), ShotStatus.APPROVED, code=target.code, mover=Mover.APPROVAL
        )
        check_take_transition(TakeStatus(chosen.status), TakeStatus.CIRCLED, take=chosen.id)
        for other in session.scalars(
            select(Take).where(Take.shot_id == target.id, Take.status == TakeStatus.CIRCLED.value)
        ):
            if other.id != chosen.id:
                move_take(session, production, other, TakeStatus.READY, note=f"{chosen.id} circled")
        move_take(session, production, chosen, TakeStatus.CIRCLED, action="approve", note=note)
        chosen.provisional = False
        move_shot(
            session,
            production,
            target,
            ShotStatus.APPROVED,
            mover=Mover.APPROVAL,
            action="approve",
            note=note,
            data={"take": chosen.id},
        )
        session.flush()
        return take_view(production, chosen, target.code)
