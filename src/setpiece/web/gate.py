"""The board's gate: who is asking, from where, and how much they may send, decided on the
headers before any request body is read; and the security headers of every answer.

Why a middleware of its own: FastAPI runs a route's dependencies (``deps.acting``) only once
it has parsed the route's body, and parsing a multipart upload writes it to a temporary
file first. An anonymous client could make the server write up to ``max_upload_mb`` to disk
(a client that never finished its body held a 157 MB file without sending a credential), so
the caller must be known before the first byte of the body is asked for.

What this module decides, for every request that may change something (not GET, HEAD or
OPTIONS), in this order, each refusal sent without reading the body:

1. A request that a browser may send on its own (it carries the session cookie, or no
   ``Authorization`` header) whose ``Origin`` (else ``Referer``) names another site than
   the board is 403, behind the CSRF token (``deps.py``) as a second line. A request with
   neither header passes to the token check; a Bearer token without the cookie is no
   browser's request and is not asked. The board's own origin is the request's scheme
   and ``Host``; behind ``setpiece serve --proxy-headers`` (``[web] proxy_headers``) the
   scheme comes from ``X-Forwarded-Proto`` (uvicorn rewrites it) and the host from
   ``X-Forwarded-Host`` where the proxy sends one.
2. The caller is identified as ``deps.py`` does (``auth.claim``: the session cookie or the
   Bearer token, then the member in the database): none, or one not valid, is 401. The
   login form is the one exception (``OPEN``): it is posted before there is a login, and
   its body is bounded to ``LOGIN_BODY_BYTES``.
3. Where the route alone says which action it is (``ACTIONS``: the uploads), a role that
   may not do it is 403, with the services' own check and message.
4. A body announced over its limit is 413: ``[web] max_upload_mb`` for a multipart upload,
   ``max_body_kb`` for anything else. A body that goes over it while it streams in is cut
   off with 413 where it crosses the limit; the form parser then closes (and so removes)
   the temporary file it was writing.
5. An upload (a multipart body) takes one of ``[web] max_uploads`` places for the
   board, at most ``max_uploads_per_user`` of them for one member, until its answer is
   sent: without a place it is 429 with ``Retry-After``. The places are counted in each
   worker process (``setpiece serve --workers N`` allows N times as many).

Every answer, the gate's refusals included, carries a Content-Security-Policy (scripts and
styles from this server only, ``frame-ancestors 'none'``), ``X-Content-Type-Options:
nosniff``, ``Referrer-Policy: same-origin``, and ``Strict-Transport-Security`` when the
request came over HTTPS (directly, or by the proxy's word under ``--proxy-headers``). The
interactive API docs (``/docs``, ``/redoc``) load their script from a CDN and start it
inline: they get a policy that allows that, and still no framing.

Refusals are answered by the app's own error handlers (``app.py``), so a refusal here reads
exactly as the same refusal from a route: JSON for the API, the error page for a form.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from setpiece.errors import PermissionDeniedError
from setpiece.web.auth import COOKIE, Identity, claim
from setpiece.web.deps import LOGIN, SAFE_METHODS, WebContext

__all__ = [
    "ACTIONS",
    "CSP",
    "DOCS_CSP",
    "HSTS",
    "LOGIN_BODY_BYTES",
    "OPEN",
    "RETRY_AFTER_SECONDS",
    "BodyTooLargeError",
    "Gate",
    "SecurityHeaders",
    "Uploads",
    "board_origin",
    "sent_origin",
]

CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from jsDelivr and start them with
# an inline script; nothing on them comes from a member, and they still may not be framed.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
DOCS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours
OPEN = frozenset({LOGIN})  # posted before there is a login
# The login form's fields are bounded (200 + 1,024 + 2,000 characters and the token): its body,
# percent-encoded at worst three bytes a character, fits well within this.
LOGIN_BODY_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = 10
# Routes whose action the path alone decides: the uploads, whose bodies are the large ones.
ACTIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/(?:api/v1/)?shots/[^/]+/takes"), "import_take"),
    ("POST", re.compile(r"/(?:api/v1/)?bible/[^/]+/[^/]+/refs"), "edit_breakdown"),
)

# Drawings: a body over the limit is most likely a drawing over its points limit.
ANNOTATIONS = re.compile(r"/api/v1/takes/.+/annotations")


class BodyTooLargeError(HTTPException):
    """A body over its limit (413), announced or found while it streams in."""

    def __init__(self, limit: int, key: str, hint: str = "") -> None:
        size = f"{limit // (1024 * 1024)} MB" if key == "max_upload_mb" else f"{limit} bytes"
        where = f" (setpiece.toml [web] {key})" if key else ""
        super().__init__(413, f"the request body is over the limit of {size}{where}{hint}")


def _hint(path: str) -> str:
    """What the body's own limit is, where a route has one a client can keep to."""
    if ANNOTATIONS.fullmatch(path):
        from setpiece.production.annotations import MAX_POINTS

        return f"; a drawing holds at most {MAX_POINTS:,} points"
    return ""


