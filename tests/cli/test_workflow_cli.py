"""A status change the workflow forbids, typed at the command line: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_cli

from mediafactory import write_png

film = test_cli.film
bad = test_cli.bad
snapshot = test_cli.snapshot

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_forbidden_moves_from_the_cli_change_nothing(cli, film: Path, tmp_path: Path) -> None:
    before = snapshot(film)
    bad(cli("shot", "set", "1A", "--status", "retake"), "shot 1A is todo: it can go to review, wip")
    bad(cli("shot", "set", "1A", "--status", "approved"), "approve one of its takes")
    bad(cli("--as", "dir", "review", "retake", "1A", "--note", "dark"), "1A is todo")
    assert snapshot(film) == before
    write_png(tmp_path / "t.png")
    assert cli("take", "import", "1A", tmp_path / "t.png").code == 0
    before = snapshot(film)
    bad(cli("take", "set", "1A/1", "--status", "failed"), "ready: it can go to circled, rejected")
    bad(cli("take", "set", "1A/1", "--status", "pending"), "not pending")
    assert cli("--as", "dir", "review", "approve", "1A", "1A/1").code == 0
    after_approval = snapshot(film)
    bad(cli("review", "submit", "1A"), "shot 1A is approved: it can go to retake, not review")
    bad(cli("shot", "set", "1A", "--status", "wip"), "approved: it can go to retake, not wip")
    assert snapshot(film) == after_approval != before
