"""The JSON API under ``/api/v1``: what the pages do, for scripts and other tools.

Each route reads its input, calls one service acting as the caller, and returns
the service's view as JSON; there is no rule here that the CLI does not share.
Lists are cursor pages (``{"items": [...], "next_cursor": ...}``, 100 by default).
Every number and string a client sends is bounded and checked before any
service sees it, so bad input is a 422, never a database error. Cursors are
signed by the server for the list that gave them (``production/paging.py``): one
that is forged, truncated, out of range or from another list is a 400.

A take is named by its id or by SHOT/NUMBER (``3A/2``) on every take route: their
paths end in ``{take:path}``, since ASGI decodes ``%2F`` before routing, so the
slash may be sent as is or encoded. A route under a take (``/takes/{take:path}/x``)
must be declared before ``/takes/{take:path}``, which would otherwise take its path.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from setpiece.production.context import Production
from setpiece.production.paging import ID, MAX_ID, CursorSigner, Page, page_of
from setpiece.production.views import dumps_views
from setpiece.web.auth import Identity
from setpiece.web.deps import acting, context_of, current

__all__ = ["EventAfter", "EventId", "PageCursor", "page_cursor", "router"]

T = TypeVar("T")

INT32 = 2**31 - 1
INT64 = 2**63


def _clean(value: str) -> str:
    """Text a database can store: valid UTF-8, no NUL characters."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_clean)]
Note = Annotated[str, Field(min_length=1, max_length=10000), AfterValidator(_clean)]
ShotCode = Annotated[str, PathParam(min_length=1, max_length=40), AfterValidator(_clean)]
TakeRef = Annotated[str, PathParam(min_length=1, max_length=40), AfterValidator(_clean)]
JobId = Annotated[int, PathParam(ge=1, le=INT32)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Filter = Annotated[str | None, Query(max_length=50), AfterValidator(lambda v: v and _clean(v))]
Version = Annotated[int | None, Field(ge=1, le=INT32)]
EventId = Annotated[int, Query(ge=0, le=MAX_ID, description="An event id: 0 to 2^31 - 1")]
EventAfter = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="An event id (default: the latest)")
]


@lru_cache(maxsize=8)
def _signer(secret: bytes) -> CursorSigner:
    return CursorSigner(secret)


class PageCursor:
    """The cursor a list was given, opened, and the signer of the page it answers with."""

    def __init__(self, value: str | None, signer: CursorSigner, scope: str) -> None:
        self.value = value
        self._signer = signer
        self._scope = scope

    def page(self, page: Page[T]) -> Page[T]:
        """``page`` with its next cursor signed for this list."""
        return self._signer.sign_page(page, self._scope)


def page_cursor(
    request: Request,
    cursor: Annotated[
        str | None,
        Query(description="The next_cursor of the page before, as the server gave it"),
    ] = None,
) -> PageCursor:
    """The ``cursor`` of a list route, its signature checked (a dependency).

    Raises:
        CursorError: A cursor this server did not give for this list (400).
    """
    signer = _signer(context_of(request).secret)
    scope = request.url.path
    return PageCursor(signer.open(cursor, scope), signer, scope)


router = APIRouter(prefix="/api/v1", tags=["api"])


def out(value: Any, status: int = 200) -> Response:
    """A service's view as JSON (orjson; views give their own shape)."""
    return Response(dumps_views(value), status, media_type="application/json")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApproveBody(_Body):
    take: Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_clean)]
    version: Version = None
    note: Annotated[
        str | None, Field(max_length=2000), AfterValidator(lambda v: v and _clean(v))
    ] = None


class RetakeBody(_Body):
    note: Note
    version: Version = None


class SubmitBody(_Body):
    note: Annotated[
        str | None, Field(max_length=2000), AfterValidator(lambda v: v and _clean(v))
    ] = None
    version: Version = None


class CommentBody(_Body):
    note: Note
    take: Annotated[
        str | None, Field(min_length=1, max_length=40), AfterValidator(lambda v: v and _clean(v))
    ] = None
    frame: Annotated[int | None, Field(ge=0, le=INT32)] = None


class RenderBody(_Body):
    takes: Annotated[int, Field(ge=1, le=100)] = 1
    generator: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_clean)] = (
        "previs"
    )
    kind: Literal["image", "video"] | None = None  # None: the project's [render] kind
    seed: Annotated[int | None, Field(ge=0, lt=INT64 - 200)] = None
    prompt: Annotated[
        str | None, Field(max_length=4000), AfterValidator(lambda v: v and _clean(v))
    ] = None
    # Quoted over [render] confirm_over, a render starts only when this says so.
    confirm: bool = False


