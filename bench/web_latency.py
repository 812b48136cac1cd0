"""Latency of the shot board under 50 concurrent clients on loopback, on a 10,000-shot project.

Goal: p99 under 100 ms for one page (100 shots) of ``GET /api/v1/shots``.

The project is bench/shot_list.py's (200 scenes x 50 shots, two characters and two
takes a shot), with one admin who holds an API token. The server is
``setpiece.web.create_app`` under uvicorn in its own process (what ``setpiece
serve`` runs), once with each worker count of ``--workers`` (default: 1, then 2).

The clients are ``wrk`` when it is installed (``apt-get install wrk``): a C load
generator that costs the server's two cores little, so the figures are the
server's. Each of its 50 connections sends its requests back to back for
``--seconds``; p50 and p99 come from its ``--latency`` distribution. Without
wrk (or with ``--client httpx``) the clients are 50 httpx.AsyncClient tasks in
this process, each sending ``--requests`` / 50 requests back to back; those
tasks cost as much CPU as the server, so their figures are an upper bound. The
report names the client used. Each request's time is send to last byte.

Measured, per endpoint: the first page of the shot list, a page deep in it (by
cursor), and the shot board page (HTML: five columns of up to 100 cards). The
anchor in the same run, on the same server and clients, is ``/static/app.css``:
a small static file with no login and no database, the floor of this stack.
``.ci/run`` does not run benches, so wrk is needed only here.

    python bench/web_latency.py [--shots 10000] [--clients 50] [--workers 1,2]
                                [--client auto|wrk|httpx] [--seconds 10] [--requests 1000]
                                [--pg postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass
class Figures:
    """What one endpoint measured: seconds, and requests a second where the client counts them."""

    count: int
    p50: float
    p99: float
    rate: float | None


def from_samples(samples: list[float], seconds: float) -> Figures:
    return Figures(
        len(samples), statistics.median(samples), percentile(samples, 0.99), len(samples) / seconds
    )


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Figures:
    """p50, p99 and requests a second from ``wrk --latency``'s report.

    Raises:
        SystemExit: wrk saw errors or answers other than 2xx/3xx, or the report is not wrk's.
    """
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if bad or (errors and any(int(n) for n in re.findall(r"\d+", errors.group(1)))):
        raise SystemExit(f"wrk saw failed requests:\n{output}")
    try:
        p50 = _seconds(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
        p99 = _seconds(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
        rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
        count = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    except AttributeError:
        raise SystemExit(f"not a wrk --latency report:\n{output}") from None
    return Figures(count, p50, p99, rate)


def run_wrk(url: str, path: str, token: str, clients: int, seconds: float) -> Figures:
    argv = [
        "wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "--timeout", "10s",
        "-H", f"Authorization: Bearer {token}", url + path,
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def report(label: str, got: Figures, floor: Figures | None) -> str:
    line = f"  {label:34s} n={got.count:6d}  p50 {got.p50 * 1000:7.1f} ms  p99 {got.p99 * 1000:7.1f} ms"
    if got.rate is not None:
        line += f"  {got.rate:7.1f} req/s"
    if floor:
        line += f"  ({got.p50 / floor.p50:.1f}x / {got.p99 / floor.p99:.1f}x the static floor)"
    return line


def serve(root: Path, db: str | None, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the server with ``workers`` uvicorn workers; returns it and its URL once it answers."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(root), str(port), db or "", str(workers)],
        env={**os.environ, "SETPIECE_WEB_SECRET": "bench"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/static/app.css", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise SystemExit("the server did not start")
        time.sleep(0.2)


@contextlib.contextmanager
def editing(root: Path, db: str | None, per_second: float) -> Iterator[list[int]]:
    """Another writer changes the first shot's description ``per_second`` times a second
    (plain SQL), so the page the clients read keeps changing: a cached page serves only until
    the next edit, and the server reads the page again after every one."""
    import threading

    from sqlalchemy import create_engine, text

    engine = create_engine(
        db or f"sqlite:///{root / '.setpiece' / 'setpiece.db'}",
        connect_args={} if db else {"timeout": 30},
    )
    stop = threading.Event()
    made = [0]

    def run() -> None:
        while not stop.wait(1 / per_second):
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE shots SET description = :d WHERE id = (SELECT min(id) FROM shots)"
                    ),
                    {"d": f"edit {made[0]}"},
                )
            made[0] += 1

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield made
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def measure(label: str, root: Path, shots: int, db: str | None, args: argparse.Namespace) -> None:
    import httpx

    build(root, shots, db)
    if args.threads:
        with (root / "setpiece.toml").open("a") as toml:
            toml.write(f"\n[web]\nthreads = {args.threads}\n")
    token = member_token(root, db)
    for workers in args.workers:
        server, url = serve(root, db, workers)
        try:
            auth = {"Authorization": f"Bearer {token}"}
            first = httpx.get(f"{url}/api/v1/shots", headers=auth)
            cursor = first.json()["next_cursor"]
            deep = None
            for _ in range(min(50, shots // 100 - 1)):  # walk half-way down the list
                page = httpx.get(f"{url}/api/v1/shots?cursor={cursor}", headers=auth).json()
                deep, cursor = cursor, page["next_cursor"]
            paths = {
                "static floor (/static/app.css)": ("/static/app.css", args.requests),
                "API: shots, first page of 100": ("/api/v1/shots", args.requests),
                "API: shots, page 50 by cursor": (f"/api/v1/shots?cursor={deep}", args.requests),
                "page: shot board (HTML)": ("/board", max(args.clients, args.requests // 4)),
            }
            print(
                f"{label}: {shots} shots, {args.clients} concurrent clients ({args.client}), "
                f"loopback, {workers} uvicorn worker(s); load average before: "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
            floor: Figures | None = None
            for name, (path, count) in paths.items():
                if args.client == "wrk":
                    run_wrk(url, path, token, args.clients, 2)  # warm up
                    got = run_wrk(url, path, token, args.clients, args.seconds)
                else:
                    asyncio.run(hammer(url, path, token, args.clients, args.clients))  # warm up
                    started = time.perf_counter()
                    samples = asyncio.run(hammer(url, path, token, count, args.clients))
                    got = from_samples(samples, time.perf_counter() - started)
                print(report(name, got, floor))
                if floor is None:
                    floor = got
                if name.startswith("API: shots, first"):
                    print(
                        f"    goal p99 < 100 ms: {got.p99 * 1000:.1f} ms = {got.p99 / 0.1:.2f}x "
                        f"the goal: {'met' if got.p99 < 0.1 else 'NOT met'}"
                    )
            if args.client == "wrk" and args.edits > 0:
                with editing(root, db, args.edits) as edits:
                    got = run_wrk(url, "/api/v1/shots", token, args.clients, args.seconds)
                print(
                    report(f"API: first page, {args.edits:g} edits/s", got, floor)
                    + f"  ({edits[0]} edits made)"
                )
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shots", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--workers",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[1, 2],
        help="uvicorn worker counts to compare, comma-separated (default 1,2)",
    )
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--seconds", type=float, default=10, help="wrk: seconds per endpoint")
    parser.add_argument("--requests", type=int, default=1000, help="httpx: requests per endpoint")
    parser.add_argument("--pg", default=None)
    parser.add_argument(
        "--edits", type=float, default=20, help="edits a second made during the last run (0: none)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="[web] threads of each worker (default: 8)"
    )
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "httpx"
    elif args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk, or use --client httpx")
    print(f"machine: {machine()}; client: {args.client}")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", Path(tmp) / "film", args.shots, None, args)
        if args.pg:
            with pg_schema_url(args.pg) as url:
                measure("PostgreSQL", Path(tmp) / "film-pg", args.shots, url, args)


if __name__ == "__main__":
    main()
