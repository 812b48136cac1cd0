"""``setpiece script parse``, called through the Typer app directly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from script import conftest as screenplays
from setpiece.cli.script import app, write_json
from setpiece.errors import InvalidInputError
from setpiece.script.reading import open_script, read_script

WriteScript = screenplays.WriteScript
write_script = screenplays.write_script  # the screenplay tests' fixture, used here too

SCRIPT = """Title: Brick & Steel [/draft]
Author: Stu Maschwitz

EXT. BRICK'S PATIO - DAY #1#

A gorgeous day. But BRICK BRADDOCK is sitting quietly. A STRANGER waves.

STEEL (O.S.)
Beer's ready!

BRICK
Are they cold?

INT. TRAILER HOME - NIGHT

STEEL
Screw retirement.

/* never closed
"""

runner = CliRunner()


def test_json_is_one_document_with_the_documented_shape(write_script: WriteScript) -> None:
    path = write_script(SCRIPT)
    result = runner.invoke(app, ["parse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["title_page", "elements", "scenes", "warnings"]
    assert document["title_page"] == {"title": "Brick & Steel [/draft]", "author": "Stu Maschwitz"}
    assert document["elements"][0] == {
        "type": "scene_heading",
        "text": "EXT. BRICK'S PATIO - DAY",
        "line": 4,
        "number": "1",
    }
    assert document["elements"][2] == {
        "type": "character",
        "text": "STEEL (O.S.)",
        "line": 8,
        "dual": False,
        "name": "STEEL",
    }
    assert document["scenes"][0] == {
        "number": "1",
        "index": 1,
        "heading": "EXT. BRICK'S PATIO - DAY",
        "int_ext": "EXT",
        "location": "BRICK'S PATIO",
        "time": "DAY",
        "characters": ["BRICK", "STEEL"],
        "eighths": 2,
        "line": 4,
    }
    assert [scene["index"] for scene in document["scenes"]] == [1, 2]
    assert len(document["warnings"]) == 1
    assert "boneyard '/*' is never closed" in document["warnings"][0]


def test_streamed_json_equals_the_script_in_memory(write_script: WriteScript) -> None:
    path = write_script(SCRIPT * 3)
    out = io.StringIO()
    with pytest.warns(UserWarning):
        write_json(open_script(path), out)
        expected = read_script(path).to_dict()
    assert json.loads(out.getvalue()) == expected


def test_summary_names_title_scenes_characters_and_warnings(write_script: WriteScript) -> None:
    path = write_script(SCRIPT)
    result = runner.invoke(app, ["parse", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Brick & Steel [/draft]" in result.stdout  # as written, not as Rich markup
    assert "Scenes" in result.stdout
    assert "2 (" in result.stdout
    assert "STEEL, BRICK" in result.stdout
    assert "Warnings (1)" in result.stdout
    assert "boneyard" in result.stdout


def test_summary_lists_the_speakers_of_joint_cues_not_the_cues(
    write_script: WriteScript,
) -> None:
    path = write_script(
        "INT. BOOTH - NIGHT\n\nMARA\nReady?\n\nTEO\nReady.\n\nMARA & TEO\nRoll it!\n\n"
        "ALL\nHappy birthday!\n"
    )
    result = runner.invoke(app, ["parse", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Characters (2)" in result.stdout and "MARA, TEO" in result.stdout
    assert "Joint and group cues (2)" in result.stdout and "MARA & TEO, ALL" in result.stdout


def test_summary_warns_of_dialogue_an_import_would_not_make_lines_of(
    write_script: WriteScript,
) -> None:
    path = write_script("MARA\nToo early.\n\nINT. BOOTH - NIGHT\n\nTEO\n(shrugs)\n\nMARA\nReady.\n")
    result = runner.invoke(app, ["parse", str(path)], terminal_width=300)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())  # the table wraps its cells
    assert "Warnings (2)" in said
    assert "1 dialogue block(s) stand before the first scene heading" in said
    assert "1 dialogue block(s) say nothing" in said and "TEO (shrugs)" in said


def test_final_draft_files_parse_too(write_script: WriteScript) -> None:
    path = write_script(
        '<?xml version="1.0"?><FinalDraft><Content>'
        '<Paragraph Type="Scene Heading" Number="3"><Text>INT. LAB - NIGHT</Text></Paragraph>'
        "</Content></FinalDraft>",
        name="lab.fdx",
    )
    result = runner.invoke(app, ["parse", "--json", str(path)])
    assert json.loads(result.stdout)["scenes"][0]["number"] == "3"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.fountain", "is empty"),
        (b"\x00\x01\x02binary", "clip.fountain", "is not a text file"),
        (b"<FinalDraft><Content>", "broken.fdx", "is not well-formed XML"),
        (
            b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><FinalDraft/>',
            "xxe.fdx",
            "has a DOCTYPE",
        ),
    ],
)
def test_bad_files_raise_invalid_input(
    write_script: WriteScript, content: bytes, name: str, message: str
) -> None:
    path = write_script(content, name=name)
    for arguments in (["parse", str(path)], ["parse", str(path), "--json"]):
        result = runner.invoke(app, arguments)
        assert isinstance(result.exception, InvalidInputError)
        assert message in str(result.exception)
        assert result.stdout == ""


def test_a_missing_file_raises_invalid_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["parse", str(tmp_path / "nope.fountain")])
    assert isinstance(result.exception, InvalidInputError)
    assert "does not exist" in str(result.exception)


def test_help_lists_the_parse_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "parse" in result.stdout
