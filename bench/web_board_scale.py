"""The shot board at 2,000 shots and 10,000 takes, in Chromium: first paint, posters, bytes.

Goal (issue 32): first paint under 1 s and under 2 MB transferred on the loopback, with
every card in the page and the groups collapsed.

The project is built directly in the database (40 scenes of 50 shots, 5 takes a shot, in
five statuses), with real media: each shot's newest take is a clip of its own (320x180,
12 frames of H.264, written once into ``--media`` and reused between runs), takes 1-4
share 20 clips. Every shot without a circled take has a provisional pick. The server is
``setpiece serve``, a real process on a free loopback port; the browser is Debian's
Chromium driven by Playwright, logged in as an admin. Bytes are what Chromium's network
layer received (``Network.loadingFinished``'s encodedDataLength, headers included), the
times are from the navigation's start (``performance.now()``).

"all cards" is the page's DOMContentLoaded (every card parsed); bytes are counted once the
network has been idle for 0.5 s (or after 30 s).

Views measured, each in a fresh browser context (empty cache):

- ``collapsed``: every card, groups collapsed (``/board?group=scene&open=``);
- ``first screen``: the default board (status groups open), until every poster in the
  window has loaded: cold (posters made on this first request) and warm (made already,
  in a fresh browser cache);
- with ``--every``, the default board scrolled to its end until every poster has loaded.

Run it against main's code for the "before" (its board has no groups or posters: it shows
100 cards a status, with each take's own file; its figures are for the same URLs):

    PYTHONPATH=/work/main/src python bench/web_board_scale.py --label before
    PYTHONPATH=src python bench/web_board_scale.py --label after
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from _timing import machine

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the bench extra: pip install playwright
    PlaywrightTimeout = TimeoutError  # type: ignore[misc,assignment]

CHROMIUM = os.environ.get("SETPIECE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STATUSES = ("wip",) * 12 + ("review",) * 4 + ("retake",) * 2 + ("todo", "approved")
PASSWORD = "bench chose this password"


def write_clip(path: Path, seed: int, w: int = 320, h: int = 180, frames: int = 12) -> Path:
    """A clip of its own colours with a square that moves: distinct bytes for each seed."""
    import av
    import numpy as np

    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 200, size=3, dtype=np.uint8)
    partial = path.with_suffix(".part.mp4")
    with av.open(str(partial), mode="w") as output:
        stream = output.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        for index in range(frames):
            pixels = np.empty((h, w, 3), dtype=np.uint8)
            pixels[:] = background
            x, y = (index * 9 + seed) % (w - 48), (index * 5 + seed) % (h - 48)
            pixels[y : y + 48, x : x + 48] = (255, (seed * 37) % 256, (index * 29) % 256)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 24)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    partial.rename(path)
    return path


def build(root: Path, media: Path, shots: int, per_shot: int) -> None:
    """The project, written straight into the database (plain inserts, no services)."""
    from setpiece.model.orm import Media, Scene, Shot, Take
    from setpiece.production.accounts import add_member, reset_password
    from setpiece.production.context import init_production
    from setpiece.store.media import hash_file

    media.mkdir(parents=True, exist_ok=True)
    per_scene = 50
    with init_production(root, name="Board bench", actor="bench") as production:

        def stored(path: Path) -> Media:
            sha, size = hash_file(path)
            production.store.put(path, ".mp4", sha256=sha)
            return Media(
                sha256=sha, size=size, kind="video", ext=".mp4", container="mp4", codec="h264",
                width=320, height=180, fps_num=24, fps_den=1, frames=12, duration=0.5,
            )  # fmt: skip

        shared = [stored(write_clip(media / f"shared-{i}.mp4", 100_000 + i)) for i in range(20)]
        with production.transaction() as session:
            session.add_all(shared)
            scenes = [
                Scene(number=str(i + 1), heading=f"INT. ROOM {i + 1} - NIGHT", position=i + 1)
                for i in range(shots // per_scene)
            ]
            session.add_all(scenes)
            session.flush()
            for index in range(shots):
                own = stored(write_clip(media / f"pick-{index}.mp4", index))
                session.add(own)
                status = STATUSES[index % len(STATUSES)]
                scene = scenes[index // per_scene]
                shot = Shot(
                    code=f"{scene.number}{chr(65 + index % 26)}{index % per_scene // 26 or ''}",
                    scene=scene,
                    position=index % per_scene + 1,
                    description=f"Coverage {index}: MARA crosses the booth",
                    planned_frames=72,
                    status=status,
                    updated_by="bench",
                )
                takes = [
                    Take(number=n, kind="video", media=shared[(index + n) % 20], status="ready")
                    for n in range(1, per_shot)
                ]
                last = Take(number=per_shot, kind="video", media=own, status="ready")
                if status == "approved":
                    last.status = "circled"
                else:
                    last.provisional = True
                shot.takes = [*takes, last]
                session.add(shot)
        add_member(production, "bench", "admin")
        reset_password(production, "bench", PASSWORD)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "setpiece.cli.main", "-C", str(root), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise SystemExit(
                f"setpiece serve did not start: {server.stderr.read().decode()[-2000:]}"
            )  # type: ignore[union-attr]
        time.sleep(0.2)


POSTERS_IN_VIEW = """() => {
  const shown = Array.from(document.querySelectorAll('#board img, #columns img, #columns video'))
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.width > 0 && r.bottom > 0 && r.top < innerHeight; });
  return shown.every(e => e.tagName === 'VIDEO' ? e.readyState >= 2 : (e.complete && e.naturalWidth > 0));
}"""
ALL_POSTERS = """() => {
  const all = Array.from(document.querySelectorAll('#board img, #columns img, #columns video'));
  return all.length > 0 && all.every(e => e.tagName === 'VIDEO' ? e.readyState >= 2
                                                              : (e.complete && e.naturalWidth > 0));
}"""
SCROLL = "() => { window.scrollBy(0, innerHeight); return scrollY + innerHeight >= document.body.scrollHeight; }"
PAINT = """() => { const p = performance.getEntriesByType('paint')
  .find(e => e.name === 'first-contentful-paint'); return p ? p.startTime : null; }"""


def view(
    browser: Any, url: str, path: str, until: str | None, scroll: bool = False
) -> dict[str, Any]:
    """One view in a fresh context: first paint, time to ``until`` (ms), bytes received."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/login?next=/login")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state("networkidle")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received = [0]
    cdp.on(
        "Network.loadingFinished",
        lambda event: received.__setitem__(0, received[0] + int(event["encodedDataLength"])),
    )
    page.goto(url + path, wait_until="commit")
    page.wait_for_function(
        "() => performance.getEntriesByType('paint').length > 0", timeout=120_000
    )
    paint = page.evaluate(PAINT)
    page.wait_for_load_state("domcontentloaded", timeout=120_000)
    parsed = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
    )
    done = None
    if until is not None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if scroll:
                page.evaluate(SCROLL)
            if page.evaluate(until):
                done = page.evaluate("() => performance.now()")
                break
            time.sleep(0.05)
    with contextlib.suppress(PlaywrightTimeout):  # what the page goes on fetching counts too
        page.wait_for_load_state("networkidle", timeout=30_000)
    cards = page.evaluate("() => document.querySelectorAll('.card').length")
    pictures = page.evaluate(
        "() => document.querySelectorAll('#board img, #columns img, #columns video').length"
    )
    context.close()
    return {
        "paint": paint,
        "parsed": parsed,
        "done": done,
        "bytes": received[0],
        "cards": cards,
        "pictures": pictures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="after")
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--takes", type=int, default=5, help="takes a shot")
    parser.add_argument("--every", action="store_true", help="also scroll to load every poster")
    parser.add_argument(
        "--media", type=Path, default=Path(tempfile.gettempdir()) / "setpiece-board-bench-media"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    import setpiece

    print(f"# board at scale ({args.label}): {setpiece.__file__}")
    print(f"# {machine()}")
    folder = Path(tempfile.mkdtemp(prefix="setpiece-board-bench-"))
    try:
        started = time.perf_counter()
        build(folder / "film", args.media, args.shots, args.takes)
        print(
            f"built {args.shots} shots, {args.shots * args.takes} takes in {time.perf_counter() - started:.1f} s"
        )
        server, url = serve(folder / "film")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                views = [
                    ("collapsed", "/board?group=scene&open=", None, False),
                    ("first screen, cold", "/board", POSTERS_IN_VIEW, False),
                    ("first screen, warm", "/board", POSTERS_IN_VIEW, False),
                ]
                if args.every:
                    views.append(("every poster", "/board", ALL_POSTERS, True))
                for name, path, until, scroll in views:
                    load = os.getloadavg()
                    got = view(browser, url, path, until, scroll)
                    done = f"{got['done'] / 1000:6.2f} s" if got["done"] is not None else "   n/a  "
                    paint = (
                        f"{got['paint'] / 1000:5.2f} s" if got["paint"] is not None else "  n/a "
                    )
                    print(
                        f"{args.label:6s} {name:20s} first paint {paint}  "
                        f"all cards {got['parsed'] / 1000:5.2f} s  posters {done}  "
                        f"{got['bytes'] / 1e6:7.2f} MB  cards {got['cards']:5d}  "
                        f"pictures {got['pictures']:5d}  load avg {load[0]:.2f}"
                    )
                browser.close()
        finally:
            server.terminate()
            server.wait(30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
