"""`setpiece make`: the whole journey from a screenplay to a reviewed, signed previs cut.

Every step is idempotent and reads its state from the project, so a run that was killed
simply runs again and continues where it stopped: the script import keeps the work of
a revision, planning keeps any shot list a person edited (scenes that have shots are
left alone), rendering only queues what a shot still lacks and resumes the durable
queue, retiming skips takes that already have their retimed child, the checks replace
their own findings, and the provisional pick never touches a shot a person circled.

``make`` never dies halfway. A step that raises is recorded as failed with its error (a
generator that is not installed, a full disk, or a bug: any exception, with its type),
and the steps that do not need it still run; what each step needs is data (``NEEDS``):
signing and the disclosure read what assembling delivered (``pipeline.deliver``: the
timelines, movie and sheet signed and verified, the disclosure beside them, the same
delivery ``edit assemble`` makes), so neither is written without its cut. Only the project
and the script are preconditions: bad input there (another script in the folder, no
screenplay) refuses the whole run before anything is made, and so does a render whose
quote is over a budget or over ``[render] confirm_over`` (unless ``yes``), before anything
is spent, as ``setpiece render`` refuses it. The report's ``exit_code``
follows ``setpiece.errors.ExitCode``: 1 when a step had a bug, 5 when the environment
failed, 4 when a step failed otherwise (takes that did not render included). The final
report says where every output is and what needs a human: findings, shots nobody
approved, steps that failed.

Seeds are fixed unless asked otherwise (``--random-seeds``), so that two runs of the same
project make the same takes and the checks find the same things: each shot's takes are
seeded from ``--seed`` (default ``DEFAULT_SEED``) and the shot's code (:func:`shot_seed`),
the n-th take of a shot with the next seed. A generator that does not make the same take
again from a seed gets none, and the render step says so.

With ``--dialogue`` (the demo's default) the lines are spoken before the pictures are
rendered, and the shots are timed from the sound by ``dialogue time``'s rule
(``pipeline.timing``: never shorter than the lines they cover), so the preview movie is
heard (``pipeline.deliver`` mixes the lines in). A missing voice
backend skips the step with one line that says so; the rest of the run goes on silent.
"""

from __future__ import annotations

import time
import traceback
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.errors import ExitCode, InvalidInputError, SetpieceError, as_setpiece_error
from setpiece.model.enums import ShotStatus, TakeKind, TakeStatus
from setpiece.production.context import Production

if TYPE_CHECKING:
    from setpiece.pipeline.deliver import DeliveryReport
    from setpiece.production.cost import Quote

__all__ = [
    "DEFAULT_SEED",
    "NEEDS",
    "STEPS",
    "MakeOptions",
    "MakeReport",
    "StepResult",
    "make",
    "shot_seed",
]

DEFAULT_SEED = 1

STEPS = (
    "project",
    "script",
    "plan",
    "dialogue",
    "render",
    "retime",
    "continuity",
    "integrity",
    "pick",
    "assemble",
    "sign",
    "disclose",
)
# What each step needs: a step runs only when every step it needs is done. Steps read
# their input from the project, so most need only the shots the plan made (a render that
# failed for some takes still leaves the others to check, pick and cut); signing and the
# disclosure report on the delivery that assembly made.
NEEDS: dict[str, tuple[str, ...]] = {
    "project": (),
    "script": ("project",),
    "plan": ("script",),
    "dialogue": ("plan",),
    "render": ("plan",),
    "retime": ("plan",),
    "continuity": ("plan",),
    "integrity": ("plan",),
    "pick": ("plan",),
    "assemble": ("plan",),
    "sign": ("assemble",),
    "disclose": ("assemble",),
}
# Bad input in these refuses the whole run (nothing has been made yet).
PRECONDITIONS = ("project", "script")
OUTPUT_FOLDER = "cut"

Progress = Callable[[str, str, int, int], None]  # (step, what, done, total)


