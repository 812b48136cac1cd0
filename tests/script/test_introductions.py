"""Candidate descriptions from the script: introductions found, offered, never written over."""

from __future__ import annotations

from pathlib import Path

from setpiece.model.enums import BibleKind
from setpiece.production.bible import accept_candidate, get_entry, set_entry
from setpiece.production.context import Production
from setpiece.script.importer import import_script

DEMO = Path(__file__).resolve().parents[2] / "src" / "setpiece" / "pipeline" / "demo.fountain"

DRAFT = """Title: The Key

INT. HALL - NIGHT

A long hall of portraits. ANNA (30s, soaked raincoat) drags a SUITCASE in.

ANNA
Is anyone here?

BEN (O.S.)
Upstairs.

INT. STAIRS - NIGHT

BEN waits at the top (he has been waiting for hours).

BEN
You found it.
"""


def test_the_last_reel_gives_its_characters_and_places(production: Production) -> None:
    import_script(production, DEMO)
    mara = get_entry(production, BibleKind.CHARACTER, "MARA")
    assert mara.candidate_description == "60s, grey braid, ink-stained fingers"
    assert mara.description == ""  # offered, not taken
    booth = get_entry(production, BibleKind.LOCATION, "PROJECTION BOOTH")
    assert booth.candidate_description is not None
    assert booth.candidate_description.startswith("A cramped booth above an empty cinema.")


def test_only_the_first_appearance_introduces(production: Production, tmp_path: Path) -> None:
    script = tmp_path / "key.fountain"
    script.write_text(DRAFT)
    import_script(production, script)
    assert get_entry(production, BibleKind.CHARACTER, "ANNA").candidate_description == (
        "30s, soaked raincoat"
    )
    # BEN first appears as a voice, then in action without a parenthetical after his name.
    assert get_entry(production, BibleKind.CHARACTER, "BEN").candidate_description is None


def test_a_persons_description_is_never_overwritten(production: Production, tmp_path: Path) -> None:
    script = tmp_path / "key.fountain"
    script.write_text(DRAFT)
    import_script(production, script)
    set_entry(production, BibleKind.CHARACTER, "ANNA", description="conductor, navy coat")
    script.write_text(DRAFT.replace("30s, soaked raincoat", "40s, dry coat"))
    import_script(production, script)
    anna = get_entry(production, BibleKind.CHARACTER, "ANNA")
    assert anna.description == "conductor, navy coat"
    assert anna.candidate_description == "40s, dry coat"
    assert accept_candidate(production, BibleKind.CHARACTER, "ANNA").description == "40s, dry coat"


def test_a_renamed_character_is_found_by_a_later_import(
    production: Production, tmp_path: Path
) -> None:
    script = tmp_path / "key.fountain"
    script.write_text(DRAFT)
    import_script(production, script)
    set_entry(production, BibleKind.CHARACTER, "ANNA", rename="ANNA KOVAC")
    report = import_script(production, script)
    assert report.new_characters == []
    assert get_entry(production, BibleKind.CHARACTER, "ANNA KOVAC").scenes == ["1"]
