"""`setpiece scene`, `shot`, and the bible: `character`, `location`, `prop`, `style`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from setpiece.cli._common import console, emit_json, open_production
from setpiece.model.enums import BibleKind

if TYPE_CHECKING:
    from setpiece.production.assignments import AssignmentView
    from setpiece.production.views import ShotView

scene_app = typer.Typer(help="Scenes of the script, in order.", no_args_is_help=True)
shot_app = typer.Typer(
    help="The shot list: coverage of each scene, with blocking and status.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Print one JSON document.")


@scene_app.command("add")
def scene_add(
    ctx: typer.Context,
    heading: str = typer.Option(..., "--heading", help='e.g. "INT. KITCHEN - NIGHT"'),
    number: str | None = typer.Option(
        None, "--number", help="Scene number (12, 12A); next free one if left out."
    ),
    synopsis: str | None = typer.Option(None, "--synopsis"),
) -> None:
    """Add a scene at the end of the script."""
    from setpiece.production.scenes import add_scene

    with open_production(ctx) as production:
        scene = add_scene(production, heading, number=number, synopsis=synopsis)
    console().print(f"scene {scene.number}: {scene.heading}")


@scene_app.command("accept")
def scene_accept(ctx: typer.Context, number: str) -> None:
    """Mark a scene the script revision changed as reviewed."""
    from setpiece.production.scenes import accept_revision

    with open_production(ctx) as production:
        scene = accept_revision(production, number)
    console().print(f"scene {scene.number} reviewed")


@scene_app.command("list")
def scene_list(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List scenes in script order, OMITTED ones included with their shots and takes."""
    from setpiece.production.scenes import list_scenes

    with open_production(ctx) as production:
        scenes = list_scenes(production)
    if as_json:
        emit_json(scenes)
        return
    from rich.table import Table

    table = Table("#", "heading", "pages", "shots", "takes", "", box=None)
    for scene in scenes:
        heading = f"{scene.heading} (OMITTED)" if scene.omitted else scene.heading
        pages = (
            f"{scene.eighths // 8} {scene.eighths % 8}/8".replace("0 ", "") if scene.eighths else ""
        )
        table.add_row(
            scene.number,
            heading,
            pages.replace(" 0/8", ""),
            str(scene.shots),
            str(scene.takes),
            "changed in script" if scene.needs_review else "",
        )
    console().print(table)


@shot_app.command("add")
def shot_add(
    ctx: typer.Context,
    scene: str = typer.Argument(..., help="Scene number."),
    code: str = typer.Option(..., "--code", help="Shot code, unique in the project (e.g. 3A)."),
    description: str = typer.Option("", "--description"),
    size: str | None = typer.Option(None, "--size", help="ECU, CU, MCU, MS, MWS, WS or EWS."),
    angle: str | None = typer.Option(None, "--angle", help="eye, low, high, overhead, dutch..."),
    lens: float | None = typer.Option(None, "--lens", help="Focal length in mm."),
    move: str | None = typer.Option(None, "--move", help="static, push-in, pan, dolly..."),
    duration: float | None = typer.Option(None, "--duration", help="Planned duration in seconds."),
    characters: str | None = typer.Option(
        None, "--characters", help="NAME,NAME; blocking after @: ANNA@left-fg,BEN@right-bg."
    ),
    props: str | None = typer.Option(None, "--props", help="Props in frame, same form."),
) -> None:
    """Add a shot to a scene."""
    from setpiece.production.shots import add_shot, parse_subjects

    subjects = parse_subjects(characters or "") + parse_subjects(props or "")
    with open_production(ctx) as production:
        shot = add_shot(
            production,
            scene,
            code,
            description=description,
            size=size,
            angle=angle,
            lens_mm=lens,
            camera_move=move,
            duration=duration,
            subjects=subjects,
        )
    console().print(f"shot {shot.code} added to scene {shot.scene}")


