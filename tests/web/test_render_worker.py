"""A render queued on the board renders, and a failed take shows why with a Retry button.

``setpiece serve --render-worker`` runs as a user starts it (its own process, a real port)
and a render queued through the API renders through the worker it started; the pages are
tested on the app object (``conftest.py``): the queue page says when nothing renders the
queued takes, and the shot page shows each failed take's reason and its Retry.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failed_take_shows_why_and_retries_from_the_shot_page(film: Any, session_of: Any) -> None:
    artist, viewer = session_of("art"), session_of("vic")
    queued = artist.post("/shots/1A/render", data={"takes": "1", "csrf_token": artist.csrf})
    assert queued.status_code == 303
    queue_page = artist.get("/jobs").text
    assert 'id="no-worker"' in queue_page and "setpiece serve --render-worker" in queue_page
    (job,) = [j for j in film_jobs(artist) if j["state"] == "queued"]
    assert (
        artist.post(f"/jobs/{job['id']}/cancel", data={"csrf_token": artist.csrf}).status_code
        == 303
    )
    page = artist.get("/shots/1A").text
    assert "Failed: cancelled by art" in page
    assert f'action="/takes/{job["take"]}/retry"' in page
    seen = viewer.get("/shots/1A").text
    assert "Failed: cancelled by art" in seen and "/retry" not in seen  # a viewer cannot render
    refused = viewer.post(f"/takes/{job['take']}/retry", data={"csrf_token": viewer.csrf})
    assert refused.status_code == 403
    retried = artist.post(f"/takes/{job['take']}/retry", data={"csrf_token": artist.csrf})
    assert retried.status_code == 303 and retried.headers["location"] == "/shots/1A"
    (again,) = [j for j in film_jobs(artist) if j["id"] == job["id"]]
    assert again["state"] == "queued"
    assert "Failed:" not in artist.get("/shots/1A").text
    # A take no job made (imported) has nothing to retry: one clear refusal.
    missing = artist.post(f"/takes/{film.takes[0]}/retry", data={"csrf_token": artist.csrf})
    assert missing.status_code == 404


def film_jobs(browser: Any) -> list[dict[str, Any]]:
    return list(browser.get("/api/v1/jobs").json()["items"])


def test_serve_with_a_render_worker_renders_what_the_board_queues(
    film: Any, tmp_path: Path
) -> None:
    import httpx

    root = film.production.config.root
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETPIECE_")}
    serve = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ENTRY,
            "--project",
            str(root),
            "--as",
            "art",
            "serve",
            "--render-worker",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {film.tokens['art']}"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert serve.poll() is None, serve.communicate()
            try:
                if client.get("/api/v1/me").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        queued = client.post("/api/v1/shots/1A/render", json={"takes": 2})
        assert queued.status_code == 201, queued.text
        deadline = time.monotonic() + 120
        states: list[str] = []
        while time.monotonic() < deadline:
            states = [j["state"] for j in client.get("/api/v1/jobs").json()["items"]]
            if states == ["done", "done"]:
                break
            time.sleep(0.3)
        assert states == ["done", "done"]
    finally:
        serve.send_signal(signal.SIGINT)
        _, err = serve.communicate(timeout=90)
    assert "render worker started beside the board, rendering as art" in err
    assert "worker: rendered 2" in err  # the worker stopped with the board, gracefully


def test_serve_render_worker_refuses_a_member_who_may_not_render(film: Any) -> None:
    root = film.production.config.root
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETPIECE_")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            ENTRY,
            "--project",
            str(root),
            "--as",
            "vic",
            "serve",
            "--render-worker",
            "--port",
            str(_free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "setpiece: error: vic is viewer: render needs artist or above"
    )
