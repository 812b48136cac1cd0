"""The shot list as a file: the sheet's dialect and encoding, both ways.

What it decides:

- Writing: UTF-8 with a byte-order mark (Excel reads UTF-8 only when the BOM
  is there; LibreOffice, Numbers and Python's ``utf-8-sig`` all accept it),
  comma-separated, CRLF line ends and minimal quoting (RFC 4180, what Excel
  writes). The file appears whole or not at all (written beside it, then renamed).
- Reading accepts what spreadsheets save: UTF-8 with or without a BOM, UTF-16
  with a BOM, and Windows-1252 (with a warning, as the script reader does; the
  encoding is decided by ``setpiece.store.textfile``); comma or semicolon
  delimiters (the one that splits the header into known column names wins);
  any line ends. A workbook, a binary file, an empty file or one over 100 MB is
  refused with what to do instead.
- Formulas: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is written with a ``'`` before it (OWASP's rule against CSV injection), so a
  spreadsheet shows ``=cmd|' /C calc'!A0`` as text instead of running it. A cell that
  starts with ``'`` gets one more, so that reading takes off exactly one ``'`` where
  it is followed by one of those characters or by another ``'``: every cell reads back
  as it was, a description that starts with a quote included.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from setpiece.errors import ConflictError, InvalidInputError
from setpiece.production.shotlist._cells import COLUMNS, column_name
from setpiece.production.shotlist._report import RowProblem, shot_list_error
from setpiece.store import textfile

__all__ = ["check_target", "neutralised", "read_sheet", "restored", "write_sheet"]

_MAX_BYTES = 100 * 1024 * 1024
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection"), and the
# quote that marks a cell written as text, which must itself round-trip.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_MARK = "'"


def neutralised(cell: str) -> str:
    """``cell`` as written to the sheet: a ``'`` before a formula's first character (or a ``'``).

    ``=SUM(A1)`` is written ``'=SUM(A1)``, ``'tis`` is written ``''tis``; ``restored``
    gives either back.
    """
    return _TEXT_MARK + cell if cell.startswith((*_FORMULA_STARTS, _TEXT_MARK)) else cell


def restored(cell: str) -> str:
    """``cell`` as it was before ``neutralised``: the one ``'`` the export added taken off."""
    if cell.startswith(_TEXT_MARK) and cell[1:].startswith((*_FORMULA_STARTS, _TEXT_MARK)):
        return cell[1:]
    return cell


# Writing --------------------------------------------------------------------------------


def check_target(target: Path, *, force: bool) -> None:
    """Makes sure the sheet may be written at ``target``, before anything is read for it.

    Args:
        target: The CSV file to write.
        force: Overwrite the file if it exists.

    Raises:
        ConflictError: The file exists and ``force`` is not given.
        InvalidInputError: The path is a folder, or its folder is missing.
    """
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give a file name such as shots.csv")
    if not target.parent.is_dir():
        raise InvalidInputError(f"folder {target.parent} does not exist: create it first")
    if target.exists() and not force:
        raise ConflictError(f"{target} exists: pass --force to overwrite it")


def write_sheet(target: Path, rows: Iterable[list[str]]) -> None:
    """Writes the header and ``rows`` as the sheet, whole or not at all.

    Args:
        target: The CSV file (checked with ``check_target``).
        rows: The cells of each row, in ``COLUMNS`` order.

    Raises:
        InvalidInputError: The folder is not writable.
    """
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: never write through someone else's file; 0o666 lets the umask decide.
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except PermissionError:
        raise InvalidInputError(f"cannot write in {target.parent}: permission denied") from None
    try:
        with open(handle, "w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            writer.writerows([neutralised(cell) for cell in row] for row in rows)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# Reading --------------------------------------------------------------------------------


def read_sheet(path: Path) -> tuple[list[list[str]], list[str]]:
    """The sheet's records (the header first) and any warning about its encoding.

    Args:
        path: The CSV file.

    Returns:
        Every record as its cells (each as it was before ``neutralised``), and the warnings.

    Raises:
        InvalidInputError: The file is missing, a folder, too big, empty, binary or a
            workbook.
        ShotListInvalidError: The CSV itself is malformed (a quote left open).
    """
    text, warnings = _decode(path)
    return _records(text, path.name), warnings


def _decode(path: Path) -> tuple[str, list[str]]:
    """The file's text and any warning about how it was decoded."""
    try:
        if path.is_dir():
            raise InvalidInputError(f"{path} is a folder: give the CSV file inside it")
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise InvalidInputError(
                f"{path} is {size // (1024 * 1024)} MB: a shot list is a few MB at most; "
                "is it the right file?"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist: check the path") from None
    except PermissionError:
        raise InvalidInputError(f"{path} cannot be read (permission denied)") from None
    empty = InvalidInputError(
        f"{path} is empty: export a shot list with 'setpiece shot export' and edit that"
    )
    if not data.strip():
        raise empty
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidInputError(
            f"{path} is a spreadsheet workbook, not CSV: save it as 'CSV UTF-8' and import that"
        )
    if data.startswith(codecs.BOM_UTF8) and not data[3:].strip():
        raise empty
    encoding = textfile.detect_encoding(io.BytesIO(data))
    if encoding is None:
        raise InvalidInputError(
            f"{path} is not a CSV file (it holds binary data): save the sheet as 'CSV UTF-8'"
        )
    text = data.decode(encoding)
    if not text.strip("\ufeff \t\r\n"):
        raise empty
    warnings = []
    name = textfile.guessed_name(encoding)
    if name is not None:
        warnings.append(
            f"{path.name} is not UTF-8; it was read as {name}: check accented letters, "
            "and save it as 'CSV UTF-8' to be sure"
        )
    return text.removeprefix("\ufeff"), warnings


def _delimiter(text: str) -> str:
    """Comma or semicolon: whichever splits the header into more known column names.

    csv.Sniffer guesses from character counts and misreads one-line samples whose
    descriptions hold commas; the header's words are known, so they decide.
    """
    header = text.split("\n", 1)[0]

    def known(delimiter: str) -> int:
        cells = next(csv.reader([header], delimiter=delimiter), [])
        return sum(column_name(c) in COLUMNS for c in cells)

    return ";" if known(";") > known(",") else ","


def _records(text: str, source: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[list[str]] = []
    try:
        records.extend([restored(cell) for cell in record] for record in reader)
    except csv.Error as exc:
        raise shot_list_error(
            source,
            [
                RowProblem(
                    len(records) + 1,
                    None,
                    "",
                    f"not valid CSV ({exc}): check the quotes there, or save the sheet as CSV again",
                )
            ],
        ) from None
    return records
