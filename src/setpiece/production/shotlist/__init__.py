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
- A cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return) is written after a ``'``, as OWASP
  advises; reading takes off exactly the quotes the export added (``_sheet``).
- Nothing is deleted: a row taken out of the file leaves its shot alone.
- Every row is read and checked before anything is written; all problems are
  reported together (``ShotListError.problems``), and one import is one
  transaction.

Each reason to change has its module: the sheet's dialect and encoding
(``_sheet``), the cell grammar (``_cells``), planning against the database
(``_plan``), applying (``_apply``), and the results and errors (``_report``).
This package composes them; its names are the API.
"""

from __future__ import annotations

import os
from pathlib import Path

from setpiece.production.context import Production
from setpiece.production.shotlist._apply import apply_plan
from setpiece.production.shotlist._cells import COLUMNS, duration_text, export_row, read_rows
from setpiece.production.shotlist._plan import Known, Plan, PlanProblems, place, plan_row
from setpiece.production.shotlist._report import (
    FieldChange,
    RowProblem,
    ShotChange,
    ShotListConflictError,
    ShotListError,
    ShotListExport,
    ShotListImport,
    ShotListInvalidError,
    shot_list_error,
)
from setpiece.production.shotlist._sheet import check_target, read_sheet, write_sheet
from setpiece.production.shots import list_shots

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
    check_target(target, force=force)
    shots = list_shots(production, scene)
    fps = production.fps
    write_sheet(target, (export_row(shot, fps) for shot in shots))
    return ShotListExport(str(target), len(shots), len({s.scene for s in shots}))


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
    records, warnings = read_sheet(source)
    fps = production.fps
    rows, problems = read_rows(records, fps)
    if not rows and problems:
        raise shot_list_error(source.name, problems)
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        known = Known.read(session, [row.code for row in rows])
        plans: list[Plan] = []
        for row in rows:
            try:
                plan = plan_row(row, known, fps, add_new)
            except PlanProblems as exc:
                problems.extend(exc.problems)
                continue
            if plan is not None:
                plans.append(plan)
        problems.extend(place(session, plans, {row.code: row.number for row in rows}, known))
        if problems:
            raise shot_list_error(source.name, problems)
        for plan in plans:
            plan.changes.sort(key=lambda c: COLUMNS.index(c.field))
        if not dry_run:
            for plan in plans:
                apply_plan(session, production, plan, source.name)
            session.flush()
        changed: list[ShotChange] = []
        created: list[ShotChange] = []
        for plan in plans:
            change = ShotChange(plan.row.code, plan.scene.number, plan.changes)
            (created if plan.shot is None else changed).append(change)
    unchanged = len(rows) - len(plans)
    return ShotListImport(source.name, changed, created, unchanged, dry_run, warnings)
