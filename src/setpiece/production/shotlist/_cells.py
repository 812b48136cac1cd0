"""The shot list's cell grammar: which columns there are, and how each cell reads and writes.

A cell is written the way a person would type it back: seconds to the
millisecond that round back to the same frames, ``ANNA@left-fg; BEN@right`` for
blocking (the form ``shot add`` reads, ``;`` or ``,`` between subjects), a lens
in millimetres without trailing zeros. Reading is as forgiving as spreadsheets
need (decimal commas, any case, empty cells at a row's end) and as strict as the
shots are: a cell that cannot be read says what to write instead, and every
problem a row has on its own is found before the production is asked anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from setpiece.errors import InvalidInputError
from setpiece.model.enums import BibleKind, Depth, ShotSize, ShotStatus, parse_enum
from setpiece.production.rows import SCENE_NUMBER, SHOT_CODE
from setpiece.production.shotlist._report import RowProblem
from setpiece.production.shots import parse_subjects
from setpiece.production.views import ShotView, SubjectView
from setpiece.timebase import seconds_to_frames

__all__ = [
    "COLUMNS",
    "MAX_SECONDS",
    "MAX_WHOLE",
    "BadCell",
    "Row",
    "cell_text",
    "column_name",
    "duration_text",
    "export_row",
    "read_rows",
    "subject_label",
]

COLUMNS = (
    "code",
    "scene",
    "order",
    "description",
    "size",
    "angle",
    "lens_mm",
    "move",
    "duration",
    "frames",
    "characters",
    "props",
    "status",
    "version",
    "workflow",
)
MAX_SECONDS = 3600
MAX_WHOLE = 2**31 - 1  # what every database's INTEGER column holds
_DEPTH_WORDS = {Depth.FOREGROUND: "fg", Depth.MIDGROUND: "mg", Depth.BACKGROUND: "bg"}


def column_name(text: str) -> str:
    """A header cell as a column name: ``Lens mm`` is ``lens_mm``."""
    return "_".join(text.strip().lower().split())


# Writing --------------------------------------------------------------------------------


def duration_text(frames: int, fps: Fraction) -> str:
    """The length of ``frames`` in seconds, to the millisecond, that rounds back to ``frames``.

    96 frames at 24000/1001 are "4.004", one frame "0.042", 72 frames at 24 "3".
    Milliseconds keep a spreadsheet's sums true; above 1000 fps more places are
    written where the round trip needs them.
    """
    exact = Fraction(frames) / fps
    for places in range(3, 10):
        rounded = round(exact, places)
        if seconds_to_frames(rounded, fps) == frames:
            text = f"{Decimal(rounded.numerator) / Decimal(rounded.denominator):.{places}f}"
            return text.rstrip("0").rstrip(".")
    raise AssertionError(f"{frames} frames at {fps} fps")  # pragma: no cover


def _number_text(value: float) -> str:
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def subject_label(name: str, side: str | None, depth: str | None) -> str:
    """ANNA@left-fg: the form ``parse_subjects`` reads."""
    blocking = "-".join(x for x in (side, _DEPTH_WORDS[Depth(depth)] if depth else None) if x)
    return f"{name}@{blocking}" if blocking else name


def _subjects_text(subjects: Iterable[SubjectView], kind: BibleKind) -> str:
    return "; ".join(
        subject_label(s.name, s.side, s.depth) for s in subjects if s.kind == kind.value
    )


def export_row(shot: ShotView, fps: Fraction) -> list[str]:
    """A shot's cells, in ``COLUMNS`` order, as the sheet shows them."""
    frames = shot.planned_frames
    return [
        shot.code,
        shot.scene,
        str(shot.position),
        shot.description,
        shot.size or "",
        shot.angle or "",
        _number_text(shot.lens_mm) if shot.lens_mm is not None else "",
        shot.camera_move or "",
        duration_text(frames, fps) if frames is not None else "",
        str(frames) if frames is not None else "",
        _subjects_text(shot.subjects, BibleKind.CHARACTER),
        _subjects_text(shot.subjects, BibleKind.PROP),
        shot.status,
        str(shot.version),
        shot.workflow or "",
    ]


# Reading --------------------------------------------------------------------------------


class BadCell(Exception):
    """A cell that cannot be read; the message says what to do."""


@dataclass
class Row:
    """One row: ``raw`` has a cell for every column of the file, ``values`` the readable
    ones parsed (None for an empty cell); a column in ``raw`` but not in ``values`` is bad."""

    number: int
    code: str
    raw: dict[str, str]
    values: dict[str, Any]

    def readable(self, column: str) -> bool:
        return column not in self.raw or column in self.values


