"""The review room on the web: assignments, drawings on frames and playlists.

JSON routes under ``/api/v1``, the "my shots" page (``/mine``), and the playlists'
pages (``/playlists`` and its player, ``/playlists/{id}``, whose ``static/player.js``
plays, decides and follows live sessions through these same routes). Each route calls the
same service as its command (``setpiece shot assign``, ``setpiece playlist ...``), acting
as the caller; roles are checked by the services, bodies by pydantic (bad input is a 422
naming the field and the limit).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from setpiece.production.annotations import MAX_POINTS, MAX_SHAPES, MAX_TEXT
from setpiece.production.context import Production
from setpiece.web.api import INT32, Name, Note, ShotCode, TakeRef, _clean, out
from setpiece.web.auth import Identity
from setpiece.web.deps import acting, context_of, current, form_token

if TYPE_CHECKING:
    from setpiece.production.playlists import PlaylistView

__all__ = ["api_router", "page_router"]

api_router = APIRouter(prefix="/api/v1", tags=["review"])
page_router = APIRouter(include_in_schema=False, dependencies=[Depends(form_token)])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignBody(_Body):
    to: Name
    due: Annotated[
        str | None,
        Field(max_length=10, description="YYYY-MM-DD; a past date is allowed, with a warning"),
        AfterValidator(lambda v: v and _clean(v)),
    ] = None


@api_router.post("/shots/{code}/assign", summary="Assign the shot to a member, with a due date")
def assign(code: ShotCode, body: AssignBody, production: Production = Depends(acting)) -> Response:
    from setpiece.production.assignments import assign_shot

    return out(assign_shot(production, code, body.to, due=body.due))


@api_router.get("/assignments", summary="Assigned shots, with due dates and whether late")
def assignments(
    production: Production = Depends(acting),
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    late: bool = False,
) -> Response:
    from setpiece.production.assignments import list_assignments

    return out({"items": list_assignments(production, assignee, late_only=late)})


@page_router.get("/mine")
def mine_page(request: Request, who: Identity = Depends(current)) -> Response:
    from setpiece.production.assignments import list_assignments
    from setpiece.web.pages import page_production, render

    production = page_production(request, who)
    shots = list_assignments(production, who.name)
    return render(request, "mine.html", who, shots=shots, page="mine")


# Drawings on frames ------------------------------------------------------------------------------

Coordinate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Frame = Annotated[int, Field(ge=0, le=INT32)]


class ShapeBody(_Body):
    """One shape; coordinates are fractions of the picture (0..1, origin top left)."""

    kind: Literal["stroke", "arrow", "box", "text"]
    points: Annotated[list[tuple[Coordinate, Coordinate]], Field(min_length=1)]
    colour: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#ff3b30"
    width: Annotated[float, Field(ge=0.5, le=50)] = 4.0
    text: Annotated[
        str | None, Field(max_length=MAX_TEXT), AfterValidator(lambda v: v and _clean(v))
    ] = None


class DrawingBody(_Body):
    note: Note
    frame: Frame
    frame_end: Frame | None = None
    shapes: Annotated[list[ShapeBody], Field(min_length=1, max_length=MAX_SHAPES)]

    @model_validator(mode="after")
    def _points_within_limit(self) -> DrawingBody:
        total = sum(len(s.points) for s in self.shapes)
        if total > MAX_POINTS:
            raise ValueError(
                f"the drawing has {total:,} points: the limit is {MAX_POINTS:,} a drawing"
            )
        return self


# Text, compared once the caller is known: a malformed id is a 404 after the 401, never a 422
# before it.
DrawingId = Annotated[str, PathParam(min_length=1, max_length=12)]


@api_router.get(
    "/takes/{take:path}/annotations/{drawing}.png",
    summary="A drawing's comment sheet (the take by id or SHOT/NUMBER)",
)
def drawing_sheet(
    take: TakeRef, drawing: DrawingId, production: Production = Depends(acting)
) -> Response:
    from setpiece.production.annotations import drawing_png

    return Response(drawing_png(production, take, drawing), media_type="image/png")


@api_router.get(
    "/takes/{take:path}/annotations",
    summary="Drawings on the take's frames (the take by id or SHOT/NUMBER)",
)
def drawings(take: TakeRef, production: Production = Depends(acting)) -> Response:
    from setpiece.production.annotations import list_annotations

    # The limits travel with the drawings, so a client can say them before it sends.
    return out(
        {
            "items": list_annotations(production, take),
            "max_points": MAX_POINTS,
            "max_shapes": MAX_SHAPES,
        }
    )


@api_router.post(
    "/takes/{take:path}/annotations",
    status_code=201,
    summary="Draw on a frame or a range of frames, with a comment (the take by id or SHOT/NUMBER)",
)
def draw(take: TakeRef, body: DrawingBody, production: Production = Depends(acting)) -> Response:
    from setpiece.production.annotations import add_annotation

    shapes = [s.model_dump() for s in body.shapes]
    for shape in shapes:
        shape["points"] = [list(p) for p in shape["points"]]
        if shape["text"] is None:
            del shape["text"]
    done = add_annotation(
        production, take, body.note, shapes, frame=body.frame, frame_end=body.frame_end
    )
    return out(done, 201)


# Playlists ---------------------------------------------------------------------------------------

TakeName = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_clean)]


class PlaylistBody(_Body):
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_clean)]
    query: Annotated[
        str | None,
        Field(max_length=100, description="scene:N, review, findings or stale"),
        AfterValidator(lambda v: v and _clean(v)),
    ] = None
    takes: Annotated[list[TakeName] | None, Field(min_length=1, max_length=2000)] = None


PlaylistRef = Annotated[str, PathParam(min_length=1, max_length=200), AfterValidator(_clean)]


@api_router.get("/playlists", summary="Playlists, newest first")
def playlists(production: Production = Depends(acting)) -> Response:
    from setpiece.production.playlists import list_playlists

    return out({"items": list_playlists(production)})


@api_router.post("/playlists", status_code=201, summary="Make a playlist from a query or takes")
def make_playlist(body: PlaylistBody, production: Production = Depends(acting)) -> Response:
    from setpiece.production.playlists import create_playlist

    return out(create_playlist(production, body.name, query=body.query, takes=body.takes), 201)


@api_router.get(
    "/playlists/{playlist}", summary="A playlist's takes in order, in the cut's context"
)
def playlist(playlist: PlaylistRef, production: Production = Depends(acting)) -> Response:
    from setpiece.production.playlists import get_playlist

    return out(get_playlist(production, playlist))


# Live review sessions: every move is an event, so /api/v1/events/stream carries it ------------


class MoveBody(_Body):
    position: Annotated[int, Field(ge=1, le=INT32, description="The item to show, from 1")]
    frame: Frame = 0


class LeadBody(_Body):
    to: Name


@api_router.get("/playlists/{playlist}/session", summary="What the playlist's session shows")
def review_session(playlist: PlaylistRef, production: Production = Depends(acting)) -> Response:
    from setpiece.production.playlists import get_session

    return out(get_session(production, playlist))


@api_router.post("/playlists/{playlist}/session", summary="Show a take and frame to every follower")
async def move(
    playlist: PlaylistRef,
    body: MoveBody,
    request: Request,
    production: Production = Depends(acting),
) -> Response:
    from setpiece.production.playlists import move_session

    view = await asyncio.to_thread(move_session, production, playlist, body.position, body.frame)
    await context_of(request).wake.notify()  # the followers' streams send it now, not at a poll
    return out(view)


@api_router.post("/playlists/{playlist}/session/lead", summary="Hand the session's lead over")
async def lead(
    playlist: PlaylistRef,
    body: LeadBody,
    request: Request,
    production: Production = Depends(acting),
) -> Response:
    from setpiece.production.playlists import hand_over

    view = await asyncio.to_thread(hand_over, production, playlist, body.to)
    await context_of(request).wake.notify()
    return out(view)


# The playlists' pages ----------------------------------------------------------------------------


@page_router.get("/playlists")
def playlists_page(request: Request, who: Identity = Depends(current)) -> Response:
    from setpiece.production.playlists import QUERIES, list_playlists
    from setpiece.web.pages import page_production, render

    production = page_production(request, who)
    return render(
        request,
        "playlists.html",
        who,
        playlists=list_playlists(production),
        queries=QUERIES,
        problem=None,
        asked={"name": "", "query": ""},
        page="playlists",
    )


@page_router.post("/playlists")
def playlists_create(
    request: Request,
    who: Identity = Depends(current),
    name: Annotated[str, Form(max_length=200)] = "",
    query: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Makes a playlist from a query; a refusal is the page again, with the service's reason."""
    from setpiece.errors import SetpieceError
    from setpiece.production.playlists import QUERIES, create_playlist, list_playlists
    from setpiece.web.pages import page_production, render

    production = page_production(request, who)
    try:
        made = create_playlist(production, name, query=query)
    except SetpieceError as exc:
        return render(
            request,
            "playlists.html",
            who,
            exc.http_status,
            playlists=list_playlists(production),
            queries=QUERIES,
            problem=exc.message,
            asked={"name": name, "query": query},
            page="playlists",
        )
    return RedirectResponse(f"/playlists/{made.id}", 303)


def _pictures(production: Production, shown: PlaylistView) -> dict[str, Any]:
    """The takes a player shows, by id and by SHOT/NUMBER: the items and their neighbours."""
    from setpiece.errors import NotFoundError
    from setpiece.production.takes import list_takes

    shots = {i.shot for i in shown.items}
    shots |= {c.shot for i in shown.items for c in (i.before, i.after) if c is not None}
    found: dict[str, Any] = {}
    for shot in sorted(shots):
        try:
            takes = list_takes(production, shot)
        except NotFoundError:  # deleted since the playlist was made: its items say so
            continue
        for take in takes:
            found[take.id] = found[take.label] = take
    return found


@page_router.get("/playlists/{playlist}")
def player_page(
    playlist: PlaylistRef, request: Request, who: Identity = Depends(current)
) -> Response:
    from setpiece.production.playlists import get_playlist, get_session
    from setpiece.web.pages import page_production, render

    production = page_production(request, who)
    shown = get_playlist(production, playlist)
    return render(
        request,
        "player.html",
        who,
        playlist=shown,
        session=get_session(production, shown.name),
        pictures=_pictures(production, shown),
        frames=production.frames,
        own_feed=True,  # player.js follows the event stream itself (app.js would reload parts)
        page="playlists",
    )
