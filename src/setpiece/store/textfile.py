"""How a text file someone saved is encoded: one answer for every reader of such files.

Screenplays and shot lists arrive as whatever the writer's app saved: UTF-8 with
or without a BOM, UTF-16 from Windows tools, or an old Windows-1252 export. One
streaming pass over the bytes decides the encoding before any line is parsed, so
a bad guess never surfaces half-way through a 50 MB file:

1. a UTF-16 BOM means UTF-16;
2. any NUL byte, or control bytes above 1% (and more than two), means the file
   is not text;
3. valid UTF-8 means UTF-8 (a BOM is dropped);
4. otherwise Windows-1252, or Latin-1 where cp1252 leaves a byte undefined
   (Latin-1 decodes any bytes at all, which is why rule 2 comes first); either
   one is a guess, and ``guessed_name`` names it for the reader's warning.

It lives in the store layer, below every reader (``script.reading``,
``production.shotlist``), and words no message itself: each reader says what
it expected the file to be.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

__all__ = ["detect_encoding", "guessed_name"]

_CHUNK = 1 << 20
_CONTROL = bytes([*range(0, 9), 0x0B, *range(0x0E, 0x20), 0x7F])
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_MAX_CONTROL_SHARE = 0.01
_GUESSES = {"cp1252": "Windows-1252", "latin-1": "Latin-1"}


def detect_encoding(stream: BinaryIO) -> str | None:
    """Decide how the bytes of a text file are encoded, reading them once in 1 MB chunks.

    Args:
        stream: The file, opened for binary reading at its start.

    Returns:
        A Python codec name (``utf-8-sig``, ``utf-16``, ``cp1252`` or ``latin-1``),
        or None when the bytes are not text.
    """
    head = stream.read(2)
    stream.seek(0)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        utf16 = codecs.getincrementaldecoder("utf-16")()
        try:
            while chunk := stream.read(_CHUNK):
                utf16.decode(chunk)
            utf16.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
        return "utf-16"
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    size = control = undefined = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if b"\x00" in chunk:
            return None
        control += len(chunk) - len(chunk.translate(None, _CONTROL))
        undefined += len(chunk) - len(chunk.translate(None, _CP1252_UNDEFINED))
        if is_utf8:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if control + (0 if is_utf8 else undefined) > max(2, size * _MAX_CONTROL_SHARE):
        return None
    if is_utf8:
        return "utf-8-sig"
    return "cp1252" if not undefined else "latin-1"


def guessed_name(encoding: str) -> str | None:
    """The name to warn with when ``detect_encoding`` guessed (``Windows-1252``), else None.

    Args:
        encoding: A codec name ``detect_encoding`` returned.

    Returns:
        The encoding's name as people know it, or None for UTF-8 and UTF-16.
    """
    return _GUESSES.get(encoding)
