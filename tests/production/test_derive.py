"""Derived takes and re-runnable findings: the records every operation and check shares."""

from __future__ import annotations

import pytest

from conftest import Factory
from setpiece.errors import InvalidInputError
from setpiece.model.operations import Operation
from setpiece.production.context import Production
from setpiece.production.derive import derive_take, operations_of
from setpiece.production.records import NewFinding, list_findings, replace_findings


def test_a_derived_take_keeps_the_recipe_and_the_chain(
    make: Factory, production: Production
) -> None:
    shot = make.shot("1A")
    parent = make.take(shot, backend="previs", model="sketch", prompt="a kitchen", seed=7)
    first, created = derive_take(
        production, parent, make.still(), Operation("match", settings={"to": "x"})
    )
    assert created and first.recipe.parent == parent and first.number == 2
    assert (first.recipe.backend, first.recipe.prompt, first.recipe.seed) == (
        "previs",
        "a kitchen",
        7,
    )
    second, _ = derive_take(
        production, first.id, make.still(), Operation("retime", settings={"fps": "24"})
    )
    assert [op.name for op in operations_of(second)] == ["match", "retime"]
    again, created = derive_take(production, first.id, second.media.path, Operation("retime"))  # type: ignore[union-attr]
    assert not created and again.id == second.id
    with pytest.raises(InvalidInputError, match="needs a name"):
        derive_take(production, parent, make.still(), Operation(" ", settings={"fps": 24}))


def test_replace_findings_swaps_a_checks_old_findings(
    make: Factory, production: Production
) -> None:
    a, b = make.shot("1A"), make.shot("1B")
    ta, tb = make.take(a), make.take(b)
    kinds = frozenset({"look_jump", "identity_drift"})
    replace_findings(
        production,
        kinds,
        [
            NewFinding("identity_drift", take=ta, score=0.7, threshold=0.6, evidence=make.still()),
            NewFinding("look_jump", shot=b, score=12.0, data={"from": a}),
        ],
        takes=[ta],
        shots=[b],
    )
    other = replace_findings(
        production,
        frozenset({"near_duplicate"}),
        [NewFinding("near_duplicate", take=tb)],
        takes=[tb],
    )
    found = list_findings(production)
    assert sorted(f.kind for f in found) == ["identity_drift", "look_jump", "near_duplicate"]
    assert next(f for f in found if f.kind == "identity_drift").evidence is not None
    # A re-run that finds nothing on ta clears its finding, and leaves the other check's alone.
    replace_findings(production, kinds, [], takes=[ta], shots=[b])
    assert [f.id for f in list_findings(production)] == [other[0].id]
    with pytest.raises(InvalidInputError, match="not one of"):
        replace_findings(production, kinds, [NewFinding("near_duplicate", take=ta)], takes=[ta])
