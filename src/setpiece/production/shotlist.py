"""The shot list as a CSV file: export it, edit it in a spreadsheet, import the edits back.

Productions plan coverage in spreadsheets; this module makes that a round trip
instead of a copy. What it decides:

- The file is UTF-8 with a byte-order mark (Excel reads UTF-8 only when the BOM
  is there; LibreOffice, Numbers and Python's ``utf-8-sig`` all accept it),
  comma-separated, CRLF line ends and minimal quoting (RFC 4180, what Excel
  writes). Columns, in order: ``code, scene, order, description, size, angle,
  lens_mm, move, duration, frames, characters, props, status, version``.
- Reading accepts what spreadsheets save: UTF-8 with or without a BOM, UTF-16
  with a BOM, and Windows-1252 (with a warning, as the script reader does);
  comma or semicolon delimiters (the one that splits the header into known
  column names wins); decimal commas ("4,004") in numbers; any line ends.
- ``order`` (position in the scene) orders the shots: the order of the rows does
  not, so sorting the sheet changes nothing. Two shots of a scene may not share
  an order; gaps are kept, not renumbered. A shot moved to another scene with
  its order cleared goes to the end of that scene.
- Time is exact: ``frames`` is the planned length in frames; ``duration`` is the
  length in seconds to the millisecond (more places only above 1000 fps), which
  gives the same frames back at the project's rate. Whichever of the two was
  edited since the export wins; both edited and disagreeing is a problem.
- A column left out of the file leaves that field alone. An empty cell clears
  an optional field (description, size, angle, lens, move, duration, characters,
  props) and checks or changes nothing in scene, order, status and version.
- Characters and props are written ``ANNA@left-fg; BEN@right`` (``;`` or ``,``
  between them, blocking as ``shot add`` reads it); a subject's prompt override
  is not in the file and is kept while the subject stays in the shot.
- ``status`` and ``version`` are for checking only: a status that differs is
  refused (status changes go through ``shot set`` and review), a version that
  differs means the shot changed since the export (a conflict).
- Nothing is deleted: a row taken out of the file leaves its shot alone.
- Every row is read and checked before anything is written; all problems are
  reported together (``ShotListError.problems``), and one import is one
  transaction.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.errors import ConflictError, InvalidInputError, SetpieceError
from setpiece.model.enums import BibleKind, Depth, ShotSize, ShotStatus, parse_enum
from setpiece.model.orm import BibleEntry, Scene, Shot, ShotSubject
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import SCENE_NUMBER, SHOT_CODE, touch_shot
from setpiece.production.shots import list_shots, parse_subjects
from setpiece.production.views import ShotView, SubjectView
from setpiece.timebase import seconds_to_frames

__all__ = [
    "COLUMNS",
    "FieldChange",
    "RowProblem",
    "ShotChange",
    "ShotListConflictError",
    "ShotListError",
    "ShotListExport",
    "ShotListImport",
    "ShotListInvalidError",
    "duration_text",
    "export_shot_list",
    "import_shot_list",
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
)
MAX_SECONDS = 3600
_MAX_BYTES = 100 * 1024 * 1024
_SUMMARY_CHARS = 400
_DEPTH_WORDS = {Depth.FOREGROUND: "fg", Depth.MIDGROUND: "mg", Depth.BACKGROUND: "bg"}
_PLAIN_VALUE = re.compile(r"[^\s'\"]{1,40}")


# Results and errors ---------------------------------------------------------------------


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


def _error(source: str, problems: list[RowProblem]) -> ShotListError:
    """A conflict when every problem is one (someone changed the shots), else invalid input."""
    ordered = sorted(problems, key=lambda p: p.row)
    if all(p.conflict for p in ordered):
        return ShotListConflictError(source, ordered)
    return ShotListInvalidError(source, ordered)


def _show(value: str) -> str:
    flat = " ".join(value.split())
    if len(flat) > 40:
        flat = flat[:39] + "…"
    return flat if _PLAIN_VALUE.fullmatch(flat) else repr(flat)


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


def _subject_label(name: str, side: str | None, depth: str | None) -> str:
    """ANNA@left-fg: the form ``parse_subjects`` reads."""
    blocking = "-".join(x for x in (side, _DEPTH_WORDS[Depth(depth)] if depth else None) if x)
    return f"{name}@{blocking}" if blocking else name


def _subjects_text(subjects: Iterable[SubjectView], kind: BibleKind) -> str:
    return "; ".join(
        _subject_label(s.name, s.side, s.depth) for s in subjects if s.kind == kind.value
    )


def _export_row(shot: ShotView, fps: Fraction) -> list[str]:
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
    ]


def export_shot_list(
    production: Production,
    path: str | os.PathLike[str],
    *,
    scene: str | None = None,
    force: bool = False,
) -> ShotListExport:
    """Writes the shot list, in script order, as a CSV file for a spreadsheet.

    The file appears whole or not at all (written beside it, then renamed).

    Args:
        production: The open project.
        path: The CSV file to write.
        scene: Only this scene's shots.
        force: Overwrite the file if it exists.

    Returns:
        Where it went and how many shots and scenes it holds.

    Raises:
        NotFoundError: The scene is unknown.
        ConflictError: The file exists and ``force`` is not given.
        InvalidInputError: The path is a folder, or its folder is missing or not writable.
    """
    target = Path(path)
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give a file name such as shots.csv")
    if not target.parent.is_dir():
        raise InvalidInputError(f"folder {target.parent} does not exist: create it first")
    if target.exists() and not force:
        raise ConflictError(f"{target} exists: pass --force to overwrite it")
    shots = list_shots(production, scene)
    fps = production.fps
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
            writer.writerows(_export_row(shot, fps) for shot in shots)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ShotListExport(str(target), len(shots), len({s.scene for s in shots}))


# Reading the file -----------------------------------------------------------------------


def _decode(path: Path) -> tuple[str, list[str]]:
    """The file's text and any warning about how it was decoded."""
    from setpiece.script.reading import detect_encoding

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
    try:
        encoding = detect_encoding(path)
    except InvalidInputError:
        raise InvalidInputError(
            f"{path} is not a CSV file (it holds binary data): save the sheet as 'CSV UTF-8'"
        ) from None
    text = data.decode(encoding)
    if not text.strip("\ufeff \t\r\n"):
        raise empty
    warnings = []
    if encoding in ("cp1252", "latin-1"):
        name = "Windows-1252" if encoding == "cp1252" else "Latin-1"
        warnings.append(
            f"{path.name} is not UTF-8; it was read as {name}: check accented letters, "
            "and save it as 'CSV UTF-8' to be sure"
        )
    return text.removeprefix("\ufeff"), warnings


