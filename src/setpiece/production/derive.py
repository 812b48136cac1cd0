"""Derived takes: a take made from another by an operation (retime, colour match, deflicker...).

A derived take keeps its parent's recipe (generator, model, prompt, seed, references,
and its origin: a retimed previs drawing is still a drawing, a matched diffusion still
came from a trained model) so the chain back to the generation stays readable, points at
its parent, and records the operations that made it in ``recipe.operations`` (typed
``setpiece.model.operations.Operation``, a column of their own on the take): the parent's
in order, then its own, so a take retimed and then colour-matched says both. Deriving the
same file again from the same parent returns the existing take (imports are idempotent by
content).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace

from setpiece.errors import InvalidInputError
from setpiece.model.enums import TakeStatus
from setpiece.model.operations import Operation
from setpiece.production.context import Production
from setpiece.production.takes import get_take, import_takes
from setpiece.production.views import TakeView

__all__ = ["FINISHED", "derive_take", "operations_of", "superseding"]


# Take statuses with media a cut can use.
FINISHED = frozenset({TakeStatus.READY, TakeStatus.CIRCLED})


def superseding(takes: Iterable[TakeView]) -> dict[str, TakeView]:
    """Parent take id -> the finished derived take that stands for it (the newest one).

    A take retimed or colour-matched gives way to its child: the cut, the provisional
    pick and the format check look at the child.
    """
    found: dict[str, TakeView] = {}
    for take in takes:
        if take.recipe.parent and take.media is not None and take.status in FINISHED:
            current = found.get(take.recipe.parent)
            if current is None or take.number > current.number:
                found[take.recipe.parent] = take
    return found


def operations_of(take: TakeView) -> list[Operation]:
    """The operations that made ``take`` from its first ancestor, oldest first."""
    return list(take.recipe.operations)


def derive_take(
    production: Production,
    parent: str,
    path: str | os.PathLike[str],
    operation: Operation,
) -> tuple[TakeView, bool]:
    """Imports ``path`` as a new take of the parent's shot, made by ``operation``.

    Args:
        production: The open project.
        parent: The parent take (id or SHOT/NUMBER).
        path: The derived media file, already written.
        operation: What made the file; recorded after the parent's operations.

    Returns:
        The derived take, and whether it was created (False: the same file existed).

    Raises:
        NotFoundError: Unknown parent take.
        InvalidInputError: An operation without a name.
    """
    name = operation.name.strip()
    if not name:
        raise InvalidInputError("a derived take's operation needs a name, e.g. retime")
    source = get_take(production, parent)
    recipe = replace(
        source.recipe,
        parent=source.id,
        operations=(*source.recipe.operations, replace(operation, name=name)),
    )
    result = import_takes(production, source.shot, [path], recipe)
    if result.created:
        return result.created[0], True
    return result.existing[0], False
