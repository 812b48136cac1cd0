"""What takes cost: quotes before a render, budgets that refuse one, and spend reports.

Each take records what it cost in its backend's own unit (``takes.cost_amount`` and
``cost_unit``: Runway's credits, diffusers' GPU-seconds, ...) and, when queued, what it was
quoted (``quote_amount``, ``quote_unit``). Units are never converted into each other: every
total, limit and report here is per unit.

Budgets, in ``setpiece.toml``, one limit per unit, each above zero::

    [budget]                # the whole project: spent plus what is queued
    credits = 5000
    compute_seconds = 36000

    [budget.render]         # one render request
    credits = 500

What counts against the project's budget: the cost of every take that has one, and the
quote of every take still pending or rendering that has no cost yet (jobs already queued
count). A render whose quote would take either limit past it is refused (exit 2) with the
quote and what remains. The check runs inside ``enqueue``'s transaction, after the lock
that decides one request at a time (the project's row on PostgreSQL, the write
transaction on SQLite), so two renders at once cannot both spend the last of a budget.

A backend that cannot quote (``Generator.quote`` is None: diffusers and ComfyUI, billed by
measured time) is estimated from its earlier takes in this project: their mean cost per
second of video, or per still, in the unit they were measured in (:func:`estimate`).
With no earlier take there is no estimate: the quote says so, and those takes are not
counted (no figure is invented). But a limit in a unit the backend bills in
(``Generator.billing_units``) still holds: when what is spent and queued in that unit
already reaches it, such a render is refused, since any take would go past it.

A finished take whose bill never came (an aggregator's answer with no cost: the take is
made and paid for, its cost unknown) counts as spent at the quote stored when it was
queued, so that it does not drop out of the budget.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from setpiece.config import load_section, setting
from setpiece.errors import InvalidInputError
from setpiece.model.enums import TakeKind, TakeStatus
from setpiece.model.orm import Media, Project, Scene, Shot, Take
from setpiece.production.context import Production

__all__ = [
    "BY",
    "UNITS",
    "Budget",
    "BudgetLine",
    "BudgetSettings",
    "Quote",
    "SpendReport",
    "SpendRow",
    "UnitLimits",
    "UnitQuote",
    "budget_settings",
    "budget_status",
    "check_budget",
    "combine",
    "estimate",
    "lock_budget",
    "quote_takes",
    "retry_quote",
    "spend",
    "spend_by_generator",
    "totals_text",
]

# The units Setpiece's backends bill or measure in; a budget names one of them.
UNITS = ("credits", "usd", "compute_seconds", "gpu_seconds")
BY = ("scene", "shot", "generator", "day")
_OPEN = (TakeStatus.PENDING.value, TakeStatus.RENDERING.value)
# The recipe's flag on a take whose generator's answer carried no cost (the Replicate
# backend's ``parameters["cost_missing"]``, a sentence saying why).
COST_MISSING = "cost_missing"

Amount = tuple[Decimal, str]  # (amount, unit): a Cost without the generate layer's class


@dataclasses.dataclass(frozen=True)
class UnitLimits:
    """One limit per unit, each above zero; a unit left out has no limit."""

    credits: float | None = setting(None, positive=True, help="Runway credits")
    usd: float | None = setting(None, positive=True, help="US dollars (an aggregator's bill)")
    compute_seconds: float | None = setting(None, positive=True, help="compute seconds (CPU)")
    gpu_seconds: float | None = setting(None, positive=True, help="GPU-seconds")

    def limits(self) -> dict[str, Decimal]:
        """The units that have a limit, with it (exact decimal of the TOML number)."""
        return {
            unit: Decimal(repr(value))
            for unit in UNITS
            if (value := getattr(self, unit)) is not None
        }


@dataclasses.dataclass(frozen=True)
class BudgetSettings(UnitLimits):
    """``[budget]``: the project's limits, and ``[budget.render]``: one render's."""

    render: UnitLimits = dataclasses.field(default_factory=UnitLimits)


def budget_settings(settings: Mapping[str, Any] | None) -> BudgetSettings:
    """The ``[budget]`` table of a parsed setpiece.toml (no table: no limits).

    Raises:
        InvalidInputError: An unknown unit, a limit of zero or less, or not a number.
    """
    return load_section(BudgetSettings, (settings or {}).get("budget"), section="budget")


@dataclasses.dataclass(frozen=True)
class UnitQuote:
    """What a render is quoted in one unit, against what the budgets leave.

    Attributes:
        unit: The unit.
        amount: The render's total, as decimal text.
        takes: How many of its takes are quoted in this unit.
        spent: What takes already cost in this unit (decimal text).
        queued: What takes pending or rendering are quoted, not yet spent.
        project_limit: ``[budget]``'s limit in this unit, or None.
        project_remaining: That limit less spent and queued (before this render), or None.
        render_limit: ``[budget.render]``'s limit, or None.
        estimated: True where the amount is estimated from earlier takes, not a rate.
    """

    unit: str
    amount: str
    takes: int
    spent: str
    queued: str
    project_limit: str | None = None
    project_remaining: str | None = None
    render_limit: str | None = None
    estimated: bool = False

    def over(self) -> str | None:
        """Why this quote exceeds a budget, or None when it fits."""
        amount = Decimal(self.amount)
        if self.render_limit is not None and amount > Decimal(self.render_limit):
            return f"[budget.render] {self.unit} = {_shown(Decimal(self.render_limit))}"
        if self.project_remaining is not None and amount > Decimal(self.project_remaining):
            return (
                f"[budget] {self.unit} = {_shown(Decimal(self.project_limit or 0))} "
                f"({_shown(Decimal(self.project_remaining))} remaining)"
            )
        return None

    def line(self) -> str:
        """``50 credits for 2 take(s); 950 of 1000 remaining``: the quote in words."""
        text = f"{_shown(Decimal(self.amount))} {self.unit} for {self.takes} take(s)"
        if self.estimated:
            text += " (estimated from earlier takes)"
        if self.project_remaining is not None:
            text += (
                f"; project budget: {_shown(Decimal(self.project_remaining))} of "
                f"{_shown(Decimal(self.project_limit or 0))} remaining"
            )
        if self.render_limit is not None:
            text += f"; per render: {_shown(Decimal(self.render_limit))}"
        return text


@dataclasses.dataclass(frozen=True)
class Quote:
    """A render's quote: one line per unit, and the takes nothing could price.

    Attributes:
        units: One :class:`UnitQuote` per unit, in unit order.
        unquoted: Takes with no quote (a backend that cannot quote, and no earlier take).
        unquoted_reason: Why, in words; None when every take is quoted.
        each: Each take's quote as (decimal text, unit), estimates included, or None:
            what ``enqueue`` stores on the take.
        exhausted: For unquoted takes, each limited unit their generator bills in whose
            ``[budget]`` limit spent and queued already reach: (unit, spent and queued,
            limit), decimal text. Any such take would go past it (``check_budget``).
    """

    units: tuple[UnitQuote, ...] = ()
    unquoted: int = 0
    unquoted_reason: str | None = None
    each: tuple[tuple[str, str] | None, ...] = ()
    exhausted: tuple[tuple[str, str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"credits": {...}, ...}``: one object per unit (the dry run's ``"quote"``), and
        ``"unquoted": {"takes": N, "reason": ...}`` when some takes could not be quoted."""
        out: dict[str, Any] = {
            q.unit: {k: v for k, v in dataclasses.asdict(q).items() if k != "unit"}
            for q in self.units
        }
        if self.unquoted:
            out["unquoted"] = {"takes": self.unquoted, "reason": self.unquoted_reason}
        return out

    def lines(self) -> list[str]:
        """The quote in words, one line per unit, and the takes without one."""
        out = [f"quote: {line.line()}" for line in self.units]
        if self.unquoted_reason:
            out.append(f"quote: {self.unquoted_reason}")
        return out or ["quote: nothing to pay"]

    def amount(self, unit: str) -> Decimal:
        for line in self.units:
            if line.unit == unit:
                return Decimal(line.amount)
        return Decimal(0)


