"""The shot board's settings: one frozen dataclass of defaults, read from ``[web]``.

Every limit the server enforces lives here, so the CLI (``setpiece serve``), the
app and the tests read the same numbers::

    [web]
    session_hours = 12          # how long a login lasts
    max_body_kb = 1024          # JSON and form bodies
    max_upload_mb = 512         # one take uploaded from the browser
    poll_seconds = 1.0          # how often the live feed looks for changes
    stream_seconds = 300        # a live connection is renewed after this (the browser reconnects)
    slow_after = 3              # failed logins before each further attempt must wait
    lock_after = 10             # failed logins that lock the account ...
    lock_minutes = 15           # ... for this long
    threads = 4                 # threads a worker runs the (synchronous) services in
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from setpiece.errors import InvalidInputError
from setpiece.production.accounts import LoginPolicy

__all__ = ["WebSettings", "web_settings"]


@dataclass(frozen=True)
class WebSettings:
    session_hours: float = 12.0
    max_body_kb: int = 1024
    max_upload_mb: int = 512
    poll_seconds: float = 1.0
    stream_seconds: float = 300.0
    slow_after: int = 3
    lock_after: int = 10
    lock_minutes: int = 15
    # The services are synchronous and hold the GIL while they work, so more threads add
    # switching, not throughput. Under 50 clients (bench/web_latency.py, 2 workers, SQLite,
    # the cached API page) the p99 was 55-77 ms with 4 threads a worker, 48-69 ms with 2 and
    # 100-124 ms with 8; 4 still leaves threads free while an upload or two are imported.
    # Raise it for a remote PostgreSQL, where a thread mostly waits for the server.
    threads: int = 4

    @property
    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(self.slow_after, self.lock_after, self.lock_minutes)

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


_RANGES: dict[str, tuple[float, float]] = {
    "session_hours": (0.01, 24 * 90),
    "max_body_kb": (1, 1024 * 1024),
    "max_upload_mb": (1, 1024 * 1024),
    "poll_seconds": (0.01, 60),
    "stream_seconds": (1, 86400),
    "slow_after": (1, 1000),
    "lock_after": (1, 1000),
    "lock_minutes": (1, 100000),
    "threads": (1, 1000),
}


def web_settings(settings: dict[str, Any], **overrides: Any) -> WebSettings:
    """``[web]`` of setpiece.toml over the defaults, then ``overrides``.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or out of range,
            named as ``[web] key``.
    """
    section = settings.get("web", {})
    if not isinstance(section, dict):
        raise InvalidInputError("[web] in setpiece.toml must be a table")
    merged = {**section, **{k: v for k, v in overrides.items() if v is not None}}
    known = {f.name: f for f in fields(WebSettings)}
    values: dict[str, Any] = {}
    for key, value in merged.items():
        if key not in known:
            raise InvalidInputError(
                f"[web] {key} is not a setting: use one of {', '.join(sorted(known))}"
            )
        default = getattr(WebSettings, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"[web] {key} must be a number, not {value!r}")
        if isinstance(default, int) and not isinstance(default, bool) and value != int(value):
            raise InvalidInputError(f"[web] {key} must be a whole number, not {value!r}")
        low, high = _RANGES[key]
        if not low <= value <= high:
            raise InvalidInputError(f"[web] {key} = {value} is out of range: give {low} to {high}")
        values[key] = type(default)(value)
    chosen = replace(WebSettings(), **values)
    if chosen.lock_after < chosen.slow_after:
        raise InvalidInputError("[web] lock_after must be at least slow_after")
    return chosen
