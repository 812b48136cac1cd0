"""Recipes that make a take again: the graph a generator was sent, kept with the take.

A ComfyUI take's recipe is more than its parameters: the workflow file it came from can
change the next day. So the exact graph sent (after substitution, as the backend wrote it
beside the take: ``RenderResult.workflow``) is stored content-addressed in the media store,
with a media row of kind ``workflow`` that ``takes.workflow_sha256`` points at (``fsck``
counts it as in use), and the recipe names it (``parameters["workflow_media"]``).

A recipe names the template's file ``workflow_path`` (``recipe_workflow_path`` reads older
recipes, whose ``workflow`` was a path, or ``"exact"`` in a replay); ``workflow`` is only
ever a request's: what to run.

``enqueue_recipe`` (``render --from-recipe TAKE``) queues a new take of the same shot with
the same request as the take's job (prompt, seed, size, references, first frame) and, where
a graph was kept, that graph sent again as it was. ``take_workflow`` reads the graph back
(``take show --workflow-out``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.generate.queue._config import generator_config
from setpiece.generate.queue._enqueue import (
    EnqueueReport,
    PlannedTake,
    _one_request_at_a_time,
    _Order,
    _Plan,
    _record,
    price,
    request_key,
)
from setpiece.generate.queue._request import request_from_json
from setpiece.generate.registry import declared_origin, get_generator
from setpiece.model.enums import TakeKind
from setpiece.model.orm import Media, RenderJob, Take
from setpiece.production.context import Production
from setpiece.production.cost import check_budget
from setpiece.production.rows import take_row

__all__ = [
    "attach_workflow",
    "enqueue_recipe",
    "recipe_workflow_path",
    "store_workflow",
    "take_workflow",
]

WORKFLOW_KIND = "workflow"


def store_workflow(production: Production, path: Path) -> tuple[str, int]:
    """Puts a sent graph into the media store; returns its (sha256, size)."""
    from setpiece.store.media import hash_file

    sha256, size = hash_file(path)
    production.store.put(path, ".json", sha256=sha256)
    return sha256, size


def attach_workflow(session: Session, take: Take, sha256: str, size: int) -> None:
    """Links a stored graph to the take: its media row (made if new), column and recipe."""
    if session.get(Media, sha256) is None:
        session.add(
            Media(
                sha256=sha256,
                size=size,
                kind=WORKFLOW_KIND,
                ext=".json",
                container="json",
                codec="comfyui-api",
                width=0,
                height=0,
                frames=0,
                audio_streams=0,
                original_name="workflow.json",
            )
        )
        session.flush()
    take.workflow_sha256 = sha256
    take.parameters = {**(take.parameters or {}), "workflow_media": sha256}


def recipe_workflow_path(parameters: dict[str, Any] | None) -> str | None:
    """The workflow file a take's recipe came from, in recipes old and new.

    Recipes now say ``workflow_path``; older ones said ``workflow``: a path, an inline
    graph, or ``"exact"`` for a replay (no path).
    """
    parameters = parameters or {}
    if "workflow_path" in parameters:
        path = parameters["workflow_path"]
        return path if isinstance(path, str) else None
    old = parameters.get("workflow")
    return old if isinstance(old, str) and old != "exact" else None


def _label(take: Take) -> str:
    return f"{take.shot.code}/{take.number}"


def _graph(production: Production, session: Session, take: Take) -> dict[str, Any]:
    media = session.get(Media, take.workflow_sha256) if take.workflow_sha256 else None
    if media is None:
        raise NotFoundError(
            f"take {_label(take)} has no workflow kept with it (only ComfyUI takes rendered "
            "since workflows are kept have one)"
        )
    with production.store.open(media.key) as handle:
        graph = json.load(handle)
    if not isinstance(graph, dict):
        raise InvalidInputError(f"the workflow kept with take {_label(take)} is not a graph")
    return graph


def take_workflow(production: Production, ref: str) -> bytes:
    """The exact graph take ``ref`` was made with, as stored.

    Raises:
        NotFoundError: An unknown take, or one without a kept workflow.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        take = take_row(session, ref)
        _graph(production, session, take)  # refuses a take without one
        media = session.get(Media, take.workflow_sha256)
        assert media is not None
        with production.store.open(media.key) as handle:
            return handle.read()


def enqueue_recipe(production: Production, ref: str, *, dry_run: bool = False) -> EnqueueReport:
    """Queues take ``ref``'s request again as a new take of its shot (the graph as sent).

    Raises:
        NotFoundError: An unknown take.
        InvalidInputError: A take not made by the render queue, or a workflow-running
            generator's take whose graph was not kept.
    """
    with production.transaction() as session:
        production.authorize(session, "render")
        if not dry_run:
            _one_request_at_a_time(session)
        old = take_row(session, ref)
        job = session.scalars(
            select(RenderJob).where(RenderJob.take_id == old.id).order_by(RenderJob.id.desc())
        ).first()
        if job is None:
            raise InvalidInputError(
                f"take {_label(old)} has no recipe to render from: it was not made by "
                "'setpiece render' (an imported or derived take)"
            )
        stored = json.loads(json.dumps(job.request))
        backend = get_generator(
            job.generator,
            generator_config(production, job.generator),
            project_dir=production.config.root,
        )
        parameters = dict(stored.get("parameters") or {})
        if backend.takes_workflows:
            if old.workflow_sha256 is None:
                raise InvalidInputError(
                    f"take {_label(old)} was rendered before workflows were kept with takes: "
                    "its workflow cannot be sent again exactly; render the shot anew"
                )
            parameters.update(
                workflow=_graph(production, session, old),
                workflow_exact=True,
                workflow_from=f"render --from-recipe {_label(old)}",
                workflow_path=recipe_workflow_path(old.parameters),
                replay_of=old.id,
            )
        stored["parameters"] = parameters
        request = request_from_json(stored, Path)
        backend.check(request)
        kind = TakeKind.VIDEO if request.is_video else TakeKind.IMAGE
        order = _Order(job.generator, kind, 1, request.seed, None, None, None)
        plan = _Plan(old.shot, request, stored, old.parent_take_id)
        quote = price(session, production, backend, [request])
        if dry_run:
            return EnqueueReport(
                dry_run=True,
                takes=[
                    PlannedTake(
                        old.shot.code,
                        None,
                        None,
                        job.generator,
                        stored,
                        backend.workflow_for(request),
                    )
                ],
                quote=quote,
            )
        check_budget(quote)
        origin = declared_origin(job.generator)
        # Keyed apart from any plain render of the shot: a replay of take ``old``.
        key = request_key(order, [old.shot.code], f"recipe:{old.id}")
        return EnqueueReport(
            takes=_record(session, production, [plan], order, origin, key, quote),
            request=key,
            quote=quote,
        )
