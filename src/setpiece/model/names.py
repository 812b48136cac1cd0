"""User names: one spelling per member, from a set that cannot hide one name inside another.

Why here: the CLI (``--as``, ``SETPIECE_USER``, ``[user] name``), the web login and the
storage layer must agree on when two names are the same member, so one function decides
(:func:`fold_user_name`) and every lookup compares its result (the ``users.name_key``
column, unique).

Decisions:
- A name is read in Unicode NFKC, so the fullwidth ``ｖｉｃ`` and the ligature ``ﬁ`` are the
  plain letters they look like; it is compared case-folded, so ``VIC`` is ``vic``.
- New names are limited to ASCII letters and digits, ``.``, ``_`` and ``-``, 1-64
  characters, starting with a letter or digit. ASCII only, because confusables cannot be
  told apart reliably otherwise: the Cyrillic ``vіс`` looks like ``vic`` and survives NFKC
  and case folding unchanged (Unicode's confusables table, UTS #39, is a separate, growing
  data set we would have to ship and keep current). The set also keeps names safe in
  paths, HTML, CSV cells and log lines (no ``<``, ``/``, spaces or leading ``.`` / ``-``).
- Names are stored as given (after NFKC), so ``Vic`` still shows as ``Vic``; names that
  existed before these rules keep working: lookups only fold, they do not re-check the set.
"""

from __future__ import annotations

import re
import unicodedata

from setpiece.errors import InvalidInputError

__all__ = ["MAX_NAME", "check_user_name", "fold_user_name"]

MAX_NAME = 64
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def fold_user_name(name: str) -> str:
    """The form two names share when they are the same member: NFKC, case-folded, NFKC again.

    (Case folding can undo NFKC, e.g. for some Greek letters, hence the second pass.)
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def check_user_name(name: str) -> str:
    """The name to store for a new member: ``name`` in NFKC, checked against the safe set.

    Raises:
        InvalidInputError: The name is empty, too long, or holds a character outside ASCII
            letters, digits, ``.``, ``_`` and ``-`` (or starts with ``.``, ``_`` or ``-``).
    """
    normal = unicodedata.normalize("NFKC", name.strip())
    if not _SAFE.fullmatch(normal):
        raise InvalidInputError(
            f"user name {name!r} is not allowed: use 1-{MAX_NAME} ASCII letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return normal