@dataclass(frozen=True)
class MakeOptions:
    """What ``make`` builds. One source of defaults for the CLI and the demo."""

    script: Path
    project: Path
    generator: str = "previs"
    takes: int = 1
    fps: Fraction = Fraction(24)
    render_fps: Fraction | None = None  # video rendered at this rate, retimed to ``fps``
    kind: str | None = None  # None: the project's [render] kind (image unless it says)
    resolution: tuple[int, int] = (1920, 1080)
    force: bool = False
    movie: bool = True
    # Shot code -> Style name, for shots that are rendered in another style (the demo's).
    shot_styles: dict[str, str] = field(default_factory=dict)
    # Who acts (``--as``); None: as ``Production.open`` decides. A project with members
    # refuses anyone else, like every command.
    actor: str | None = None
    # The base of every shot's seeds (``shot_seed``); None draws them at random.
    seed: int | None = DEFAULT_SEED
    # Speak the lines (``setpiece dialogue render``) and lengthen the shots that cover them
    # to fit them, before the pictures are rendered: the cut is heard.
    dialogue: bool = False
    # Start a render quoted over ``[render] confirm_over`` (``--yes``); without it such a
    # render is refused before anything is queued, as ``setpiece render`` refuses one it
    # cannot ask about.
    yes: bool = False


@dataclass
class StepResult:
    name: str
    status: str = "done"  # done | skipped | failed
    detail: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    # A step that raised: the exception's class name, and its traceback (for SETPIECE_DEBUG).
    error: str | None = None
    traceback: str | None = None
    exit_code: int = ExitCode.DONE  # ExitCode of this step alone (failed: 1, 4 or 5)
    warnings: list[str] = field(default_factory=list)  # one line each, said under the step

    @classmethod
    def raised(cls, name: str, exc: BaseException) -> StepResult:
        """A step that raised ``exc``: a SetpieceError (or a full or read-only disk) says what
        to do, anything else is a bug."""
        known = as_setpiece_error(exc)
        if known is not None:
            return cls(
                name,
                "failed",
                str(known),
                error=type(exc).__name__,
                exit_code=ExitCode.ENVIRONMENT
                if known.exit_code == ExitCode.ENVIRONMENT
                else ExitCode.PARTIAL,
            )
        return cls(
            name,
            "failed",
            f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
            "(run with SETPIECE_DEBUG=1 for the traceback, and please report it)",
            error=type(exc).__name__,
            traceback="".join(traceback.format_exception(exc)),
            exit_code=ExitCode.BUG,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "status": self.status,
            "detail": self.detail,
            "seconds": round(self.seconds, 2),
            "outputs": self.outputs,
            "figures": self.figures,
            "error": self.error,
            "warnings": self.warnings,
        }


@dataclass
class MakeReport:
    project: Path
    steps: list[StepResult] = field(default_factory=list)
    needs_human: list[str] = field(default_factory=list)
    members: bool = False  # the project has members: every command needs --as one of them

    @property
    def outputs(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for step in self.steps:
            merged.update(step.outputs)
        return merged

    @property
    def ok(self) -> bool:
        return all(step.status != "failed" for step in self.steps)

    @property
    def exit_code(self) -> int:
        """1 when a step had a bug, else 5 when the environment failed, else 4 when a step
        failed, else 0 (``setpiece.errors.ExitCode``)."""
        codes = {step.exit_code for step in self.steps if step.status == "failed"}
        for code in (ExitCode.BUG, ExitCode.ENVIRONMENT):
            if code in codes:
                return code
        return ExitCode.PARTIAL if codes else ExitCode.DONE

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "ok": self.ok,
            "exit_code": self.exit_code,
            "steps": [s.to_json() for s in self.steps],
            "outputs": self.outputs,
            "needs_human": self.needs_human,
            "members": self.members,
        }


