"""The shot board's settings: one frozen dataclass of defaults, read from ``[web]``.

Every limit the server enforces lives here, so the CLI (``setpiece serve``), the
app and the tests read the same numbers::

    [web]
    session_hours = 12          # how long a login lasts
    max_body_kb = 1024          # JSON and form bodies
    max_upload_mb = 512         # one take uploaded from the browser
    max_uploads_per_user = 2    # uploads one member may send at once (more: 429) ...
    max_uploads = 8             # ... and all members together, in each worker process
    proxy_headers = false       # trust X-Forwarded-Proto/Host (setpiece serve --proxy-headers)
    poll_seconds = 1.0          # how often the live feed looks for changes
    stream_seconds = 300        # a live connection is renewed after this (the browser reconnects)
    slow_after = 3              # failed logins before each further attempt must wait
    lock_after = 10             # failed logins that lock a name from one address ...
    lock_minutes = 15           # ... for this long
    threads = 4                 # threads a worker runs the (synchronous) services in

The table is read by :func:`setpiece.config.load_section`: the ranges are declared on
the fields; ``lock_after`` may not be below ``slow_after``, nor ``max_uploads`` below
``max_uploads_per_user``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from setpiece.config import load_section, setting
from setpiece.production.accounts import LoginPolicy

__all__ = ["WebSettings", "web_settings"]


@dataclass(frozen=True)
class WebSettings:
    """Every limit the shot board's server enforces (see the module docstring)."""

    session_hours: float = setting(12.0, low=0.01, high=24 * 90)
    max_body_kb: int = setting(1024, low=1, high=1024 * 1024)
    max_upload_mb: int = setting(512, low=1, high=1024 * 1024)
    # An upload holds a temporary file of up to max_upload_mb while it arrives, and a thread
    # while it is imported: these bound the disk and the threads that uploads can take.
    max_uploads_per_user: int = setting(2, low=1, high=1000)
    max_uploads: int = setting(8, low=1, high=100000)
    proxy_headers: bool = setting(
        False, help="the scheme and host of a request come from a reverse proxy's headers"
    )
    poll_seconds: float = setting(1.0, low=0.01, high=60)
    stream_seconds: float = setting(300.0, low=1, high=86400)
    slow_after: int = setting(3, low=1, high=1000)
    lock_after: int = setting(10, low=1, high=1000)
    lock_minutes: int = setting(15, low=1, high=100000)
    # The services are synchronous and hold the GIL while they work, so more threads add
    # switching, not throughput. Under 50 clients (bench/web_latency.py, 2 workers, SQLite,
    # the cached API page) the p99 was 55-77 ms with 4 threads a worker, 48-69 ms with 2 and
    # 100-124 ms with 8; 4 still leaves threads free while an upload or two are imported.
    # Raise it for a remote PostgreSQL, where a thread mostly waits for the server.
    threads: int = setting(4, low=1, high=1000)

    def __post_init__(self) -> None:
        if self.lock_after < self.slow_after:
            raise ValueError(
                f"lock_after: {self.lock_after} is below slow_after ({self.slow_after}); "
                "an account must slow down before it locks"
            )
        if self.max_uploads < self.max_uploads_per_user:
            raise ValueError(
                f"max_uploads: {self.max_uploads} is below max_uploads_per_user "
                f"({self.max_uploads_per_user}): one member may not have more places than the board"
            )

    @property
    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(self.slow_after, self.lock_after, self.lock_minutes)

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def web_settings(settings: dict[str, Any], **overrides: Any) -> WebSettings:
    """``[web]`` of setpiece.toml over the defaults, then ``overrides`` (``setpiece serve``'s).

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or out of range,
            named as ``setpiece.toml [web] key`` (:func:`setpiece.config.load_section`).
    """
    section = settings.get("web")
    given = {key: value for key, value in overrides.items() if value is not None}
    if given and isinstance(section, dict | None):
        section = {**(section or {}), **given}
    return load_section(WebSettings, section, section="web")
