"""The exit-code table of ``setpiece.errors`` as commands keep it.

0 done, 1 a bug, 2 bad input or refused, 3 checks found something, 4 done in part,
5 the environment failed. Each test runs the real command on a real project; the
environment failures are real too (a read-only mount, a full tmpfs, a closed port).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mediafactory import write_png
from setpiece.errors import ExitCode, StorageError, as_setpiece_error
from setpiece.generate.base import (
    Capabilities,
    Generator,
    Mode,
    RenderError,
    RenderRequest,
    RenderResult,
)
from setpiece.generate.registry import _REGISTERED, register

ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"


def setpiece(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", ENTRY, *(str(a) for a in args)]
    return subprocess.run(
        command,
        env={**os.environ, "SETPIECE_USER": "ana", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def film(cli, tmp_path: Path) -> Path:
    """A SQLite project with scene 1 and shot 1A, and one imported still take."""
    assert cli("init", "film", "--resolution", "320x180").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    assert cli("shot", "add", "1", "--code", "1A", "--size", "WS").code == 0
    still = write_png(tmp_path / "still.png", 64, 36)
    assert cli("take", "import", "1A", still).code == 0
    return tmp_path / "film"


def test_the_table() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 130]
    assert StorageError("x").exit_code == ExitCode.ENVIRONMENT == 5
    assert StorageError("x").http_status == 503


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES])
def test_an_oserror_of_the_environment_is_a_storage_error_naming_the_file(code: int) -> None:
    found = as_setpiece_error(OSError(code, os.strerror(code), "/films/night/cut/preview.mp4"))
    assert isinstance(found, StorageError) and found.exit_code == 5
    assert "/films/night/cut/preview.mp4" in str(found)


def test_other_errors_stay_bugs() -> None:
    assert as_setpiece_error(OSError(errno.EBADF, "Bad file descriptor")) is None
    assert as_setpiece_error(RuntimeError("raqm_layout() failed")) is None
    assert as_setpiece_error(KeyError("x")) is None


def test_db_heads_with_two_heads_exits_3(cli, tmp_path: Path, monkeypatch) -> None:
    from setpiece.store import db

    copy = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    versions = copy / "versions"
    (versions / "9999_branch.py").write_text(
        f'revision = "9999"\ndown_revision = "{_parent_of(versions, db.SCHEMA_HEAD)}"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    assert cli("db", "heads").code == 0  # one head
    monkeypatch.setattr(db, "MIGRATIONS_DIR", copy)
    result = cli("db", "heads")
    assert result.code == 3, result.err
    assert "2 migration heads" in result.err


def _parent_of(versions: Path, head: str) -> str:
    """The revision the head migration follows (a second child of it makes two heads)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(versions.parent))
    parent = ScriptDirectory.from_config(config).get_revision(head).down_revision
    assert isinstance(parent, str)
    return parent


class Doomed(Generator):
    """Refuses every request the way a hosted model's moderation does."""

    name = "doomed"
    default_capabilities = Capabilities(modes=frozenset({Mode.TEXT_TO_IMAGE}), max_frames=1)

    def render(self, request: RenderRequest, workdir: Path, progress=None) -> RenderResult:
        raise RenderError("task FAILED: content moderation")


@pytest.fixture
def doomed():
    register(Doomed)
    yield
    _REGISTERED.pop("doomed", None)


def test_render_exits_4_with_the_count_when_takes_fail(cli, film: Path, doomed) -> None:
    result = cli("render", "1A", "--generator", "doomed", "--takes", "2")
    assert result.code == 4, result.err
    assert "rendered 0, failed 2" in result.out
    assert "2 take(s) failed to render" in result.err
    assert cli("render", "1A", "--takes", "1").code == 0  # previs renders: done


# The environment -------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # free once closed: nothing listens there


def test_an_unreachable_database_exits_5(tmp_path: Path) -> None:
    url = f"postgresql://nobody@127.0.0.1:{_closed_port()}/film"
    result = setpiece("--db", url, "init", tmp_path / "film")
    assert result.returncode == 5, result.stderr
    assert "cannot open database" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def _as_root_with_mounts() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


def _read_only(folder: Path, *args: object) -> subprocess.CompletedProcess[str]:
    """``setpiece ARGS`` with ``folder`` on a read-only disk: a read-only bind mount in a
    mount namespace of its own as root (chmod does not stop root), or, for anyone else,
    the folder and everything in it without write permission."""
    command = [sys.executable, "-c", ENTRY, *(str(a) for a in args)]
    env = {**os.environ, "SETPIECE_USER": "ana"}
    if _as_root_with_mounts():
        script = f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" '
        script += f'"{folder}" && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", script, "sh", *command]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    paths = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for path in paths:
            path.chmod(modes[path] & ~0o222)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        for path in reversed(paths):
            path.chmod(modes[path])


def test_a_read_only_project_reads_and_refuses_writes_with_exit_5(film: Path) -> None:
    if os.geteuid() == 0 and not _as_root_with_mounts():
        pytest.skip("root without mount namespaces: no way to make a folder read-only here")
    listed = _read_only(film, "-C", film, "take", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "1A" in listed.stdout
    status = _read_only(film, "-C", film, "status")
    assert status.returncode == 0, status.stderr
    added = _read_only(film, "-C", film, "scene", "add", "--heading", "EXT. PLATFORM - DAY")
    assert added.returncode == 5, added.stderr
    assert f"project folder {film} is read-only" in added.stderr
    assert added.stderr.count("\n") == 1 and "Traceback" not in added.stderr
    still = write_png(film.parent / "another.png", 48, 27, seed=3)
    imported = _read_only(film, "-C", film, "take", "import", "1A", still)
    assert imported.returncode == 5, imported.stderr
    assert str(film) in imported.stderr and "Traceback" not in imported.stderr
    # Nothing changed, and the project still works where it is writable.
    assert setpiece("-C", film, "scene", "add", "--heading", "EXT. PLATFORM - DAY").returncode == 0


def test_a_full_disk_exits_5(tmp_path: Path) -> None:
    if not _as_root_with_mounts():
        pytest.skip("needs root and mount namespaces for a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    command = [sys.executable, "-c", ENTRY, "init", str(disk / "film")]
    script = f'mount -t tmpfs -o size=64k tmpfs "{disk}" && exec "$@"'
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *command],
        env={**os.environ, "SETPIECE_USER": "ana"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 5, result.stderr
    assert "full" in result.stderr and "Traceback" not in result.stderr
