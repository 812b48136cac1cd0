"""A take import killed with SIGKILL at random moments never leaves a broken project.

After every kill: ``fsck`` is clean, SQLite's own integrity check passes, and
every take that claims to be made points at a complete file. A final run of
the same import completes the batch without duplicating anything.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mediafactory import write_mp4, write_png
from setpiece.production import takes
from setpiece.production.context import Production, init_production
from setpiece.production.fsck import fsck
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot
from setpiece.store.db import sqlite_url

IMPORT = "import sys; from setpiece.cli.main import main; sys.exit(main())"


@pytest.mark.slow
def test_sigkill_during_take_import_leaves_a_clean_store(tmp_path: Path) -> None:
    root = tmp_path / "film"
    with init_production(root, actor="ana") as prod:
        add_scene(prod, "INT. VAULT - NIGHT", number="1")
        add_shot(prod, "1", "1A")
        add_shot(prod, "1", "1B")
    env = {**os.environ, "SETPIECE_USER": "ana", "SETPIECE_PROJECT": str(root)}

    def batch(name: str, seed: int) -> list[Path]:
        folder = tmp_path / name
        folder.mkdir()
        stills = [
            write_png(folder / f"s{i:03}.png", w=320, h=240, seed=seed + i) for i in range(40)
        ]
        clips = [
            write_mp4(folder / f"c{i}.mp4", frames=48, w=160, h=120, seed=seed + 500 + i)
            for i in range(4)
        ]
        return stills + clips

    def command(shot: str, files: list[Path]) -> list[str]:
        return [sys.executable, "-c", IMPORT, "take", "import", shot, *map(str, files)]

    # Calibrate: how long one whole import takes here, so the kills land inside it.
    started = time.monotonic()
    subprocess.run(command("1B", batch("calibration", 0)), env=env, check=True, capture_output=True)
    duration = time.monotonic() - started
    rng = random.Random(20261121)
    rounds: list[list[Path]] = []
    kills = 0
    left_behind = 0
    unreferenced = 0
    for index in range(8):
        files = batch(f"round{index}", 1000 * (index + 1))
        rounds.append(files)
        stored_before = stored_files(root)
        child = subprocess.Popen(
            command("1A", files), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if index % 2 == 0:
            # Anywhere in the import: probing, storing or committing.
            time.sleep(rng.uniform(0.05, 0.95) * duration)
        else:
            # The window that matters most: files stored, their rows not yet committed.
            deadline = time.monotonic() + 60
            while (
                stored_files(root) == stored_before
                and child.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.03))
            left_behind += 1 if child.poll() is None else 0
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
        unreferenced = max(unreferenced, assert_consistent(root))
    assert kills >= 5, f"only {kills} of 8 kills landed inside an import of {duration:.2f} s"
    assert left_behind >= 2, "the kills never landed while files were being stored"
    assert unreferenced > 0, "no kill fell between storing files and committing their rows"

    everything = [path for files in rounds for path in files]
    final = subprocess.run(
        command("1A", everything), env=env, capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stderr
    with Production.open(root) as prod:
        made = takes.list_takes(prod, "1A")
        assert len(made) == len(everything)
        assert len({t.media.sha256 for t in made if t.media}) == len(everything)
        assert sorted(t.number for t in made) == list(range(1, len(everything) + 1))
    assert_consistent(root)


def stored_files(root: Path) -> int:
    return sum(1 for path in (root / "media").rglob("*") if path.is_file())


def assert_consistent(root: Path) -> int:
    """Checks the project after a crash; returns how many stored files no row names yet."""
    engine = create_engine(sqlite_url(root / ".setpiece" / "setpiece.db"))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    with Production.open(root, actor="ana") as prod:
        report = fsck(prod)
        assert report.ok, [p.detail for p in report.problems]
        for take in takes.list_takes(prod):
            if take.status in ("ready", "circled", "rejected"):
                assert take.media is not None
                key = take.media.path.split("/media/", 1)[1]
                assert prod.store.verify(key, take.media.sha256) == "ok"
        return len(report.unreferenced)