class _Run:
    """One run of the pipeline: the options, the open project and the report so far."""

    def __init__(self, options: MakeOptions, progress: Progress | None) -> None:
        self.options = options
        self.progress = progress
        self.production: Production | None = None
        self.cut: Any = None  # the assembled Cut
        self.delivery: DeliveryReport | None = None  # what assembling delivered
        self.report = MakeReport(project=options.project)
        self.out = options.project / OUTPUT_FOLDER
        self.lengthened: list[str] = []  # shots the dialogue step lengthened in this run

    @property
    def prod(self) -> Production:
        assert self.production is not None
        return self.production

    def tell(self, step: str, what: str, done: int = 0, total: int = 0) -> None:
        if self.progress:
            self.progress(step, what, done, total)


def make(
    options: MakeOptions,
    *,
    progress: Progress | None = None,
    before: Callable[[str, Production], None] | None = None,
) -> MakeReport:
    """Runs every step in order and returns what each did; a step that raises is recorded.

    Args:
        options: The script, the project folder and how to render.
        progress: Called as (step, what, done, total) while steps work; ``what`` is
            ``start`` when a step starts and its status when it ends.
        before: Called with each step's name and the open project before the step runs
            (the demo stages its reference image and styled shot this way); what it
            raises is the step's failure.

    Raises:
        InvalidInputError: The script does not exist or is not a screenplay, or the project
            folder belongs to another script (without ``force``).
        InvalidInputError: The render's quote is over ``[budget]``, or over ``[render]
            confirm_over`` without ``options.yes``: nothing is queued and the run stops.
        SetpieceError: Any other refusal while opening the project or importing the script.
    """
    from setpiece.pipeline.hooks import install

    install()
    _check_script(options.script)
    run = _Run(options, progress)
    try:
        for name in STEPS:
            blocked = [
                need
                for need in NEEDS[name]
                if (done := run.report.step(need)) is None or done.status != "done"
            ]
            if blocked:
                result = StepResult(name, "skipped", f"not run: step {blocked[0]} did not finish")
                run.report.steps.append(result)
                run.tell(name, result.status)
                continue
            run.tell(name, "start")
            started = time.perf_counter()
            try:
                if name != "project" and before is not None:
                    before(name, run.prod)
                result = _STEP_FUNCTIONS[name](run)
            except SetpieceError as exc:
                if isinstance(exc, _NotStarted) or (
                    name in PRECONDITIONS and exc.exit_code == ExitCode.REFUSED
                ):
                    raise
                result = StepResult.raised(name, exc)
            except Exception as exc:
                result = StepResult.raised(name, exc)
            result.seconds = time.perf_counter() - started
            run.report.steps.append(result)
            run.tell(name, result.status)
        if run.production is not None:
            from setpiece.production.accounts import has_members

            run.report.members = has_members(run.prod)
        run.report.needs_human = _needs_human(run)
    finally:
        if run.production is not None:
            run.production.close()
    return run.report


# Checks before anything is written ---------------------------------------------------


def _check_script(path: Path) -> None:
    if not path.exists():
        raise InvalidInputError(f"the script {path} does not exist")
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder: give a Fountain (.fountain) or FDX script")
    from setpiece.script.reading import read_script

    read_script(path)  # raises a clear InvalidInputError when it is not a screenplay


def _script_identity(path: Path) -> str:
    from setpiece.script.reading import read_script

    script = read_script(path)
    title = script.title_page.get("title") or script.title_page.get("Title")
    return (str(title).strip() if title else path.stem).casefold()


# The steps --------------------------------------------------------------------------


def _step_project(run: _Run) -> StepResult:
    from setpiece.project import CONFIG_NAME

    root = run.options.project
    if (root / CONFIG_NAME).exists():
        run.production = Production.open(root, actor=run.options.actor)
        _check_same_script(run)
        return StepResult("project", "done", f"opened {root}")
    if root.exists() and any(root.iterdir()) and not run.options.force:
        raise InvalidInputError(
            f"{root} is a folder with files but no Setpiece project: choose a new folder, "
            "or pass --force to make the project there"
        )
    from setpiece.production.context import init_production

    name = _script_identity(run.options.script)
    title = run.options.script.stem if not name else name.title()
    run.production = init_production(
        root,
        name=title[:200],
        fps=run.options.fps,
        resolution=run.options.resolution,
        actor=run.options.actor,
    )
    return StepResult("project", "done", f"created {root}")


