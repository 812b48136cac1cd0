"""Enqueueing: a render request becomes pending takes, and one job per take, in one transaction.

Everything is decided before anything is written: the shots, the first frame (``--from``),
each take's request and seed, and the generator's verdict on every request
(``Generator.check``), so a refused request leaves the queue as it was. A dry run plans the
same takes and writes nothing.

Seeds have one source, ``take_seed``: a pinned ``--seed`` counts up from itself, and an
unpinned one is drawn from the project, the shot and the take's number, so a dry run
shows the seeds that the real run then uses.

Each take is quoted (``Generator.quote``, or an estimate from the generator's earlier takes)
before anything is written; the quote is stored on the take, and a render that would take
``[budget]`` or ``[budget.render]`` past its limit in any unit is refused, inside the same
locked transaction, so two renders at once cannot both spend the last of a budget
(``production.cost``).

A request is keyed (``request_key``) by what was asked: its shots, generator, kind, number
of takes, prompt, style, rate, ``--from``, and the seeds option (a pinned seed, or drawn).
While jobs of a request are pending, running, interrupted or failed, the same request again
queues nothing: it resumes them (a crash or a second terminal never pays for takes twice,
and failed ones wait for ``setpiece jobs retry --failed``). Queueing another round of the
same request is explicit (``again``). Requests are decided one at a time: the project's
row is locked (PostgreSQL) or the write transaction taken at BEGIN (SQLite), so the same
request from two terminals at once queues its takes once.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from setpiece.errors import ConfirmationRequiredError, InvalidInputError
from setpiece.generate.base import Capabilities, Generator, Mode, RenderRequest, WorkflowChoice
from setpiece.generate.prompts import compose
from setpiece.generate.queue._config import generator_config
from setpiece.generate.queue._request import request_to_json
from setpiece.generate.registry import check_generator_tables, declared_origin, get_generator
from setpiece.generate.settings import render_settings
from setpiece.model.enums import ORIGIN_KEY, JobState, Origin, TakeKind, TakeStatus
from setpiece.model.orm import Media, Project, RenderJob, Scene, Shot, Take
from setpiece.production.context import Production
from setpiece.production.cost import Quote, check_budget, quote_takes
from setpiece.production.history import record_event
from setpiece.production.likeness import bible_settings, check_consent
from setpiece.production.rows import scene_row, shot_row, take_row

__all__ = [
    "MAX_TAKES",
    "EnqueueReport",
    "PlannedTake",
    "enqueue",
    "over_confirm",
    "price",
    "request_key",
    "take_seed",
]

MAX_TAKES = 100


@dataclass(frozen=True)
class PlannedTake:
    """One take planned (a dry run) or queued.

    Attributes:
        shot: The shot's code.
        number: The take's number within its shot; None in a dry run.
        take: The take's id; None in a dry run.
        generator: The generator that makes it.
        request: The request as stored on its job (``request_to_json``).
        workflow: In a dry run, the workflow the take would be sent with, for generators
            that run workflows (``Generator.workflow_for``); else None.
    """

    shot: str
    number: int | None
    take: str | None
    generator: str
    request: dict[str, Any]
    workflow: WorkflowChoice | None = None


@dataclass(frozen=True)
class EnqueueReport:
    """What ``enqueue`` planned or queued; its JSON is these fields in this order.

    Attributes:
        dry_run: Nothing was written.
        takes: The takes planned or queued now (none when the request was resumed).
        request: The request's key (``request_key``); None in a dry run.
        resumed: Jobs of the same request still to render, resumed instead of queueing more.
        failed: Takes of the same request that failed and wait for a retry.
        quote: What the takes planned or queued are quoted, per unit, against the budgets
            (None when the request was resumed).
    """

    dry_run: bool = False
    takes: list[PlannedTake] = field(default_factory=list)
    request: str | None = None
    resumed: int = 0
    failed: int = 0
    quote: Quote | None = None


@dataclass(frozen=True)
class _Order:
    """What was asked, the same for every shot."""

    generator: str
    kind: TakeKind
    takes: int
    seed: int | None
    prompt: str | None
    style: str | None
    fps: Fraction | None
    workflow: str | None = None  # render --workflow FILE: every take's workflow


@dataclass(frozen=True)
class _Plan:
    """One take to queue: its shot, its request, and that request as its job stores it."""

    shot: Shot
    request: RenderRequest
    stored: dict[str, Any]
    parent_id: str | None
    bible: tuple[dict[str, Any], ...] = ()  # the entries' versions it is made from


def enqueue(
    production: Production,
    shots: Sequence[str] = (),
    *,
    scene: str | None = None,
    all_shots: bool = False,
    takes: int = 1,
    generator: str = "previs",
    kind: TakeKind | str | None = None,
    seed: int | None = None,
    prompt: str | None = None,
    style: str | None = None,
    from_take: str | None = None,
    dry_run: bool = False,
    fps: Fraction | None = None,
    workflow: str | None = None,
    again: bool = False,
    unconfirmed: str | None = None,
) -> EnqueueReport:
    """Plans takes for shots and (unless ``dry_run``) records them with their jobs.

    ``fps`` renders video at another rate than the project's (a generator's native 12 fps,
    retimed to the project's rate later); the clip keeps the shot's planned duration.
    ``workflow`` (``render --workflow``) is every take's workflow, over the shots' own
    and the configured ones, for generators that take workflows (ComfyUI).
    The same request while its jobs are unfinished resumes them and queues nothing, unless
    ``again`` (see the module docstring). ``kind`` None is the project's ``[render] kind``
    (``generate.settings.RenderSettings``, ``image`` by default). ``unconfirmed`` marks a
    request its caller has not confirmed (the API, the board): quoted over ``[render]
    confirm_over``, it is refused with the quote, the message ending with these words (how
    to confirm); None: confirmed, or asked before (the CLI's prompt, ``over_confirm``).

    Raises:
        ConfirmationRequiredError: ``unconfirmed`` and quoted over ``[render] confirm_over``.
        InvalidInputError: A bad take count, kind or rate, no shots named, a capability the
            generator lacks, ``--from`` a take that is not a still of the shot.
        NotFoundError: An unknown shot, scene, take, style or generator.
    """
    if kind is None:
        kind = render_settings(production.config.settings).kind
    order = replace(_order(generator, kind, takes, seed, prompt, style, fps), workflow=workflow)
    check_generator_tables(production.config.settings)
    bible_settings(production.config.settings)  # [bible] refused here, not at the first likeness
    backend = get_generator(
        generator, generator_config(production, generator), project_dir=production.config.root
    )
    origin = declared_origin(generator)  # recorded on each take (see Generator.origin)
    if workflow is not None and not backend.takes_workflows:
        raise InvalidInputError(
            f"--workflow is for generators that run workflows (comfyui), not {generator}"
        )
    capabilities = backend.capabilities()
    if seed is not None and not capabilities.seeds:
        raise InvalidInputError(
            f"generator {generator} does not make the same take again from a seed: leave out --seed"
        )
    with production.transaction() as session:
        production.authorize(session, "render")
        if not dry_run:
            _one_request_at_a_time(session)
        project = production.project_row(session)
        targets = _targets(session, shots, scene=scene, all_shots=all_shots)
        parent = _parent(session, from_take, targets)
        key = request_key(order, [shot.code for shot in targets], from_take)
        if not dry_run and not again:
            unfinished = _unfinished(session, key)
            if unfinished:
                return EnqueueReport(
                    request=key,
                    resumed=unfinished.get(JobState.QUEUED, 0)
                    + unfinished.get(JobState.RUNNING, 0),
                    failed=unfinished.get(JobState.FAILED, 0),
                )
        planned = [
            plan
            for shot in targets
            for plan in _plan_shot(
                session, production, (backend, capabilities), project, shot, parent, order
            )
        ]
        quote = price(session, production, backend, [plan.request for plan in planned])
        if dry_run:
            return EnqueueReport(
                dry_run=True,
                takes=[
                    PlannedTake(
                        p.shot.code,
                        None,
                        None,
                        generator,
                        p.stored,
                        backend.workflow_for(p.request),
                    )
                    for p in planned
                ],
                quote=quote,
            )
        check_budget(quote)
        if unconfirmed is not None:
            said = over_confirm(production.config.settings, quote)
            if said is not None:
                raise ConfirmationRequiredError(
                    f"this render is {said}: {unconfirmed}", quote.lines()
                )
        return EnqueueReport(
            takes=_record(session, production, planned, order, origin, key, quote),
            request=key,
            quote=quote,
        )


def over_confirm(settings: Any, quote: Quote | None) -> str | None:
    """``[render] confirm_over``: the quote's units above it in words ("quoted at 8 credits
    for 1 take(s), over [render] confirm_over (credits = 0)"), or None when none is.

    The one rule that the CLI's prompt, the API and the board all ask.
    """
    limits = render_settings(settings).confirm_over
    over = [
        line
        for line in (quote.units if quote else ())
        if getattr(limits, line.unit, None) is not None
        and Decimal(line.amount) > Decimal(repr(getattr(limits, line.unit)))
    ]
    if not over:
        return None
    said = "; ".join(line.line() for line in over)
    limit = ", ".join(f"{line.unit} = {getattr(limits, line.unit):g}" for line in over)
    return f"quoted at {said}, over [render] confirm_over ({limit})"


def price(
    session: Session, production: Production, backend: Generator, requests: Sequence[RenderRequest]
) -> Quote:
    """The takes' quote: each from the backend (``Generator.quote``), or estimated from the
    generator's earlier takes where it cannot quote, totalled per unit against the budgets.

    Raises:
        InvalidInputError: The backend has no rate for the model (named), or ``[budget]``
            is not valid.
    """
    costs: list[tuple[Decimal, str] | None] = []
    for request in requests:
        cost = backend.quote(request)
        costs.append(None if cost is None else (cost.amount, cost.unit))
    return quote_takes(
        session,
        production.config.settings,
        backend.name,
        costs,
        [_seconds(request) for request in requests],
        backend.billing_units(),
    )


def _seconds(request: RenderRequest) -> Fraction | None:
    """Seconds of video the request asks for; None for a still."""
    return Fraction(request.frames) / Fraction(request.fps) if request.is_video else None


def request_key(order: _Order, shots: Sequence[str], from_take: str | None) -> str:
    """The request's identity: what was asked, hashed (the same command gives the same key).

    Every field of the order counts (generator, kind, number of takes, prompt, style,
    rate, and the seed: pinned, or None for seeds drawn at random), with the shots in
    their order and ``--from``.
    """
    asked = {**asdict(order), "shots": list(shots), "from": from_take}
    text = json.dumps(asked, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _one_request_at_a_time(session: Session) -> None:
    """Waits for any other request being decided (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Project.id).with_for_update())
    # SQLite: this write transaction began IMMEDIATE, so it holds the database already.


