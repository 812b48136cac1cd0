"""`setpiece serve` as a user starts it: the real command in its own process, on a real port.

The other web tests build the app object; this one runs the command a user types
(``setpiece serve`` was broken on every project with a member while they passed): it
starts on a project with or without members, whoever starts it and however they name
themselves, with one worker or two, lets a member log in with the one-time password
``setpiece user add`` printed, serves the board, and stops cleanly on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import CliRun

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
MEMBER = "dana"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """``setpiece ARGS serve`` in a process group of its own, stopped with Ctrl-C."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [str(Path(sys.executable).with_name("setpiece")), *args]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def wait_until_up(self, client: Any) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                pytest.fail(f"serve exited {self.process.returncode}: {err.strip() or out}")
            try:
                if client.get("/login").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail("serve did not answer within 60 s")

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, as a user stops it; returns the exit code and what it printed."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, out, err

    def kill(self) -> None:
        """Whatever is left of the group (only after a failure)."""
        if self.process.poll() is None or _group_alive(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def film(cli: Any, tmp_path: Path) -> Path:
    """A project with shot 1A (made before anyone is a member)."""
    assert cli("init", "film").code == 0
    root = tmp_path / "film"
    assert cli("-C", root, "scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    assert cli("-C", root, "shot", "add", "1", "--code", "1A", "--description", "x").code == 0
    return root


@pytest.fixture
def environment() -> dict[str, str]:
    """The environment of the server: nobody named, and a login name that is no member."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETPIECE_")}
    env["LOGNAME"] = env["USER"] = "walter"
    return env


def _login(client: Any, name: str, password: str) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    match = CSRF.search(page.text)
    assert match is not None, page.text[:500]
    answer = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": match.group(1), "next": "/"},
    )
    assert answer.status_code == 303, answer.text[:500]
    # A one-time password leads to setting one's own first; the API waits for it.
    assert answer.headers["location"] == "/account/password"
    assert client.get("/api/v1/me").status_code == 403
    form = client.get("/account/password")
    match = CSRF.search(form.text)
    assert form.status_code == 200 and match is not None, form.text[:500]
    mine = password + " and mine"
    done = client.post(
        "/account/password",
        data={"csrf_token": match.group(1), "new_password": mine, "repeat_password": mine},
    )
    assert done.status_code == 303 and done.headers["location"] == "/", done.text[:500]


def _starter(naming: str, film: Path, env: dict[str, str]) -> list[str]:
    """Names whoever starts the board the way ``naming`` says; returns the options it takes."""
    if naming == "--as a member":
        return ["--as", MEMBER]
    if naming == "--as a non-member":
        return ["--as", "zed"]
    if naming == "SETPIECE_USER":
        env["SETPIECE_USER"] = MEMBER
    elif naming == "[user] name":
        with (film / "setpiece.toml").open("a") as handle:
            handle.write(f'\n[user]\nname = "{MEMBER}"\n')
    else:
        assert naming == "nobody (a login name that is no member)"
    return []


@pytest.mark.parametrize(
    ("naming", "workers"),
    [
        ("--as a member", 1),
        ("SETPIECE_USER", 1),
        ("[user] name", 1),
        ("nobody (a login name that is no member)", 1),
        ("--as a non-member", 1),
        ("--as a member", 2),
        ("nobody (a login name that is no member)", 2),
    ],
)
def test_serve_starts_on_a_project_with_members_and_a_member_logs_in(
    cli: Any, film: Path, environment: dict[str, str], naming: str, workers: int
) -> None:
    import httpx

    added: CliRun = cli("-C", film, "--as", MEMBER, "user", "add", MEMBER, "--role", "admin")
    assert added.code == 0, added.err
    password = added.out.split("one-time password: ")[1].split()[0]
    args = ["-C", str(film), *_starter(naming, film, environment)]
    served = Served([*args, "serve", "--workers", str(workers)], environment, film.parent)
    try:
        with httpx.Client(base_url=served.url, timeout=10, follow_redirects=False) as client:
            served.wait_until_up(client)
            assert client.get("/board").status_code == 303  # no login yet: to /login
            _login(client, MEMBER, password)
            for _ in range(
                2 * workers
            ):  # several requests: with two workers, both are likely to serve one
                board = client.get("/board")
                assert board.status_code == 200
                assert "1A" in board.text
            assert client.get("/api/v1/me").json()["name"] == MEMBER
            outsider = httpx.get(f"{served.url}/api/v1/board", timeout=10)
            assert outsider.status_code == 401
        code, _, err = served.stop()
        assert code == 0, err
        assert "Traceback" not in err
        assert f"Setpiece board on {served.url}/" in err
        assert "no members" not in err
        deadline = time.monotonic() + 10
        while _group_alive(served.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(served.process.pid), "a worker outlived the server"
    finally:
        served.kill()


def test_serve_starts_on_a_project_without_members_and_says_nobody_can_log_in(
    film: Path, environment: dict[str, str]
) -> None:
    import httpx

    served = Served(["-C", str(film), "serve"], environment, film.parent)
    try:
        with httpx.Client(base_url=served.url, timeout=10, follow_redirects=False) as client:
            served.wait_until_up(client)
            page = client.get("/login")
            match = CSRF.search(page.text)
            assert match is not None
            refused = client.post(
                "/login",
                data={"username": "walter", "password": "x" * 12, "csrf_token": match.group(1)},
            )
            assert refused.status_code == 401
        code, _, err = served.stop()
        assert code == 0, err
        assert "the project has no members, so nobody can log in" in err
    finally:
        served.kill()