def _column_name(text: str) -> str:
    return "_".join(text.strip().lower().split())


def _delimiter(text: str) -> str:
    """Comma or semicolon: whichever splits the header into more known column names.

    csv.Sniffer guesses from character counts and misreads one-line samples whose
    descriptions hold commas; the header's words are known, so they decide.
    """
    header = text.split("\n", 1)[0]

    def known(delimiter: str) -> int:
        cells = next(csv.reader([header], delimiter=delimiter), [])
        return sum(_column_name(c) in COLUMNS for c in cells)

    return ";" if known(";") > known(",") else ","


def _records(text: str, source: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        raise _error(
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


# Reading the cells ----------------------------------------------------------------------

Subject = tuple[BibleEntry, str | None, str | None]  # entry, side, depth


class _Bad(Exception):
    """A cell that cannot be read; the message says what to do."""


@dataclass
class _Row:
    """One row: ``raw`` has a cell for every column of the file, ``values`` the readable
    ones parsed (None for an empty cell); a column in ``raw`` but not in ``values`` is bad."""

    number: int
    code: str
    raw: dict[str, str]
    values: dict[str, Any]

    def readable(self, column: str) -> bool:
        return column not in self.raw or column in self.values


def _text(value: str) -> str:
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
        raise _Bad(f"not {what}: write a number such as {example}")
    return number


def _whole(value: str, what: str, example: str) -> int:
    wrong = _Bad(f"not {what}: write a whole number from 1 up, such as {example}")
    try:
        number = _decimal_number(value, what, example)
    except _Bad:
        raise wrong from None
    if number != number.to_integral_value() or number < 1:
        raise wrong
    return int(number)


def _parse_cell(column: str, value: str, fps: Fraction) -> Any:
    """A cell's value in the form the shot stores it, or None for an empty cell."""
    text = _text(value)
    if column == "description":
        return text
    if not text:
        return None
    if column == "scene":
        if not SCENE_NUMBER.match(text.upper()):
            raise _Bad("not a scene number: use letters, digits, '.', '-' (up to 20), e.g. 12A")
        return text.upper()
    if column in ("order", "version"):
        return _whole(text, "an order" if column == "order" else "a version", "3")
    if column == "size":
        try:
            return parse_enum(ShotSize, text, "shot size").value
        except InvalidInputError:
            raise _Bad("unknown shot size: use " + ", ".join(ShotSize)) from None
    if column in ("angle", "move"):
        if len(text) > 50:
            raise _Bad(f"{len(text)} characters long: keep it to 50")
        return text.lower()
    if column == "lens_mm":
        lens = _decimal_number(text, "a focal length", "35")
        if not 1 <= lens <= 2000:
            raise _Bad("lens out of range: give 1 to 2000 (mm)")
        return float(lens)
    if column == "duration":
        seconds = _decimal_number(text, "a duration", "4.5")
        if not 0 < seconds <= MAX_SECONDS:
            raise _Bad(f"duration out of range: give seconds above 0, up to {MAX_SECONDS}")
        return max(seconds_to_frames(Fraction(seconds), fps), 1)  # as add_shot rounds
    if column == "frames":
        frames = _whole(text, "a frame count", "96")
        if frames > MAX_SECONDS * fps:
            raise _Bad(f"too many frames: at most {int(MAX_SECONDS * fps)} ({MAX_SECONDS} s)")
        return frames
    if column in ("characters", "props"):
        try:
            return parse_subjects(text.replace(";", ","))
        except InvalidInputError as exc:
            raise _Bad(str(exc)) from None
    if column == "status":
        try:
            return parse_enum(ShotStatus, text, "shot status").value
        except InvalidInputError as exc:
            raise _Bad(str(exc)) from None
    raise AssertionError(column)  # pragma: no cover


def _header(cells: list[str]) -> tuple[list[str | None], list[RowProblem]]:
    """The column each cell of the header names (None: no name), and what is wrong with it."""
    columns: list[str | None] = []
    unknown: list[str] = []
    problems: list[RowProblem] = []
    for cell in cells:
        name = _column_name(cell)
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


def _read_rows(records: list[list[str]], fps: Fraction) -> tuple[list[_Row], list[RowProblem]]:
    """The rows of the file, each cell parsed, and every problem a row has on its own."""
    columns, problems = _header(records[0])
    if "code" not in columns:
        return [], problems
    rows: list[_Row] = []
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
            if columns[index] is None and cell.strip() and not _column_name(records[0][index]):
                problems.append(
                    RowProblem(
                        number,
                        f"column {index + 1}",
                        cell,
                        "this column has no name in the header: name it or empty it",
                    )
                )
        code = _text(raw["code"]).upper()
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
        row = _Row(number, code, raw, {})
        for column, cell in raw.items():
            if column == "code":
                continue
            try:
                row.values[column] = _parse_cell(column, cell, fps)
            except _Bad as exc:
                problems.append(RowProblem(number, column, cell, str(exc)))
        rows.append(row)
    return rows, problems


# Checking against the production --------------------------------------------------------


@dataclass
class _Plan:
    """What one row does to its shot (``shot`` is None for a shot to create)."""

    row: _Row
    shot: Shot | None
    scene: Scene
    position: int | None  # None until placed: the end of the scene
    attributes: dict[str, Any] = field(default_factory=dict)  # Shot attribute -> new value
    subjects: dict[str, list[Subject]] = field(default_factory=dict)  # column -> new subjects
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class _Known:
    """What the rows are checked against, read once."""

    shots: dict[str, Shot]
    scenes: dict[str, Scene]
    scenes_by_id: dict[int, Scene]
    bible: dict[tuple[str, str], BibleEntry]

    @classmethod
    def read(cls, session: Session, codes: list[str]) -> _Known:
        shots: dict[str, Shot] = {}
        for start in range(0, len(codes), 500):  # SQLite caps the parameters of one query
            query = (
                select(Shot)
                .where(Shot.code.in_(codes[start : start + 500]))
                .options(selectinload(Shot.subjects).selectinload(ShotSubject.entry))
            )
            shots.update((shot.code, shot) for shot in session.scalars(query))
        scenes = {scene.number: scene for scene in session.scalars(select(Scene))}
        kinds = [BibleKind.CHARACTER.value, BibleKind.PROP.value]
        entries = session.scalars(select(BibleEntry).where(BibleEntry.kind.in_(kinds)))
        return cls(
            shots,
            scenes,
            {scene.id: scene for scene in scenes.values()},
            {(entry.kind, entry.name.upper()): entry for entry in entries},
        )


def _subject_text(subjects: Sequence[Subject]) -> str:
    return "; ".join(_subject_label(entry.name, side, depth) for entry, side, depth in subjects)


def _current_subjects(shot: Shot, kind: BibleKind) -> list[Subject]:
    return [(s.entry, s.side, s.depth) for s in shot.subjects if s.entry.kind == kind.value]


def _planned_frames(row: _Row, current: int | None, fps: Fraction) -> tuple[bool, int | None]:
    """Whether the row sets the planned length, and to how many frames.

    Raises:
        _Bad: frames and duration disagree and both changed since the export.
    """
    if not ({"frames", "duration"} & row.raw.keys()) or not (
        row.readable("frames") and row.readable("duration")
    ):
        return False, None
    frames: int | None = row.values.get("frames")
    from_duration: int | None = row.values.get("duration")
    if frames is None or from_duration is None or frames == from_duration:
        return True, frames if frames is not None else from_duration
    if frames == current:
        return True, from_duration  # the duration was edited
    if from_duration == current:
        return True, frames  # the frames were edited
    raise _Bad(
        f"disagrees with frames {frames} ({duration_text(frames, fps)} s at "
        f"{fps.numerator}/{fps.denominator} fps): correct one of them, or clear one"
    )


def _resolve_subjects(row: _Row, column: str, known: _Known) -> list[Subject]:
    kind = BibleKind.CHARACTER if column == "characters" else BibleKind.PROP
    other = BibleKind.PROP if kind == BibleKind.CHARACTER else BibleKind.CHARACTER
    resolved: list[Subject] = []
    for spec in row.values[column] or []:
        entry = known.bible.get((kind.value, spec.name.upper()))
        if entry is None and (other.value, spec.name.upper()) in known.bible:
            raise _Bad(
                f"{spec.name} is a {other.value}: move it to the "
                f"{'props' if other == BibleKind.PROP else 'characters'} column"
            )
        if entry is None:
            raise _Bad(
                f"no {kind.value} {spec.name} in the bible: correct the name, or add it with "
                f"'setpiece {kind.value} add {spec.name}'"
            )
        if any(e.id == entry.id for e, _, _ in resolved):
            raise _Bad(f"{entry.name} is named twice: name each once")
        side = spec.side.value if spec.side else None
        resolved.append((entry, side, spec.depth.value if spec.depth else None))
    return resolved


def _plan_row(row: _Row, known: _Known, fps: Fraction, add_new: bool) -> _Plan | None:
    """The plan for one row (None when it changes nothing).

    Raises:
        _Problems: What is wrong with the row.
    """
    problems: list[RowProblem] = []

    def bad(column: str | None, message: str, conflict: bool = False) -> None:
        value = row.raw.get(column, "") if column else ""
        problems.append(RowProblem(row.number, column, value, message, conflict))

    shot = known.shots.get(row.code)
    if shot is None and not add_new:
        bad("code", "no such shot: correct the code, or pass --add-new to create it")
        raise _Problems(problems)

    scene: Scene | None = None
    if row.values.get("scene") is not None:
        scene = known.scenes.get(row.values["scene"])
        if scene is None:
            bad("scene", "no such scene: 'setpiece scene list' shows the scenes")
    elif shot is not None:
        scene = known.scenes_by_id[shot.scene_id]
    elif row.readable("scene"):
        bad("code", "a new shot needs a scene: give its scene number in the scene column")

    version, status = row.values.get("version"), row.values.get("status")
    if shot is not None:
        if version is not None and version != shot.version:
            bad(
                "version",
                f"shot {shot.code} changed since the export (it is at version {shot.version}, "
                f"by {shot.updated_by or 'unknown'} at {shot.updated_at:%Y-%m-%d %H:%M} UTC): "
                "export again and redo this row",
                conflict=True,
            )
        elif status is not None and status != shot.status:  # a newer version explains it
            bad(
                "status",
                f"shot {shot.code} is {shot.status}, and the shot list does not change "
                f"statuses: use 'setpiece shot set {shot.code} --status {status}' or review, "
                f"and put back {shot.status} here",
            )
    else:
        if version is not None:
            bad("version", f"shot {row.code} is new and has no version yet: clear the cell")
        if status not in (None, ShotStatus.TODO.value):
            bad("status", "a new shot starts as todo: write todo or clear the cell")

    subjects: dict[str, list[Subject]] = {}
    for column in ("characters", "props"):
        if column in row.values:
            try:
                subjects[column] = _resolve_subjects(row, column, known)
            except _Bad as exc:
                bad(column, str(exc))
    try:
        sets_frames, frames = _planned_frames(row, shot.planned_frames if shot else None, fps)
    except _Bad as exc:
        bad("duration", str(exc))
    if problems or scene is None:  # no scene and no problem here: its cell was unreadable
        raise _Problems(problems)

    order = row.values.get("order")
    stays = shot is not None and shot.scene_id == scene.id
    position = order if order is not None else shot.position if shot and stays else None
    plan = _Plan(row, shot, scene, position)
    if not stays:
        before = known.scenes_by_id[shot.scene_id].number if shot is not None else None
        plan.changes.append(FieldChange("scene", before, scene.number))
    for column, attribute in _SIMPLE:
        if column in row.values:
            old = getattr(shot, attribute) if shot is not None else None
            new = row.values[column]
            if column == "description":
                old = _text(old or "")
            if new != old and (shot is not None or new):
                plan.attributes[attribute] = new
                plan.changes.append(FieldChange(column, old, new))
    if sets_frames and frames != (shot.planned_frames if shot else None):
        plan.attributes["planned_frames"] = frames
        plan.changes.append(FieldChange("frames", shot.planned_frames if shot else None, frames))
    for column, new_subjects in subjects.items():
        kind = BibleKind.CHARACTER if column == "characters" else BibleKind.PROP
        old_subjects = _current_subjects(shot, kind) if shot is not None else []
        if [(e.id, s, d) for e, s, d in new_subjects] != [(e.id, s, d) for e, s, d in old_subjects]:
            plan.subjects[column] = new_subjects
            before_text = _subject_text(old_subjects) if shot is not None else None
            plan.changes.append(FieldChange(column, before_text, _subject_text(new_subjects)))
    if shot is not None and not plan.changes and position == shot.position:
        return None
    return plan


_SIMPLE = (
    ("description", "description"),
    ("size", "size"),
    ("angle", "angle"),
    ("lens_mm", "lens_mm"),
    ("move", "camera_move"),
)


class _Problems(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems


def _place(
    session: Session, plans: list[_Plan], rows: dict[str, int], known: _Known
) -> list[RowProblem]:
    """Gives every planned shot its final position, and refuses two shots at one place.

    Shots the file leaves alone keep theirs; a shot moved to a scene without an order
    goes to the end of it, after the shots placed there by the file.
    """
    current: dict[str, tuple[int, int]] = {
        code: (scene_id, position)
        for code, scene_id, position in session.execute(
            select(Shot.code, Shot.scene_id, Shot.position)
        )
    }
    final = dict(current)
    for plan in plans:
        final.pop(plan.row.code, None)
        if plan.position is not None:
            final[plan.row.code] = (plan.scene.id, plan.position)
    last: dict[int, int] = {}
    for scene_id, position in final.values():
        last[scene_id] = max(last.get(scene_id, 0), position)
    for plan in plans:
        if plan.position is None:
            plan.position = last[plan.scene.id] = last.get(plan.scene.id, 0) + 1
            final[plan.row.code] = (plan.scene.id, plan.position)
    holders: dict[tuple[int, int], list[str]] = {}
    for code, place in final.items():
        holders.setdefault(place, []).append(code)
    problems: list[RowProblem] = []
    for plan in plans:
        code, place = plan.row.code, final[plan.row.code]
        old = current.get(code)
        if place == old:
            continue
        if old is None or old[1] != place[1]:
            plan.changes.append(FieldChange("order", old[1] if old else None, place[1]))
        for other in holders[place]:
            if other != code:
                where = f"row {rows[other]}" if other in rows else "not in this file"
                problems.append(
                    RowProblem(
                        plan.row.number,
                        "order",
                        plan.row.raw.get("order", ""),
                        f"shot {other} ({where}) has order {place[1]} in scene "
                        f"{known.scenes_by_id[place[0]].number} too: give each shot in a "
                        "scene its own order"
                        + (
                            " (clear the order of a shot moved to another scene to put it "
                            "at the end)"
                            if plan.shot is not None and plan.shot.scene_id != place[0]
                            else ""
                        ),
                    )
                )
                break
    return problems


# Applying -------------------------------------------------------------------------------


def _apply(session: Session, production: Production, plan: _Plan, source: str) -> None:
    assert plan.position is not None
    shot = plan.shot
    if shot is None:
        shot = Shot(
            code=plan.row.code,
            scene=plan.scene,
            position=plan.position,
            description="",
            status=ShotStatus.TODO.value,
            updated_by=production.actor,
        )
        session.add(shot)
    else:
        if shot.scene_id != plan.scene.id:
            shot.scene = plan.scene
        shot.position = plan.position
        touch_shot(shot, production)
    for attribute, value in plan.attributes.items():
        setattr(shot, attribute, value)
    if plan.subjects:
        _set_subjects(shot, plan.subjects)
    after = {c.field: c.after for c in plan.changes}
    if plan.shot is None:
        data = {"fields": list(after), "after": after}
        action, status = "create", shot.status
    else:
        data = {"fields": list(after), "before": {c.field: c.before for c in plan.changes}}
        data["after"] = after
        action, status = "edit", None
    record_event(
        session,
        production,
        "shot",
        shot.code,
        action,
        after=status,
        note=f"shot list {source}",
        data=data,
    )


def _set_subjects(shot: Shot, wanted: dict[str, list[Subject]]) -> None:
    """Sets the blocking in place: an entry that stays keeps its row and prompt override."""
    ordered = [
        *wanted.get("characters", _current_subjects(shot, BibleKind.CHARACTER)),
        *wanted.get("props", _current_subjects(shot, BibleKind.PROP)),
    ]
    existing = {s.entry_id: s for s in shot.subjects if s.entry_id is not None}
    keep = {entry.id for entry, _, _ in ordered}
    for subject in list(shot.subjects):
        if subject.entry_id not in keep:
            shot.subjects.remove(subject)
    for index, (entry, side, depth) in enumerate(ordered):
        row = existing.get(entry.id)
        if row is None:
            shot.subjects.append(ShotSubject(entry=entry, position=index, side=side, depth=depth))
        else:
            row.position, row.side, row.depth = index, side, depth


def import_shot_list(
    production: Production,
    path: str | os.PathLike[str],
    *,
    add_new: bool = False,
    dry_run: bool = False,
) -> ShotListImport:
    """Applies a shot-list CSV (as ``export_shot_list`` writes it, edited) to the shots.

    Every row is checked before anything is written; one import is one
    transaction, and each changed shot gets an "edit" event naming its fields.

    Args:
        production: The open project.
        path: The CSV file.
        add_new: Create the shots whose codes are unknown (they need a scene).
        dry_run: Check and report, write nothing.

    Returns:
        The shots changed (field by field), those created, and how many were unchanged.

    Raises:
        InvalidInputError: The file is missing, empty, binary or a workbook.
        ShotListInvalidError: Rows with problems, every one listed; nothing is written.
        ShotListConflictError: The only problems are shots changed since the export.
        PermissionDeniedError: The acting user may not edit the breakdown.
    """
    source = Path(path)
    text, warnings = _decode(source)
    fps = production.fps
    rows, problems = _read_rows(_records(text, source.name), fps)
    if not rows and problems:
        raise _error(source.name, problems)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        known = _Known.read(session, [row.code for row in rows])
        plans: list[_Plan] = []
        for row in rows:
            try:
                plan = _plan_row(row, known, fps, add_new)
            except _Problems as exc:
                problems.extend(exc.problems)
                continue
            if plan is not None:
                plans.append(plan)
        problems.extend(_place(session, plans, {row.code: row.number for row in rows}, known))
        if problems:
            raise _error(source.name, problems)
        for plan in plans:
            plan.changes.sort(key=lambda c: COLUMNS.index(c.field))
        if not dry_run:
            for plan in plans:
                _apply(session, production, plan, source.name)
            session.flush()
        changed: list[ShotChange] = []
        created: list[ShotChange] = []
        for plan in plans:
            change = ShotChange(plan.row.code, plan.scene.number, plan.changes)
            (created if plan.shot is None else changed).append(change)
    unchanged = len(rows) - len(plans)
    return ShotListImport(source.name, changed, created, unchanged, dry_run, warnings)