class Uploads:
    """The places for uploads in this process: ``total`` in all, ``per_member`` for one.

    Taken and given back on the event loop's thread only, so no lock is needed.
    """

    def __init__(self, per_member: int, total: int) -> None:
        self.per_member = per_member
        self.total = total
        self.taken: Counter[str] = Counter()

    def take(self, member: str) -> str | None:
        """Takes a place for ``member``; returns why there is none, or None once taken."""
        if self.taken[member] >= self.per_member:
            return (
                f"{member} is already sending {self.taken[member]} uploads, the most one member "
                f"may send at once ([web] max_uploads_per_user): try again when one is done"
            )
        if sum(self.taken.values()) >= self.total:
            return (
                f"the board is already receiving {self.total} uploads, the most it takes at "
                "once ([web] max_uploads): try again in a moment"
            )
        self.taken[member] += 1
        return None

    def give_back(self, member: str) -> None:
        self.taken[member] -= 1
        if self.taken[member] <= 0:
            del self.taken[member]


def _host_port(scheme: str, host: str) -> str:
    """``host[:port]`` lower-cased, without the scheme's default port (as an Origin has it)."""
    host = host.strip().lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return host


def board_origin(request: Request, proxy_headers: bool) -> str:
    """The origin the board is reached at: the request's scheme and host.

    Behind a proxy (``proxy_headers``) the host is the proxy's ``X-Forwarded-Host`` where it
    sends one; the scheme is already the proxy's word (uvicorn's ``--proxy-headers``).
    """
    scheme = request.url.scheme
    host = request.headers.get("host", "")
    forwarded = request.headers.get("x-forwarded-host")
    if proxy_headers and forwarded:
        host = forwarded.split(",")[0]
    return f"{scheme}://{_host_port(scheme, host)}"


def sent_origin(request: Request) -> str | None:
    """The origin the browser says the request comes from: ``Origin``, else ``Referer``'s.

    None when it sends neither; ``"null"`` for an opaque origin (a sandboxed frame, a file).
    """
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return None
        parts = urlsplit(referer)
        if not parts.scheme or not parts.netloc:
            return "null"
        origin = f"{parts.scheme}://{parts.netloc}"
    scheme, sep, host = origin.strip().partition("://")
    if not sep:
        return origin.strip().lower()[:200]
    scheme = scheme.lower()
    return f"{scheme}://{_host_port(scheme, host)}"[:200]


def _check_origin(request: Request, proxy_headers: bool) -> None:
    """Refuses a browser's change sent from another site (403).

    Raises:
        PermissionDeniedError: The Origin (or Referer) is not the board's.
    """
    if "authorization" in request.headers and COOKIE not in request.cookies:
        return  # a script with a token: no browser sends that header on its own
    sent = sent_origin(request)
    if sent is None:
        return  # not a browser, or one that hides it: the CSRF token still decides
    own = board_origin(request, proxy_headers)
    if sent != own:
        raise PermissionDeniedError(
            f"refused a change sent from {sent}, another site than this board ({own}); "
            "behind a reverse proxy, start the board with --proxy-headers"
        )