class NewUserBody(_Body):
    name: Name
    role: Literal["viewer", "artist", "director", "admin"]


# What the OpenAPI document says the answers hold. Routes return orjson bytes straight from the
# services' views (validating 100 shots through pydantic on every page would cost more than
# reading them); these models only describe the shape, and tests/web/test_api.py checks that
# a real answer has exactly their fields.


class SubjectOut(BaseModel):
    name: str
    kind: str
    side: str | None
    depth: str | None
    prompt_override: str | None


class ShotOut(BaseModel):
    code: str
    scene: str
    position: int
    description: str
    size: str | None
    angle: str | None
    lens_mm: float | None
    camera_move: str | None
    planned_frames: int | None
    planned_seconds: float | None
    status: str
    subjects: list[SubjectOut]
    takes: int
    version: int
    updated_at: str = Field(description="ISO 8601, UTC")
    updated_by: str | None
    workflow: str | None = Field(
        default=None, description="The shot's own ComfyUI workflow file, if any"
    )


class ShotPageOut(BaseModel):
    items: list[ShotOut]
    next_cursor: str | None = Field(description="Pass back as cursor for the next page")


# Who, and the film as a whole -------------------------------------------------------------------


@router.get("/me", summary="The caller")
def me(who: Identity = Depends(current)) -> Response:
    return out({"name": who.name, "role": who.role, "via": who.via})


@router.get(
    "/dashboard",
    summary="Progress of the film, late shots, spend against the budget, and recent activity",
)
def get_dashboard(production: Production = Depends(acting)) -> Response:
    from setpiece.production.board import dashboard
    from setpiece.production.cost import budget_status
    from setpiece.production.views import jsonable

    # The page's two parts, as the page shows them: budget lines carry spent, queued, the
    # limit and what remains, per unit (decimal text, as `setpiece cost` prints them).
    return out({**dashboard(production).to_json(), "budget": jsonable(budget_status(production))})