def _check_same_script(run: _Run) -> None:
    """Refuses a project whose scenes came from another screenplay (unless forced)."""
    from sqlalchemy import select

    from setpiece.model.orm import Event

    with run.prod.transaction() as session:
        imports = session.execute(
            select(Event.entity_id, Event.data).where(
                Event.entity == "script", Event.action == "import"
            )
        ).all()
    if not imports or run.options.force:
        return
    mine = _script_identity(run.options.script)
    theirs = {
        str((data or {}).get("title") or Path(name).stem).strip().casefold()
        for name, data in imports
    }
    if mine not in theirs:
        raise InvalidInputError(
            f"{run.options.project} holds another script ({sorted(theirs)[0]!r}): "
            "use a new folder, or pass --force to import this one over it"
        )


def _step_script(run: _Run) -> StepResult:
    from setpiece.script.importer import import_script

    report = import_script(run.prod, run.options.script, force=run.options.force)
    changed = len(report.added) + len(report.changed) + len(report.omitted)
    detail = f"{changed} scene(s) added or changed" if changed else "script unchanged"
    return StepResult("script", "done", detail, figures={"scenes_added": len(report.added)})


def _step_plan(run: _Run) -> StepResult:
    from setpiece.script.planning import plan_shots

    report = plan_shots(run.prod)
    planned = len(report.created)
    return StepResult(
        "plan",
        "done",
        f"{planned} shot(s) planned; scenes with shots kept as they are",
        figures={"planned": planned},
    )


def shot_seed(base: int, shot: str, made: int = 0) -> int:
    """The seed of a shot's first take still to make, after ``made`` takes: the same for
    the same shot in every run, different between shots (CRC-32 of the code)."""
    return (base + zlib.crc32(shot.encode("utf-8")) + made) % 2**31


def _honours_seeds(generator: str) -> bool:
    from setpiece.generate import list_generators

    for info in list_generators():
        if info.name == generator and info.capabilities is not None:
            return bool(info.capabilities.get("seeds", False))
    return True  # unknown: enqueue says so, with the names it knows


def _step_dialogue(run: _Run) -> StepResult:
    """Speaks every line without a fresh take, then times the shots from the sound by the
    rule ``dialogue time`` uses (``pipeline.timing.time_shots``). A missing voice backend
    is said once and the cut stays silent."""
    from setpiece.errors import MissingExtraError
    from setpiece.pipeline.dialogue import default_voice_of, render_dialogue
    from setpiece.pipeline.timing import time_shots
    from setpiece.voice.registry import get_voice

    if not run.options.dialogue:
        return StepResult("dialogue", "skipped", "not asked (--dialogue speaks the lines)")
    try:
        get_voice(default_voice_of("NARRATOR")["backend"]).close()  # who speaks by default
    except MissingExtraError as exc:
        return StepResult("dialogue", "skipped", f"no voice, the cut is silent: {exc}")
    spoken = render_dialogue(run.prod)
    timed = time_shots(run.prod)
    lengthened = run.lengthened = timed.lengthened
    detail = (
        f"{spoken.done} line(s) spoken, {len(spoken.fresh)} already; "
        f"{len(timed.changed)} shot(s) timed from the sound ({len(lengthened)} longer)"
    )
    if timed.kept_by_edit:
        detail += f"; the edit's length kept: {', '.join(timed.kept_by_edit)}"
    if spoken.refused:
        detail += f"; {len(spoken.refused)} not spoken as written: {spoken.refused[0]}"
    if spoken.failed:
        detail += f"; {spoken.failed} failed: {spoken.failures[0]}"
    return StepResult(
        "dialogue",
        "failed" if spoken.failed else "done",
        detail,
        figures={
            "spoken": spoken.done,
            "fresh": len(spoken.fresh),
            "failed": spoken.failed,
            "default_voices": spoken.default_voices,
            "lengthened": lengthened,
            "timed": [change.to_json() for change in timed.changed],
            "kept_by_edit": timed.kept_by_edit,
        },
        exit_code=ExitCode.PARTIAL if spoken.failed else ExitCode.DONE,
    )


