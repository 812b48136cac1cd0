"""The server-rendered pages: dashboard, script, board, shot, render queue, members, login.

Pages read through the same services as the API and post plain HTML forms
(each with the session's CSRF token, checked for every form of this router by
``deps.form_token`` before the route runs), so they work without JavaScript; the
small ``static/app.js`` adds the live parts (it follows ``/api/v1/events/stream``
and swaps in the parts of the page that changed) and the take comparison.
Buttons a member's role does not allow are not shown; the services refuse them
anyway.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from setpiece.model.enums import Role
from setpiece.model.workflow import required_role
from setpiece.production.context import Production
from setpiece.web.api import JobId, PageCursor, disclosure_report, import_upload, page_cursor
from setpiece.web.auth import (
    Identity,
    csrf_token,
    new_session,
    read_session,
    set_session_cookie,
    write_session,
)
from setpiece.web.deps import context_of, current, form_token

__all__ = ["error_page", "router"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
# Every form posted to a page is checked here, once, before its route reads it.
router = APIRouter(include_in_schema=False, dependencies=[Depends(form_token)])


def page_production(request: Request, who: Identity = Depends(current)) -> Production:
    """The project as the logged-in member (looked up once, with ``who``)."""
    return context_of(request).production(who.name)


def _can(who: Identity | None, action: str) -> bool:
    return who is not None and Role(who.role).rank >= required_role(action).rank


def render(
    request: Request, name: str, who: Identity | None, status: int = 200, **values: Any
) -> HTMLResponse:
    context = context_of(request)
    session = read_session(context, request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "csrf": csrf_token(context, session["sid"]) if session else "",
            "can": lambda action: _can(who, action),
            "fps": context.fps,
            **values,
        },
        status_code=status,
    )


def error_page(
    request: Request, status: int, message: str, confirm: dict[str, Any] | None = None
) -> HTMLResponse:
    """The error page; ``confirm`` (``action``, ``fields``, ``quote``) makes it ask instead:
    the quote, and a button that posts the same form again, confirmed."""
    who = getattr(request.state, "identity", None)
    return render(
        request,
        "error.html",
        who if isinstance(who, Identity) else None,
        status,
        status_code=status,
        message=message,
        confirm=confirm,
    )


def _local(target: str | None) -> str:
    """Only a path on this server may follow a login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# Login ------------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    context = context_of(request)
    session = read_session(context, request)
    if session is not None and session["user"]:
        return RedirectResponse(_local(next), 303)
    fresh = session is None
    if session is None:
        session = new_session(None)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "who": None,
            "csrf": csrf_token(context, session["sid"]),
            "can": lambda action: False,
            "next": _local(next),
            "error": None,
        },
    )
    if fresh:
        set_session_cookie(context, request, response, session)
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    from setpiece.errors import PermissionDeniedError
    from setpiece.production.accounts import CHANGE_PAGE, authenticate, session_member

    context = context_of(request)
    try:
        user = authenticate(
            context.production(actor=""),
            username,
            password,
            context.settings.login_policy,
            # Behind a proxy, uvicorn's --proxy-headers puts the real client here.
            address=request.client.host if request.client else "",
        )
    except PermissionDeniedError as exc:
        return render(
            request, "login.html", None, exc.http_status, next=_local(next), error=exc.message
        )
    found = session_member(context.production(actor=""), user.name)
    if found is None:  # deleted between the two reads
        return render(request, "login.html", None, 401, next=_local(next), error="log in again")
    # A one-time password leads straight to setting one's own.
    response = RedirectResponse(CHANGE_PAGE if found.must_change else _local(next), 303)
    write_session(context, request, response, user.name, found.generation)
    return response


@router.post("/logout")
def logout(request: Request, who: Identity = Depends(current)) -> Response:
    """Ends every session of the member, in every browser, not only this one."""
    from setpiece.production.accounts import end_sessions

    context = context_of(request)
    end_sessions(context.production(who.name))
    response = RedirectResponse("/login", 303)
    write_session(context, request, response, None)
    return response


# Account ----------------------------------------------------------------------------------------


@router.get("/account/password")
def password_form(request: Request, who: Identity = Depends(current)) -> Response:
    return render(request, "password.html", who, error=None, page="account")


