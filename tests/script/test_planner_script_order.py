"""POV and INSERT headings' shots in the shot list where they occur in the script, not after
the scene's coverage (a defect: the insert of a letter read before anyone spoke came last)."""

from __future__ import annotations

from pathlib import Path

from setpiece.production.context import Production
from setpiece.script.importer import import_script
from setpiece.script.planning import plan_shots

LETTER = """INT. KITCHEN - NIGHT

Anna opens an envelope at the table.

.INSERT: THE LETTER

ANNA
Who sent this?

BEN
Read it to the end.

.ANNA'S POV

Ben is already at the door, coat on.

BEN
Goodbye.
"""


def test_pov_and_insert_shots_follow_the_script(production: Production, tmp_path: Path) -> None:
    path = tmp_path / "letter.fountain"
    path.write_text(LETTER)
    import_script(production, path)
    planned = [(s["kind"], s["description"]) for s in plan_shots(production).created]
    kinds = [kind for kind, _ in planned]
    # The letter is read before anyone speaks; the POV comes after every line's start.
    assert kinds == [
        "master",
        "insert",
        "two-shot",
        "over-the-shoulder",
        "over-the-shoulder",
        "single",
        "single",
        "pov",
    ]
    assert planned[1] == ("insert", "Insert: THE LETTER")
    assert planned[-1] == ("pov", "POV: ANNA'S POV")
