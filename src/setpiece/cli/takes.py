"""`setpiece take`: import footage made anywhere, with its recipe; list and inspect takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from setpiece.cli._common import console, emit_json, human_size, open_production, progress_bar
from setpiece.errors import InvalidInputError

take_app = typer.Typer(
    help="Takes: every generation of a shot, with the recipe to make it again.",
    no_args_is_help=True,
)


def _parameters(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"parameter {item!r} is not KEY=VALUE, e.g. steps=30")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


@take_app.command("import")
def take_import(
    ctx: typer.Context,
    shot: str = typer.Argument(..., help="Shot code."),
    files: list[Path] = typer.Argument(..., help="Images or videos, one take each."),
    generator: str | None = typer.Option(
        None, "--generator", help="What made them: runway, comfyui..."
    ),
    model: str | None = typer.Option(None, "--model", help="Model name, e.g. gen4_turbo."),
    model_hash: str | None = typer.Option(
        None, "--model-hash", help="Content hash of the weights."
    ),
    prompt: str | None = typer.Option(None, "--prompt"),
    negative_prompt: str | None = typer.Option(None, "--negative-prompt"),
    seed: int | None = typer.Option(None, "--seed"),
    param: list[str] = typer.Option([], "--param", help="Generator parameter KEY=VALUE (repeat)."),
    ref: list[Path] = typer.Option([], "--ref", help="A reference image the generator was given."),
    parent: str | None = typer.Option(None, "--parent", help="The take these were derived from."),
    split: bool = typer.Option(
        False, "--split", help="Cut one multi-shot video at its cuts; import each piece."
    ),
    shots: str | None = typer.Option(
        None, "--shots", help="With --split: the pieces go onto these shots in order (3A,3B)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the takes as one JSON document."),
) -> None:
    """Import files as new takes of a shot. All files are checked first; one bad file imports none."""
    from setpiece.production.takes import import_takes
    from setpiece.production.views import Recipe

    if shots is not None and not split:
        raise InvalidInputError("--shots goes with --split: it names the shot of each piece")

    recipe = Recipe(
        backend=generator,
        model=model,
        model_hash=model_hash,
        prompt=prompt,
        negative_prompt=negative_prompt,
        seed=seed,
        parameters=_parameters(param),
        parent=parent,
    )
    if split:
        result = _import_split(ctx, shot, files, shots, recipe, ref)
    else:
        with open_production(ctx) as production, progress_bar("import", enabled=not as_json) as bar:
            result = import_takes(production, shot, files, recipe, references=ref, progress=bar)
    if as_json:
        emit_json({"created": result.created, "existing": result.existing})
        return
    out = console()
    for take in result.created:
        size = human_size(take.media.size) if take.media else ""
        out.print(f"take {take.label} id {take.id} {take.kind} {size}")
    for take in result.existing:
        out.print(f"already take {take.label} id {take.id}: not imported again")


def _import_split(
    ctx: typer.Context,
    shot: str,
    files: list[Path],
    shots: str | None,
    recipe: Any,
    references: list[Path],
) -> Any:
    """``take import --split``: the cutting lives in setpiece.motion.split."""
    import tempfile

    from setpiece.motion.project import project_settings
    from setpiece.motion.split import split_at_cuts
    from setpiece.production.shots import get_shot
    from setpiece.production.takes import ImportResult, import_takes
    from setpiece.store.video import check_paths

    if len(files) != 1:
        raise InvalidInputError(f"--split takes one video file, not {len(files)}")
    check_paths(files[0], files[0].with_name(files[0].name + ".split"))
    targets = [c.strip() for c in shots.split(",")] if shots else None
    if targets is not None and (not targets or any(not c for c in targets)):
        raise InvalidInputError(f"--shots {shots!r} is not a list of shot codes, e.g. 3A,3B,3C")
    with open_production(ctx) as production:
        for code in [shot, *(targets or [])]:
            get_shot(production, code)  # unknown shots refused before any work
        with tempfile.TemporaryDirectory(prefix="setpiece-split-") as folder:
            pieces = split_at_cuts(
                files[0],
                folder,
                project_settings(production),
                expected=len(targets) if targets else None,
            )
            created: list[Any] = []
            existing: list[Any] = []
            for n, piece in enumerate(pieces):
                result = import_takes(
                    production,
                    targets[n] if targets else shot,
                    [piece],
                    recipe,
                    references=references,
                )
                created.extend(result.created)
                existing.extend(result.existing)
    return ImportResult(created=created, existing=existing)


@take_app.command("list")
def take_list(
    ctx: typer.Context,
    shot: str | None = typer.Argument(None, help="Only this shot."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """List takes in script order."""
    from setpiece.production.takes import list_takes

    with open_production(ctx) as production:
        takes = list_takes(production, shot)
    if as_json:
        emit_json(takes)
        return
    from rich.table import Table

    failures = any(take.failure for take in takes)
    columns = ("take", "id", "kind", "status", "size", "generator", "seed")
    table = Table(*columns, *(("why it failed",) if failures else ()), box=None)
    for take in takes:
        media = take.media
        table.add_row(
            take.label,
            take.id,
            take.kind,
            take.status + (" (provisional)" if take.provisional else ""),
            f"{media.width}x{media.height}" if media else "",
            take.recipe.backend or "",
            "" if take.recipe.seed is None else str(take.recipe.seed),
            *((take.failure or "",) if failures else ()),
        )
    console().print(table)
    if failures:
        console().print("retry the failed takes: setpiece render --retry-failed [SHOTS]")


@take_app.command("show")
def take_show(
    ctx: typer.Context,
    take: str = typer.Argument(..., help="Take id, or SHOT/NUMBER such as 3A/2."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    workflow_out: Path | None = typer.Option(
        None,
        "--workflow-out",
        help="Write the exact ComfyUI workflow the take was sent (API format) to this file.",
    ),
) -> None:
    """Show a take: its media and full recipe."""
    from setpiece.production.takes import get_take

    with open_production(ctx) as production:
        view = get_take(production, take)
        if workflow_out is not None:
            _write_workflow(production, take, workflow_out)
    if as_json:
        emit_json(view)
        return
    out = console()
    out.print(f"take {view.label} id {view.id} {view.kind} {view.status}")
    out.print(f"made {view.created_at:%Y-%m-%d %H:%M} UTC by {view.created_by or 'unknown'}")
    if view.failure:
        out.print(f"failed: {view.failure}", style="red", markup=False, highlight=False)
        out.print(f"retry: setpiece render --retry-failed {view.shot}")
    if view.media:
        m = view.media
        fps = f" {m.fps.numerator}/{m.fps.denominator} fps, {m.frames} frames" if m.fps else ""
        out.print(
            f"media {m.path}\n  {m.container}/{m.codec} {m.width}x{m.height}{fps}, {human_size(m.size)}"
        )
    r = view.recipe
    for label, value in (
        ("generator", r.backend),
        ("model", r.model),
        ("model hash", r.model_hash),
        ("prompt", r.prompt),
        ("negative", r.negative_prompt),
        ("seed", r.seed),
        ("parent", r.parent),
    ):
        if value is not None:
            out.print(f"{label}: {value}")
    if r.parameters:
        out.print("parameters: " + json.dumps(r.parameters))
    for operation in r.operations:
        out.print("operation: " + json.dumps(operation.record()))
    for sha in r.references:
        out.print(f"reference: {sha}")


def _write_workflow(production: Any, take: str, target: Path) -> None:
    """Writes the take's kept workflow to ``target``, whole or not at all."""
    import contextlib
    import os
    import tempfile

    from setpiece.generate.queue import take_workflow
    from setpiece.store.video import write_failed

    content = take_workflow(production, take)
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give a file name for the workflow")
    if not target.parent.is_dir():
        raise InvalidInputError(f"cannot write {target}: the folder {target.parent} does not exist")
    temp = None
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp, target)
    except OSError as exc:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise write_failed(target, exc) from exc
    console(stderr=True).print(f"wrote the take's workflow to {target}")


@take_app.command("set")
def take_set(
    ctx: typer.Context,
    take: str = typer.Argument(..., help="Take id, or SHOT/NUMBER."),
    status: str = typer.Option(
        ..., "--status", help="rejected, or ready to restore a rejected take."
    ),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Change a take's status (circling is done by approving it)."""
    from setpiece.production.takes import set_take_status

    with open_production(ctx) as production:
        view = set_take_status(production, take, status, note=note)
    console().print(f"take {view.label} id {view.id} is {view.status}")