@shot_app.command("plan")
def shot_plan(
    ctx: typer.Context,
    scene: str | None = typer.Option(None, "--scene", help="Only this scene."),
    replace: bool = typer.Option(
        False, "--replace", help="Re-plan scenes that have shots (shots with takes are kept)."
    ),
    planner: str = typer.Option("rules", "--planner", help="The planner plugin to use."),
    as_json: bool = JSON,
) -> None:
    """Propose coverage for each scene from the script: masters, two-shots, singles, inserts."""
    from setpiece.script.planning import plan_shots

    with open_production(ctx) as production:
        report = plan_shots(production, scene=scene, replace=replace, planner=planner)
    if as_json:
        emit_json(report)
        return
    out = console()
    for shot in report.created:
        out.print(
            f"{shot['code']:8s} {shot['size']:4s} {shot['duration']:5.1f}s  {shot['description']}"
        )
    out.print(f"{len(report.created)} shots planned by {report.planner}")
    if report.skipped_scenes:
        out.print(f"scenes with shots already (use --replace): {', '.join(report.skipped_scenes)}")
    if report.kept:
        out.print(f"kept (they have takes or progress): {', '.join(report.kept)}")


@shot_app.command("list")
def shot_list(
    ctx: typer.Context,
    scene: str | None = typer.Option(None, "--scene", help="Only this scene."),
    assignee: str | None = typer.Option(
        None, "--assignee", help="Only the shots assigned to this member, with due dates."
    ),
    mine: bool = typer.Option(False, "--mine", help="Only the shots assigned to you."),
    as_json: bool = JSON,
) -> None:
    """List shots in script order."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.assignments import list_assignments
    from setpiece.production.shots import list_shots

    if mine and assignee is not None:
        raise InvalidInputError("give --assignee NAME or --mine, not both")
    if scene is not None and (mine or assignee is not None):
        raise InvalidInputError("--scene does not go with --assignee or --mine")
    only = assignee is not None or mine
    with open_production(ctx) as production:
        assigned = list_assignments(production, production.actor if mine else assignee)
        rows = shot_rows(list_shots(production, scene), assigned, only_assigned=only)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    if only:
        table = Table("shot", "scene", "status", "assignee", "due", "", "description", box=None)
        for row in rows:
            table.add_row(
                row["code"],
                row["scene"],
                row["status"],
                row["assignee"],
                row["due"] or "",
                "LATE" if row["late"] else "",
                row["description"],
            )
    else:
        table = Table("shot", "scene", "size", "status", "takes", "description", box=None)
        for row in rows:
            table.add_row(
                row["code"],
                row["scene"],
                row["size"] or "",
                row["status"],
                str(row["takes"]),
                row["description"],
            )
    console().print(table)


def shot_rows(
    shots: list[ShotView], assigned: list[AssignmentView], *, only_assigned: bool
) -> list[dict[str, Any]]:
    """The rows of `shot list`, one shape with or without --assignee/--mine: the shot's
    JSON (``ShotView``) with ``assignee``, ``due`` and ``late`` (None, None, False when the
    shot is nobody's); only the shots in ``assigned`` when ``only_assigned``."""
    by_code = {a.shot: a for a in assigned}
    rows = []
    for shot in shots:
        given = by_code.get(shot.code)
        if given is None and only_assigned:
            continue
        row = shot.to_json()
        row["assignee"] = given.assignee if given else None
        row["due"] = given.due if given else None
        row["late"] = given.late if given else False
        rows.append(row)
    return rows


@shot_app.command("assign")
def shot_assign(
    ctx: typer.Context,
    code: str,
    to: str = typer.Option(..., "--to", help="The member who gets the shot."),
    due: str | None = typer.Option(None, "--due", help="Due date, YYYY-MM-DD."),
) -> None:
    """Assign a shot to a member, with a due date (a past date is allowed, with a warning)."""
    from setpiece.production.assignments import assign_shot

    with open_production(ctx) as production:
        done = assign_shot(production, code, to, due=due)
    for warning in done.warnings:
        console(stderr=True).print(f"warning: {warning}")
    console().print(
        f"shot {done.shot} assigned to {done.assignee}" + (f", due {done.due}" if done.due else "")
    )


@shot_app.command("show")
def shot_show(ctx: typer.Context, code: str, as_json: bool = JSON) -> None:
    """Show one shot with its takes."""
    from setpiece.production.shots import get_shot
    from setpiece.production.takes import list_takes

    with open_production(ctx) as production:
        shot = get_shot(production, code)
        takes = list_takes(production, code)
    if as_json:
        data = shot.to_json()
        data["take_list"] = [t.to_json() for t in takes]
        emit_json(data)
        return
    out = console()
    out.print(f"{shot.code} (scene {shot.scene}) {shot.status}, version {shot.version}")
    if shot.description:
        out.print(shot.description)
    from setpiece.generate.prompts import angle_words

    camera = [
        x
        for x in (
            shot.size,
            shot.angle and angle_words(shot.angle),
            shot.lens_mm and f"{shot.lens_mm:g} mm",
            shot.camera_move,
        )
        if x
    ]
    if camera:
        out.print("camera: " + ", ".join(str(x) for x in camera))
    if shot.planned_seconds is not None:
        out.print(f"planned: {shot.planned_seconds:g} s ({shot.planned_frames} frames)")
    for subject in shot.subjects:
        place = "-".join(x for x in (subject.side, subject.depth) if x)
        out.print(f"  {subject.kind} {subject.name}" + (f" @ {place}" if place else ""))
    for take in takes:
        out.print(f"  take {take.label} id {take.id} {take.kind} {take.status}")


@shot_app.command("set")
def shot_set(
    ctx: typer.Context,
    code: str,
    status: str | None = typer.Option(None, "--status", help="todo, wip, review or retake."),
    prompt: str | None = typer.Option(
        None, "--prompt", help="Replace the composed prompt, '+TEXT' to extend it, '' to clear."
    ),
    note: str | None = typer.Option(None, "--note"),
    if_version: int | None = typer.Option(
        None, "--if-version", help="Refuse if the shot changed since this version."
    ),
    workflow: str | None = typer.Option(
        None,
        "--workflow",
        help="A ComfyUI API-format workflow file for this shot's renders; '' to clear.",
    ),
) -> None:
    """Change a shot's status, prompt or workflow (approval goes through approving a take)."""
    from setpiece.errors import InvalidInputError
    from setpiece.production.shots import set_shot_prompt, set_shot_status, set_shot_workflow

    if status is None and prompt is None and workflow is None:
        raise InvalidInputError("nothing to set: give --status, --prompt and/or --workflow")
    with open_production(ctx) as production:
        if status is not None:
            shot = set_shot_status(production, code, status, expected_version=if_version, note=note)
            console().print(f"shot {shot.code} is {shot.status} (version {shot.version})")
        if prompt is not None:
            shot = set_shot_prompt(production, code, prompt)
            console().print(f"shot {shot.code} prompt {'set' if prompt.strip() else 'cleared'}")
        if workflow is not None:
            if workflow.strip():
                from setpiece.generate.backends.comfyui import load_workflow

                load_workflow(workflow.strip(), production.config.root)  # API format, placeholders
            shot = set_shot_workflow(production, code, workflow)
            console().print(
                f"shot {shot.code} workflow {shot.workflow if shot.workflow else 'cleared'}"
            )


def bible_app(kind: BibleKind) -> typer.Typer:
    """The commands for one kind of bible entry (``cli/bible.py`` adds the editing ones)."""
    app = typer.Typer(
        help=f"The bible's {kind.value}s, with reference images.", no_args_is_help=True
    )

    @app.command("add")
    def add(
        ctx: typer.Context,
        name: str,
        description: str = typer.Option("", "--description"),
        ref: list[Path] = typer.Option([], "--ref", help="A reference image (repeat for more)."),
    ) -> None:
        from setpiece.production.bible import add_entry

        if kind == BibleKind.CHARACTER and ref:
            from setpiece.cli.bible import check_faces

            check_faces(ref)
        with open_production(ctx) as production:
            entry = add_entry(production, kind, name, description=description, refs=ref)
        console().print(f"{kind.value} {entry.name} added with {len(entry.refs)} reference(s)")

    add.__doc__ = f"Add a {kind.value}."

    @app.command("list")
    def list_(ctx: typer.Context, as_json: bool = JSON) -> None:
        from setpiece.production.bible import list_entries

        with open_production(ctx) as production:
            entries = list_entries(production, kind)
        if as_json:
            emit_json(entries)
            return
        from rich.table import Table

        table = Table("name", "refs", "description", box=None)
        for entry in entries:
            described = entry.description or (
                f"(script: {entry.candidate_description})" if entry.candidate_description else ""
            )
            table.add_row(entry.name, str(len(entry.refs)), described)
        console().print(table)

    list_.__doc__ = f"List {kind.value}s."

    @app.command("show")
    def show(ctx: typer.Context, name: str, as_json: bool = JSON) -> None:
        from setpiece.production.bible import get_entry

        with open_production(ctx) as production:
            entry = get_entry(production, kind, name)
        if as_json:
            emit_json(entry)
            return
        from setpiece.cli.bible import print_entry

        print_entry(entry)

    show.__doc__ = f"Show one {kind.value}: description, references, looks, likeness."

    from setpiece.cli.bible import add_editing_commands

    add_editing_commands(app, kind)
    return app
