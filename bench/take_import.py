"""`setpiece take import` of 1,000 stills into one shot.

Every still is fully decoded (validation), hashed, copied atomically with fsync
into the content-addressed store, and recorded in one transaction. The anchor,
in the same run on the same files: `cp` into a folder followed by `sha256sum`,
the floor of what any content-addressed import must do (read, hash, write),
without validation or durability. Run on SQLite (default) and, with --pg URL,
on PostgreSQL.

    python bench/take_import.py [--count 1000] [--pg postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from _timing import machine


def make_stills(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    rng = np.random.default_rng(7)
    paths = []
    base = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    for index in range(count):
        frame = base.copy()
        frame[index % size[1], :, :] = index % 251  # a different hash per still
        path = folder / f"still_{index:05}.png"
        Image.fromarray(frame).save(path, compress_level=1)
        paths.append(path)
    return paths


def run_import(root: Path, files: list[Path], db: str | None) -> float:
    setpiece = shutil.which("setpiece") or sys.exit("setpiece is not installed")
    env = {**os.environ, "SETPIECE_USER": "bench"}
    init = [setpiece, *(["--db", db] if db else []), "init", str(root)]
    subprocess.run(init, check=True, env=env, capture_output=True)
    for args in (
        ["scene", "add", "--heading", "INT. STUDIO - DAY"],
        ["shot", "add", "1", "--code", "1A"],
    ):
        subprocess.run([setpiece, "-C", str(root), *args], check=True, env=env, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [setpiece, "-C", str(root), "take", "import", "1A", *map(str, files)],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - started


def run_anchor(files: list[Path], target: Path) -> float:
    target.mkdir()
    started = time.perf_counter()
    subprocess.run(["cp", *map(str, files), str(target)], check=True)
    subprocess.run(
        ["sha256sum", *map(str, target.iterdir())], check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


@contextlib.contextmanager
def pg_schema_url(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, dropped afterwards."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    plain = base.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--pg", default=None, help="PostgreSQL URL to run the import on as well")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "stills"
        folder.mkdir()
        files = make_stills(folder, args.count, (width, height))
        total = sum(p.stat().st_size for p in files)
        print(f"{args.count} PNG stills, {width}x{height}, {total / 1e6:.1f} MB")
        anchor = run_anchor(files, Path(tmp) / "anchor")
        print(
            f"anchor cp + sha256sum:            {anchor:6.2f} s  ({args.count / anchor:7.1f} files/s)"
        )
        report(
            "setpiece take import (SQLite)",
            run_import(Path(tmp) / "film-sqlite", files, None),
            args.count,
            anchor,
        )
        if args.pg:
            with pg_schema_url(args.pg) as url:
                report(
                    "setpiece take import (PostgreSQL)",
                    run_import(Path(tmp) / "film-pg", files, url),
                    args.count,
                    anchor,
                )


def report(label: str, seconds: float, count: int, anchor: float) -> None:
    print(
        f"{label:33s} {seconds:6.2f} s  ({count / seconds:7.1f} files/s)  {seconds / anchor:.2f}x the anchor"
    )


if __name__ == "__main__":
    main()