def _action(method: str, path: str) -> str | None:
    for wanted, pattern, action in ACTIONS:
        if method == wanted and pattern.fullmatch(path):
            return action
    return None


def _announced(scope: Scope) -> int | None:
    """The body's Content-Length (None when not announced).

    Raises:
        HTTPException: The header is not a whole number (400).
    """
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or len(value) > 19:
                raise HTTPException(400, "Content-Length is not a whole number")
            return int(value)
    return None


def _limited(receive: Receive, limit: int, key: str, hint: str = "") -> Receive:
    """``receive``, cutting the body off with 413 where it goes over ``limit`` bytes."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError(limit, key, hint)
        return message

    return counted


class Gate:
    """Pure ASGI: the caller, their origin and their body's size, before the body (see the
    module docstring)."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self.app = app
        self.context = context
        settings = context.settings
        self.uploads = Uploads(settings.max_uploads_per_user, settings.max_uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.context.settings
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit, key = (
            (settings.max_upload_bytes, "max_upload_mb")
            if upload
            else (settings.max_body_bytes, "max_body_kb")
        )
        method = scope["method"]
        member: str | None = None
        try:
            if method in SAFE_METHODS:
                pass  # a read: its body, if any, is never asked for, only bounded
            elif scope["path"] in OPEN:
                _check_origin(Request(scope), settings.proxy_headers)
                if limit > LOGIN_BODY_BYTES:
                    limit, key = LOGIN_BODY_BYTES, ""
            else:
                request = Request(scope)
                _check_origin(request, settings.proxy_headers)
                who = await self._identify(request, _action(method, scope["path"]))
                if upload:
                    member = who.name
            announced = _announced(scope)
            if announced is not None and announced > limit:
                raise BodyTooLargeError(limit, key, _hint(scope["path"]))
            if member is not None:
                full = self.uploads.take(member)
                if full is not None:
                    member = None
                    raise HTTPException(
                        429, full, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
                    )
        except Exception as refusal:  # answered as the app answers it, as from a route
            await _answer(scope, receive, send, refusal)
            return
        try:
            await self.app(scope, _limited(receive, limit, key, _hint(scope["path"])), send)
        finally:
            if member is not None:
                self.uploads.give_back(member)

    async def _identify(self, request: Request, action: str | None) -> Identity:
        """The caller, looked up as ``deps.py`` does; for an upload route, their role checked.

        Raises:
            AuthRequiredError: No credential, or one not valid (401).
            PermissionDeniedError: The role may not do the route's action (403).
        """
        look_up = claim(self.context, request)  # no I/O: what the headers claim
        context = self.context

        def check() -> Identity:
            who = look_up()
            if action is not None:
                production = context.production(who.name)
                with production.transaction(read_only=True) as session:
                    production.authorize(session, action)
            return who

        return await run_in_threadpool(check)


async def _answer(scope: Scope, receive: Receive, send: Send, refusal: Exception) -> None:
    """Sends the answer the app's own exception handler gives ``refusal``."""
    handlers: dict[Any, Callable[..., Any]] = getattr(scope.get("app"), "exception_handlers", {})
    handler = next((handlers[k] for k in type(refusal).__mro__ if k in handlers), None)
    response: Response
    if handler is None:  # an app without the board's handlers (never the board itself)
        status = getattr(refusal, "http_status", getattr(refusal, "status_code", 500))
        response = JSONResponse({"error": {"code": "refused", "message": str(refusal)}}, status)
    else:
        request = Request(scope, receive)
        if inspect.iscoroutinefunction(handler):
            response = await handler(request, refusal)
        else:
            response = await run_in_threadpool(handler, request, refusal)
    await response(scope, receive, send)


class SecurityHeaders:
    """Pure ASGI: the security headers of every answer (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] in DOCS else CSP
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if secure:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)
