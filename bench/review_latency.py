"""Leader-to-follower latency of a live review session: two real browsers, 50 moves.

Goal: p95 under 1 s from the leader's key to the follower's player showing the same take
and frame.

The server is ``setpiece serve`` in its own process, on a fresh project: one scene of ten
12-frame clips, a playlist of them, a director who leads and a viewer who follows. The
two browsers are two Chromium processes (Debian's /usr/bin/chromium under Playwright),
each logged in through the login form, each on the playlist's player. The leader takes
the lead, the follower joins; then the leader makes 50 moves from the keyboard, each a
change of take (down/up arrow) or of frame (full stop, comma), and waits until the
follower shows that take and frame; a random pause of 0-1 s (``--pause``, seeded) comes
before each move, as a reviewer's keys do not keep time with the stream's polls.

Each move's latency is measured in the browsers: the leader's page notes the time of its
keydown, the follower's page the time its player's position and frame became the
leader's (a MutationObserver on #player); both are ``performance.timeOrigin +
performance.now()``, the same machine clock. The path measured is the leader's POST of
the move, the event stream's next poll (``[web] poll_seconds``, default 1 s), the
follower's GET of the session and its seek. The figure also printed from Python (press
to the follower's wait returning) includes Playwright's own round trips: an upper bound.

    python bench/review_latency.py [--moves 50] [--poll 1.0] [--pause 1.0] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import load_average, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TAKES = 10
FRAMES = 12

WATCH = """() => {
  window.__seen = [];
  const p = document.getElementById('player');
  new MutationObserver(() => window.__seen.push(
    [performance.timeOrigin + performance.now(), p.dataset.position, p.dataset.frame]
  )).observe(p, {attributeFilter: ['data-position', 'data-frame']});
}"""
KEYDOWNS = """() => {
  window.__keys = [];
  document.addEventListener('keydown',
    () => window.__keys.push(performance.timeOrigin + performance.now()), true);
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_project(root: Path, poll: float) -> dict[str, str]:
    """The project, its playlist "dailies" and the members' passwords."""
    from mediafactory import write_mp4
    from setpiece.production.accounts import add_member, reset_password
    from setpiece.production.context import Production, init_production
    from setpiece.production.playlists import create_playlist
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot
    from setpiece.production.takes import import_takes
    from setpiece.production.views import Recipe

    passwords = {}
    with init_production(root, name="Review latency", actor="ana") as production:
        add_member(production, "ana", "admin")
        for name, role in (("dora", "director"), ("vic", "viewer")):
            add_member(production, name, role)
            owner = Production(production.config, production.db, production.store, name)
            passwords[name] = reset_password(owner, name, f"{name} chose this password").password
        scene = add_scene(production, "INT. TRAIN - NIGHT").number
        clips = root.parent / "clips"
        clips.mkdir()
        refs = []
        for index in range(TAKES):
            code = f"1{chr(ord('A') + index)}"
            add_shot(production, scene, code)
            clip = write_mp4(clips / f"{code}.mp4", frames=FRAMES, seed=index + 1)
            import_takes(production, code, [clip], Recipe())
            refs.append(f"{code}/1")
        create_playlist(
            Production(production.config, production.db, production.store, "dora"),
            "dailies",
            takes=refs,
        )
    with (root / "setpiece.toml").open("a") as handle:
        handle.write(f"\n[web]\npoll_seconds = {poll}\n")
    return passwords


def log_in(page: object, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/login?next=/playlists/1")  # type: ignore[attr-defined]
    page.fill("input[name=username]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("form.login button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#player[data-position='1']")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-feed=open]")  # type: ignore[attr-defined]


def next_move(step: int, position: int, frame: int) -> tuple[str, int, int]:
    """Frame, frame, back a frame, then another take: every move changes what is shown."""
    kind = step % 4
    if kind == 0 or kind == 1:
        return "Period", position, frame + 1
    if kind == 2:
        return "Comma", position, frame - 1
    if position < TAKES:
        return "ArrowDown", position + 1, 0
    return "ArrowUp", position - 1, 0


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def interval(samples: list[float], q: float, rounds: int = 2000) -> tuple[float, float]:
    """A bootstrap 95 % interval of the ``q`` percentile (resampling the moves, seed 0)."""
    rng = random.Random(0)
    estimates = sorted(percentile(rng.choices(samples, k=len(samples)), q) for _ in range(rounds))
    return estimates[int(0.025 * rounds)], estimates[int(0.975 * rounds) - 1]


def run(moves: int, poll: float, chromium: str, pause: float) -> None:
    from playwright.sync_api import sync_playwright

    setpiece = shutil.which("setpiece", path=str(Path(sys.executable).parent)) or "setpiece"
    print(f"machine: {machine()}")
    print(f"load average at the start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="review-latency-") as folder:
        root = Path(folder) / "film"
        passwords = make_project(root, poll)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [setpiece, "--project", str(root), "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ},
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(
                            f"setpiece serve did not start: {server.stderr.read().decode()[-2000:]}"  # type: ignore[union-attr]
                        ) from None
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                first = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                second = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                leader = first.new_page()
                follower = second.new_page()
                log_in(leader, url, "dora", passwords["dora"])
                log_in(follower, url, "vic", passwords["vic"])
                follower.click("#join")
                follower.wait_for_selector("#session[data-following='1']")
                leader.click("#lead")
                leader.wait_for_function(
                    "() => document.getElementById('session').dataset.leader === 'dora'"
                )
                follower.wait_for_function(
                    "() => document.getElementById('session').dataset.leader === 'dora'"
                )
                leader.focus("#player")
                follower.evaluate(WATCH)
                leader.evaluate(KEYDOWNS)
                position, frame = 1, 0
                # Without the pauses the moves would fall in step with the polls.
                pauses = random.Random(1)
                outside: list[float] = []
                inside: list[float] = []
                for step in range(moves):
                    key, position, frame = next_move(step, position, frame)
                    follower.evaluate("() => { window.__seen = []; }")
                    time.sleep(pauses.uniform(0, pause))
                    started = time.perf_counter()
                    leader.keyboard.press(key)
                    follower.wait_for_selector(
                        f"#player[data-position='{position}'][data-frame='{frame}']",
                        timeout=30000,
                    )
                    outside.append(time.perf_counter() - started)
                    pressed = leader.evaluate("() => window.__keys[window.__keys.length - 1]")
                    seen = follower.evaluate("() => window.__seen")
                    shown = next(t for t, p, f in seen if (p, f) == (str(position), str(frame)))
                    inside.append((shown - pressed) / 1000)
                first.close()
                second.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"load average at the end: {load_average()}")
    print(f"[web] poll_seconds = {poll}; {moves} moves 0-{pause} s apart, two Chromium processes")
    for name, samples in (("in the browsers", inside), ("press to wait (upper bound)", outside)):
        parts = []
        for label, q in (("p50", 0.5), ("p95", 0.95)):
            low, high = interval(samples, q)
            parts.append(
                f"{label} {percentile(samples, q) * 1000:.0f} ms "
                f"[95 % CI {low * 1000:.0f}-{high * 1000:.0f}]"
            )
        print(f"{name}: {', '.join(parts)}, max {max(samples) * 1000:.0f} ms (n={len(samples)})")
    p95 = percentile(inside, 0.95)
    print(f"goal p95 < 1000 ms: {'met' if p95 < 1 else 'NOT met'} ({p95 / 1:.2f}x the goal)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--poll", type=float, default=1.0, help="[web] poll_seconds")
    parser.add_argument("--pause", type=float, default=1.0, help="most seconds between moves")
    parser.add_argument(
        "--chromium", default=os.environ.get("SETPIECE_CHROMIUM", "/usr/bin/chromium")
    )
    options = parser.parse_args()
    run(options.moves, options.poll, options.chromium, options.pause)


if __name__ == "__main__":
    main()