class _NotStarted(InvalidInputError):
    """The render step refused on its quote: over ``[budget]`` or ``[budget.render]``, or
    over ``[render] confirm_over`` without ``yes``. Nothing was queued and the run stops
    (exit 2, the one line ``setpiece render`` prints): going on would check, cut and sign a
    film without the takes it was asked for."""


_CONFIRM = "add --yes to start it"  # how to confirm, as ``render`` says it


def _step_render(run: _Run) -> StepResult:
    """Queues what each shot lacks and renders the queue. The whole step is one render
    request for the budgets and ``[render] confirm_over``: every batch is planned and
    quoted first, and the total is weighed before any is queued."""
    from setpiece.generate.queue import enqueue, run_queue
    from setpiece.generate.settings import render_settings

    options = run.options
    kind = options.kind or render_settings(run.prod.config.settings).kind
    missing = _shots_missing_takes(run.prod, options.takes)
    for code in _too_short(run.prod, run.lengthened, kind):
        if not any(code in shots for shots in missing.values()):
            missing.setdefault(1, []).append(code)  # one take of the new length
    base = options.seed if options.seed is not None and _honours_seeds(options.generator) else None
    batches: list[tuple[list[str], int, str | None]] = []  # (shots, takes, style)
    for count, shots in sorted(missing.items()):
        by_style: dict[str | None, list[str]] = {}
        for shot in shots:
            by_style.setdefault(options.shot_styles.get(shot), []).append(shot)
        for style, group in by_style.items():
            # Pinned seeds differ by shot: one enqueue a shot. Random ones: one for all.
            split = [[shot] for shot in group] if base is not None else [group]
            batches.extend((batch, count, style) for batch in split)

    def queue(batch: list[str], count: int, style: str | None, dry_run: bool) -> Any:
        return enqueue(
            run.prod,
            batch,
            takes=count,
            generator=options.generator,
            kind=kind,
            seed=None if base is None else shot_seed(base, batch[0], options.takes - count),
            style=style,
            fps=options.render_fps if kind == "video" else None,
            dry_run=dry_run,
            unconfirmed=None if options.yes else _CONFIRM,
        )

    quote = None
    if batches:
        quote = _weigh([queue(*batch, dry_run=True).quote for batch in batches], run)
    queued = sum(len(queue(*batch, dry_run=False).takes) for batch in batches)

    def show(report: Any, remaining: int) -> None:
        total = report.done + report.failed + remaining
        run.tell("render", "takes", report.done + report.failed, total)

    report = run_queue(run.prod, progress=show)
    status = "failed" if report.failed else "done"  # the rest rendered: done in part (exit 4)
    detail = f"queued {queued}, rendered {report.done}, failed {report.failed}"
    if queued:
        if base is not None:
            detail += f"; seeds fixed (--seed {base})"
        elif options.seed is not None:
            detail += f"; random seeds: generator {options.generator} does not repeat a seed"
        else:
            detail += "; random seeds (--random-seeds)"
    figures: dict[str, Any] = {
        "queued": queued,
        "rendered": report.done,
        "failed": report.failed,
    }
    if quote is not None:
        figures["quote"] = quote.to_json()
        if quote.unquoted or any(Decimal(line.amount) for line in quote.units):
            detail += "; " + "; ".join(quote.lines())  # free renders (previs) say nothing
    if report.failures:
        detail += ": " + "; ".join(report.failures[:3])
    return StepResult(
        "render",
        status,
        detail,
        figures=figures,
        exit_code=ExitCode.PARTIAL if report.failed else ExitCode.DONE,
    )


