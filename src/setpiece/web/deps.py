"""What every route of the shot board depends on: the app's context, the caller, the project
acting as the caller, and the page forms' CSRF check.

Why a module of its own: the app (``app.py``), the API (``api.py``) and the pages
(``pages.py``) all need these, and the app includes the other two; kept in the app, they made
the web modules import each other in a circle. The web package imports in one direction:
``settings`` and ``auth`` at the bottom, then ``deps``, then ``api``, then ``pages``, then
``app``, which puts them together (``tests/web/test_deps.py`` keeps it so).

What this module decides:
- Who is asking is checked before a route runs and before its input is validated: no login
  is 401, a change made with the session cookie without the session's CSRF token is 403.
- A request with an ``Authorization`` header needs no CSRF token: a browser never sends
  one on its own, so it is no ambient authority (``auth.py``).
- Page forms (``form_token``, the pages router's dependency) carry the token as the
  ``csrf_token`` field; scripts calling the API send it as ``X-CSRF-Token``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from setpiece.production.context import Production
from setpiece.web.auth import CSRF_FIELD, CSRF_HEADER, Identity, claim, identify, require_csrf
from setpiece.web.settings import WebSettings

if TYPE_CHECKING:
    from itsdangerous import URLSafeTimedSerializer

    from setpiece.project import ProjectConfig
    from setpiece.store.db import Database
    from setpiece.store.media import MediaStore

__all__ = [
    "LOGIN",
    "SAFE_METHODS",
    "WebContext",
    "acting",
    "context_of",
    "current",
    "form_token",
    "is_api",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN = "/login"  # the one page form a visitor without a login may post


class Wake:
    """Wakes this process's event streams at once when a live review session moves.

    A stream otherwise looks for changes every ``[web] poll_seconds`` (1 s), and a follower
    would see the leader's move up to that late: bench/review_latency.py measured p95
    1.03 s with polls alone, 0.11 s with this wake-up (load average 14-19, 2 cores). Only
    the streams of the worker that took the move wake; with ``--workers N`` the others
    still see it at their next poll. Used from the event loop only (no lock needed).
    """

    def __init__(self) -> None:
        self.generation = 0
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> asyncio.Event:
        # One per event loop: an event belongs to the loop it was first used in (the server
        # has one; a TestClient may start a loop per request).
        loop = asyncio.get_running_loop()
        if self._event is None or self._loop is not loop:
            self._event, self._loop = asyncio.Event(), loop
        return self._event

    async def notify(self) -> None:
        self.generation += 1
        woken = self._current()
        self._event = asyncio.Event()  # the next waiters wait for the next move
        woken.set()

    async def wait(self, seen: int, seconds: float) -> None:
        """Returns after ``seconds``, or sooner once a move after generation ``seen``."""
        if self.generation != seen:
            return
        # An event, not a condition: a stream cancelled while waiting (a client gone, the
        # server stopping) leaves no lock behind ("Lock is not acquired" with a condition).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._current().wait(), seconds)


class WebContext:
    """What every request shares: the project's config, database, store and settings."""

    def __init__(
        self,
        config: ProjectConfig,
        database: Database,
        store: MediaStore,
        fps: Fraction,
        settings: WebSettings,
        secret: bytes,
    ) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.config = config
        self.db = database
        self.store = store
        self.fps = fps
        self.settings = settings
        self.secret = secret
        self.signer: URLSafeTimedSerializer = URLSafeTimedSerializer(
            secret, salt="setpiece-session"
        )
        self.wake = Wake()

    def production(self, actor: str | Callable[[], str]) -> Production:
        """The project as ``actor`` sees it: the services check that member's role."""
        production = Production(self.config, self.db, self.store, actor)
        production._fps = self.fps  # read once at start: the rate of a film never changes
        return production


def is_api(request: Request) -> bool:
    """Whether the request is for the API (JSON answers) rather than a page (HTML)."""
    path = request.url.path
    return path.startswith(("/api/", "/media/")) or path == "/openapi.json"


def context_of(request: Request) -> WebContext:
    """The app's context (a dependency): one per app, shared by every request."""
    context = request.app.state.context
    assert isinstance(context, WebContext)
    return context


def current(request: Request) -> Identity:
    """The member making the request (401 without one); API changes by cookie need CSRF.

    Raises:
        AuthRequiredError: No login or token, or one no longer valid (401).
        PermissionDeniedError: An API change by session cookie without its CSRF token (403).
    """
    context = context_of(request)
    cached = getattr(request.state, "identity", None)
    if isinstance(cached, Identity):
        return cached
    who = identify(context, request)
    if who.via == "session" and request.method not in SAFE_METHODS and is_api(request):
        require_csrf(context, request, request.headers.get(CSRF_HEADER))
    request.state.identity = who
    return who


async def acting(request: Request) -> Production:
    """The project acting as the caller (401 without one); API changes by cookie need CSRF.

    Async: what the request claims is checked here without I/O (token syntax, the session's
    signature, the CSRF token). For a read, the member is looked up in the database by the
    project itself when the endpoint's first service opens its transaction, on the endpoint's
    thread: one trip to the thread pool instead of two (with 8 threads and 50 clients, the
    second trip made an API page cost 3.1 ms of CPU instead of 1.6 ms). A change looks the
    member up here, first.

    Raises:
        AuthRequiredError: No login or token, or one no longer valid (401).
        PermissionDeniedError: An API change by session cookie without its CSRF token (403).
    """
    context = context_of(request)
    look_up = claim(context, request)
    if (
        request.method not in SAFE_METHODS
        and is_api(request)
        and "authorization" not in request.headers
    ):
        require_csrf(context, request, request.headers.get(CSRF_HEADER))

    def who() -> str:
        found = look_up()
        request.state.identity = found
        return found.name

    production = context.production(who)
    if request.method not in SAFE_METHODS:
        # A change is refused (401) before its body is even read, as before any other check.
        await run_in_threadpool(lambda: production.actor)
    return production


async def form_token(request: Request) -> None:
    """The CSRF check of every page form: the pages router's dependency, run before the route's.

    A form posted with the session cookie must carry the session's token as ``csrf_token``;
    the login form always must (it is posted before there is a login). Elsewhere a visitor
    without a login is told so first (401, as for a page read), and a request with an
    ``Authorization`` header needs no token. Reads pass.

    Raises:
        AuthRequiredError: A page form other than the login, posted without a login (401).
        PermissionDeniedError: The token is missing or wrong (403).
    """
    if request.method in SAFE_METHODS:
        return
    context = context_of(request)
    if request.url.path != LOGIN:
        claim(context, request)  # no I/O: the route looks the member up
        if "authorization" in request.headers:
            return
    form = await request.form()  # parsed once: the route's form fields read the same
    sent = form.get(CSRF_FIELD)
    require_csrf(context, request, sent if isinstance(sent, str) else None)
