"""The shot board's FastAPI app: one shared database and store, a ``Production`` per request.

What this module decides:
- One app serves one project. The database engine and the media store are opened
  once; each request builds a ``Production`` acting as the logged-in member, so
  the services check that member's role, exactly as for the CLI.
- Every error leaves as ``{"error": {"code", "message"}}`` with the status the
  error class names (``errors.py``); pages show the same message as HTML, and a
  page asked for without a login redirects to ``/login``.
- Before any route runs, and before any body is read, the gate (``gate.py``) knows who
  is asking and from where: a change without a valid login is 401, one sent from another
  site 403, an upload by a role that may not import 403, a body over its limit 413 and
  an upload beyond ``[web] max_uploads_per_user`` or ``max_uploads`` 429.
- Media leaves only by content hash (``/media/{sha256}``), from the project's store,
  with HTTP range requests so a browser can scrub a video.
- Every response carries a strict Content-Security-Policy (scripts and styles
  from this server only), ``nosniff`` and ``frame-ancestors 'none'``, and HSTS over HTTPS
  (``gate.SecurityHeaders``).

The app sits at the top of the web package: it puts the API and the pages together, and
what their routes depend on (the context, the caller, CSRF) lives in ``deps.py``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import mimetypes
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

from setpiece.errors import SetpieceError, as_setpiece_error, web_message
from setpiece.production.accounts import CHANGE_PAGE, PasswordChangeRequiredError
from setpiece.production.context import Production
from setpiece.web.api import EventAfter
from setpiece.web.api import router as api_router
from setpiece.web.auth import AuthRequiredError, load_secret
from setpiece.web.bible import api_router as bible_api_router
from setpiece.web.bible import page_router as bible_page_router
from setpiece.web.deps import SAFE_METHODS, WebContext, acting, is_api
from setpiece.web.gate import Gate, SecurityHeaders
from setpiece.web.pages import error_page
from setpiece.web.pages import router as pages_router
from setpiece.web.review import api_router as review_api_router
from setpiece.web.review import page_router as review_page_router
from setpiece.web.settings import web_settings

__all__ = ["PROXY_HEADERS_ENV", "app_from_env", "create_app"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PROXY_HEADERS_ENV = "SETPIECE_PROXY_HEADERS"  # --proxy-headers, for the worker processes


def error_json(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    416: "range_not_satisfiable",
    422: "invalid_input",
    429: "too_many_attempts",
}


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SetpieceError)
    async def setpiece_error(request: Request, exc: SetpieceError) -> Response:
        if not is_api(request):
            if isinstance(exc, AuthRequiredError) and request.method in SAFE_METHODS:
                from urllib.parse import quote

                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", 303)
            if isinstance(exc, PasswordChangeRequiredError) and request.method in SAFE_METHODS:
                return RedirectResponse(CHANGE_PAGE, 303)
            return error_page(request, exc.http_status, web_message(exc.message))
        return error_json(exc.http_status, exc.code, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        code = _HTTP_CODES.get(exc.status_code, "error")
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path[:200]}"
        if not is_api(request) and request.method in SAFE_METHODS:
            return error_page(request, exc.status_code, message)
        return error_json(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for error in exc.errors()[:3]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            why = str(error.get("msg", "invalid"))
            if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
                why = str(error["ctx"]["error"])  # the validator's own words, no "Value error, "
            parts.append(f"{where}: {why}" if where else why)
        message = "; ".join(parts) or "the request is not valid"
        if not is_api(request):
            return error_page(request, 422, message)
        return error_json(422, "invalid_input", message)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        known = as_setpiece_error(exc)  # a full disk, a read-only folder: 503, as StorageError
        if known is not None:
            log.warning("%s %s: %s", request.method, request.url.path, known)
            return await setpiece_error(request, known)
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_json(500, "internal", "internal error: see the server's log")


def create_app(
    project: str | os.PathLike[str] | None = None,
    *,
    database_url: str | None = None,
    **overrides: Any,
) -> FastAPI:
    """The shot board for a project (found like the CLI finds it).

    Args:
        project: The project folder (default: found upward from the working folder).
        database_url: Overrides the project's database.
        **overrides: Settings over ``[web]`` of setpiece.toml (see ``WebSettings``).

    Raises:
        ProjectError, SchemaError, StorageError: As ``Production.open``.
        InvalidInputError: A bad ``[web]`` setting.
    """
    from setpiece.pipeline.hooks import install

    install()  # uploads and renders meet the arrival checks, as from the CLI
    # Opened for nobody: each request acts as the member who logged in (or sent a token).
    opened = Production.open_for_server(project, database_url=database_url)
    try:
        settings = web_settings(opened.config.settings, **overrides)
        secret = load_secret(opened.config.root / ".setpiece")
    except BaseException:
        opened.close()
        raise
    context = WebContext(opened.config, opened.db, opened.store, opened.fps, settings, secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        # Everything loaded so far (FastAPI, SQLAlchemy, the routes: a few hundred thousand
        # objects) lives as long as the server: out of the collector's sight, a full
        # collection no longer walks it. Those walks stalled a request for about 70 ms every
        # few hundred requests (p99 73 ms against a p50 of 3 ms on one connection; 9 ms after).
        gc.collect()
        gc.freeze()
        yield
        context.db.close()

    app = FastAPI(
        title="Setpiece shot board",
        version="1",
        description="The production's shared board: shots, takes, findings, review and the "
        "render queue. Send an API token as 'Authorization: Bearer TOKEN' "
        "('setpiece user token NAME'). Lists are pages of 100 by default: pass next_cursor "
        "back as cursor for the next one.",
        lifespan=lifespan,
    )
    app.state.context = context
    _install_errors(app)

    # First: its routes under a take (``/takes/{take}/annotations``) would otherwise be
    # taken by ``/takes/{take:path}``.
    app.include_router(review_api_router)
    app.include_router(api_router)
    app.include_router(bible_api_router)
    app.include_router(pages_router)
    app.include_router(bible_page_router)
    app.include_router(review_page_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/media/{sha256}", tags=["media"], summary="A stored file, by its sha256")
    def media(
        sha256: str,
        request: Request,
        production: Production = Depends(acting),
    ) -> Response:
        from setpiece.production.board import media_file

        found = media_file(production, sha256)
        media_type = mimetypes.guess_type("x" + found.ext)[0] or "application/octet-stream"
        headers = {"cache-control": "private, max-age=31536000, immutable"}
        local = context.store.local_path(found.key)
        if local is not None:
            if not local.is_file():
                from setpiece.errors import StorageError

                raise StorageError(
                    f"media {found.sha256[:12]}… is missing from the store: run 'setpiece fsck'"
                )
            return FileResponse(local, media_type=media_type, headers=headers)

        def chunks() -> Any:
            with context.store.open(found.key) as handle:
                while block := handle.read(1024 * 1024):
                    yield block

        return StreamingResponse(chunks(), media_type=media_type, headers=headers)

    @app.get("/api/v1/events/stream", tags=["live"], summary="Server-sent events: every change")
    async def stream(
        request: Request, after: EventAfter = None, production: Production = Depends(acting)
    ) -> StreamingResponse:
        """``event: change`` for every new event of the history (its id is the event id, so a
        reconnecting browser resumes with Last-Event-ID), and ``event: jobs`` when the render
        queue's counts change."""
        from setpiece.production.feed import event_id, events_after, latest_event_id
        from setpiece.production.jobs import job_summary
        from setpiece.production.views import jsonable

        # The caller is looked up now: once the stream has begun, a 401 could no longer be sent.
        await asyncio.to_thread(lambda: production.actor)
        resume = request.headers.get("last-event-id")
        start = after
        if resume is not None:
            start = event_id(resume, "Last-Event-ID")
        if start is None:
            start = await asyncio.to_thread(latest_event_id, production)

        async def feed() -> AsyncIterator[bytes]:
            last = start
            jobs: Any = None
            began = time.monotonic()
            quiet = 0.0
            yield b"retry: 2000\n\n"
            while time.monotonic() - began < context.settings.stream_seconds:
                if await request.is_disconnected():
                    return
                seen = context.wake.generation
                page = await asyncio.to_thread(events_after, production, last, limit=200)
                for change in page.items:
                    last = change.id
                    yield (
                        f"id: {change.id}\nevent: change\ndata: ".encode()
                        + orjson.dumps(jsonable(change))
                        + b"\n\n"
                    )
                summary = await asyncio.to_thread(job_summary, production)
                if summary != jobs:
                    jobs = summary
                    yield b"event: jobs\ndata: " + orjson.dumps(summary) + b"\n\n"
                quiet += context.settings.poll_seconds
                if quiet >= 15:
                    quiet = 0.0
                    yield b": ping\n\n"
                await context.wake.wait(seen, context.settings.poll_seconds)

        return StreamingResponse(
            feed(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    # The last added is the outermost: the headers go on the gate's refusals too.
    app.add_middleware(Gate, context=context)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_env() -> FastAPI:
    """The app for ``SETPIECE_PROJECT`` (and ``SETPIECE_DATABASE_URL``, and
    ``SETPIECE_PROXY_HEADERS=1`` for ``--proxy-headers``): uvicorn's factory when
    ``setpiece serve --workers N`` starts several worker processes."""
    return create_app(
        os.environ.get("SETPIECE_PROJECT"),
        database_url=os.environ.get("SETPIECE_DATABASE_URL"),
        proxy_headers=os.environ.get(PROXY_HEADERS_ENV) == "1" or None,
    )