def _unfinished(session: Session, key: str) -> dict[JobState, int]:
    """The request's jobs that are queued, running or failed, by state."""
    rows = session.execute(
        select(RenderJob.state, func.count())
        .where(
            RenderJob.request_key == key,
            RenderJob.state.in_((JobState.QUEUED, JobState.RUNNING, JobState.FAILED)),
        )
        .group_by(RenderJob.state)
    ).all()
    return {JobState(state): int(count) for state, count in rows}


def _order(
    generator: str,
    kind: TakeKind | str,
    takes: int,
    seed: int | None,
    prompt: str | None,
    style: str | None,
    fps: Fraction | None,
) -> _Order:
    """The request's own values checked, before any generator or database is asked.

    Raises:
        InvalidInputError: A rate that is not positive, a take count out of range, a kind
            other than image or video.
    """
    if fps is not None and fps <= 0:
        raise InvalidInputError(f"render rate {fps} must be positive")
    if not 1 <= takes <= MAX_TAKES:
        raise InvalidInputError(f"take count {takes} is out of range: give 1 to {MAX_TAKES}")
    try:
        take_kind = TakeKind(kind)
    except ValueError:
        raise InvalidInputError(f"kind {kind!r} is not image or video") from None
    return _Order(generator, take_kind, takes, seed, prompt, style, fps)


