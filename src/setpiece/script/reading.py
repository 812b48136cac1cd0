"""From a screenplay file on disk to a stream of elements or a whole ``Script``.

Writers send what their app saved: UTF-8 with or without a BOM, UTF-16 from
Windows tools, or an old Windows-1252 export. ``setpiece.store.textfile`` decides
the encoding in one pass before any line is parsed (its rules are there); a file
that holds only a BOM is empty, and a guessed Windows-1252 or Latin-1 adds a
``ScriptWarning``.

The format comes from the suffix (``.fdx`` is Final Draft) or, for any other
name, from content that opens as XML.
"""

from __future__ import annotations

import codecs
import warnings
from collections.abc import Iterator
from pathlib import Path

from setpiece.errors import InvalidInputError
from setpiece.script.breakdown import collect
from setpiece.script.elements import Script, ScriptStream, ScriptWarning
from setpiece.script.fdx import stream_fdx
from setpiece.script.fountain import FountainStream
from setpiece.store import textfile

__all__ = ["detect_encoding", "open_script", "read_lines", "read_script"]

_TEXT_CHUNK = 1 << 16


def _empty(path: Path) -> InvalidInputError:
    return InvalidInputError(f"{path} is empty; give a Fountain or Final Draft screenplay")


def _check_file(path: Path) -> int:
    """The file's size, after making sure it is a readable, non-empty file."""
    try:
        if path.is_dir():
            raise InvalidInputError(f"{path} is a folder; give the screenplay file inside it")
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist; check the path") from None
    except PermissionError:
        raise InvalidInputError(f"{path} cannot be read (permission denied)") from None
    if size == 0:
        raise _empty(path)
    return size


def detect_encoding(path: Path) -> str:
    """Decide how a text file is encoded, reading it once in 1 MB chunks.

    Args:
        path: The file.

    Returns:
        A Python codec name: ``utf-8-sig``, ``utf-16``, ``cp1252`` or ``latin-1``.

    Raises:
        InvalidInputError: The file is missing, empty (a BOM alone is empty too),
            unreadable or binary.
    """
    _check_file(path)
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
            if head in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                raise _empty(path)
            stream.seek(0)
            encoding = textfile.detect_encoding(stream)
    except PermissionError:
        raise InvalidInputError(f"{path} cannot be read (permission denied)") from None
    if encoding is None:
        raise InvalidInputError(
            f"{path} is not a text file (it holds binary data); give a Fountain (.fountain) "
            "or Final Draft (.fdx) screenplay"
        )
    return encoding


def read_lines(path: Path, encoding: str) -> Iterator[str]:
    """The lines of a text file, without line ends (CRLF, CR and LF all end a line).

    Args:
        path: The file.
        encoding: Its codec, from ``detect_encoding``.

    Yields:
        One line at a time.
    """
    with path.open(encoding=encoding, newline=None) as stream:
        # Splitting 64 KB of text at a time makes one string per line, where
        # iterating the file and cutting each line end makes two.
        rest = ""
        while chunk := stream.read(_TEXT_CHUNK):
            lines = (rest + chunk).split("\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest


def _looks_like_xml(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"<?xml", b"<FinalDraft"))


def open_script(path: Path | str) -> ScriptStream:
    """Open a Fountain or Final Draft file as a stream of elements.

    Args:
        path: A .fountain (or any text) file, or a .fdx file.

    Returns:
        The stream; its ``title_page`` is available before the first element.

    Raises:
        InvalidInputError: The file is missing, empty, unreadable, binary, or
            malformed or unsafe XML (the last two when the stream is read).
    """
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() == ".fdx" or _looks_like_xml(path):
        return stream_fdx(path)
    encoding = detect_encoding(path)
    stream = FountainStream(read_lines(path, encoding), source=str(path))
    name = textfile.guessed_name(encoding)
    if name is not None:
        message = (
            f"{path} is not UTF-8; it was read as {name}: check accented letters, "
            "and save it as UTF-8 to be sure"
        )
        stream.warnings.append(message)
        warnings.warn(message, ScriptWarning, stacklevel=2)
    return stream


def read_script(path: Path | str) -> Script:
    """Read a whole Fountain or Final Draft file, with its scene summaries.

    Args:
        path: The screenplay file.

    Returns:
        The script in memory.

    Raises:
        InvalidInputError: As for ``open_script``.
    """
    return collect(open_script(path))