def estimate(session: Session, generator: str, *, video: bool) -> tuple[Decimal, str] | None:
    """This generator's mean cost per second of video (or per still) from its earlier takes.

    The unit is the one most of those takes were measured in (a GPU machine and a CPU one
    are not mixed). None when it has no earlier take with a cost of that kind.
    """
    kind = TakeKind.VIDEO.value if video else TakeKind.IMAGE.value
    rows = session.execute(
        select(Take.cost_amount, Take.cost_unit, Media.frames, Media.fps_num, Media.fps_den)
        .join(Media, Take.media_sha256 == Media.sha256)
        .where(Take.backend == generator, Take.kind == kind, Take.cost_amount.is_not(None))
    ).all()
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for cost, unit, frames, fps_num, fps_den in rows:
        if cost is None or unit is None:
            continue
        if video:
            if not (fps_num and fps_den and frames):
                continue
            quantity = Decimal(frames) * Decimal(fps_den) / Decimal(fps_num)
        else:
            quantity = Decimal(1)
        totals[unit][0] += Decimal(cost)
        totals[unit][1] += quantity
    if not totals:
        return None
    chosen = max(totals, key=lambda u: (totals[u][1], u))
    amount, quantity = totals[chosen]
    return amount / quantity, chosen


def quote_takes(
    session: Session,
    settings: Mapping[str, Any] | None,
    generator: str,
    costs: Sequence[Amount | None],
    outputs: Sequence[Fraction | None],
    billing_units: Sequence[str] = (),
) -> Quote:
    """Totals a render's per-take quotes per unit, filling in estimates, against the budgets.

    Args:
        session: Inside the caller's transaction (``enqueue``'s, after its lock).
        settings: The parsed setpiece.toml.
        generator: The generator that makes the takes.
        costs: Each take's quote from its backend, or None where it cannot quote.
        outputs: Each take's seconds of video, or None for a still (for estimates).
        billing_units: The units the generator may bill in (``Generator.billing_units``):
            for takes with no quote nor estimate, a ``[budget]`` limit in one of them that
            spent and queued already reach refuses the render (``Quote.exhausted``).

    Raises:
        InvalidInputError: ``[budget]`` is not valid.
    """
    budget = budget_settings(settings)
    totals: dict[str, list[Any]] = {}
    unquoted = 0
    each: list[tuple[str, str] | None] = []
    for cost, seconds in zip(costs, outputs, strict=True):
        estimated = False
        if cost is None:
            rate = estimate(session, generator, video=seconds is not None)
            if rate is None:
                unquoted += 1
                each.append(None)
                continue
            per, unit = rate
            quantity = Decimal(1) if seconds is None else _decimal(seconds)
            cost, estimated = (per * quantity, unit), True
        each.append((_text(cost[0]), cost[1]))
        line = totals.setdefault(cost[1], [Decimal(0), 0, False])
        line[0] += cost[0]
        line[1] += 1
        line[2] = line[2] or estimated
    units = _against_budgets(session, budget, totals)
    reason = _unquoted_reason(unquoted, generator)
    exhausted: list[tuple[str, str, str]] = []
    if unquoted:
        committed = _committed(session)
        limits = budget.limits()
        for unit in sorted(set(billing_units) & set(limits), key=_unit_order):
            spent, queued = committed.get(unit, (Decimal(0), Decimal(0)))
            if spent + queued >= limits[unit]:
                exhausted.append((unit, _text(spent + queued), _text(limits[unit])))
    return Quote(
        units=tuple(units),
        unquoted=unquoted,
        unquoted_reason=reason,
        each=tuple(each),
        exhausted=tuple(exhausted),
    )


