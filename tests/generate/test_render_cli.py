"""`setpiece render` and `setpiece generators` as a user runs them, with the previs backend.

The kill test: a render of 30 previs takes killed with SIGKILL at random moments, resumed
each time with a plain `setpiece render`, ends with exactly 30 complete takes, none twice.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import create_engine, text

from setpiece.cli.main import main
from setpiece.production import takes
from setpiece.production.context import Production, init_production
from setpiece.production.fsck import fsck
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot
from setpiece.store.db import sqlite_url

ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"


def setup_film(root: Path, shots: int = 10) -> None:
    with init_production(root, actor="ana", resolution=(320, 180)) as prod:
        add_scene(prod, "INT. STATION - NIGHT", number="1")
        for index in range(shots):
            add_shot(
                prod, "1", f"1{chr(65 + index)}", description=f"Platform view {index}", size="WS"
            )
    config = root / "setpiece.toml"
    config.write_text(config.read_text() + tomli_w.dumps({"render": {"lease_seconds": 2}}))


def run_cli(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SETPIECE_USER": "ana", "SETPIECE_PROJECT": str(root)}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ready(root: Path) -> int:
    """Takes rendered so far."""
    engine = create_engine(sqlite_url(root / ".setpiece" / "setpiece.db"))
    try:
        with engine.connect() as conn:
            return (
                conn.execute(text("SELECT count(*) FROM takes WHERE status = 'ready'")).scalar()
                or 0
            )
    finally:
        engine.dispose()


def jobs(root: Path) -> int:
    engine = create_engine(sqlite_url(root / ".setpiece" / "setpiece.db"))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM render_jobs")).scalar() or 0
    finally:
        engine.dispose()


def test_generators_lists_previs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generators", "--json"]) == 0
    listed = {g["name"]: g for g in json.loads(capsys.readouterr().out)}
    assert listed["previs"]["available"] is True
    assert "text-to-image" in listed["previs"]["capabilities"]["modes"]
    assert listed["previs"]["capabilities"]["photographic_faces"] is False


def test_render_all_makes_previs_takes_with_recipes(tmp_path: Path) -> None:
    root = tmp_path / "film"
    setup_film(root, shots=3)
    dry = run_cli(root, "render", "--all", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert [t["shot"] for t in json.loads(dry.stdout)["takes"]] == ["1A", "1B", "1C"]
    done = run_cli(root, "render", "--all", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["done"] == 3
    with Production.open(root) as prod:
        made = takes.list_takes(prod)
        assert [t.status for t in made] == ["ready"] * 3
        assert all(
            t.recipe.backend == "previs" and t.recipe.seed is not None and t.recipe.prompt
            for t in made
        )
        assert all(t.media and (t.media.width, t.media.height) == (320, 180) for t in made)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["render", "1A", "--takes", "0"], "take count 0 is out of range"),
        (["render", "1A", "--takes", "-3"], "take count -3 is out of range"),
        (["render", "1A", "--takes", "1000"], "take count 1000 is out of range"),
        (["render", "9Z"], "no shot '9Z'"),
        (["render", "1A", "--generator", "nope"], "no generator 'nope'"),
        (["render", "1A", "--kind", "hologram"], "kind 'hologram' is not image or video"),
        (["render", "1A", "--executor", "cloud"], "executor 'cloud' is not local or ray"),
    ],
)
def test_bad_render_requests_write_nothing(tmp_path: Path, args: list[str], fragment: str) -> None:
    root = tmp_path / "film"
    setup_film(root, shots=1)
    result = run_cli(root, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert jobs(root) == 0


@pytest.mark.slow
def test_killed_render_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    root = tmp_path / "film"
    setup_film(root, shots=10)
    rng = random.Random(4)
    env = {**os.environ, "SETPIECE_USER": "ana", "SETPIECE_PROJECT": str(root)}
    first = ["render", "--all", "--takes", "3", "--kind", "video"]
    kills = 0
    for _ in range(6):
        args = first if jobs(root) == 0 else ["render"]
        before = ready(root)
        child = subprocess.Popen(
            [sys.executable, "-c", ENTRY, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Kill once this round has finished a take (a fixed sleep outran the batch on a
        # fast machine), at a random moment within the next one's work.
        deadline = time.monotonic() + 60
        while child.poll() is None and ready(root) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
    assert kills >= 3
    final = run_cli(root, *(first if jobs(root) == 0 else ["render"]))
    assert final.returncode == 0, final.stderr
    with Production.open(root) as prod:
        made = takes.list_takes(prod)
        assert len(made) == 30
        assert all(t.status == "ready" and t.media is not None for t in made)
        assert len({t.media.sha256 for t in made if t.media}) == 30, "a take was made twice"
        assert sorted((t.shot, t.number) for t in made) == sorted(
            (f"1{chr(65 + s)}", n) for s in range(10) for n in (1, 2, 3)
        )
        assert fsck(prod).ok
    assert jobs(root) == 30


def job_states(root: Path) -> dict[str, int]:
    engine = create_engine(sqlite_url(root / ".setpiece" / "setpiece.db"))
    try:
        with engine.connect() as conn:
            return dict(
                conn.execute(text("SELECT state, count(*) FROM render_jobs GROUP BY state")).all()
            )
    finally:
        engine.dispose()


def test_ctrl_c_stops_cleanly_and_the_next_render_resumes(tmp_path: Path) -> None:
    root = tmp_path / "film"
    setup_film(root, shots=4)
    config = root / "setpiece.toml"
    config.write_text(config.read_text().replace("lease_seconds = 2", "lease_seconds = 600"))
    env = {**os.environ, "SETPIECE_USER": "ana", "SETPIECE_PROJECT": str(root)}
    child = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "render", "--all", "--takes", "2", "--kind", "video"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while job_states(root).get("done", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "run 'setpiece render' to resume" in err
    states = job_states(root)
    assert states.get("running", 0) == 0, (
        "in-flight jobs go back to the queue, not wait for their lease"
    )
    assert states.get("done", 0) < 8
    started = time.monotonic()
    resumed = run_cli(root, "render", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert time.monotonic() - started < 120  # no 600 s lease to wait out
    assert job_states(root) == {"done": 8}