def _targets(
    session: Session, shots: Sequence[str], *, scene: str | None, all_shots: bool
) -> list[Shot]:
    """The shots to render: every shot, a scene's, or those named (omitted scenes aside).

    Raises:
        InvalidInputError: No shots to render.
        NotFoundError: An unknown shot or scene.
    """
    query = select(Shot).join(Scene, Shot.scene_id == Scene.id).where(Scene.omitted.is_(False))
    if all_shots:
        targets = list(session.scalars(query.order_by(Scene.position, Shot.position)))
    elif scene is not None:
        number = scene_row(session, scene).id
        targets = list(
            session.scalars(query.where(Shot.scene_id == number).order_by(Shot.position))
        )
    else:
        targets = [shot_row(session, code) for code in shots]
    if not targets:
        raise InvalidInputError("no shots to render: name shots, --scene N or --all")
    return targets


def _parent(session: Session, from_take: str | None, targets: list[Shot]) -> Take | None:
    """The finished still that ``--from`` names as the first frame, if any.

    Raises:
        InvalidInputError: More shots than the take's own, or a take that is no finished still.
        NotFoundError: An unknown take.
    """
    if from_take is None:
        return None
    parent = take_row(session, from_take)
    if len(targets) != 1 or parent.shot_id != targets[0].id:
        raise InvalidInputError(
            f"--from {from_take}: render exactly the shot that take belongs to ({parent.shot.code})"
        )
    if parent.kind != TakeKind.IMAGE or parent.media_sha256 is None:
        raise InvalidInputError(f"--from {from_take}: the take must be a finished still")
    return parent


