"""Pages of long lists: the page, its size limit, and the cursors that chain pages.

Why a module of its own: every list the edges show a page at a time (shots, the
change feed, render jobs, the API's short lists) pages the same way, and the
rules of a page must not differ between them.

Pagination is keyset, not offset: a cursor names the last row of the page (its
sort key, base64url-encoded JSON), so a page stays cheap however deep it is, and
a row added meanwhile never shifts or repeats rows. Cursors are opaque to
clients, and are data like any other input: every part of the key is checked
against the shape the list expects (its type, and for a number its range), so a
forged number never reaches a query. The range is what the columns hold: ids and
positions are INTEGER, 32 bits on PostgreSQL, where SQLAlchemy binds a number
``::INTEGER`` and 2^31 is a DataError (2^63 was an ``OverflowError`` in SQLite).
So an id is 0 to 2^31 - 1 (``ID``), a position a signed 32-bit number
(``INT32``). A page size outside 1 to ``MAX_PAGE`` is refused too.

Cursors a server hands out are also signed (``CursorSigner``): an HMAC-SHA256 tag
under a key derived from the shot board's secret (the one that signs its session
cookies, under a label of its own so that neither signature stands for the
other), over the cursor and the path of the list that gave it. A cursor that was
forged, truncated, made by another server or given by another list is refused
with one message (``CursorError``, HTTP 400) before any service reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from setpiece.errors import InvalidInputError

__all__ = [
    "DEFAULT_PAGE",
    "ID",
    "INT32",
    "INT64",
    "MAX_CURSOR",
    "MAX_ID",
    "MAX_PAGE",
    "CursorError",
    "CursorSigner",
    "Page",
    "Part",
    "check_id",
    "decode_cursor",
    "encode_cursor",
    "page_limit",
    "page_of",
]

DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_CURSOR = 500  # characters of a cursor, signed: a key of a few ints or a name and its tag
MAX_ID = 2**31 - 1  # the largest id: ids are INTEGER columns, 32 bits on PostgreSQL
ID = range(0, MAX_ID + 1)
INT32 = range(-(2**31), 2**31)
INT64 = range(-(2**63), 2**63)

# What one part of a cursor's key may be: a string, or an int in a range (``int`` is INT64).
Part = type | range

T = TypeVar("T")

_TAG_BYTES = 16  # 128 bits of HMAC-SHA256: forging one is out of reach
_SIGNED = re.compile(rf"(?P<cursor>[A-Za-z0-9_-]{{1,{MAX_CURSOR}}})\.(?P<tag>[A-Za-z0-9_-]{{22}})")
_REFUSAL = "cursor is not one this server gave: start again without it"


class CursorError(InvalidInputError):
    """A cursor that was forged, truncated, out of range, or given by another server or list."""

    http_status = 400
    code = "invalid_cursor"

    def __init__(self, message: str = _REFUSAL) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last page).

    Its JSON is its fields (``jsonable``): the items in their own shape, then the cursor.
    """

    items: list[T]
    next_cursor: str | None

    @property
    def native_json(self) -> bool:
        """Whether orjson can write the page itself: every item is such a view."""
        return all(getattr(i, "native_json", False) for i in self.items)


