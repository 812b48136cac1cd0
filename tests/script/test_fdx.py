"""The Final Draft reader: element mapping, and XML it must refuse."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError
from setpiece.script.elements import Dialogue, Run, SceneHeading, ScriptWarning
from setpiece.script.fdx import parse_fdx, stream_fdx
from setpiece.script.fountain import parse_fountain


def fdx(content: str, title_page: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n'
        '<FinalDraft DocumentType="Script" Template="No" Version="5">\n'
        f"<Content>\n{content}\n</Content>\n{title_page}</FinalDraft>\n"
    ).encode()


def paragraph(kind: str, *texts: str, **attributes: str) -> str:
    extra = "".join(f' {key}="{value}"' for key, value in attributes.items())
    body = "".join(f"<Text>{text}</Text>" for text in texts)
    return f'<Paragraph Type="{kind}"{extra}>{body}</Paragraph>'


SCRIPT = fdx(
    "\n".join(
        [
            paragraph("Scene Heading", "INT. GARAGE - DAY", Number="12A"),
            paragraph("Action", "BRICK and STEEL get into the PORSCHE.\n", "They pause."),
            paragraph("Character", "STEEL"),
            paragraph("Parenthetical", "(starting the engine)"),
            paragraph("Dialogue", "So much for retirement!"),
            paragraph("Transition", "CUT TO:"),
            paragraph("Scene Heading", "EXT. PALATIAL MANSION - DAY"),
            paragraph("Action", ""),
            paragraph("Shot", "ANGLE ON THE GATE"),
            paragraph("End of Act", "END OF ACT ONE"),
            paragraph("Action", "THE END", Alignment="Center"),
        ]
    ),
    title_page=(
        "<TitlePage><Content>"
        + paragraph("", "BRICK &amp; STEEL")
        + paragraph("", "")
        + paragraph("", "Written by")
        + paragraph("", "Stu Maschwitz")
        + "</Content></TitlePage>\n"
    ),
)


def test_paragraph_types_map_to_elements() -> None:
    script = parse_fdx(SCRIPT)
    assert [(e.type, e.text) for e in script.elements] == [
        ("scene_heading", "INT. GARAGE - DAY"),
        ("action", "BRICK and STEEL get into the PORSCHE.\nThey pause."),
        ("character", "STEEL"),
        ("parenthetical", "(starting the engine)"),
        ("dialogue", "So much for retirement!"),
        ("transition", "CUT TO:"),
        ("scene_heading", "EXT. PALATIAL MANSION - DAY"),
        ("action", "ANGLE ON THE GATE"),
        ("centered", "END OF ACT ONE"),
        ("centered", "THE END"),
    ]
    heading = script.elements[0]
    assert isinstance(heading, SceneHeading)
    assert heading.number == "12A"
    assert heading.line is None


def test_the_title_page_gives_title_and_notes() -> None:
    assert parse_fdx(SCRIPT).title_page == {
        "title": "BRICK & STEEL",
        "notes": "Written by\nStu Maschwitz",
    }
    stream = stream_fdx(SCRIPT)
    assert stream.title_page["title"] == "BRICK & STEEL"  # before reading the body
    assert len(list(stream)) == 10


def test_scenes_come_from_the_same_breakdown_as_fountain() -> None:
    scene = parse_fdx(SCRIPT).scenes[0]
    assert (scene.number, scene.index, scene.int_ext, scene.location, scene.time) == (
        "12A",
        1,
        "INT",
        "GARAGE",
        "DAY",
    )
    # BRICK is in capitals in the action but never speaks, so he is not listed.
    assert scene.characters == ("STEEL",)


def test_dual_dialogue() -> None:
    script = parse_fdx(
        fdx(
            "<Paragraph><DualDialogue>"
            + paragraph("Character", "GIRL")
            + paragraph("Dialogue", "Hey!")
            + paragraph("Character", "GUY")
            + paragraph("Dialogue", "Hello!")
            + "</DualDialogue></Paragraph>"
            + paragraph("Action", "They part.")
        )
    )
    assert [(e.type, e.text, getattr(e, "dual", None)) for e in script.elements] == [
        ("character", "GIRL", True),
        ("dialogue", "Hey!", True),
        ("character", "GUY", True),
        ("dialogue", "Hello!", True),
        ("action", "They part.", None),
    ]


def test_consecutive_dialogue_paragraphs_are_one_speech() -> None:
    script = parse_fdx(
        fdx(
            paragraph("Character", "DEALER")
            + paragraph("Dialogue", "Dealer gets a seven.")
            + '<Paragraph Type="Dialogue"></Paragraph>'
            + paragraph("Dialogue", "Hit or stand sir?")
        )
    )
    fountain = parse_fountain("DEALER\nDealer gets a seven.\n  \nHit or stand sir?\n")
    assert [(e.type, e.text) for e in script.elements] == [
        (e.type, e.text) for e in fountain.elements
    ]
    assert isinstance(script.elements[1], Dialogue)
    assert script.elements[1].text == "Dealer gets a seven.\n\nHit or stand sir?"


def test_text_styles_become_runs() -> None:
    script = parse_fdx(
        fdx(
            '<Paragraph Type="Action"><Text>Plain </Text><Text Style="Bold+Underline">'
            'LOUD</Text><Text Style="Italic"> soft</Text></Paragraph>'
            '<Paragraph Type="Character"><Text Style="AllCaps">steel</Text></Paragraph>'
        )
    )
    action = script.elements[0]
    assert action.text == "Plain LOUD soft"
    assert action.runs == (
        Run("Plain "),
        Run("LOUD", bold=True, underline=True),
        Run(" soft", italic=True),
    )
    assert script.elements[1].text == "STEEL"


def test_a_new_page_paragraph_gives_a_page_break() -> None:
    script = parse_fdx(fdx(paragraph("Action", "Act two.", StartsNewPage="Yes")))
    assert [e.type for e in script.elements] == ["page_break", "action"]


def test_an_unknown_type_reads_as_action_with_one_warning() -> None:
    content = fdx(paragraph("Storyboard", "one") + paragraph("Storyboard", "two"))
    with pytest.warns(ScriptWarning, match="'Storyboard'"):
        script = parse_fdx(content, source="odd.fdx")
    assert [(e.type, e.text) for e in script.elements] == [("action", "one"), ("action", "two")]
    assert script.warnings == [
        "odd.fdx: paragraph type 'Storyboard' is not a screenplay element Setpiece knows; "
        "it is read as action"
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"<FinalDraft><Content><Paragraph Type='Action'><Text>cut off",
        b"not xml at all",
        b"   ",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_malformed_xml_is_invalid_input(content: bytes) -> None:
    with pytest.raises(InvalidInputError, match=r"^bad\.fdx is not well-formed XML \("):
        parse_fdx(content, source="bad.fdx")


def test_xml_that_is_not_final_draft_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match=r"not a Final Draft script .its root is <html>"):
        parse_fdx(b"<html><body/></html>", source="page.fdx")


def test_an_external_entity_is_refused_not_resolved() -> None:
    content = (
        b'<?xml version="1.0"?>\n<!DOCTYPE FinalDraft [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<FinalDraft><Content><Paragraph Type="Action"><Text>&xxe;</Text></Paragraph>'
        b"</Content></FinalDraft>"
    )
    with pytest.raises(InvalidInputError, match="has a DOCTYPE") as raised:
        parse_fdx(content, source="xxe.fdx")
    assert "root:" not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_external_dtd_is_refused() -> None:
    content = (
        b'<?xml version="1.0"?>\n<!DOCTYPE FinalDraft SYSTEM "http://example.invalid/fd.dtd">\n'
        b"<FinalDraft><Content/></FinalDraft>"
    )
    with pytest.raises(InvalidInputError, match="has a DOCTYPE"):
        parse_fdx(content)


def test_a_billion_laughs_is_refused_quickly() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    ]
    content = (
        '<?xml version="1.0"?>\n<!DOCTYPE FinalDraft [' + "".join(entities) + "]>\n"
        '<FinalDraft><Content><Paragraph Type="Action"><Text>&lol9;</Text></Paragraph>'
        "</Content></FinalDraft>"
    ).encode()
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="has a DOCTYPE"):
        parse_fdx(content)
    assert time.perf_counter() - start < 1.0


def test_an_fdx_file_streams_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "script.fdx"
    path.write_bytes(SCRIPT)
    script = parse_fdx(path)
    assert script.source == str(path)
    assert len(script.scenes) == 2


def test_a_missing_fdx_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"gone\.fdx cannot be read \(No such file"):
        parse_fdx(tmp_path / "gone.fdx")
