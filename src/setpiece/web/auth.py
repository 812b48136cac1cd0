"""Who is asking: session cookies, CSRF tokens and Bearer tokens.

Decisions:
- A browser session is a cookie signed with itsdangerous (HMAC-SHA1 over a
  timestamped payload): ``{"sid": random, "user": name or null, "gen": generation}``. It is HttpOnly,
  SameSite=Lax, Secure when the request came over HTTPS, and expires after
  ``[web] session_hours``. Every visitor gets one (anonymous), so the login form
  itself carries a CSRF token; logging in makes a fresh ``sid`` (no fixation).
- A session is valid while its ``gen`` is the member's session generation, read with
  their role on every request (``accounts.session_member``): logging out, a password
  change and an admin's reset raise it, ending every session of that member at once, a
  cookie copied before too. A session made by a one-time password can only reach
  ``/account/password`` and ``/logout`` until a new password is set (403 elsewhere).
- The CSRF token is an HMAC of the session's ``sid`` (synchroniser token without
  server state): forms send it as ``csrf_token``, scripts as ``X-CSRF-Token``.
  Every state-changing request made with a cookie must carry it (``deps.py`` checks).
- API clients send ``Authorization: Bearer sp_...``; a token is not ambient
  authority, so it needs no CSRF token. Tokens are looked up by their SHA-256.
- The user's role is read from the database on every request, never from the
  cookie, so a changed role takes effect at once; the services check it.

The bottom of the web package: it imports no other web module but the settings, and names
what it needs of the app's context as ``Keys`` (``deps.WebContext`` is one).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from setpiece.errors import PermissionDeniedError

if TYPE_CHECKING:
    from itsdangerous import URLSafeTimedSerializer

    from setpiece.production.context import Production
    from setpiece.web.settings import WebSettings

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "AuthRequiredError",
    "Identity",
    "Keys",
    "claim",
    "csrf_token",
    "identify",
    "load_secret",
    "new_session",
    "read_session",
    "require_csrf",
    "set_session_cookie",
    "write_session",
]

COOKIE = "setpiece_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SECRET_ENV = "SETPIECE_WEB_SECRET"
SECRET_FILE = "web-secret"


class AuthRequiredError(PermissionDeniedError):
    """No session or token, or one that is no longer valid."""

    http_status = 401
    code = "unauthorized"


class Keys(Protocol):
    """What the checks here need of the app's context (``deps.WebContext``)."""

    secret: bytes
    signer: URLSafeTimedSerializer
    settings: WebSettings

    def production(self, actor: str) -> Production:
        """The project acting as ``actor`` (``""``: nobody, to look a member up)."""
        ...


@dataclass(frozen=True)
class Identity:
    """The logged-in member and how they came in."""

    name: str
    role: str
    via: str  # "session" or "token"
    must_change: bool = False  # logged in with a one-time password, not yet changed


def load_secret(state_dir: Path) -> bytes:
    """The signing key: ``SETPIECE_WEB_SECRET``, else ``.setpiece/web-secret`` (made 0600 once).

    Several servers of one shared project must share the key: set the variable on each.
    """
    named = os.environ.get(SECRET_ENV)
    if named:
        return named.encode()
    path = state_dir / SECRET_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def read_session(context: Keys, request: Request) -> dict[str, Any] | None:
    """The session in the request's cookie, or None when absent, forged or expired."""
    from itsdangerous import BadSignature

    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = context.signer.loads(raw, max_age=int(context.settings.session_hours * 3600))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        return None
    user = data.get("user")
    generation = data.get("gen", 0)  # cookies made before generations name none: 0
    if not isinstance(generation, int) or isinstance(generation, bool):
        return None
    return {"sid": data["sid"], "user": user if isinstance(user, str) else None, "gen": generation}


def new_session(user: str | None, generation: int = 0) -> dict[str, Any]:
    """A session with a fresh ``sid`` for ``user`` (None: anonymous) in ``generation``."""
    return {"sid": secrets.token_urlsafe(18), "user": user, "gen": generation}


def set_session_cookie(
    context: Keys, request: Request, response: Response, session: dict[str, Any]
) -> None:
    response.set_cookie(
        COOKIE,
        context.signer.dumps(session),
        max_age=int(context.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def write_session(
    context: Keys, request: Request, response: Response, user: str | None, generation: int = 0
) -> dict[str, Any]:
    """Sets a fresh session cookie (a new ``sid``) for ``user`` (None: anonymous) in the
    member's session ``generation``."""
    session = new_session(user, generation)
    set_session_cookie(context, request, response, session)
    return session


def csrf_token(context: Keys, sid: str) -> str:
    return hmac.new(context.secret, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()


def require_csrf(context: Keys, request: Request, sent: str | None) -> None:
    """Refuses a cookie-authenticated change without the session's CSRF token.

    Raises:
        PermissionDeniedError: Missing or wrong token (403).
    """
    session = read_session(context, request)
    if (
        session is None
        or not sent
        # Bytes: compare_digest refuses a str with characters beyond ASCII (a 500, not a 403).
        or not hmac.compare_digest(
            sent.encode("utf-8", "replace"), csrf_token(context, session["sid"]).encode()
        )
    ):
        raise PermissionDeniedError("missing or wrong CSRF token: reload the page and try again")


def identify(context: Keys, request: Request) -> Identity:
    """The member behind a Bearer token or a session cookie.

    Raises:
        AuthRequiredError: Neither is given, or what is given is not valid (401).
    """
    return claim(context, request)()


def claim(context: Keys, request: Request) -> Callable[[], Identity]:
    """What the request claims, checked without the database; call the result to look the
    member up (a database read, made on the thread that then serves the request).

    Raises:
        AuthRequiredError: No token or session, or a malformed header (401); calling the
            result raises it for an unknown or revoked token, a deleted account or an
            ended session, and ``PasswordChangeRequiredError`` (403) for a session made by a
            one-time password anywhere but ``/account/password`` and ``/logout``.
    """
    from setpiece.production.accounts import user_for_token

    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthRequiredError(
                "use 'Authorization: Bearer TOKEN' ('setpiece user token NAME')"
            )

        def by_token() -> Identity:
            user = user_for_token(context.production(actor=""), token)
            if user is None:
                raise AuthRequiredError(
                    "unknown or revoked API token: make one with 'setpiece user token'"
                )
            return Identity(user.name, user.role, "token")

        return by_token
    session = read_session(context, request)
    if session is None or session["user"] is None:
        raise AuthRequiredError("log in first (/login), or send an API token")
    name, generation = session["user"], session["gen"]
    path = request.url.path

    def by_session() -> Identity:
        from setpiece.production.accounts import (
            CHANGE_PAGE,
            PasswordChangeRequiredError,
            session_member,
        )

        found = session_member(context.production(actor=""), name, generation)
        if found is None:
            raise AuthRequiredError(
                "your session has ended (logged out, or the password changed): log in again"
            )
        if found.must_change and path not in (CHANGE_PAGE, "/logout"):
            raise PasswordChangeRequiredError(
                f"you logged in with a one-time password: set your own at {CHANGE_PAGE} first"
            )
        return Identity(found.user.name, found.user.role, "session", found.must_change)

    return by_session