def check_id(value: int, what: str) -> int:
    """``value`` when it can be an id (0 to ``MAX_ID``).

    Raises:
        InvalidInputError: It cannot, naming ``what`` it was.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value not in ID:
        raise InvalidInputError(f"{what} {str(value)[:30]} is out of range: give 0 to {MAX_ID}")
    return value


def encode_cursor(key: Sequence[Any]) -> str:
    """The opaque cursor naming the sort key ``key`` (the last row of a page).

    Args:
        key: The row's sort key, JSON-ready parts (ints and strings).

    Returns:
        The key as unpadded base64url JSON.
    """
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fits(part: Any, kind: Part) -> bool:
    if isinstance(part, bool):
        return False
    if isinstance(kind, range):
        return isinstance(part, int) and part in kind
    if kind is int:
        return isinstance(part, int) and part in INT64
    return isinstance(part, kind)


def decode_cursor(cursor: str | None, shape: Sequence[Part]) -> list[Any] | None:
    """The sort key a cursor names, checked against ``shape``.

    Args:
        cursor: A cursor ``encode_cursor`` made, or None or "" for the first page.
        shape: Each part of the key: a type (``int`` is a 64-bit signed number, for keys
            compared in memory only), or the range of ints it must lie in (``ID`` for an
            id, ``INT32`` for a position a query compares).

    Returns:
        The key's parts, or None for the first page.

    Raises:
        CursorError: The cursor was not made by this service, or a part is out of range.
    """
    if cursor is None or cursor == "":
        return None
    if len(cursor) > MAX_CURSOR:
        raise CursorError()
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise CursorError() from None
    if not isinstance(key, list) or len(key) != len(shape):
        raise CursorError()
    if not all(_fits(part, kind) for part, kind in zip(key, shape, strict=True)):
        raise CursorError()
    return key


class CursorSigner:
    """Signs the cursors a server gives, and opens those it is given back.

    A signed cursor is ``CURSOR.TAG``: the tag is the first 128 bits of HMAC-SHA256, under
    a key derived from the server's secret, over the list's path and the cursor, so a cursor
    only works on the list that gave it.
    """

    def __init__(self, secret: bytes) -> None:
        """Derives the cursors' own key from the server's secret.

        Args:
            secret: The server's secret (the shot board's ``web-secret``).
        """
        self._key = hmac.new(secret, b"setpiece page cursor v1", hashlib.sha256).digest()

    def _tag(self, scope: str, cursor: str) -> str:
        message = scope.encode("utf-8", "surrogatepass") + b"\n" + cursor.encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_TAG_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, cursor: str | None, scope: str) -> str | None:
        """``cursor`` signed for the list at ``scope`` (None stays None: the last page)."""
        if cursor is None:
            return None
        return f"{cursor}.{self._tag(scope, cursor)}"

    def sign_page(self, page: Page[T], scope: str) -> Page[T]:
        """``page`` with its next cursor signed for the list at ``scope``."""
        if page.next_cursor is None:
            return page
        return replace(page, next_cursor=self.sign(page.next_cursor, scope))

    def open(self, signed: str | None, scope: str) -> str | None:
        """The cursor inside ``signed``, once its tag is checked (None or "": the first page).

        Raises:
            CursorError: The cursor is forged, truncated, too long, or was given by another
                server or another list.
        """
        if signed is None or signed == "":
            return None
        match = _SIGNED.fullmatch(signed) if len(signed) <= MAX_CURSOR else None
        if match is None:
            raise CursorError()
        cursor = match.group("cursor")
        if not hmac.compare_digest(match.group("tag"), self._tag(scope, cursor)):
            raise CursorError()
        return cursor


def page_limit(limit: int | None) -> int:
    """The size of a page asked for: ``DEFAULT_PAGE`` when not given.

    Raises:
        InvalidInputError: The limit is outside 1 to ``MAX_PAGE``.
    """
    value = DEFAULT_PAGE if limit is None else limit
    if not 1 <= value <= MAX_PAGE:
        raise InvalidInputError(f"limit {value} is out of range: give 1 to {MAX_PAGE}")
    return value


def page_of(
    items: Sequence[T], key: Callable[[T], Any], cursor: str | None, limit: int | None, kind: Part
) -> Page[T]:
    """A page of a short list already in memory, ordered by ``key`` (one part, of ``kind``).

    Raises:
        InvalidInputError: A bad cursor or limit.
    """
    size = page_limit(limit)
    after = decode_cursor(cursor, [kind])
    rest = [i for i in items if after is None or key(i) > after[0]]
    chosen = rest[:size]
    more = len(rest) > size
    return Page(chosen, encode_cursor([key(chosen[-1])]) if more and chosen else None)
