"""Scene numbers as productions write them: read exactly, ordered, and lettered for inserts.

A shooting script numbers its scenes ``1``, ``12A``, ``A1`` (before scene 1) or
``I-1-A`` (act, scene, letter). Fountain writes them between ``#`` at the end of
the heading, Final Draft in the paragraph's ``Number``. The rules decided here:

- A number holds letters, digits, ``.`` and ``-`` only, starts with a letter or
  a digit, and is at most 20 characters (the project's column and the rule
  ``scene add`` follows, ``production.rows.SCENE_NUMBER``). Spaces around it are
  dropped (``# 7 #`` is 7); a space inside (``#12 A#``) is refused, naming the
  line, rather than guessed. Letters are upper-cased, as every scene number is.
- A scene added after scene 12 is 12A, then 12B; after 12A comes 12B; before the
  first scene, A1 then B1. The letter goes after the whole number, so a scene
  after ``I-1-A`` is ``I-1-B``.
- Order: ``A1 < B1 < 1 < 1A < 1B < 2``. Only numbers of that plain shape
  (letters, digits, letters) are compared; ``I-1-A`` has no place in it, and is
  never said to go backwards.
"""

from __future__ import annotations

import re
import string

from setpiece.errors import InvalidInputError

__all__ = ["MAX_LENGTH", "inserted_number", "number_order", "read_number"]

#: The longest scene number (the scenes table's column).
MAX_LENGTH = 20

# The same rule as ``setpiece.production.rows.SCENE_NUMBER`` (a test keeps them equal).
_VALID = re.compile(r"^[A-Z0-9][A-Z0-9.-]{0,19}$")
_PLAIN = re.compile(r"^(?P<prefix>[A-Z]*)(?P<digits>\d+)(?P<suffix>[A-Z]*)$")
_LETTERS = string.ascii_uppercase


def read_number(raw: str, where: str) -> str:
    """A scene number as the script writes it, checked.

    Args:
        raw: What stands between the ``#`` marks, or an FDX ``Number``.
        where: Where it was read, for the message (``script.fountain: line 12``).

    Returns:
        The number, spaces around it dropped and letters upper-cased.

    Raises:
        InvalidInputError: The number is empty, longer than 20 characters, or
            holds a space or a character other than letters, digits, '.' and '-'.
    """
    value = raw.strip().upper()
    if len(value) > MAX_LENGTH:
        raise InvalidInputError(
            f"{where}: scene number {raw.strip()!r} is {len(value)} characters long; "
            f"the most is {MAX_LENGTH}"
        )
    if not _VALID.match(value):
        raise InvalidInputError(
            f"{where}: scene number {raw!r} is not valid: use letters, digits, '.' and '-' "
            "with no spaces, e.g. #12A# or #I-1-A#"
        )
    return value


def number_order(number: str) -> tuple[int, int, str, str] | None:
    """Where a plain number stands in script order (``A1 < 1 < 1A < 2``), or None for others."""
    match = _PLAIN.match(number)
    if match is None:
        return None
    prefix, suffix = match.group("prefix"), match.group("suffix")
    return (int(match.group("digits")), 1 if not prefix else 0, prefix, suffix)


def inserted_number(after: str | None, before: str | None, used: set[str]) -> str:
    """The number of a scene added after ``after`` (12 -> 12A -> 12B), or before the first (A1).

    Args:
        after: The number of the scene it follows, None when it opens the script.
        before: The number of the scene that follows it, used when ``after`` is None.
        used: Numbers taken (by the project's scenes and the script's own numbers).

    Returns:
        The first free number of that series.
    """
    if after is None:
        match = _PLAIN.match(before or "1")
        digits = match.group("digits") if match else "1"
        for letter in _LETTERS:
            if f"{letter}{digits}" not in used:
                return f"{letter}{digits}"
        stem = f"A{digits}"
    else:
        stem, start = after, 0
        if after[-1] in _LETTERS and len(after) > 1 and not after[:-1].isalpha():
            # 12A -> 12B, I-1-A -> I-1-B (but A1 -> A1A: its letter is a prefix).
            stem, start = after[:-1], _LETTERS.index(after[-1]) + 1
        for letter in _LETTERS[start:]:
            if f"{stem}{letter}" not in used:
                return f"{stem}{letter}"
        stem = after
    counter = 1
    while f"{stem}-{counter}" in used:
        counter += 1
    return f"{stem}-{counter}"