def combine(quotes: Sequence[Quote], generator: str) -> Quote:
    """One quote for several requests of ``generator`` planned against the same spend, none
    of them queued yet (``make`` plans a request per shot when seeds are pinned): amounts
    and takes added per unit; spent, queued and the limits are the same in each.
    """
    lines: dict[str, UnitQuote] = {}
    for quote in quotes:
        for line in quote.units:
            if line.unit in lines:
                was = lines[line.unit]
                line = dataclasses.replace(
                    was,
                    amount=_text(Decimal(was.amount) + Decimal(line.amount)),
                    takes=was.takes + line.takes,
                    estimated=was.estimated or line.estimated,
                )
            lines[line.unit] = line
    unquoted = sum(quote.unquoted for quote in quotes)
    return Quote(
        units=tuple(lines[unit] for unit in sorted(lines, key=_unit_order)),
        unquoted=unquoted,
        unquoted_reason=_unquoted_reason(unquoted, generator),
        each=tuple(cost for quote in quotes for cost in quote.each),
        exhausted=tuple(dict.fromkeys(limit for quote in quotes for limit in quote.exhausted)),
    )


def _unquoted_reason(unquoted: int, generator: str) -> str | None:
    if not unquoted:
        return None
    return (
        f"{unquoted} take(s) of {generator} have no quote: it is billed by measured time "
        "and has no earlier take in this project to estimate from; they are not counted "
        "against [budget]"
    )


def retry_quote(
    session: Session, settings: Mapping[str, Any] | None, takes: Sequence[Take]
) -> Quote:
    """What putting failed takes back in the queue would spend again, at the quotes stored
    on them when they were first asked for, against the budgets (``jobs retry``,
    ``render --retry-failed``, the board's retry). A take with no quote is not counted.

    Raises:
        InvalidInputError: ``[budget]`` is not valid.
    """
    totals: dict[str, list[Any]] = {}
    unquoted = 0
    for take in takes:
        if take.quote_amount is None or take.quote_unit is None:
            unquoted += 1
            continue
        line = totals.setdefault(take.quote_unit, [Decimal(0), 0, False])
        line[0] += Decimal(take.quote_amount)
        line[1] += 1
    units = _against_budgets(session, budget_settings(settings), totals)
    reason = f"{unquoted} take(s) have no quote and are not counted" if unquoted else None
    return Quote(units=tuple(units), unquoted=unquoted, unquoted_reason=reason)