def _weigh(quotes: Sequence[Quote | None], run: _Run) -> Quote:
    """The render step's quote, all its batches together, weighed before any is queued.

    Raises:
        _NotStarted: Over ``[budget]`` or ``[budget.render]`` (with the quote and what
            remains), or over ``[render] confirm_over`` without ``yes``.
    """
    from setpiece.generate.queue import over_confirm
    from setpiece.production.cost import check_budget, combine

    quote = combine([q for q in quotes if q is not None], run.options.generator)
    try:
        check_budget(quote)
    except InvalidInputError as exc:
        raise _NotStarted(f"render: {exc}") from exc
    said = None if run.options.yes else over_confirm(run.prod.config.settings, quote)
    if said is not None:
        raise _NotStarted(f"render: this render is {said}: {_CONFIRM}")
    return quote


def _too_short(production: Production, codes: Sequence[str], kind: str) -> list[str]:
    """Of the shots the dialogue step lengthened, those whose every original clip (finished
    or on its way) is shorter than the shot now is: takes rendered before the lines were
    heard (a demo run without a voice, then one with). Stills are held for any length."""
    from sqlalchemy import select

    from setpiece.model.orm import Media, Shot, Take
    from setpiece.production.picks import covers

    if kind != "video" or not codes:
        return []
    with production.transaction(read_only=True) as session:
        rows = session.execute(
            select(Shot.code, Shot.planned_frames, Take.status, Media.duration)
            .join(Take, Take.shot_id == Shot.id)
            .outerjoin(Media, Take.media_sha256 == Media.sha256)
            .where(Shot.code.in_(list(codes)), Take.parent_take_id.is_(None))
        ).all()
    live = ("pending", "rendering", "ready", "circled")
    covered: dict[str, bool] = {}
    for code, frames, status, seconds in rows:
        if status in live:
            fits = covers(seconds, frames, production.fps) is not False
            covered[code] = covered.get(code, False) or fits
    return [code for code in codes if covered.get(code) is False]


def _shots_missing_takes(production: Production, wanted: int) -> dict[int, list[str]]:
    """Shot codes grouped by how many original takes each still lacks."""
    from sqlalchemy import func, select

    from setpiece.model.enums import TakeStatus
    from setpiece.model.orm import Scene, Shot, Take

    live = (
        TakeStatus.PENDING.value,
        TakeStatus.RENDERING.value,
        TakeStatus.READY.value,
        TakeStatus.CIRCLED.value,
    )
    with production.transaction() as session:
        counts = dict(
            session.execute(
                select(Take.shot_id, func.count())
                .where(Take.status.in_(live), Take.parent_take_id.is_(None))
                .group_by(Take.shot_id)
            ).all()
        )
        shots = session.execute(
            select(Shot.id, Shot.code)
            .join(Scene, Shot.scene_id == Scene.id)
            .where(Scene.omitted.is_(False))
            .order_by(Scene.position, Shot.position)
        ).all()
    missing: dict[int, list[str]] = {}
    for shot_id, code in shots:
        lack = wanted - int(counts.get(shot_id, 0))
        if lack > 0:
            missing.setdefault(lack, []).append(code)
    return missing


def _step_retime(run: _Run) -> StepResult:
    """Retimes every finished video take whose rate is not the film's (once: a take that
    already has a retimed child is left alone)."""
    from setpiece.motion.project import retime_take
    from setpiece.production.takes import list_takes

    fps = run.prod.fps
    takes = list_takes(run.prod)
    retimed = {
        t.recipe.parent
        for t in takes
        if t.recipe.parent and t.recipe.operations and t.recipe.operations[-1].name == "retime"
    }
    todo = [
        t
        for t in takes
        if t.status in (TakeStatus.READY, TakeStatus.CIRCLED)
        and t.media is not None
        and t.media.kind == TakeKind.VIDEO
        and t.media.fps is not None
        and t.media.fps != fps
        and t.id not in retimed
    ]
    if not todo:
        return StepResult("retime", "done", f"every video take plays at {fps} fps")
    made = 0
    for index, take in enumerate(todo):
        run.tell("retime", "takes", index, len(todo))
        retime_take(run.prod, take.id, fps=fps)
        made += 1
    run.tell("retime", "takes", len(todo), len(todo))
    return StepResult(
        "retime",
        "done",
        f"{made} take(s) retimed to {fps} fps by optical flow (derived takes)",
        figures={"retimed": made},
    )