@router.post("/account/password")
def password_change(
    request: Request,
    who: Identity = Depends(current),
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Sets one's own password; every other session of the member ends, this one goes on.

    After a one-time password's login the session itself is the proof: no current password.
    """
    from setpiece.errors import InvalidInputError, PermissionDeniedError
    from setpiece.production.accounts import change_password

    context = context_of(request)
    try:
        if new_password != repeat_password:
            raise InvalidInputError("the two new passwords differ: type the same one twice")
        generation = change_password(
            context.production(who.name),
            None if who.must_change else current_password,
            new_password,
        )
    except (InvalidInputError, PermissionDeniedError) as exc:
        return render(
            request, "password.html", who, exc.http_status, error=exc.message, page="account"
        )
    response = RedirectResponse("/", 303)
    write_session(context, request, response, who.name, generation)
    return response


@router.get("/users")
def members_page(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
) -> Response:
    """Members and their API tokens: every member's for an admin, one's own otherwise."""
    from setpiece.production.accounts import list_tokens
    from setpiece.production.records import list_users

    members = list_users(production)
    tokens = {
        m.name: list_tokens(production, m.name)
        for m in members
        if m.name == who.name or _can(who, "manage_users")
    }
    return render(request, "users.html", who, members=members, tokens=tokens, page="users")


@router.post("/users/{name}/tokens/revoke")
def revoke(
    name: str,
    request: Request,
    token: Annotated[str, Form(max_length=20)],
    production: Production = Depends(page_production),
) -> Response:
    """Revokes one API token of ``name`` (``token`` = its id) or all of them (``all``)."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.accounts import revoke_tokens

    if token != "all" and not re.fullmatch(r"\d{1,9}", token):
        raise InvalidInputError(f"token {token[:20]!r} is neither an id nor 'all'")
    revoke_tokens(production, name, None if token == "all" else int(token))
    return RedirectResponse("/users", 303)


# Pages ------------------------------------------------------------------------------------------


@router.get("/")
def home(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.production.board import dashboard
    from setpiece.production.cost import budget_status

    return render(
        request,
        "dashboard.html",
        who,
        board=dashboard(production),
        budget=budget_status(production),
        page="dashboard",
    )


@router.get("/script")
def script(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
) -> Response:
    """The screenplay, formatted as one, each scene's shots beside it; a line opens its shot."""
    from setpiece.production.screenplay import screenplay

    return render(request, "script.html", who, scenes=screenplay(production), page="script")


BoardFlag = Annotated[str | None, Query(max_length=5)]


@router.get("/board")
def board_page(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
    group: Annotated[str, Query(max_length=20)] = "status",
    status: Annotated[str | None, Query(max_length=50)] = None,
    scene: Annotated[str | None, Query(max_length=50)] = None,
    findings: BoardFlag = None,
    stale: BoardFlag = None,
    provisional: BoardFlag = None,
    open: Annotated[str | None, Query(max_length=20000)] = None,
) -> Response:
    """Every shot as a card, grouped by status or scene, filtered by what the URL says (so a
    view can be shared). A filter naming no status or scene shows why, with the filters."""
    from setpiece.errors import InvalidInputError, NotFoundError
    from setpiece.model.enums import ShotStatus
    from setpiece.production.board import BoardFilter, board_view

    wanted = BoardFilter(
        status=status or None,
        scene=scene or None,
        findings=_flag(findings),
        stale=_flag(stale),
        provisional=_flag(provisional),
    )
    try:
        view, problem, code = board_view(production, wanted, grouping=group), None, 200
    except (InvalidInputError, NotFoundError) as exc:
        view, problem, code = None, exc.message, exc.http_status
    response = render(
        request,
        "board.html",
        who,
        code,
        view=view,
        problem=problem,
        wanted=wanted,
        grouping=group,
        statuses=[s.value for s in ShotStatus],
        opened=None if open is None else set(open.split(",")),
        can_move=_can(who, "set_shot_status"),
        can_direct=_can(who, "approve"),
        page="board",
    )
    return _compressed(request, response)


def _flag(value: str | None) -> bool:
    return value in ("1", "true", "yes", "on")


def _compressed(request: Request, response: HTMLResponse) -> Response:
    """The page gzipped for a browser that takes it: a board of 2,000 cards is 1.7 MB of
    HTML and 0.1 MB gzipped (``bench/web_board_scale.py``)."""
    import gzip

    if "gzip" not in request.headers.get("accept-encoding", "") or len(response.body) < 4096:
        return response
    body = gzip.compress(bytes(response.body), compresslevel=5)
    compressed = Response(body, response.status_code)
    compressed.raw_headers = [
        *((k, v) for k, v in response.raw_headers if k != b"content-length"),
        (b"content-length", str(len(body)).encode()),
        (b"content-encoding", b"gzip"),
        (b"vary", b"Accept-Encoding"),
    ]
    return compressed


@router.get("/shots")
def shot_list(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
    status: Annotated[str | None, Query(max_length=50)] = None,
    cursor: PageCursor = Depends(page_cursor),
) -> Response:
    from setpiece.production.board import shots_page

    page = cursor.page(shots_page(production, status=status or None, cursor=cursor.value))
    return render(request, "shots.html", who, shots=page, wanted=status or "", page="board")


@router.get("/shots/{code}")
def shot_page(
    code: str,
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.generate.settings import render_settings
    from setpiece.production.annotations import drawing_counts
    from setpiece.production.assignments import shot_assignment
    from setpiece.production.board import list_comments
    from setpiece.production.records import list_findings, list_users
    from setpiece.production.review import shot_history
    from setpiece.production.shots import get_shot
    from setpiece.production.takes import list_takes

    shot = get_shot(production, code)
    takes = list_takes(production, shot.code)
    findings = list_findings(production, shot=shot.code)
    counts: dict[str, int] = {}
    for finding in findings:
        if finding.take is not None:
            counts[finding.take] = counts.get(finding.take, 0) + 1
    pick, other = compare_pair(takes)
    drawn = drawing_counts(production, shot.code)
    return render(
        request,
        "shot.html",
        who,
        shot=shot,
        assignment=shot_assignment(production, shot.code),
        members=[m.name for m in list_users(production)],
        drawings=drawn,
        draw_take=_draw_take(takes, pick, drawn),
        takes=takes,
        labels={t.id: t.label for t in takes},
        pick=pick,
        compare=(pick.id if pick else "", other.id if other else ""),
        findings=findings,
        finding_counts=counts,
        frames=production.frames,
        render_kind=render_settings(production.config.settings).kind,
        comments=list_comments(production, shot.code),
        history=shot_history(production, shot.code)[-50:],
        page="board",
    )


def _draw_take(takes: list[Any], pick: Any | None, drawn: dict[str, int]) -> str:
    """The take the shot page's drawing viewer opens on: the pick when it has drawings or
    no take has any, else the first take with drawings (so an artist sent to the shot
    finds the director's drawing without looking for it)."""
    if pick is not None and (pick.id in drawn or not drawn):
        return str(pick.id)
    first = next((t for t in takes if t.media is not None and t.id in drawn), None)
    return str(first.id) if first is not None else ""


def compare_pair(takes: list[Any]) -> tuple[Any | None, Any | None]:
    """The takes the shot page's comparison opens on: the pick, and the newest other take.

    The pick is the circled take, else the provisional one, else the newest with a picture.
    The other take is the newest with a picture that is not the pick's own ancestor or
    descendant (a retimed or colour-matched copy shows the same picture), else the newest
    other one at all.
    """
    shown = [t for t in takes if t.media is not None]
    pick = (
        next((t for t in shown if t.status == "circled"), None)
        or next((t for t in shown if t.provisional), None)
        or (shown[-1] if shown else None)
    )
    if pick is None:
        return None, None
    parent = {t.id: t.recipe.parent for t in takes}
    lineage = {pick.id}
    link = parent.get(pick.id)
    while link and link not in lineage:
        lineage.add(link)
        link = parent.get(link)
    grown = True
    while grown:  # the pick's descendants
        grown = False
        for take in takes:
            if take.id not in lineage and parent.get(take.id) in lineage:
                lineage.add(take.id)
                grown = True
    others = [t for t in shown if t.id != pick.id]
    unrelated = [t for t in others if t.id not in lineage]
    newest = (unrelated or others or [None])[-1]
    return pick, newest


def _back(code: str) -> RedirectResponse:
    return RedirectResponse(f"/shots/{quote(code)}", 303)


def _version(value: str) -> int | None:
    from setpiece.errors import InvalidInputError

    if not value:
        return None
    if not re.fullmatch(r"\d{1,9}", value):
        raise InvalidInputError(f"version {value[:20]!r} is not a whole number")
    return int(value)


@router.post("/shots/{code}/approve")
def approve(
    code: str,
    request: Request,
    take: Annotated[str, Form(max_length=40)],
    version: Annotated[str, Form(max_length=20)] = "",
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.production.review import approve as approve_take

    approve_take(production, code, take, expected_version=_version(version))
    return _back(code)


@router.post("/shots/{code}/retake")
def retake(
    code: str,
    request: Request,
    note: Annotated[str, Form(max_length=10000)] = "",
    version: Annotated[str, Form(max_length=20)] = "",
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.production.review import request_retake

    request_retake(production, code, note, expected_version=_version(version))
    return _back(code)


@router.post("/shots/{code}/submit")
def submit(
    code: str,
    request: Request,
    version: Annotated[str, Form(max_length=20)] = "",
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.production.shots import set_shot_status

    set_shot_status(production, code, "review", expected_version=_version(version))
    return _back(code)


@router.post("/shots/{code}/comments")
def comment(
    code: str,
    request: Request,
    note: Annotated[str, Form(max_length=10000)] = "",
    take: Annotated[str, Form(max_length=40)] = "",
    frame: Annotated[str, Form(max_length=12)] = "",
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.production.review import add_comment

    # The number typed is the one the page shows ([project] first_frame); stored 0-based.
    stored = production.frames.stored(frame) if frame else None
    add_comment(production, code, note, take=take or None, frame=stored)
    return _back(code)


@router.post("/shots/{code}/takes")
def upload(
    code: str,
    request: Request,
    file: Annotated[UploadFile, File()],
    prompt: Annotated[str, Form(max_length=4000)] = "",
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.production.views import Recipe

    import_upload(production, code, file, Recipe(prompt=prompt or None))
    return _back(code)


@router.post("/shots/{code}/render")
def render_shot(
    code: str,
    request: Request,
    takes: Annotated[int, Form(ge=1, le=100)] = 1,
    kind: Annotated[str, Form(max_length=10)] = "",
    generator: Annotated[str, Form(max_length=100)] = "previs",
    confirm: Annotated[str, Form(max_length=10)] = "",
    production: Production = Depends(page_production),
) -> Response:
    """Queues takes; quoted over ``[render] confirm_over``, it asks first with the quote."""
    from setpiece.errors import ConfirmationRequiredError, web_message
    from setpiece.generate.queue import enqueue

    try:
        enqueue(
            production,
            [code],
            takes=takes,
            kind=kind or None,
            generator=generator,
            unconfirmed=None if confirm else "start it below, or go back",
        )
    except ConfirmationRequiredError as exc:
        fields = {"takes": str(takes), "kind": kind, "generator": generator, "confirm": "yes"}
        asked = {"action": f"/shots/{code}/render", "fields": fields, "quote": exc.quote_lines}
        return error_page(request, exc.http_status, web_message(exc.message), confirm=asked)
    return RedirectResponse("/jobs", 303)


@router.get("/jobs")
def jobs_page(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
    state: Annotated[str | None, Query(max_length=50)] = None,
    cursor: PageCursor = Depends(page_cursor),
) -> Response:
    from setpiece.production.jobs import job_summary, list_jobs

    return render(
        request,
        "jobs.html",
        who,
        jobs=cursor.page(list_jobs(production, state=state or None, cursor=cursor.value)),
        summary=job_summary(production),
        state=state or "",
        page="jobs",
    )


@router.post("/jobs/{job_id}/{action}")
def job_action(
    job_id: JobId,
    action: str,
    request: Request,
    production: Production = Depends(page_production),
) -> Response:
    from setpiece.errors import NotFoundError
    from setpiece.production.jobs import cancel_job, retry_job

    if action == "retry":
        retry_job(production, job_id)
    elif action == "cancel":
        cancel_job(production, job_id)
    else:
        raise NotFoundError(f"no job action {action[:20]!r}: retry or cancel")
    return RedirectResponse("/jobs", 303)


@router.post("/takes/{take_id}/retry")
def take_retry(
    take_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    request: Request,
    production: Production = Depends(page_production),
) -> Response:
    """The shot page's Retry on a failed take: its last render job goes back to the queue."""
    from setpiece.production.jobs import retry_take

    view = retry_take(production, take_id)
    return _back(view.shot) if view.shot is not None else RedirectResponse("/jobs", 303)


@router.get("/disclosure")
def disclosure_page(
    request: Request,
    who: Identity = Depends(current),
    production: Production = Depends(page_production),
) -> Response:
    """The AI-use disclosure of the cut (the provenance capability's report)."""
    return render(
        request, "disclosure.html", who, report=disclosure_report(production), page="disclosure"
    )