def lock_budget(session: Session) -> None:
    """Waits for any other render or retry being weighed against the budgets: the project row
    locked on PostgreSQL; on SQLite the write transaction, begun IMMEDIATE, holds the
    database already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Project.id).with_for_update())


def _against_budgets(
    session: Session, budget: BudgetSettings, totals: Mapping[str, list[Any]]
) -> list[UnitQuote]:
    """One line per unit of ``totals`` (unit -> [amount, takes, estimated]) against what the
    project has spent and queued, and the budgets' limits."""
    committed = _committed(session)
    project, render = budget.limits(), budget.render.limits()
    units = []
    for unit in sorted(totals, key=_unit_order):
        amount, count, estimated = totals[unit]
        spent, queued = committed.get(unit, (Decimal(0), Decimal(0)))
        limit = project.get(unit)
        units.append(
            UnitQuote(
                unit=unit,
                amount=_text(amount),
                takes=count,
                spent=_text(spent),
                queued=_text(queued),
                project_limit=_text(limit) if limit is not None else None,
                project_remaining=_text(limit - spent - queued) if limit is not None else None,
                render_limit=_text(render[unit]) if unit in render else None,
                estimated=estimated,
            )
        )
    return units


def check_budget(quote: Quote) -> None:
    """Refuses a render whose quote exceeds ``[budget]`` or ``[budget.render]`` in any unit.

    A render with takes that cannot be quoted is refused when a limit in a unit their
    generator bills in is already reached (``Quote.exhausted``): their cost is unknown, but
    above zero.

    Raises:
        InvalidInputError: Naming the budget, the quote and what remains (exit 2).
    """
    if quote.exhausted:
        unit, used, limit = quote.exhausted[0]
        raise InvalidInputError(
            f"this render's {quote.unquoted} take(s) cannot be quoted before it runs; "
            f"{used} of {limit} {unit} spent (queued takes included): [budget] {unit} = "
            f"{limit} is reached. Raise the budget in setpiece.toml"
        )
    for line in quote.units:
        over = line.over()
        if over is not None:
            raise InvalidInputError(
                f"this render is quoted at {_shown(Decimal(line.amount))} {line.unit}, over "
                f"{over}: {line.line()}. Render fewer takes or shots, or raise the budget "
                "in setpiece.toml"
            )


@dataclasses.dataclass(frozen=True)
class BudgetLine:
    """Spend against a budget in one unit (the board's dashboard, ``setpiece cost``)."""

    unit: str
    spent: str
    queued: str
    limit: str | None
    remaining: str | None


@dataclasses.dataclass(frozen=True)
class Budget:
    """Every unit spent or limited, and the per-render limits."""

    lines: tuple[BudgetLine, ...]
    render_limits: dict[str, str]


def budget_status(production: Production) -> Budget:
    """What each unit has spent and has queued, against ``[budget]``.

    Raises:
        InvalidInputError: ``[budget]`` is not valid.
    """
    budget = budget_settings(production.config.settings)
    limits = budget.limits()
    with production.transaction(read_only=True) as session:
        committed = _committed(session)
    lines = []
    for unit in sorted(set(committed) | set(limits), key=_unit_order):
        spent, queued = committed.get(unit, (Decimal(0), Decimal(0)))
        limit = limits.get(unit)
        lines.append(
            BudgetLine(
                unit=unit,
                spent=_text(spent),
                queued=_text(queued),
                limit=_text(limit) if limit is not None else None,
                remaining=_text(limit - spent - queued) if limit is not None else None,
            )
        )
    render = {unit: _text(v) for unit, v in budget.render.limits().items()}
    return Budget(lines=tuple(lines), render_limits=render)


@dataclasses.dataclass(frozen=True)
class SpendRow:
    """What one scene, shot, generator or day spent in one unit."""

    key: str
    unit: str
    amount: str
    takes: int


@dataclasses.dataclass(frozen=True)
class SpendReport:
    """``setpiece cost``: spend grouped, per unit, and the totals.

    Attributes:
        by: scene, shot, generator or day.
        rows: One per group and unit, in film (or date) order.
        totals: Unit -> amount spent (decimal text).
        unknown: Takes with media but no recorded cost (imported, or made before costs).
        no_bill: Of those, the takes whose generator's answer carried no cost (flagged
            ``cost_missing`` on the take): paid for, counted against ``[budget]`` at their
            quote.
    """

    by: str
    rows: tuple[SpendRow, ...]
    totals: dict[str, str]
    unknown: int
    no_bill: int = 0


