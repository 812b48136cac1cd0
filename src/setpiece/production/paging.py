"""Pages of long lists: the page, its size limit, and the cursors that chain pages.

Why a module of its own: every list the edges show a page at a time (shots, the
change feed, render jobs, the API's short lists) pages the same way, and the
rules of a page must not differ between them.

Pagination is keyset, not offset: a cursor names the last row of the page (its
sort key, base64url-encoded JSON), so a page stays cheap however deep it is, and
a row added meanwhile never shifts or repeats rows. Cursors are opaque to
clients; one this module did not make is refused as bad input, and so is a page
size outside 1 to ``MAX_PAGE``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from setpiece.errors import InvalidInputError

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "Page",
    "decode_cursor",
    "encode_cursor",
    "page_limit",
    "page_of",
]

DEFAULT_PAGE = 100
MAX_PAGE = 1000

T = TypeVar("T")


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


def encode_cursor(key: Sequence[Any]) -> str:
    """The opaque cursor naming the sort key ``key`` (the last row of a page).

    Args:
        key: The row's sort key, JSON-ready parts (ints and strings).

    Returns:
        The key as unpadded base64url JSON.
    """
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: Sequence[type]) -> list[Any] | None:
    """The sort key a cursor names, checked against ``shape`` (the types of its parts).

    Args:
        cursor: A cursor ``encode_cursor`` made, or None or "" for the first page.
        shape: The type of each part of the key.

    Returns:
        The key's parts, or None for the first page.

    Raises:
        InvalidInputError: The cursor was not made by this service.
    """
    if cursor is None or cursor == "":
        return None
    bad = InvalidInputError("cursor is not one this server gave: start again without it")
    if len(cursor) > 500:
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not isinstance(key, list) or len(key) != len(shape):
        raise bad
    for part, kind in zip(key, shape, strict=True):
        if not isinstance(part, kind) or isinstance(part, bool):
            raise bad
    return key


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
    items: Sequence[T], key: Callable[[T], Any], cursor: str | None, limit: int | None, kind: type
) -> Page[T]:
    """A page of a short list already in memory, ordered by ``key`` (one int or str part).

    Raises:
        InvalidInputError: A bad cursor or limit.
    """
    size = page_limit(limit)
    after = decode_cursor(cursor, [kind])
    rest = [i for i in items if after is None or key(i) > after[0]]
    chosen = rest[:size]
    more = len(rest) > size
    return Page(chosen, encode_cursor([key(chosen[-1])]) if more and chosen else None)
