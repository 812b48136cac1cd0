"""Helpers of the web tests: a film with members of every role, a logged-in client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from setpiece.production.context import Production

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Film:
    production: Production
    passwords: dict[str, str]
    tokens: dict[str, str]
    app: Any
    shot: str
    takes: list[str]

    def as_(self, name: str) -> Production:
        return Production(self.production.config, self.production.db, self.production.store, name)


def make_film(production: Production, make: Any, **settings: Any) -> Film:
    from setpiece.production.accounts import add_member, issue_token, reset_password
    from setpiece.web.app import create_app

    one_time = {"ana": add_member(production, "ana", "admin").password}
    for name, role in (("dora", "director"), ("art", "artist"), ("vic", "viewer")):
        one_time[name] = add_member(production, name, role).password
    passwords, tokens = {}, {}
    for name in one_time:
        owner = Production(production.config, production.db, production.store, name)
        # Past their first login: a chosen password (a one-time one leads to /account/password).
        passwords[name] = reset_password(owner, name, f"{name} chose this password").password
        tokens[name] = issue_token(owner, name)
    scene = make.scene("INT. TRAIN - NIGHT")
    shot = make.shot("1A", scene, description="Anna walks", duration=2)
    takes = [make.take(shot, prompt="Anna walks the corridor", seed=42), make.take(shot, seed=7)]
    app = create_app(
        production.config.root, database_url=production.config.database_url, **settings
    )
    return Film(production, passwords, tokens, app, shot, takes)


class Browserless:
    """A TestClient logged in through the login form, sending the CSRF token like app.js."""

    def __init__(self, app: Any, address: str = "testclient") -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(
            app, raise_server_exceptions=False, follow_redirects=False, client=(address, 50000)
        )
        self.csrf = ""

    def login(self, name: str, password: str) -> Any:
        page = self.client.get("/login")
        self.csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        response = self.client.post(
            "/login",
            data={"username": name, "password": password, "csrf_token": self.csrf, "next": "/"},
        )
        if response.status_code == 303:
            home = self.client.get(response.headers["location"])  # "/" or the password page
            self.csrf = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
        return response

    def post(self, url: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.post(url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)


def error_of(response: Any) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert "\n" not in body["error"]["message"]
    return body["error"]


class LiveServer:
    """The app under a real uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import socket
        import threading

        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
