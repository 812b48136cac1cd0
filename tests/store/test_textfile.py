"""How a saved text file is encoded: the one decision every reader of such files shares."""

from __future__ import annotations

import codecs
import io

import pytest

from setpiece.store.textfile import detect_encoding, guessed_name

WORDS = "Café au lait – naïve, señor.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (WORDS.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF8 + WORDS.encode("utf-8"), "utf-8-sig"),
        (WORDS.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + WORDS.encode("utf-16-be"), "utf-16"),
        (WORDS.replace("–", "-").encode("cp1252"), "cp1252"),
        (b"CAF\xc9 \x81\n", "latin-1"),  # 0x81 is undefined in cp1252
        (b"", "utf-8-sig"),  # emptiness is the reader's to judge
        (codecs.BOM_UTF16_LE, "utf-16"),
    ],
)
def test_each_encoding_is_told(data: bytes, encoding: str) -> None:
    assert detect_encoding(io.BytesIO(data)) == encoding


@pytest.mark.parametrize(
    "data",
    [
        b"text\x00with a NUL",
        b"\x89PNG\r\n\x1a\n" + bytes(200),
        codecs.BOM_UTF16_LE + b"\x00\xd8",  # a lone surrogate: not UTF-16 after all
        bytes([1, 2, 3, 4]) + b"a few words",  # control bytes above the 1% share
    ],
)
def test_binary_data_is_not_text(data: bytes) -> None:
    assert detect_encoding(io.BytesIO(data)) is None


def test_a_utf8_character_split_across_chunks_is_still_utf8() -> None:
    data = b"a" * ((1 << 20) - 1) + "é".encode() + b"\n"
    assert detect_encoding(io.BytesIO(data)) == "utf-8-sig"


def test_only_guesses_are_named_for_a_warning() -> None:
    assert guessed_name("cp1252") == "Windows-1252"
    assert guessed_name("latin-1") == "Latin-1"
    assert guessed_name("utf-8-sig") is None and guessed_name("utf-16") is None