def _step_continuity(run: _Run) -> StepResult:
    from setpiece.continuity.check import check_continuity
    from setpiece.continuity.report import write_html
    from setpiece.pipeline.hooks import continuity_checkers

    run.out.mkdir(parents=True, exist_ok=True)
    report = check_continuity(
        run.prod,
        checkers=continuity_checkers(),
        progress=lambda what, done, total: run.tell("continuity", what, done, total),
    )
    html = write_html(report, run.out / "continuity.html", title="Continuity report")
    kinds: dict[str, int] = {}
    for finding in report.findings:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no findings"
    detail = f"{report.takes_checked} take(s) checked: {summary}"
    by_check: dict[str, list[str]] = {}
    for skip in report.skipped:
        by_check.setdefault(skip.check, []).append(skip.reason)
    if by_check:
        detail += "; not applied: " + "; ".join(
            f"{check} to {len(reasons)} take(s) ({reasons[0]})"
            for check, reasons in sorted(by_check.items())
        )
    return StepResult(
        "continuity",
        "done",
        detail,
        outputs={"continuity_report": html},
        figures={"takes_checked": report.takes_checked, "findings": kinds},
    )


def _step_integrity(run: _Run) -> StepResult:
    from setpiece.integrity.check import check_integrity
    from setpiece.integrity.corpus import list_references
    from setpiece.integrity.report import write_report

    references = list_references(run.prod)
    if not references:
        return StepResult(
            "integrity",
            "skipped",
            "the reference corpus is empty: add existing works with 'setpiece reference add'",
        )
    run.out.mkdir(parents=True, exist_ok=True)
    report = check_integrity(
        run.prod,
        _candidate_takes(run.prod),
        progress=lambda what, done, total: run.tell("integrity", what, done, total),
    )
    html = write_report(run.prod, run.out / "integrity.html")
    detail = (
        f"{len(report.checked)} take(s), {report.frames} frame(s) against "
        f"{len(references)} reference work(s): {len(report.findings)} near-duplicate(s)"
    )
    if report.unreadable:
        detail += f", {len(report.unreadable)} unreadable take(s)"
    return StepResult(
        "integrity",
        "done",
        detail,
        outputs={"integrity_report": str(html)},
        figures={
            "takes_checked": len(report.checked),
            "near_duplicates": len(report.findings),
            "references": len(references),
        },
    )


def _candidate_takes(production: Production) -> list[str]:
    """The takes that compete for the cut: finished, and not superseded by a derived take
    (a retimed take stands for its 12 fps parent; checking both would read the same pictures)."""
    from setpiece.production.derive import FINISHED, superseding
    from setpiece.production.takes import list_takes

    takes = list_takes(production)
    replaced = superseding(takes)
    return [
        t.id for t in takes if t.media is not None and t.status in FINISHED and t.id not in replaced
    ]


def _step_pick(run: _Run) -> StepResult:
    from setpiece.production.picks import pick_provisional

    picked = pick_provisional(run.prod)
    return StepResult(
        "pick",
        "done",
        f"{len(picked)} provisional pick(s); circled shots untouched",
        figures={"picked": len(picked)},
    )


