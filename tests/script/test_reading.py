"""Reading screenplay files: encodings, formats, bad files, and a 50 MB script."""

from __future__ import annotations

import codecs
import random
import time
import tracemalloc
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError
from setpiece.script.elements import ScriptWarning
from setpiece.script.reading import detect_encoding, open_script, read_script

from .conftest import WriteScript

SCENE = "EXT. SOMEWHERE - DAY\n\nGUY and GURL walk. Café au lait – naïve.\n\nGUY\nSo what's up?\n"


def texts(path: Path) -> list[tuple[str, str]]:
    return [(element.type, element.text) for element in read_script(path).elements]


EXPECTED = [
    ("scene_heading", "EXT. SOMEWHERE - DAY"),
    ("action", "GUY and GURL walk. Café au lait – naïve."),
    ("character", "GUY"),
    ("dialogue", "So what's up?"),
]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (SCENE.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF8 + SCENE.replace("\n", "\r\n").encode("utf-8"), "utf-8-sig"),
        (SCENE.encode("utf-16"), "utf-16"),
    ],
)
def test_unicode_files(write_script: WriteScript, content: bytes, encoding: str) -> None:
    path = write_script(content)
    assert detect_encoding(path) == encoding
    assert texts(path) == EXPECTED


def test_a_windows_1252_file_decodes_with_a_warning(write_script: WriteScript) -> None:
    path = write_script(SCENE.encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    with pytest.warns(ScriptWarning, match="is not UTF-8; it was read as Windows-1252"):
        script = read_script(path)
    assert [(e.type, e.text) for e in script.elements] == EXPECTED
    assert script.warnings[0].startswith(str(path))


def test_bytes_cp1252_leaves_undefined_fall_back_to_latin_1(write_script: WriteScript) -> None:
    path = write_script(b"INT. CAF\xc9 \x81 - DAY\n\nAction.\n")
    assert detect_encoding(path) == "latin-1"
    with pytest.warns(ScriptWarning, match="read as Latin-1"):
        script = read_script(path)
    assert script.scenes[0].location == "CAFÉ \x81"


def test_old_mac_line_ends(write_script: WriteScript) -> None:
    assert texts(write_script(SCENE.replace("\n", "\r").encode())) == EXPECTED


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        random.Random(7).randbytes(4096),
        b"text\x01\x02\x03\x04 with control bytes\x05\x06\x07\x08",
    ],
)
def test_binary_files_are_refused(write_script: WriteScript, content: bytes) -> None:
    path = write_script(content, name="photo.fountain")
    with pytest.raises(InvalidInputError, match=r"photo\.fountain is not a text file"):
        open_script(path)


@pytest.mark.parametrize("content", [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_an_empty_file_is_refused(write_script: WriteScript, content: bytes) -> None:
    path = write_script(content)
    with pytest.raises(InvalidInputError, match=r"script\.fountain is empty; give a Fountain"):
        read_script(path)


def test_missing_files_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist; check the path"):
        read_script(tmp_path / "nope.fountain")
    with pytest.raises(InvalidInputError, match="is a folder"):
        read_script(tmp_path)


def test_an_fdx_file_is_read_as_final_draft(write_script: WriteScript) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><FinalDraft><Content>'
        '<Paragraph Type="Scene Heading" Number="7"><Text>INT. LAB - NIGHT</Text></Paragraph>'
        "</Content></FinalDraft>"
    )
    for name in ("script.fdx", "exported.txt"):  # the suffix, or XML content, says FDX
        script = read_script(write_script(xml, name=name))
        assert [(s.number, s.heading) for s in script.scenes] == [("7", "INT. LAB - NIGHT")]


def test_a_malformed_fdx_file_is_invalid_input(write_script: WriteScript) -> None:
    path = write_script("<FinalDraft><Content>", name="broken.fdx")
    with pytest.raises(InvalidInputError, match=r"broken\.fdx is not well-formed XML"):
        read_script(path)


def _write_fifty_megabytes(path: Path) -> int:
    """A generated feature-like script of about 50 MB: scenes with every common element."""
    scene = (
        "INT. HOUSE {n} - NIGHT #{n}#\n\n"
        "WILL BLOOM, AGE 3, listens wide-eyed as his father EDWARD BLOOM, 40's and "
        "handsome, tells the story of the fish that got away, the one that was never "
        "caught, not by anyone in the whole of Alabama. *Never.*\n\n"
        "EDWARD (V.O.)\nThere are some fish that cannot be caught. It's not that they're "
        "faster or stronger than other fish.\n(beat)\nThey're just touched by something "
        "extra.\n\nWILL\nDad?\n\nSANDRA ^\nEdward?\n\n"
        "The Beast's journey takes it past a dangling fish hook, baited with worms. "
        "[[check the hook]] Past a tempting lure, sparkling in the sun.\n\nCUT TO:\n\n"
    )
    size = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("Title: Big\nAuthor: Generated\n\n")
        number = 0
        while size < 50 * 1024 * 1024:
            block = "".join(scene.format(n=number + index) for index in range(200))
            number += 200
            size += out.write(block)
    return number


@pytest.mark.slow
def test_a_50_mb_script_streams_in_bounded_memory(tmp_path: Path) -> None:
    """Peak traced memory stays under 8 MB while a 50 MB script is read.

    The stream holds one paragraph and the dialogue block before it; encoding
    detection reads 1 MB chunks (about 2 MB with the decoded text). Measured:
    about 2 MB. Holding the lines alone would take more than 50 MB, the elements
    several hundred, so 8 MB (a sixth of the file) fails loudly if anything
    starts to accumulate, and leaves room for the allocator's own churn.
    """
    path = tmp_path / "big.fountain"
    scenes = _write_fifty_megabytes(path)
    assert path.stat().st_size > 50 * 1024 * 1024
    tracemalloc.start()
    try:
        started = time.perf_counter()
        stream = open_script(path)
        headings = sum(element.type == "scene_heading" for element in stream)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert headings == scenes
    assert stream.title_page == {"title": "Big", "author": "Generated"}
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB after {elapsed:.0f} s"