def _plan_shot(
    session: Session,
    production: Production,
    maker: tuple[Generator, Capabilities],
    project: Project,
    shot: Shot,
    parent: Take | None,
    order: _Order,
) -> list[_Plan]:
    """The shot's takes, one per seed, each request checked by the generator.

    ``maker`` is the generator and its capabilities, asked once per ``enqueue``.

    Raises:
        InvalidInputError: A request the generator cannot make.
        NotFoundError: An unknown style.
    """
    backend, capabilities = maker
    composed = compose(
        session, shot.id, production.config.settings, prompt=order.prompt, style=order.style
    )
    video = order.kind is TakeKind.VIDEO or parent is not None
    if not video:
        mode = Mode.TEXT_TO_IMAGE
    else:
        mode = Mode.IMAGE_TO_VIDEO if parent else Mode.TEXT_TO_VIDEO
    rate = order.fps or project.fps
    planned_frames = shot.planned_frames or int(project.fps * 2)
    # Rounded up: a 12 fps render of 25 planned frames at 24 fps needs 13 (12.5 rounded to
    # even was 12, a frame short of the shot after retime).
    frames = max(1, math.ceil(Fraction(planned_frames) * rate / project.fps)) if video else 1
    # References go to stills only: video modes take a first frame instead (Runway refuses both).
    with_refs = bool(composed.references) and not video and capabilities.reference_images
    if with_refs:  # a real person's likeness needs consent on record ([bible] require_consent)
        check_consent(session, production.config.settings, composed.reference_entries)
    plans: list[_Plan] = []
    first = (session.scalar(select(func.max(Take.number)).where(Take.shot_id == shot.id)) or 0) + 1
    parameters: dict[str, Any] = (
        {"reference_tags": list(composed.reference_names)} if with_refs else {}
    )
    chosen = order.workflow or shot.workflow
    if chosen and backend.takes_workflows:  # the take's own, over the configured ones
        parameters["workflow"] = chosen
        parameters["workflow_from"] = "render --workflow" if order.workflow else "the shot"
    for number in range(first, first + order.takes):
        request = RenderRequest(
            mode=mode,
            prompt=composed.prompt,
            negative_prompt=composed.negative_prompt,
            seed=take_seed(project, shot.code, number, order.seed, number - first),
            width=project.width,
            height=project.height,
            fps=rate,
            frames=frames,
            model=getattr(backend.settings, "model", None),
            brief=composed.brief,
            init_image=Path("init") if parent else None,
            references=tuple(
                _reference_path(session, production, sha) for sha in composed.references
            )
            if with_refs
            else (),
            parameters=dict(parameters),
        )
        backend.check(request)  # every capability, before anything is queued
        stored = request_to_json(
            request,
            init_sha=parent.media_sha256 if parent else None,
            reference_shas=composed.references if request.references else (),
        )
        plans.append(_Plan(shot, request, stored, parent.id if parent else None, composed.bible))
    return plans