@router.get("/board", summary="A column per shot status with its first shots")
def get_board(
    production: Production = Depends(acting),
    per_column: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    from setpiece.production.board import board

    return out({"columns": board(production, per_column=per_column)})


@router.get("/scenes", summary="Scenes in script order")
def scenes(
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.scenes import list_scenes

    scenes = list_scenes(production)
    return out(cursor.page(page_of(scenes, lambda s: s.position, cursor.value, limit, ID)))


# Shots ------------------------------------------------------------------------------------------


@router.get(
    "/shots",
    summary="Shots in script order, a page at a time",
    responses={200: {"model": ShotPageOut, "description": "A page of shots"}},
)
def shots(
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
    status: Filter = None,
    scene: Filter = None,
) -> Response:
    from setpiece.production.board import shots_page

    page = shots_page(production, cursor=cursor.value, limit=limit, status=status, scene=scene)
    return out(cursor.page(page))


@router.get("/shots/{code}", summary="One shot")
def shot(code: ShotCode, production: Production = Depends(acting)) -> Response:
    from setpiece.production.shots import get_shot

    return out(get_shot(production, code))


@router.get("/shots/{code}/takes", summary="A shot's takes with their recipes")
def shot_takes(
    code: ShotCode,
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.takes import list_takes

    takes = list_takes(production, code)
    return out(cursor.page(page_of(takes, lambda t: t.number, cursor.value, limit, ID)))


@router.post("/shots/{code}/takes", status_code=201, summary="Import a file as a new take")
def upload_take(
    code: ShotCode,
    file: Annotated[UploadFile, File(description="An image or a video")],
    production: Production = Depends(acting),
    generator: Annotated[
        str | None, Form(max_length=100), AfterValidator(lambda v: v and _clean(v))
    ] = None,
    model: Annotated[
        str | None, Form(max_length=200), AfterValidator(lambda v: v and _clean(v))
    ] = None,
    prompt: Annotated[
        str | None, Form(max_length=4000), AfterValidator(lambda v: v and _clean(v))
    ] = None,
    seed: Annotated[int | None, Form(ge=-INT64, lt=INT64)] = None,
) -> Response:
    from setpiece.production.views import Recipe

    result = import_upload(
        production, code, file, Recipe(backend=generator, model=model, prompt=prompt, seed=seed)
    )
    return out(result, 201)


@contextlib.contextmanager
def save_upload(file: UploadFile) -> Iterator[tuple[Path, str]]:
    """The upload as a file in a temporary folder, with the name its sender gave it; an
    error naming the temporary path names the sender's file instead."""
    import re
    import shutil

    from setpiece.errors import as_setpiece_error

    name = Path(file.filename or "upload").name
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[-100:].lstrip(".") or "upload"
    with tempfile.TemporaryDirectory(prefix="setpiece-upload-") as folder:
        target = Path(folder) / safe
        with target.open("wb") as handle:
            shutil.copyfileobj(file.file, handle, 1024 * 1024)
        try:
            yield target, name
        except Exception as exc:
            known = as_setpiece_error(exc)
            if known is None:
                raise
            shown = str(known).replace(str(target), name).replace(folder, "the upload")
            known.args = (" ".join(shown.split()),)
            raise known from None


def import_upload(production: Production, code: str, file: UploadFile, recipe: Any) -> Any:
    """Stores an uploaded file as a take of ``code`` (the import service checks everything)."""
    from setpiece.production.takes import import_takes

    with save_upload(file) as (path, _):
        return import_takes(production, code, [path], recipe)


@router.post("/shots/{code}/render", status_code=201, summary="Queue takes of the shot")
def render(code: ShotCode, body: RenderBody, production: Production = Depends(acting)) -> Response:
    """Quoted over ``[render] confirm_over``, refused (422, ``confirmation_required``, with
    the quote) unless the body says ``"confirm": true``."""
    from setpiece.generate.queue import enqueue

    report = enqueue(
        production,
        [code],
        takes=body.takes,
        generator=body.generator,
        kind=body.kind,
        seed=body.seed,
        prompt=body.prompt,
        unconfirmed=None if body.confirm else 'send "confirm": true to start it',
    )
    return out(report, 201)


@router.get("/shots/{code}/findings", summary="What the checks found on the shot")
def shot_findings(
    code: ShotCode,
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.records import list_findings

    found = list_findings(production, shot=code)
    return out(cursor.page(page_of(found, lambda f: f.id, cursor.value, limit, ID)))


@router.get("/shots/{code}/comments", summary="Comments on the shot, oldest first")
def shot_comments(
    code: ShotCode,
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.board import list_comments

    comments = list_comments(production, code)
    return out(cursor.page(page_of(comments, lambda c: c.id, cursor.value, limit, ID)))


@router.post("/shots/{code}/comments", status_code=201, summary="Comment on a shot, take or frame")
def comment(
    code: ShotCode, body: CommentBody, production: Production = Depends(acting)
) -> Response:
    from setpiece.production.review import add_comment

    return out(add_comment(production, code, body.note, take=body.take, frame=body.frame), 201)


@router.get("/shots/{code}/history", summary="Everything that happened to the shot")
def shot_history(
    code: ShotCode,
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.review import shot_history as history

    numbered = list(enumerate(history(production, code)))
    page = page_of(numbered, lambda pair: pair[0], cursor.value, limit, ID)
    return out(cursor.page(Page([item for _, item in page.items], page.next_cursor)))


@router.post("/shots/{code}/approve", summary="Circle a take and approve the shot (director)")
def approve(
    code: ShotCode, body: ApproveBody, production: Production = Depends(acting)
) -> Response:
    from setpiece.production.review import approve as approve_take

    return out(
        approve_take(production, code, body.take, note=body.note, expected_version=body.version)
    )


@router.post("/shots/{code}/retake", summary="Ask for a retake, saying why (director)")
def retake(code: ShotCode, body: RetakeBody, production: Production = Depends(acting)) -> Response:
    from setpiece.production.review import request_retake

    return out(request_retake(production, code, body.note, expected_version=body.version))


@router.post("/shots/{code}/submit", summary="Send the shot to review")
def submit(code: ShotCode, body: SubmitBody, production: Production = Depends(acting)) -> Response:
    from setpiece.production.shots import set_shot_status

    return out(
        set_shot_status(production, code, "review", note=body.note, expected_version=body.version)
    )


class StatusBody(_Body):
    status: Literal["todo", "wip", "review", "retake", "approved"]
    note: Annotated[
        str | None, Field(max_length=10000), AfterValidator(lambda v: v and _clean(v))
    ] = None
    version: Version = None


@router.post("/shots/{code}/status", summary="Move the shot to a status, as the workflow allows")
def shot_status(
    code: ShotCode, body: StatusBody, production: Production = Depends(acting)
) -> Response:
    """The board's drag and drop: the same service as ``setpiece shot set --status``, so the
    workflow's table and roles decide (a retake needs its reason; approved is reached only by
    approving a take)."""
    from setpiece.production.review import request_retake
    from setpiece.production.shots import set_shot_status

    if body.status == "retake":
        return out(request_retake(production, code, body.note or "", expected_version=body.version))
    return out(
        set_shot_status(
            production, code, body.status, note=body.note, expected_version=body.version
        )
    )


# Takes, findings, the queue, the feed, members --------------------------------------------------


@router.get("/posters/{sha256}", summary="A take's poster (a small JPEG), by its media's sha256")
def poster(
    sha256: Annotated[str, PathParam(min_length=64, max_length=64)],
    request: Request,
    production: Production = Depends(acting),
) -> Response:
    """Made on first request and kept; cached by the browser for good (the URL names the
    content it is made of). A take whose poster cannot be made gets a placeholder picture."""
    from setpiece.production.posters import PLACEHOLDER_SVG, poster_of

    found = poster_of(production, sha256)
    if found.sha256 is None or found.key is None:
        return Response(
            PLACEHOLDER_SVG,
            media_type="image/svg+xml",
            headers={"cache-control": "private, max-age=300", "x-setpiece-poster": "placeholder"},
        )
    headers = {"cache-control": "private, max-age=31536000, immutable", "etag": f'"{found.sha256}"'}
    if request.headers.get("if-none-match") == headers["etag"]:
        return Response(status_code=304, headers=headers)
    with production.store.open(found.key) as handle:
        return Response(handle.read(), media_type="image/jpeg", headers=headers)


@router.get(
    "/takes/{take:path}",
    summary="One take, by id or SHOT/NUMBER (3A/2; the slash as is or as %2F)",
)
def take(take: TakeRef, production: Production = Depends(acting)) -> Response:
    from setpiece.production.takes import get_take

    return out(get_take(production, take))


@router.get("/findings", summary="Findings of every check")
def findings(
    production: Production = Depends(acting),
    shot: Filter = None,
    kind: Filter = None,
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.records import list_findings

    found = list_findings(production, shot=shot, kind=kind)
    return out(cursor.page(page_of(found, lambda f: f.id, cursor.value, limit, ID)))


@router.get("/jobs", summary="Render jobs, newest first")
def jobs(
    production: Production = Depends(acting),
    state: Filter = None,
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.jobs import list_jobs

    return out(cursor.page(list_jobs(production, state=state, cursor=cursor.value, limit=limit)))


@router.post("/jobs/{job_id}/retry", summary="Queue a failed or cancelled job again")
def retry(job_id: JobId, production: Production = Depends(acting)) -> Response:
    from setpiece.production.jobs import retry_job

    return out(retry_job(production, job_id))


@router.post("/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
def cancel(job_id: JobId, production: Production = Depends(acting)) -> Response:
    from setpiece.production.jobs import cancel_job

    return out(cancel_job(production, job_id))


@router.get("/events", summary="Changes after an event id, oldest first")
def events(
    production: Production = Depends(acting),
    after: EventId = 0,
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.feed import events_after
    from setpiece.production.paging import decode_cursor

    key = decode_cursor(cursor.value, [ID])
    return out(cursor.page(events_after(production, key[0] if key else after, limit=limit)))


@router.get("/users", summary="Members and their roles")
def users(
    production: Production = Depends(acting),
    cursor: PageCursor = Depends(page_cursor),
    limit: Limit = 100,
) -> Response:
    from setpiece.production.records import list_users

    users = list_users(production)
    return out(cursor.page(page_of(users, lambda u: u.name, cursor.value, limit, str)))


@router.post(
    "/users", status_code=201, summary="Add a member; the answer holds a one-time password"
)
def add_user(body: NewUserBody, production: Production = Depends(acting)) -> Response:
    from setpiece.production.accounts import add_member

    return out(add_member(production, body.name, body.role), 201)


UserName = Annotated[str, PathParam(min_length=1, max_length=100), AfterValidator(_clean)]
TokenId = Annotated[int, PathParam(ge=1, le=INT32)]


@router.get("/users/{name}/tokens", summary="A member's API tokens (never the tokens themselves)")
def user_tokens(name: UserName, production: Production = Depends(acting)) -> Response:
    from setpiece.production.accounts import list_tokens

    return out(list_tokens(production, name))


@router.delete("/users/{name}/tokens/{token_id}", summary="Revoke one API token of a member")
def revoke_token(
    name: UserName, token_id: TokenId, production: Production = Depends(acting)
) -> Response:
    from setpiece.production.accounts import revoke_tokens

    return out({"revoked": revoke_tokens(production, name, token_id)})


@router.delete("/users/{name}/tokens", summary="Revoke every API token of a member")
def revoke_all_tokens(name: UserName, production: Production = Depends(acting)) -> Response:
    from setpiece.production.accounts import revoke_tokens

    return out({"revoked": revoke_tokens(production, name)})


def disclosure_report(production: Production) -> Any:
    """The provenance capability's disclosure of the cut."""
    from setpiece.provenance.disclosure import disclosure

    return disclosure(production)


@router.get("/disclosure", summary="The AI-use disclosure of the cut")
def get_disclosure(production: Production = Depends(acting)) -> Response:
    return out(disclosure_report(production))
