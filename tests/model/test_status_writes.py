"""No status is written outside ``production/moves.py``: the workflow tables have one door."""

from __future__ import annotations

import ast
from pathlib import Path

import setpiece

SRC = Path(setpiece.__file__).parent
DOOR = SRC / "production" / "moves.py"
FIELDS = {"status", "state"}


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        found = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        found = [node.target]
    else:
        return []
    flat: list[ast.expr] = []
    while found:
        target = found.pop()
        if isinstance(target, ast.Tuple | ast.List):
            found.extend(target.elts)
        else:
            flat.append(target)
    return flat


def status_writes(tree: ast.AST) -> list[int]:
    """Lines that assign ``x.status``/``x.state``, ``setattr`` them, or bulk-update them."""
    lines = []
    for node in ast.walk(tree):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr in FIELDS:
                lines.append(target.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Name)
                and func.id == "setattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in FIELDS
            ):
                lines.append(node.lineno)
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "values"
                and any(k.arg in FIELDS for k in node.keywords)
            ):
                lines.append(node.lineno)
    return lines


def test_the_scan_finds_every_kind_of_write() -> None:
    sample = ast.parse(
        "take.status = 'ready'\n"
        "job.state, job.owner = 'queued', None\n"
        "setattr(shot, 'status', 'wip')\n"
        "session.execute(update(Take).values(status='failed'))\n"
        "shot.status_note = 'fine'\n"
        "x = take.status\n"
    )
    assert sorted(status_writes(sample)) == [1, 2, 3, 4]


def test_no_status_is_written_outside_the_moves() -> None:
    found = [
        f"{path.relative_to(SRC)}:{line}"
        for path in sorted(SRC.rglob("*.py"))
        if path != DOOR
        for line in status_writes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []
    assert status_writes(ast.parse(DOOR.read_text(encoding="utf-8")))  # the door itself writes