def _reference_path(session: Session, production: Production, sha: str) -> Path:
    """A reference image where the generator's ``check`` can read it (Runway measures each
    file); the job itself stores hashes (``request_to_json``), never this path."""
    media = session.get(Media, sha)
    local = production.store.local_path(media.key) if media is not None else None
    return Path(local) if local is not None else Path(sha)


def take_seed(project: Project, shot: str, number: int, pinned: int | None, index: int) -> int:
    """The seed of take ``number`` of ``shot``: the one source of seeds, for dry and real runs.

    A pinned seed counts up from itself (``index``: the take's place in this render);
    otherwise the seed is drawn from the project, the shot's code and the take's number,
    31 bits of a SHA-256, so it is known before the take is recorded.
    """
    if pinned is not None:
        return pinned + index
    made = project.created_at.strftime("%Y%m%dT%H%M%S") if project.created_at else ""
    digest = hashlib.sha256(f"setpiece-seed:{project.name}:{made}:{shot}:{number}".encode())
    return int.from_bytes(digest.digest()[:4], "big") >> 1


def _record(
    session: Session,
    production: Production,
    planned: list[_Plan],
    order: _Order,
    origin: Origin,
    key: str,
    quote: Quote,
) -> list[PlannedTake]:
    """Adds each planned take, numbered after its shot's last, with its quote, its job and
    history."""
    queued: list[PlannedTake] = []
    numbers: dict[int, int] = {}
    for plan, cost in zip(planned, quote.each, strict=True):
        shot, request = plan.shot, plan.request
        if shot.id not in numbers:
            numbers[shot.id] = (
                session.scalar(select(func.max(Take.number)).where(Take.shot_id == shot.id)) or 0
            )
        numbers[shot.id] += 1
        take = Take(
            shot=shot,
            number=numbers[shot.id],
            kind=(TakeKind.VIDEO if request.is_video else TakeKind.IMAGE).value,
            status=TakeStatus.PENDING.value,
            created_by=production.actor,
            backend=order.generator,
            model_name=request.model,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            seed=request.seed,
            parameters={ORIGIN_KEY: origin.value},
            reference_hashes=list(plan.stored["references"]),
            parent_take_id=plan.parent_id,
            bible=list(plan.bible),
            quote_amount=cost[0] if cost else None,
            quote_unit=cost[1] if cost else None,
        )
        session.add(take)
        session.flush()
        session.add(
            RenderJob(
                idempotency_key=uuid.uuid4().hex,
                take_id=take.id,
                generator=order.generator,
                request=plan.stored,
                request_key=key,
            )
        )
        record_event(
            session,
            production,
            "take",
            take.id,
            "queued",
            after=TakeStatus.PENDING,
            data={
                "shot": shot.code,
                "generator": order.generator,
                "seed": request.seed,
                # What shaped the prompt beyond the bible, kept with the take's history.
                "shot_prompt": shot.prompt_override,
                "render_prompt": order.prompt,
                "style": order.style,
            },
        )
        queued.append(PlannedTake(shot.code, take.number, take.id, order.generator, plan.stored))
    return queued
