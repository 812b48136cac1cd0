"""Latency of the shot board under 50 concurrent clients on loopback, on a 10,000-shot project.

Goal: p99 under 100 ms for one page (100 shots) of ``GET /api/v1/shots``.

The project is bench/shot_list.py's (200 scenes x 50 shots, two characters and two
takes a shot), with one admin who holds an API token. The server is
``setpiece.web.create_app`` under one uvicorn worker in its own process (what
``setpiece serve`` runs); the clients are 50 httpx.AsyncClient tasks in this
process, each sending its requests one after another. Each request's time is
taken from send to the last byte of the answer.

Measured, per endpoint: the first page of the shot list, a page deep in it (by
cursor), and the shot board page (HTML: five columns of up to 100 cards). The
anchor in the same run, on the same server and clients, is ``/static/app.css``:
a small static file with no login and no database, the floor of this stack.

    python bench/web_latency.py [--shots 10000] [--requests 1000] [--clients 50]
                                [--workers 1] [--pg postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import machine
from shot_list import build
from take_import import pg_schema_url

SERVER = """
import os, sys, uvicorn
from setpiece.web.app import create_app
root, port, db, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None, int(sys.argv[4])
os.environ["SETPIECE_PROJECT"] = root
if db:
    os.environ["SETPIECE_DATABASE_URL"] = db
target = create_app(root, database_url=db) if workers == 1 else "setpiece.web.app:app_from_env"
uvicorn.run(target, factory=workers > 1, workers=workers, host="127.0.0.1", port=port,
            log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def member_token(root: Path, db: str | None) -> str:
    from setpiece.production.accounts import add_member, issue_token
    from setpiece.production.context import Production

    with Production.open(root, database_url=db, actor="bench") as production:
        add_member(production, "bench", "admin")
        return issue_token(production, "bench", "bench")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def hammer(url: str, path: str, token: str, requests: int, clients: int) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    samples: list[float] = []
    left = requests

    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60
    ) as client:

        async def one_client() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                started = time.perf_counter()
                response = await client.get(path)
                await response.aread()
                samples.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return samples


def report(label: str, samples: list[float], floor: list[float] | None) -> str:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    line = f"  {label:34s} n={len(samples):5d}  p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms"
    if floor:
        line += f"  ({p50 / statistics.median(floor):.1f}x / {p99 / percentile(floor, 0.99):.1f}x the static floor)"
    return line


def measure(label: str, root: Path, shots: int, db: str | None, args: argparse.Namespace) -> None:
    import httpx

    build(root, shots, db)
    token = member_token(root, db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(root), str(port), db or "", str(args.workers)],
        env={**os.environ, "SETPIECE_WEB_SECRET": "bench"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/static/app.css", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        first = httpx.get(f"{url}/api/v1/shots", headers={"Authorization": f"Bearer {token}"})
        cursor = first.json()["next_cursor"]
        deep = None
        for _ in range(min(50, shots // 100 - 1)):  # walk half-way down the list
            page = httpx.get(
                f"{url}/api/v1/shots?cursor={cursor}", headers={"Authorization": f"Bearer {token}"}
            ).json()
            deep, cursor = cursor, page["next_cursor"]
        paths = {
            "static floor (/static/app.css)": ("/static/app.css", args.requests),
            "API: shots, first page of 100": ("/api/v1/shots", args.requests),
            "API: shots, page 50 by cursor": (f"/api/v1/shots?cursor={deep}", args.requests),
            "page: shot board (HTML)": ("/board", max(args.clients, args.requests // 4)),
        }
        print(
            f"{label}: {shots} shots, {args.clients} concurrent clients, loopback, "
            f"{args.workers} uvicorn worker(s)"
        )
        floor: list[float] | None = None
        for name, (path, count) in paths.items():
            asyncio.run(hammer(url, path, token, args.clients, args.clients))  # warm up
            samples = asyncio.run(hammer(url, path, token, count, args.clients))
            print(report(name, samples, floor))
            if floor is None:
                floor = samples
            if name.startswith("API: shots, first"):
                p99 = percentile(samples, 0.99)
                print(f"    goal p99 < 100 ms: {p99 * 1000:.1f} ms = {p99 / 0.1:.2f}x the goal")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--pg", default=None)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", Path(tmp) / "film", args.shots, None, args)
        if args.pg:
            with pg_schema_url(args.pg) as url:
                measure("PostgreSQL", Path(tmp) / "film-pg", args.shots, url, args)


if __name__ == "__main__":
    main()
