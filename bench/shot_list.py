"""`setpiece shot list --json` on a 10,000-shot project. Goal: under 1 s, end to end.

The project (200 scenes x 50 shots, each shot with two characters in frame and
two takes) is written straight through the ORM in one transaction, then the
command is timed as a user runs it: a fresh process, the database opened and
checked, every shot read with its blocking and take count, and JSON printed.
The anchor in the same run is the floor for the same data: one raw SQL query
through sqlite3 (or psycopg) and json.dumps, with no ORM, no views, no
process start-up.

    python bench/shot_list.py [--shots 10000] [--pg postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _timing import machine, time_command
from setpiece.model.orm import BibleEntry, Media, Scene, Shot, ShotSubject, Take
from setpiece.production.context import init_production
from take_import import pg_schema_url

RAW_SQL = """
SELECT s.code, sc.number, s.position, s.description, s.size, s.status, s.version,
       (SELECT count(*) FROM takes t WHERE t.shot_id = s.id) AS takes,
       (SELECT group_concat(b.name) FROM shot_subjects ss JOIN bible_entries b ON b.id = ss.entry_id
         WHERE ss.shot_id = s.id) AS subjects
FROM shots s JOIN scenes sc ON sc.id = s.scene_id ORDER BY sc.position, s.position
"""


def build(root: Path, shots: int, db: str | None) -> None:
    per_scene = 50
    with (
        init_production(root, name="Bench", database_url=db, actor="bench") as prod,
        prod.transaction() as session,
    ):
        anna = BibleEntry(kind="character", name="ANNA")
        ben = BibleEntry(kind="character", name="BEN")
        media = Media(
            sha256="0" * 64,
            size=1,
            kind="image",
            ext=".png",
            container="png",
            codec="png",
            width=64,
            height=48,
            frames=1,
        )
        session.add_all([anna, ben, media])
        scenes = [
            Scene(
                number=str(i + 1),
                heading=f"INT. ROOM {i} - DAY",
                int_ext="INT",
                location=f"ROOM {i}",
                time_of_day="DAY",
                position=i + 1,
            )
            for i in range(shots // per_scene)
        ]
        session.add_all(scenes)
        session.flush()
        for index in range(shots):
            scene = scenes[index // per_scene]
            shot = Shot(
                code=f"{scene.number}-{index % per_scene + 1}",
                scene=scene,
                position=index % per_scene + 1,
                description=f"Coverage {index}",
                size="MS",
                planned_frames=96,
                status="wip",
                updated_by="bench",
            )
            shot.subjects = [
                ShotSubject(entry=anna, position=0, side="left"),
                ShotSubject(entry=ben, position=1, side="right"),
            ]
            shot.takes = [Take(number=n, kind="image", media=media, status="ready") for n in (1, 2)]
            session.add(shot)


def anchor(db_path: Path | None, pg: str | None) -> float:
    started = time.perf_counter()
    if pg is None:
        import sqlite3

        conn = sqlite3.connect(db_path)
        rows = conn.execute(RAW_SQL).fetchall()
        conn.close()
    else:
        import psycopg

        url, _, query = pg.partition("?")
        options = query.split("options=", 1)[1].replace("%3D", "=") if "options=" in query else ""
        with psycopg.connect(url.replace("+psycopg", ""), options=options) as conn:
            rows = conn.execute(
                RAW_SQL.replace("group_concat(b.name)", "string_agg(b.name, ',')")
            ).fetchall()
    json.dumps([list(r) for r in rows])
    return time.perf_counter() - started


def measure(label: str, root: Path, shots: int, db: str | None, runs: int) -> None:
    build(root, shots, db)
    setpiece = shutil.which("setpiece") or sys.exit("setpiece is not installed")
    env = {**os.environ, "SETPIECE_USER": "bench"}
    out = subprocess_json(setpiece, root, env)
    assert len(out) == shots, len(out)
    median, low, high = time_command(
        [setpiece, "-C", str(root), "shot", "list", "--json"], runs=runs, env=env
    )
    floor = min(
        anchor(root / ".setpiece" / "setpiece.db" if db is None else None, db) for _ in range(runs)
    )
    print(
        f"{label}: setpiece shot list --json  median {median:.3f} s (min {low:.3f}, max {high:.3f}); "
        f"goal 1 s: {median:.2f}x; raw SQL + json floor {floor:.3f} s: {median / floor:.1f}x"
    )


def subprocess_json(setpiece: str, root: Path, env: dict[str, str]) -> list[object]:
    import subprocess

    done = subprocess.run(
        [setpiece, "-C", str(root), "shot", "list", "--json"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", default=None)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{args.shots} shots, 2 characters and 2 takes each")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", Path(tmp) / "film", args.shots, None, args.runs)
        if args.pg:
            with pg_schema_url(args.pg) as url:
                measure("PostgreSQL", Path(tmp) / "film-pg", args.shots, url, args.runs)


if __name__ == "__main__":
    main()