def spend(production: Production, by: str = "scene") -> SpendReport:
    """What the project's takes cost, grouped ``by`` scene, shot, generator or day (UTC).

    Raises:
        InvalidInputError: ``by`` is not one of ``BY``.
    """
    if by not in BY:
        raise InvalidInputError(f"--by {by!r}: give one of {', '.join(BY)}")
    with production.transaction(read_only=True) as session:
        rows = session.execute(
            select(
                Take.cost_amount,
                Take.cost_unit,
                Take.backend,
                Take.created_at,
                Shot.code,
                Scene.number,
            )
            .join(Shot, Take.shot_id == Shot.id)
            .join(Scene, Shot.scene_id == Scene.id)
            .order_by(Scene.position, Shot.position, Take.number)
        ).all()
        uncosted = session.scalars(
            select(Take.parameters).where(
                Take.cost_amount.is_(None), Take.media_sha256.is_not(None)
            )
        ).all()
    groups: dict[tuple[str, str], list[Any]] = {}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for amount, unit, backend, created, shot, scene in rows:
        if amount is None or unit is None:
            continue
        key = _group(by, scene=scene, shot=shot, backend=backend, created=created)
        entry = groups.setdefault((key, unit), [Decimal(0), 0])
        entry[0] += Decimal(amount)
        entry[1] += 1
        totals[unit] += Decimal(amount)
    ordered = sorted(groups) if by == "day" else list(groups)
    return SpendReport(
        by=by,
        rows=tuple(
            SpendRow(key=k, unit=u, amount=_text(groups[k, u][0]), takes=groups[k, u][1])
            for k, u in ordered
        ),
        totals={unit: _text(totals[unit]) for unit in sorted(totals, key=_unit_order)},
        unknown=len(uncosted),
        no_bill=sum(1 for parameters in uncosted if (parameters or {}).get(COST_MISSING)),
    )


def spend_by_generator(production: Production) -> dict[str, dict[str, str]]:
    """Generator -> unit -> amount spent: the AI-use disclosure's ``--with-cost``."""
    report = spend(production, "generator")
    out: dict[str, dict[str, str]] = {}
    for row in report.rows:
        out.setdefault(row.key, {})[row.unit] = row.amount
    return out


def _group(by: str, *, scene: str, shot: str, backend: str | None, created: datetime) -> str:
    if by == "scene":
        return str(scene)
    if by == "shot":
        return shot
    if by == "generator":
        return backend or "(imported)"
    return created.strftime("%Y-%m-%d")


def _committed(session: Session) -> dict[str, tuple[Decimal, Decimal]]:
    """Unit -> (spent, queued): costs recorded, and quotes of takes still to render.

    A finished take (it has media) with no cost recorded but a quote counts as spent at its
    quote: it was rendered and paid for, and its bill did not come (an aggregator's answer
    with no cost). Imported takes have no quote and count nothing."""
    spent: dict[str, Decimal] = defaultdict(Decimal)
    queued: dict[str, Decimal] = defaultdict(Decimal)
    rows = session.execute(
        select(
            Take.cost_amount,
            Take.cost_unit,
            Take.quote_amount,
            Take.quote_unit,
            Take.status,
            Take.media_sha256,
        )
    ).all()
    for cost, cost_unit, quote, quote_unit, status, media in rows:
        if cost is not None and cost_unit is not None:
            spent[cost_unit] += Decimal(cost)
        elif quote is None or quote_unit is None:
            continue
        elif status in _OPEN:
            queued[quote_unit] += Decimal(quote)
        elif media is not None:
            spent[quote_unit] += Decimal(quote)
    return {u: (spent[u], queued[u]) for u in set(spent) | set(queued)}


def _unit_order(unit: str) -> tuple[int, str]:
    return (UNITS.index(unit) if unit in UNITS else len(UNITS), unit)


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _text(value: Decimal) -> str:
    """Exact decimal text without an exponent or trailing zeros (``12.5``, ``60``)."""
    value = value.quantize(Decimal("0.000001")) if value.as_tuple().exponent < -6 else value  # type: ignore[operator]
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _shown(value: Decimal) -> str:
    return _text(value)


def totals_text(units: Iterable[tuple[str, str]]) -> str:
    """``50 credits, 12.5 gpu_seconds``: amounts with their units, for one line."""
    return ", ".join(f"{amount} {unit}" for unit, amount in units) or "nothing"
