"""The vocabulary of the set: statuses, render job states, shot sizes, blocking, roles.

Values are the words a filmmaker types and reads; the enums are ``StrEnum`` so
they are stored, printed and put in JSON as those words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from setpiece.errors import InvalidInputError

__all__ = [
    "ORIGIN_KEY",
    "BibleKind",
    "Depth",
    "FrameSide",
    "IntExt",
    "JobState",
    "Origin",
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


class JobState(StrEnum):
    """Where a render job is in the queue (``model/workflow.py`` says how it moves)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


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


ORIGIN_KEY = "origin"  # where a take's recipe parameters hold its Origin


class Origin(StrEnum):
    """What made a take's picture: what its C2PA manifest and the AI-use disclosure say.

    Each generator declares it (``Generator.origin``); it is recorded on the take's recipe,
    ``parameters["origin"]``, when the take is rendered or imported, and a derived take
    (retimed, matched, deflickered) keeps its source's. Takes recorded before the field
    existed are read by :meth:`of_chain`: from the generator's name.
    """

    TRAINED = (
        "trained"  # a trained model (diffusion, hosted video models): IPTC trainedAlgorithmicMedia
    )
    ALGORITHM = "algorithm"  # drawn by a procedure, no model (previs): IPTC algorithmicMedia
    CAPTURED = "captured"  # a camera: IPTC digitalCapture

    @classmethod
    def recorded(cls, parameters: Mapping[str, Any] | None) -> Origin | None:
        """The origin a recipe's parameters record, or None (an old or generator-less take)."""
        value = (parameters or {}).get(ORIGIN_KEY)
        try:
            return cls(value) if isinstance(value, str) else None
        except ValueError:
            return None

    @classmethod
    def inferred(cls, backend: str | None) -> Origin | None:
        """For takes recorded before origins were: previs drew, any other named generator was
        a trained model (never under-reporting AI), and no generator named says nothing."""
        if not backend:
            return None
        return cls.ALGORITHM if backend == "previs" else cls.TRAINED

    @classmethod
    def of_chain(
        cls, chain: Iterable[tuple[str | None, Mapping[str, Any] | None]]
    ) -> Origin | None:
        """The origin of a take from its chain, ``(backend, parameters)`` of the take, then its
        parent, and so on to the first take: the nearest recorded origin, else the one inferred
        from the nearest generator's name, else None (imported with no generator)."""
        backend = None
        for link_backend, parameters in chain:
            found = cls.recorded(parameters)
            if found is not None:
                return found
            backend = backend or link_backend
        return cls.inferred(backend)


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
