"""`setpiece review` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_cli

from mediafactory import write_png

film = test_cli.film
bad = test_cli.bad
snapshot = test_cli.snapshot

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_review_flow_and_history(cli, film: Path, tmp_path: Path) -> None:
    for index in (1, 2):
        write_png(tmp_path / f"t{index}.png", seed=index)
    assert cli("take", "import", "1A", tmp_path / "t1.png", tmp_path / "t2.png").code == 0
    assert cli("review", "submit", "1A").code == 0
    assert cli("--as", "dir", "review", "approve", "1A", "1A/2", "--note", "the good one").code == 0
    assert cli("shot", "show", "1A", "--json").json()["status"] == "approved"
    assert cli("--as", "dir", "review", "retake", "1A", "--note", "hands blur").code == 0
    assert (
        cli("review", "comment", "1A", "--take", "1A/1", "--frame", "0", "--note", "nice").code == 0
    )
    items = cli("review", "history", "1A", "--json").json()
    assert [i["action"] for i in items if i["target"] == "shot 1A"][-3:] == [
        "approve",
        "status",
        "comment",
    ]
    assert any(i["actor"] == "dir" and i["note"] == "the good one" for i in items)


def test_review_bad_input_changes_nothing(cli, film: Path, tmp_path: Path) -> None:
    write_png(tmp_path / "t.png")
    cli("take", "import", "1A", tmp_path / "t.png")
    assert cli("scene", "add", "--heading", "INT. B - DAY").code == 0
    assert cli("shot", "add", "2", "--code", "2A").code == 0
    before = snapshot(film)
    bad(cli("review", "approve", "2A", "1A/1"), "belongs to shot 1A, not 2A")
    bad(cli("review", "retake", "1A", "--note", " "), "needs a note")
    bad(cli("review", "approve", "1A", "1A/9"), "shot 1A has no take 9")
    bad(cli("review", "comment", "1A", "--frame", "2", "--note", "x"), "--frame needs --take")
    assert snapshot(film) == before


def test_review_comment_names_the_take_by_shot_and_number(cli, film: Path, tmp_path: Path) -> None:
    write_png(tmp_path / "t.png")
    assert cli("take", "import", "1A", tmp_path / "t.png").code == 0
    take_id = cli("take", "show", "1A/1", "--json").json()["id"]
    for ref in ("1A/1", take_id):  # either way the take is given, it is named SHOT/NUMBER
        said = cli("review", "comment", "1A", "--take", ref, "--frame", "0", "--note", "nice")
        assert said.code == 0, said.err
        assert " on 1A take 1A/1 frame 0 (00:00:00:00)" in said.out
        assert take_id not in said.out
