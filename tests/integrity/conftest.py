"""The integrity tests' fixtures: the CLI runner, and a project with one shot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from setpiece.cli.main import main


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SETPIECE_USER", "ana")

    def run(*args: object) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def film(cli, tmp_path: Path, database_url: str | None) -> Path:
    """A project with scene 1 and shot 1A, on each database backend; the cwd is inside it."""
    db = ["--db", database_url] if database_url else []
    assert cli(*db, "init", "film", "--name", "Heist").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. VAULT - NIGHT").code == 0
    assert cli("shot", "add", "1", "--code", "1A").code == 0
    return tmp_path / "film"
