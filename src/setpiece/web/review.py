"""The review room on the web: assignments, drawings on frames and playlists.

JSON routes under ``/api/v1`` and the "my shots" page (``/mine``). Each route calls the
same service as its command (``setpiece shot assign``, ``setpiece playlist ...``), acting
as the caller; roles are checked by the services, bodies by pydantic (bad input is a 422
naming the field and the limit).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from setpiece.production.context import Production
from setpiece.web.api import Name, ShotCode, _clean, out
from setpiece.web.auth import Identity
from setpiece.web.deps import acting, current, form_token

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
