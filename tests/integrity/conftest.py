"""The integrity tests' fixtures: the CLI runner, and a project with one shot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def film(cli, tmp_path: Path, database_url: str | None) -> Path:
    """A project with scene 1 and shot 1A, on each database backend; the cwd is inside it."""
    db = ["--db", database_url] if database_url else []
    assert cli(*db, "init", "film", "--name", "Heist").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. VAULT - NIGHT").code == 0
    assert cli("shot", "add", "1", "--code", "1A").code == 0
    return tmp_path / "film"