def _step_assemble(run: _Run) -> StepResult:
    """Assembles the cut and delivers it (``deliver_cut``, as ``edit assemble`` does), and
    warns of each shot whose lines run past its end."""
    from setpiece.edit.sound import shot_overruns
    from setpiece.pipeline.deliver import deliver_cut
    from setpiece.production.cut import assemble

    run.out.mkdir(parents=True, exist_ok=True)
    cut = assemble(run.prod)
    run.cut = cut
    run.delivery = deliver_cut(
        run.prod,
        cut,
        otio=run.out / "cut.otio",
        edl=run.out / "cut.edl",
        movie=run.out / "preview.mp4" if run.options.movie else None,
        burn_in=True,
        contact_sheet=run.out / "contact-sheet.png",
        disclosure=run.out / "disclosure.json",
        progress=lambda what, done, total: run.tell("assemble", what, done, total),
    )
    slates = sum(1 for c in cut.clips if c.kind == "slate")
    placed = run.delivery.dialogue.lines if run.delivery.dialogue is not None else []
    return StepResult(
        "assemble",
        "done",
        f"{len(cut.clips)} shots, {slates} slate(s)",
        warnings=shot_overruns(cut, placed),
        outputs={kind: str(path) for kind, path in run.delivery.files.items()},
        figures={
            "clips": len(cut.clips),
            "frames": cut.duration,
            "fps": str(cut.fps),
            "slates": slates,
        },
    )


def _step_sign(run: _Run) -> StepResult:
    """The signatures of the delivery: the timelines' sidecars, every output verified."""
    delivery = run.delivery
    if delivery is None:
        return StepResult("sign", "skipped", "no cut was assembled")
    states = dict(delivery.verified)
    detail = ", ".join(f"{name} {state}" for name, state in states.items())
    detail += f"; signed by {delivery.signer}"
    return StepResult(
        "sign",
        "done" if delivery.ok else "failed",
        detail,
        outputs={f"{kind}_manifest": str(path) for kind, path in delivery.manifests.items()},
        figures={"verified": states},
        exit_code=ExitCode.DONE if delivery.ok else ExitCode.PARTIAL,
    )


def _step_disclose(run: _Run) -> StepResult:
    """The AI-use disclosure the delivery wrote beside the cut."""
    delivery = run.delivery
    if delivery is None:
        return StepResult("disclose", "skipped", "no cut was delivered")
    report = delivery.disclosure
    json_path, html_path = delivery.disclosure_files
    return StepResult(
        "disclose",
        "done",
        f"{report.headline}; {report.unapproved} shot(s) without a person's approval",
        outputs={"disclosure_json": str(json_path), "disclosure_html": str(html_path)},
        figures={
            "generated_share": round(report.generated_share, 4),
            "previs_share": round(report.previs_share, 4),
        },
    )


_STEP_FUNCTIONS: dict[str, Callable[[_Run], StepResult]] = {
    "project": _step_project,
    "script": _step_script,
    "plan": _step_plan,
    "dialogue": _step_dialogue,
    "render": _step_render,
    "retime": _step_retime,
    "continuity": _step_continuity,
    "integrity": _step_integrity,
    "pick": _step_pick,
    "assemble": _step_assemble,
    "sign": _step_sign,
    "disclose": _step_disclose,
}


# What needs a human ------------------------------------------------------------------


def _needs_human(run: _Run) -> list[str]:
    if run.production is None:
        return []
    from setpiece.production.records import list_findings
    from setpiece.production.shots import list_shots

    # Once the project has members, every command needs one: the hints say how.
    command = "setpiece --as NAME" if run.report.members else "setpiece"
    notes: list[str] = []
    findings = list_findings(run.prod)
    kinds: dict[str, int] = {}
    for finding in findings:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    for kind, count in sorted(kinds.items()):
        notes.append(f"{count} {kind} finding(s): '{command} findings list --kind {kind}'")
    unapproved = [s.code for s in list_shots(run.prod) if s.status != ShotStatus.APPROVED]
    if unapproved:
        notes.append(
            f"{len(unapproved)} shot(s) not approved by a person "
            f"(provisional picks in the cut): '{command} review approve SHOT TAKE'"
        )
    for step in run.report.steps:
        if step.status == "failed":
            notes.append(f"step {step.name} failed: {step.detail}")
    return notes
