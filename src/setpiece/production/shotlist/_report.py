"""What an export or import of the shot list tells its caller: results, problems, errors.

Every part of the import reports a problem the same way (a ``RowProblem``, counted
as a spreadsheet counts rows), and all of them end in one error whose message
summarises them on one line: a conflict when every problem is a shot changed
since the export, invalid input otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from setpiece.errors import ConflictError, InvalidInputError, SetpieceError

__all__ = [
    "FieldChange",
    "RowProblem",
    "ShotChange",
    "ShotListConflictError",
    "ShotListError",
    "ShotListExport",
    "ShotListImport",
    "ShotListInvalidError",
    "shot_list_error",
]

_SUMMARY_CHARS = 400
_PLAIN_VALUE = re.compile(r"[^\s'\"]{1,40}")


@dataclass(frozen=True)
class ShotListExport:
    """What ``export_shot_list`` wrote."""

    path: str
    shots: int
    scenes: int


@dataclass(frozen=True)
class FieldChange:
    """One field of one shot: ``field`` is a CSV column name (``frames`` for the duration)."""

    field: str
    before: str | int | float | None
    after: str | int | float | None


@dataclass(frozen=True)
class ShotChange:
    code: str
    scene: str
    changes: list[FieldChange]

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.changes]


@dataclass(frozen=True)
class ShotListImport:
    """What ``import_shot_list`` changed (or would change, with ``dry_run``)."""

    source: str
    changed: list[ShotChange]
    created: list[ShotChange]
    unchanged: int
    dry_run: bool
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in the file. ``row`` counts as a spreadsheet does: the header is row 1."""

    row: int
    column: str | None
    value: str
    message: str
    conflict: bool = False

    def __str__(self) -> str:
        where = f"row {self.row}"
        if self.column:
            where += f" {self.column}"
        if self.value:
            where += f" {_show(self.value)}"
        return f"{where}: {self.message}"


class ShotListError(SetpieceError):
    """A shot-list file with problems. The message summarises them on one line;
    ``details`` (and ``problems``, as text) hold every one."""

    def __init__(self, source: str, details: Sequence[RowProblem]) -> None:
        self.source = source
        self.details = list(details)
        super().__init__(_summary(source, [str(p) for p in self.details]))

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.details]


class ShotListInvalidError(ShotListError, InvalidInputError):
    """At least one row cannot be applied as it is."""


class ShotListConflictError(ShotListError, ConflictError):
    """Every problem is a shot changed since the file was exported."""


def _summary(source: str, problems: list[str]) -> str:
    count = len(problems)
    head = f"{count} problem{'s' if count != 1 else ''} in {source}: "
    shown: list[str] = []
    length = len(head)
    for text in problems:
        if shown and length + len(text) > _SUMMARY_CHARS:
            break
        shown.append(text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…")
        length += len(shown[-1]) + 2
    rest = count - len(shown)
    return head + "; ".join(shown) + (f" (and {rest} more)" if rest else "")


def shot_list_error(source: str, problems: list[RowProblem]) -> ShotListError:
    """A conflict when every problem is one (someone changed the shots), else invalid input.

    Args:
        source: The file's name, as the message shows it.
        problems: Every problem found, in any order.

    Returns:
        The error to raise, its problems in row order.
    """
    ordered = sorted(problems, key=lambda p: p.row)
    if all(p.conflict for p in ordered):
        return ShotListConflictError(source, ordered)
    return ShotListInvalidError(source, ordered)


def _show(value: str) -> str:
    flat = " ".join(value.split())
    if len(flat) > 40:
        flat = flat[:39] + "…"
    return flat if _PLAIN_VALUE.fullmatch(flat) else repr(flat)
