"""Provisional picks: fewest findings wins, derived children beat their parents, humans win."""

from __future__ import annotations

from conftest import Factory
from setpiece.model.operations import Operation
from setpiece.production.context import Production
from setpiece.production.derive import derive_take
from setpiece.production.picks import pick_provisional
from setpiece.production.records import NewFinding, replace_findings
from setpiece.production.takes import approve_take, get_take


def test_fewest_findings_then_newest_and_leaves_only(make: Factory, production: Production) -> None:
    shot = make.shot("1A")
    first, second = make.take(shot), make.take(shot)
    replace_findings(
        production, frozenset({"look_jump"}), [NewFinding("look_jump", take=second)], takes=[second]
    )
    assert [(p.shot, p.take) for p in pick_provisional(production)] == [(shot, first)]
    assert get_take(production, first).provisional
    # A retimed child of the first take replaces it as the candidate.
    child, _ = derive_take(production, first, make.still(), Operation("retime"))
    assert [p.take for p in pick_provisional(production)] == [child.id]
    assert not get_take(production, first).provisional
    # Running again changes nothing.
    assert [p.take for p in pick_provisional(production)] == [child.id]


def test_a_circled_take_is_never_overridden(make: Factory, production: Production) -> None:
    shot = make.shot("1A")
    chosen = make.take(shot)
    make.take(shot)
    approve_take(production, shot, chosen)
    assert pick_provisional(production) == []
    assert not any(get_take(production, t).provisional for t in (chosen,))