def cell_text(value: str) -> str:
    """A cell's text with any line ends as ``\\n``, stripped."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _decimal_number(value: str, what: str, example: str) -> Decimal:
    text = value.replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as European spreadsheets write it
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise BadCell(f"not {what}: write a number such as {example}")
    return number


def _whole(value: str, what: str, example: str, *, high: int = MAX_WHOLE, above: str = "") -> int:
    """A whole number from 1 to ``high``; ``above`` is the message for one over ``high``.

    The range is checked on the decimal, before it becomes an int: ``1e999999999``
    would otherwise build a number of a billion digits.
    """
    wrong = BadCell(f"not {what}: write a whole number from 1 up, such as {example}")
    try:
        number = _decimal_number(value, what, example)
    except BadCell:
        raise wrong from None
    if number < 1:
        raise wrong
    if number > high:
        raise BadCell(above or f"{what} out of range: write a whole number from 1 to {high}")
    if number != number.to_integral_value():
        raise wrong
    return int(number)


def parse_cell(column: str, value: str, fps: Fraction) -> Any:
    """A cell's value in the form the shot stores it, or None for an empty cell."""
    text = cell_text(value)
    if column == "description":
        return text
    if not text:
        return None
    if column == "scene":
        if not SCENE_NUMBER.match(text.upper()):
            raise BadCell("not a scene number: use letters, digits, '.', '-' (up to 20), e.g. 12A")
        return text.upper()
    if column in ("order", "version"):
        return _whole(text, "an order" if column == "order" else "a version", "3")
    if column == "size":
        try:
            return parse_enum(ShotSize, text, "shot size").value
        except InvalidInputError:
            raise BadCell("unknown shot size: use " + ", ".join(ShotSize)) from None
    if column in ("angle", "move"):
        if len(text) > 50:
            raise BadCell(f"{len(text)} characters long: keep it to 50")
        return text.lower()
    if column == "lens_mm":
        lens = _decimal_number(text, "a focal length", "35")
        if not 1 <= lens <= 2000:
            raise BadCell("lens out of range: give 1 to 2000 (mm)")
        return float(lens)
    if column == "duration":
        seconds = _decimal_number(text, "a duration", "4.5")
        if not 0 < seconds <= MAX_SECONDS:
            raise BadCell(f"duration out of range: give seconds above 0, up to {MAX_SECONDS}")
        return max(seconds_to_frames(Fraction(seconds), fps), 1)  # as add_shot rounds
    if column == "frames":
        most = int(MAX_SECONDS * fps)
        return _whole(
            text,
            "a frame count",
            "96",
            high=most,
            above=f"too many frames: at most {most} ({MAX_SECONDS} s)",
        )
    if column in ("characters", "props"):
        try:
            return parse_subjects(text.replace(";", ","))
        except InvalidInputError as exc:
            raise BadCell(str(exc)) from None
    if column == "workflow":
        if len(text) > 1000:
            raise BadCell(f"{len(text)} characters long: give the workflow file's path")
        return text
    if column == "status":
        try:
            return parse_enum(ShotStatus, text, "shot status").value
        except InvalidInputError as exc:
            raise BadCell(str(exc)) from None
    raise AssertionError(column)  # pragma: no cover


def _header(cells: list[str]) -> tuple[list[str | None], list[RowProblem]]:
    """The column each cell of the header names (None: no name), and what is wrong with it."""
    columns: list[str | None] = []
    unknown: list[str] = []
    problems: list[RowProblem] = []
    for cell in cells:
        name = column_name(cell)
        if name in COLUMNS and name in columns:
            problems.append(RowProblem(1, "column", name, "named twice: keep one of them"))
            name = ""
        elif name and name not in COLUMNS:
            unknown.append(repr(cell.strip()))
            name = ""
        columns.append(name or None)
    allowed = ", ".join(COLUMNS)
    if not any(columns):
        problems.append(
            RowProblem(
                1,
                None,
                "",
                f"not a shot list: the first row must name the columns ({allowed}); "
                "start from a file 'setpiece shot export' wrote",
            )
        )
    elif unknown:
        problems.append(
            RowProblem(
                1,
                None,
                "",
                f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
                f"remove or rename {'them' if len(unknown) > 1 else 'it'}; the columns are "
                f"{allowed}",
            )
        )
    if any(columns) and "code" not in columns:
        problems.append(RowProblem(1, None, "", "no 'code' column: every row needs its shot code"))
    return columns, problems


def read_rows(records: list[list[str]], fps: Fraction) -> tuple[list[Row], list[RowProblem]]:
    """The rows of the file, each cell parsed, and every problem a row has on its own."""
    columns, problems = _header(records[0])
    if "code" not in columns:
        return [], problems
    rows: list[Row] = []
    first_row: dict[str, int] = {}
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # spreadsheets keep blank rows; they mean nothing
        extra = [c for c in cells[len(columns) :] if c.strip()]
        if extra:
            problems.append(
                RowProblem(
                    number,
                    None,
                    "",
                    f"{len(cells)} cells, but the header names {len(columns)} columns: "
                    "remove the extra cells or name their column",
                )
            )
            continue
        # Excel leaves out empty cells at the end of some rows: they are empty, not missing.
        cells = cells + [""] * (len(columns) - len(cells))
        raw = {column: cell for column, cell in zip(columns, cells, strict=False) if column}
        for index, cell in enumerate(cells[: len(columns)]):
            if columns[index] is None and cell.strip() and not column_name(records[0][index]):
                problems.append(
                    RowProblem(
                        number,
                        f"column {index + 1}",
                        cell,
                        "this column has no name in the header: name it or empty it",
                    )
                )
        code = cell_text(raw["code"]).upper()
        if not SHOT_CODE.match(code):
            problems.append(
                RowProblem(
                    number,
                    "code",
                    raw["code"],
                    "empty: give the shot code"
                    if not code
                    else "not a shot code: use letters, digits, '.', '_', '-' (up to 20), e.g. 12A",
                )
            )
            continue
        if code in first_row:
            problems.append(
                RowProblem(
                    number, "code", code, f"also on row {first_row[code]}: keep one row per shot"
                )
            )
            continue
        first_row[code] = number
        row = Row(number, code, raw, {})
        for column, cell in raw.items():
            if column == "code":
                continue
            try:
                row.values[column] = parse_cell(column, cell, fps)
            except BadCell as exc:
                problems.append(RowProblem(number, column, cell, str(exc)))
        rows.append(row)
    return rows, problems
