"""The vocabulary of the set: statuses, shot sizes, blocking, roles.

Values are the words a filmmaker types and reads; the enums are ``StrEnum`` so
they are stored, printed and put in JSON as those words.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from setpiece.errors import InvalidInputError

__all__ = [
    "BibleKind",
    "Depth",
    "FrameSide",
    "IntExt",
    "Role",
    "ShotSize",
    "ShotStatus",
    "TakeKind",
    "TakeStatus",
    "parse_enum",
]


class ShotStatus(StrEnum):
    """Kitsu's task workflow names, which productions already know."""

    TODO = "todo"
    WIP = "wip"
    REVIEW = "review"
    RETAKE = "retake"
    APPROVED = "approved"


class TakeStatus(StrEnum):
    PENDING = "pending"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"
    CIRCLED = "circled"
    REJECTED = "rejected"


class TakeKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class ShotSize(StrEnum):
    ECU = "ECU"
    CU = "CU"
    MCU = "MCU"
    MS = "MS"
    MWS = "MWS"
    WS = "WS"
    EWS = "EWS"


class IntExt(StrEnum):
    INT = "INT"
    EXT = "EXT"
    INT_EXT = "INT/EXT"
    EST = "EST"


class FrameSide(StrEnum):
    LEFT = "left"
    CENTRE = "centre"
    RIGHT = "right"


class Depth(StrEnum):
    FOREGROUND = "foreground"
    MIDGROUND = "midground"
    BACKGROUND = "background"


class BibleKind(StrEnum):
    CHARACTER = "character"
    LOCATION = "location"
    PROP = "prop"
    STYLE = "style"


class Role(StrEnum):
    """Who may do what, lowest first; each role may do all that those below it may."""

    VIEWER = "viewer"
    ARTIST = "artist"
    DIRECTOR = "director"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: str, what: str) -> E:
    """Reads a user-typed value into ``enum``, case-insensitively.

    Raises:
        InvalidInputError: The value is none of the enum's words; the message lists them.
    """
    wanted = value.strip().lower()
    for member in enum:
        if member.value.lower() == wanted:
            return member
    choices = ", ".join(m.value for m in enum)
    raise InvalidInputError(f"unknown {what} {value!r}: choose one of {choices}")
