"""The element model's own behaviour: names from cues and JSON-ready data."""

from __future__ import annotations

import pytest

from setpiece.script.elements import (
    Action,
    Character,
    PageBreak,
    Run,
    Section,
    character_name,
)


@pytest.mark.parametrize(
    ("cue", "name"),
    [
        ("EDWARD (V.O.)(CONT'D)", "EDWARD"),
        ("MOM  (O. S.)", "MOM"),
        ("YOUNG   EDWARD", "YOUNG EDWARD"),
        ("(V.O.)", "(V.O.)"),
        ("BOB (unclosed", "BOB"),
    ],
)
def test_character_name(cue: str, name: str) -> None:
    assert character_name(cue) == name


def test_to_dict_adds_what_each_type_has() -> None:
    assert Character("SUE (O.S.)", dual=True).to_dict() == {
        "type": "character",
        "text": "SUE (O.S.)",
        "line": None,
        "dual": True,
        "name": "SUE",
    }
    assert Section("Act One", line=3, depth=2).to_dict()["depth"] == 2
    assert PageBreak().to_dict() == {"type": "page_break", "text": "", "line": None}


def test_runs_appear_in_to_dict_only_when_styled() -> None:
    assert "runs" not in Action("plain").to_dict()
    styled = Action("LOUD quiet", (Run("LOUD", bold=True), Run(" quiet")))
    assert styled.to_dict()["runs"] == [{"text": "LOUD", "bold": True}, {"text": " quiet"}]
