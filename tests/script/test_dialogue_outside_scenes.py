"""Dialogue before the first scene heading, and scripts without one: Fountain and Final
Draft say the same, on a first import too, and nothing is invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from setpiece.production.context import Production
from setpiece.production.dialogue import list_lines
from setpiece.script.importer import import_script

FDX = """<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<FinalDraft DocumentType="Script" Template="No" Version="4">
  <Content>
    <Paragraph Type="Action"><Text>The men look at each other.</Text></Paragraph>
    <Paragraph Type="General">
      <DualDialogue>
        <Paragraph Type="Character"><Text>STEEL</Text></Paragraph>
        <Paragraph Type="Dialogue"><Text>Screw retirement.</Text></Paragraph>
        <Paragraph Type="Character"><Text>BRICK</Text></Paragraph>
        <Paragraph Type="Dialogue"><Text>Screw retirement.</Text></Paragraph>
      </DualDialogue>
    </Paragraph>
    {heading}
    <Paragraph Type="Character"><Text>STEEL</Text></Paragraph>
    <Paragraph Type="Dialogue"><Text>Again.</Text></Paragraph>
  </Content>
</FinalDraft>
"""
FDX_HEADING = '<Paragraph Type="Scene Heading"><Text>INT. BAR - NIGHT</Text></Paragraph>'

FOUNTAIN = """The men look at each other.

STEEL
Screw retirement.

BRICK ^
Screw retirement.

{heading}

STEEL
Again.
"""


def _write(tmp_path: Path, fdx: bool, heading: bool) -> Path:
    if fdx:
        path = tmp_path / "fragment.fdx"
        path.write_text(FDX.format(heading=FDX_HEADING if heading else ""), encoding="utf-8")
    else:
        path = tmp_path / "fragment.fountain"
        path.write_text(FOUNTAIN.format(heading="INT. BAR - NIGHT" if heading else ""))
    return path


@pytest.mark.parametrize("fdx", [False, True], ids=["fountain", "fdx"])
def test_a_script_without_a_scene_heading_says_so_on_a_first_import(
    production: Production, tmp_path: Path, fdx: bool
) -> None:
    report = import_script(production, _write(tmp_path, fdx, heading=False))
    assert report.scenes == 0 and report.lines.added == []
    name = "fragment.fdx" if fdx else "fragment.fountain"
    assert report.warnings == [
        f"{name} has no scene heading, so no scene was imported; 3 dialogue block(s) belong "
        "to no scene and are not lines (the first: STEEL, 'Screw retirement.'); start each "
        "scene with a heading such as 'INT. BOOTH - NIGHT' (in Fountain a line that starts "
        "with '.' is a heading too)"
    ]
    assert list_lines(production) == []


@pytest.mark.parametrize("fdx", [False, True], ids=["fountain", "fdx"])
def test_dialogue_before_the_first_heading_is_counted_not_dropped_silently(
    production: Production, tmp_path: Path, fdx: bool
) -> None:
    report = import_script(production, _write(tmp_path, fdx, heading=True))
    assert report.scenes == 1 and report.lines.added == ["1/1"]
    assert [(line.character, line.text) for line in list_lines(production)] == [("STEEL", "Again.")]
    name = "fragment.fdx" if fdx else "fragment.fountain"
    assert report.warnings == [
        f"{name}: 2 dialogue block(s) stand before the first scene heading, so they belong "
        "to no scene and are not lines (the first: STEEL, 'Screw retirement.'); put a scene "
        "heading above them to have them spoken"
    ]


def test_a_script_that_opens_with_its_heading_has_no_warning(
    production: Production, tmp_path: Path
) -> None:
    path = tmp_path / "clean.fountain"
    path.write_text("FADE IN:\n\nINT. BAR - NIGHT\n\nSTEEL\nAgain.\n")
    assert import_script(production, path).warnings == []


def test_the_command_prints_the_warning(cli, tmp_path: Path, database_url: str | None) -> None:
    import os

    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    result = cli("script", "import", _write(tmp_path, fdx=True, heading=False))
    assert result.code == 0, result.err
    assert "0 scenes from fragment.fdx" in result.out
    assert "warning: fragment.fdx has no scene heading" in result.out


def test_a_revision_without_scenes_says_it_omits_them_and_counts_the_dialogue(
    production: Production, tmp_path: Path
) -> None:
    import_script(production, _write(tmp_path, fdx=False, heading=True))
    report = import_script(production, _write(tmp_path, fdx=True, heading=False))
    assert report.omitted == ["1"]
    assert report.warnings == [
        "fragment.fdx has no scenes: every scene of the project is now OMITTED (nothing is "
        "deleted; their shots and takes stay)",
        "fragment.fdx: 3 dialogue block(s) belong to no scene and are not lines (the first: "
        "STEEL, 'Screw retirement.')",
    ]


def test_a_cue_with_only_a_parenthetical_is_reported_not_dropped_silently(
    production: Production, tmp_path: Path
) -> None:
    path = tmp_path / "beat.fountain"
    path.write_text(
        "INT. BAR - NIGHT\n\nSTEEL\n(nods)\n\nBRICK\nAgain.\n\nINT. ROOF - DAY\n\n"
        "BRICK (V.O.)\n(a long sigh)\n\nThe wind.\n"
    )
    report = import_script(production, path)
    assert [(line.character, line.text) for line in list_lines(production)] == [("BRICK", "Again.")]
    assert report.warnings == [
        "2 dialogue block(s) say nothing, so they are not lines (scene 1: STEEL (nods); "
        "scene 2: BRICK (a long sigh)): a cue with only a parenthetical is a beat for the picture"
    ]
