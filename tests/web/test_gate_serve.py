"""The gate (``web/gate.py``) on ``setpiece serve`` as a user starts it, with raw sockets.

What depends on the real server: a client that sends the headers of an upload and part of
its body, then nothing more. The attack of issue 20 held a 157 MB temporary file that way
without a credential; here, scaled down, the server's open files (``/proc/PID/fd``, in the
``TMPDIR`` it was given) show which temporary files it holds while such clients wait.
Proxy headers (``--proxy-headers``) decide the scheme (HSTS) and the board's origin.
"""

from __future__ import annotations

import os
import re
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from web.helpers import make_film
from web.test_serve import Served

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/fd"),
]

BOUNDARY = "B0undary"
PART = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
    "Content-Type: image/png\r\n\r\n"
).encode()
MB = 1024 * 1024
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def temp_files(pid: int, folder: Path) -> list[str]:
    """The files under ``folder`` that process ``pid`` holds open (deleted ones included)."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(str(folder)):
            found.append(target)
    return found


def wait_for(check: Any, what: str, seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"waited {seconds} s for {what}")


def begin_upload(port: int, headers: str, length: int | None, send: int) -> socket.socket:
    """Sends an upload's headers and ``send`` bytes of its file, and no more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sized = f"Content-Length: {length}\r\n" if length is not None else ""
    sock.sendall(
        (
            f"POST /api/v1/shots/1A/takes HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{sized}{headers}\r\n"
        ).encode()
        + PART
        + b"\0" * send
    )
    return sock


def status_of(sock: socket.socket) -> tuple[int, str]:
    """The status and the head of the answer waiting on ``sock``."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        if not chunk:
            break
        head += chunk
    text = head.decode("latin-1")
    return int(text.split(" ", 2)[1]), text


@pytest.fixture
def served(production: Any, make: Any, tmp_path: Path, request: Any) -> Any:
    """``setpiece serve`` on a film with a 4 MB upload limit, in a TMPDIR of its own."""
    film = make_film(production, make)
    root = production.config.root
    with (root / "setpiece.toml").open("a") as handle:
        handle.write("\n[web]\nmax_upload_mb = 4\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETPIECE_")}
    env["TMPDIR"] = str(tmp_path / "server-tmp")
    (tmp_path / "server-tmp").mkdir()
    args = getattr(request, "param", [])
    server = Served(["-C", str(root), "serve", *args], env, root.parent)
    server.film = film  # type: ignore[attr-defined]
    server.tmp = tmp_path / "server-tmp"  # type: ignore[attr-defined]
    try:
        import httpx

        with httpx.Client(base_url=server.url, timeout=15) as client:
            server.wait_until_up(client)
        yield server
        code, _, err = server.stop()
        assert code == 0, err
        assert "Traceback" not in err, err
    finally:
        server.kill()


def test_an_unfinished_upload_holds_a_file_only_for_a_member(served: Any) -> None:
    import httpx

    pid, tmp, port = served.process.pid, served.tmp, served.port
    token = served.film.tokens["art"]
    # Without a credential: 401 on the headers, while the body is still coming.
    for credential in ("", "Authorization: Bearer sp_" + "0" * 43 + "\r\n"):
        outsider = begin_upload(port, credential, 3 * MB + 500, 2 * MB)
        try:
            status, _ = status_of(outsider)
            assert status == 401
            time.sleep(0.3)  # what the server would have written, it would have by now
            assert temp_files(pid, tmp) == []
        finally:
            outsider.close()
    # A member's unfinished uploads do hold their files (the check above can see one) ...
    auth = f"Authorization: Bearer {token}\r\n"
    first = begin_upload(port, auth, 3 * MB + 500, 2 * MB)
    second = begin_upload(port, auth, 3 * MB + 500, 2 * MB)
    try:
        wait_for(lambda: len(temp_files(pid, tmp)) == 2, "the two uploads' temporary files")
        # ... and a third at once is 429, read from nothing.
        with httpx.Client(base_url=served.url, timeout=15) as client:
            third = client.post(
                "/api/v1/shots/1A/takes",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("small.png", b"\0" * 1000, "image/png")},
            )
            assert third.status_code == 429, third.text
            assert third.headers["retry-after"] == "10"
            assert len(temp_files(pid, tmp)) == 2
    finally:
        first.close()
        second.close()
    # Gone clients give their files and their places back.
    wait_for(lambda: temp_files(pid, tmp) == [], "the temporary files to be removed")
    with httpx.Client(base_url=served.url, timeout=15) as client:
        again = client.post(
            "/api/v1/shots/1A/takes",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("small.png", b"\0" * 1000, "image/png")},
        )
        assert again.status_code == 422, again.text  # read, and no image


def test_an_upload_streamed_past_the_limit_is_cut_off_and_its_file_removed(
    served: Any,
) -> None:
    pid, tmp, port = served.process.pid, served.tmp, served.port
    auth = f"Authorization: Bearer {served.film.tokens['art']}\r\nTransfer-Encoding: chunked\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        sock.sendall(
            (
                f"POST /api/v1/shots/1A/takes HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{auth}\r\n"
            ).encode()
            + f"{len(PART):x}\r\n".encode()
            + PART
            + b"\r\n"
        )
        block = b"\0" * (256 * 1024)
        sent = 0
        held = False
        while sent < 8 * MB and not select.select([sock], [], [], 0)[0]:
            sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            sent += len(block)
            held = held or bool(temp_files(pid, tmp))
            time.sleep(0.01)
        status, head = status_of(sock)
        assert status == 413, head
        assert 4 * MB <= sent < 8 * MB
        assert held, "the upload never reached a temporary file: the check could not fail"
        wait_for(lambda: temp_files(pid, tmp) == [], "the cut-off upload's file to be removed")
    finally:
        sock.close()


@pytest.mark.parametrize("served", [["--proxy-headers"]], indirect=True)
def test_behind_the_proxy_hsts_and_the_origin_come_from_its_headers(served: Any) -> None:
    import httpx

    film = served.film
    proxy = {"x-forwarded-proto": "https", "x-forwarded-host": "board.example"}
    with httpx.Client(base_url=served.url, timeout=15, follow_redirects=False) as client:
        assert "strict-transport-security" not in client.get("/login").headers
        page = client.get("/login", headers=proxy)
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        token = CSRF.search(client.get("/login").text)
        assert token is not None
        logged = client.post(
            "/login",
            data={"username": "dora", "password": film.passwords["dora"], "csrf_token": token[1]},
        )
        assert logged.status_code == 303, logged.text
        home = CSRF.search(client.get("/").text)
        assert home is not None
        csrf = {"x-csrf-token": home[1]}

        def comment(**headers: str) -> int:
            answer = client.post(
                "/api/v1/shots/1A/comments", json={"note": "x"}, headers={**csrf, **headers}
            )
            return answer.status_code

        assert comment(**proxy, origin="https://board.example") == 201
        assert comment(**proxy, origin=served.url) == 403  # the proxy says the board is elsewhere
        assert comment(**proxy, origin="http://board.example") == 403  # not over https
        assert comment(origin=served.url) == 201  # reached directly, on the loopback
        assert comment(origin="https://evil.example") == 403
