"""Helpers of the attack suite: a film served by ``setpiece serve``, browsers and raw sockets.

The suite attacks the board as an outsider would, so nothing here reaches into the server:
the film is made with the services before the server starts, then everything goes over the
loopback (httpx, or a raw socket where a request must be left unfinished) or through the
``setpiece`` command, each in a process of its own.
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
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
NEW_PASSWORD = "a brand new passphrase 42"
SETPIECE = str(Path(sys.executable).with_name("setpiece"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(tmp: Path) -> dict[str, str]:
    """The environment of the server and of every command: nobody named, TMPDIR of our own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETPIECE_")}
    env["LOGNAME"] = env["USER"] = "walter"
    env["TMPDIR"] = str(tmp)
    return env


@dataclass
class Ran:
    """What one ``setpiece`` command gave."""

    code: int
    out: str
    err: str


def setpiece(
    root: Path, *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120
) -> Ran:
    """``setpiece -C ROOT ARGS`` in a process of its own (as a user types it)."""
    done = subprocess.run(
        [SETPIECE, "-C", str(root), *args],
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


class Served:
    """``setpiece -C ROOT serve --proxy-headers`` in a process group of its own."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [SETPIECE, "-C", str(root), "serve", "--proxy-headers", "--port", str(self.port)],
            cwd=root.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def wait_until_up(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited {self.process.returncode}: {self.stderr()}")
            try:
                if httpx.get(f"{self.url}/login", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("serve did not answer within 60 s")

    def pids(self) -> list[int]:
        """The server and its children (the workers)."""
        found = [self.process.pid]
        for pid in list(found):
            with contextlib.suppress(OSError):
                tasks = Path(f"/proc/{pid}/task")
                for task in tasks.iterdir():
                    found += [int(p) for p in (task / "children").read_text().split()]
        return found

    def stderr(self) -> str:
        return self.process.stderr.read() if self.process.stderr else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def open_temp_bytes(pids: list[int], folder: Path) -> int:
    """Bytes held in files under ``folder`` (deleted or not) that ``pids`` have open."""
    total = 0
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        with contextlib.suppress(OSError):
            for fd in fds.iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith(str(folder)):
                        total += os.stat(fd).st_size
    return total


@dataclass
class RawAnswer:
    """What a raw-socket request got back (status None: nothing within the wait)."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Unfinished:
    """An HTTP request whose body is never finished: headers, some of the body, then nothing."""

    def __init__(self, url: str, path: str, headers: dict[str, str], declared: int) -> None:
        port = int(url.rsplit(":", 1)[1])
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.boundary = "attackboundary"
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            f"Content-Type: multipart/form-data; boundary={self.boundary}",
            f"Content-Length: {declared}",
            *(f"{k}: {v}" for k, v in headers.items()),
            "",
            "",
        ]
        self.sent = 0
        self.closed_by_server = False
        self._send("\r\n".join(head).encode())
        self._send(
            (
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
        )

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
            self.sent += len(data)
        except OSError:  # the server answered and closed: what the fix does
            self.closed_by_server = True

    def send_some(self, size: int) -> None:
        chunk = b"\0" * 65536
        while size > 0 and not self.closed_by_server:
            self._send(chunk[: min(size, len(chunk))])
            size -= len(chunk)

    def answer(self, wait: float) -> RawAnswer:
        """The response, if one comes within ``wait`` seconds while the body is unfinished."""
        self.sock.settimeout(wait)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                more = self.sock.recv(65536)
                if not more:
                    break
                data += more
        except OSError:
            pass
        if not data.startswith(b"HTTP/"):
            return RawAnswer(None)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        return RawAnswer(int(lines[0].split()[1]), headers, body)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Forms(HTMLParser):
    """Every form of a page: its action and its inputs (name, type, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": named.get("action", ""), "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(
                (named.get("name", ""), named.get("type", "text").lower(), named.get("value", ""))
            )


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """An httpx client that behaves like the board's browser: cookie, CSRF token, Origin."""

    def __init__(self, url: str, **headers: str) -> None:
        import httpx

        self.url = url
        self.client = httpx.Client(
            base_url=url, timeout=20, follow_redirects=False, headers={"Origin": url, **headers}
        )
        self.csrf = ""

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    @property
    def cookie(self) -> str:
        return self.client.cookies.get("setpiece_session") or ""

    def login(self, name: str, password: str, **headers: str) -> Any:
        """Posts the login form; the answer is the form's (303 when it let the member in)."""
        page = self.client.get("/login")
        found = CSRF.search(page.text)
        assert found is not None, page.text[:300]
        self.csrf = found.group(1)
        return self.client.post(
            "/login",
            data={
                "username": name,
                "password": password,
                "csrf_token": found.group(1),
                "next": "/",
            },
            headers=headers,
        )

    def refresh_csrf(self, path: str = "/") -> None:
        page = self.client.get(path)
        found = CSRF.search(page.text)
        assert found is not None, f"{path}: {page.status_code} {page.text[:300]}"
        self.csrf = found.group(1)

    def set_password(self, current: str, new: str) -> Any:
        """Fills the board's ``/account/password`` form (whatever its fields are named)."""
        page = self.client.get("/account/password")
        assert page.status_code == 200, f"/account/password: {page.status_code}"
        posting = [
            f for f in forms_of(page.text) if any(t == "password" for _, t, _ in f["inputs"])
        ]
        assert posting, "no form with a password field on /account/password"
        form = posting[0]
        data: dict[str, str] = {}
        for name, kind, value in form["inputs"]:
            if not name:
                continue
            if kind == "password":
                is_current = any(w in name.lower() for w in ("current", "old"))
                data[name] = current if is_current else new
            elif kind not in ("submit", "button", "checkbox", "radio"):
                data[name] = value
        action = form["action"] or "/account/password"
        return self.client.post(action, data=data)

    def log_in_for_good(self, name: str, password: str) -> str:
        """Logs in; after a one-time password, sets a new one as the board asks.

        Returns:
            The member's password from now on.
        """
        answer = self.login(name, password)
        assert answer.status_code == 303, f"login of {name}: {answer.status_code}"
        if answer.headers["location"].startswith("/account/password"):
            changed = self.set_password(password, NEW_PASSWORD)
            assert changed.status_code in (200, 303), changed.text[:300]
            password = NEW_PASSWORD
            if self.client.get("/api/v1/me").status_code != 200:  # the change logged us out
                assert self.login(name, password).status_code == 303
        self.refresh_csrf()
        return password

    def post(self, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)


def alert_text(html: str) -> str:
    """The error the login page shows (its ``role="alert"`` element), else the whole body."""
    found = re.search(r'role="alert"[^>]*>(.*?)</', html, re.S)
    return found.group(1).strip() if found else html
