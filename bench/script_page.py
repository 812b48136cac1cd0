"""The script page over long screenplays (issue 32): time to serve it, its size, its links.

For a generated 190-scene screenplay and the real screenplays of
``/work/shared/data/screenplays_jumpcut`` (where present), a project is made (import, shot
plan), and ``GET /script`` is timed through the real app (FastAPI's TestClient, logged in),
anchored on ``GET /`` (the dashboard) in the same run. Also counted: the share of dialogue
and action lines that link to a shot, with a Wilson 95 % interval.

    python bench/script_page.py [--runs 7]
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import load_average, machine

DATA = Path("/work/shared/data/screenplays_jumpcut")
SCENES = 190


def wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    if total == 0:
        return 0.0, 1.0
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def generated(folder: Path) -> Path:
    parts = ["Title: Long Night\n\n"]
    for n in range(1, SCENES + 1):
        place = "INT. TRAIN CORRIDOR - NIGHT" if n % 2 else "EXT. PLATFORM - DAY"
        parts.append(
            f"{place} #{n}#\n\nANNA walks the length of car {n}, a LANTERN in her hand.\n\n"
            f"ANNA\n(quietly)\nCar {n}. Nobody here either.\n\n"
            "BEN\nThen we keep walking until we find them.\n\nCUT TO:\n\n"
        )
    path = folder / "generated.fountain"
    path.write_text("".join(parts))
    return path


def timed(client: object, url: str, runs: int) -> tuple[float, str]:
    samples, text = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        text = response.text
    return statistics.median(samples), text


def measure(script: Path, runs: int) -> dict[str, object]:
    from fastapi.testclient import TestClient

    from setpiece.production.accounts import add_member, reset_password
    from setpiece.production.context import init_production
    from setpiece.script.importer import import_script
    from setpiece.script.planning import plan_shots
    from setpiece.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "film"
        with init_production(root, name="bench", actor="ana") as production:
            import_script(production, script)
            plan_shots(production)
            add_member(production, "ana", "admin")
            password = reset_password(production, "ana", "ana chose this password").password
        client = TestClient(create_app(root), follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/login").text)
        assert token
        login = {"username": "ana", "password": password, "csrf_token": token.group(1), "next": "/"}
        assert client.post("/login", data=login).status_code == 303
        anchor, _ = timed(client, "/", runs)
        seconds, page = timed(client, "/script", runs)
        client.close()
    lines = re.findall(r'<p class="sp-(?:dialogue|action)[^"]*">(<a )?', page)
    linked = sum(1 for link in lines if link)
    low, high = wilson(linked, len(lines))
    return {
        "script": script.name,
        "scenes": page.count('<section class="scene'),
        "seconds": seconds,
        "ratio": seconds / anchor,
        "kb": len(page.encode()) / 1024,
        "lines": len(lines),
        "linked": linked,
        "ci": (low, high),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"{machine()}; load before {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        scripts = [generated(Path(tmp))]
        if DATA.is_dir():
            scripts += sorted(DATA.glob("*/*.fountain"))
        print("script | scenes | GET /script median s | x dashboard | KB | lines linked (95% CI)")
        for script in scripts:
            r = measure(script, args.runs)
            low, high = r["ci"]  # type: ignore[misc]
            print(
                f"{r['script']} | {r['scenes']} | {r['seconds']:.3f} | {r['ratio']:.1f} |"
                f" {r['kb']:.0f} | {r['linked']}/{r['lines']} ({low:.3f}-{high:.3f})"
            )
    print(f"load after {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
