"""Commands of the motion capability: retime, deflicker, cuts, measure.

Each works on any video file with no project; with ``--take ID`` inside a project,
retime and deflicker make a derived take and measure stores its figures on the take.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import typer

from setpiece.cli._common import console, emit_json, open_production, progress_bar
from setpiece.errors import InvalidInputError

JSON = typer.Option(False, "--json", help="Print one JSON document.")
TAKE = typer.Option(None, "--take", help="A take of the project (id or SHOT/NUMBER).")
CODEC = typer.Option(
    None, "--codec", help="h264 (default), prores (.mov) or png (a folder of frames)."
)


def _factor(text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidInputError(f"--factor {text!r} is not a number: write e.g. 4 or 2.5") from None
    if value <= 0:
        raise InvalidInputError(f"--factor {text} must be above 0: write e.g. 4 for slow motion")
    return value


def _files(
    source: Path | None, target: Path | None, take: str | None, command: str
) -> tuple[Path, Path] | None:
    if take is not None:
        if source is not None or target is not None:
            raise InvalidInputError(f"{command}: give either IN OUT files or --take, not both")
        return None
    if source is None or target is None:
        raise InvalidInputError(f"{command}: give IN and OUT files, or --take ID in a project")
    return source, target


def retime_command(
    ctx: typer.Context,
    source: Path | None = typer.Argument(None, help="The video to retime."),
    target: Path | None = typer.Argument(None, help="Output .mp4/.mov/.mkv, or a folder."),
    fps: str | None = typer.Option(None, "--fps", help="New frame rate: 24, 23.976, 24000/1001."),
    factor: str | None = typer.Option(None, "--factor", help="Slow motion: 4 = four times slower."),
    take: str | None = TAKE,
    codec: str | None = CODEC,
    as_json: bool = JSON,
) -> None:
    """Change a video's frame rate (or slow it down) by optical-flow interpolation."""
    from setpiece.motion.retime import output_plan, retime
    from setpiece.timebase import parse_rate

    rate = parse_rate(fps) if fps is not None else None
    slow = _factor(factor)
    output_plan(Fraction(24), fps=rate, factor=slow)  # refuse bad values before any work
    files = _files(source, target, take, "retime")
    with progress_bar("retime", enabled=not as_json) as bar:
        if files is None:
            from setpiece.motion.project import retime_take

            assert take is not None
            with open_production(ctx) as production:
                view, created, report = retime_take(
                    production,
                    take,
                    fps=rate,
                    factor=slow,
                    progress=lambda done, total: bar("frames", done, total),
                )
            if as_json:
                emit_json({"take": view, "created": created, "retime": report})
                return
            console().print(
                f"take {view.label} id {view.id}: {report.frames} frames at "
                f"{report.fps.numerator}/{report.fps.denominator} fps"
                + ("" if created else " (existed already)")
            )
            return
        report = retime(
            files[0],
            files[1],
            fps=rate,
            factor=slow,
            codec=codec,
            progress=lambda done, total: bar("frames", done, total),
        )
    if as_json:
        emit_json(report)
        return
    console().print(
        f"{report.path}: {report.frames} frames at {report.fps.numerator}/"
        f"{report.fps.denominator} fps ({report.interpolated} interpolated, "
        f"{report.held_at_cuts} held at cuts), audio {report.audio}"
    )


def deflicker_command(
    ctx: typer.Context,
    source: Path | None = typer.Argument(None, help="The video to deflicker."),
    target: Path | None = typer.Argument(None, help="Output .mp4/.mov/.mkv, or a folder."),
    take: str | None = TAKE,
    codec: str | None = CODEC,
    as_json: bool = JSON,
) -> None:
    """Remove frame-to-frame brightness and colour flicker, keeping real light changes."""
    from setpiece.motion.deflicker import deflicker

    files = _files(source, target, take, "deflicker")
    with progress_bar("deflicker", enabled=not as_json) as bar:
        if files is None:
            from setpiece.motion.project import deflicker_take

            assert take is not None
            with open_production(ctx) as production:
                view, created, report = deflicker_take(production, take, progress=bar)
            if as_json:
                emit_json({"take": view, "created": created, "deflicker": report})
                return
            console().print(
                f"take {view.label} id {view.id}: deflickered"
                + ("" if created else " (existed already)")
            )
            return
        report = deflicker(files[0], files[1], codec=codec, progress=bar)
    if as_json:
        emit_json(report)
        return
    console().print(f"{report.path}: {report.frames} frames, largest gain {report.max_gain:.3f}")


def cuts_command(
    ctx: typer.Context,
    video: Path = typer.Argument(..., help="The video."),
    as_json: bool = JSON,
) -> None:
    """Shot boundaries: hard cuts, fades and dissolves."""
    from setpiece.motion.cuts import detect_cuts

    with progress_bar("cuts", enabled=not as_json) as bar:
        report = detect_cuts(video, progress=lambda done, total: bar("frames", done, total))
    if as_json:
        emit_json(report)
        return
    out = console()
    out.print(
        f"{report.frames} frames at {report.fps.numerator}/{report.fps.denominator} fps, "
        f"{len(report.cuts)} boundaries"
    )
    for cut in report.cuts:
        out.print(f"frame {cut.frame}  {float(cut.time):.3f}s  {cut.kind}")


def measure_command(
    ctx: typer.Context,
    video: Path | None = typer.Argument(None, help="The video (or --take)."),
    take: str | None = TAKE,
    as_json: bool = JSON,
) -> None:
    """Temporal quality: warping error, flicker index, longest frozen run."""
    from setpiece.motion.measure import measure_video

    if (video is None) == (take is None):
        raise InvalidInputError("measure: give a VIDEO file, or --take ID in a project")
    with progress_bar("measure", enabled=not as_json) as bar:
        if take is not None:
            from setpiece.motion.project import measure_take

            with open_production(ctx) as production:
                result = measure_take(
                    production, take, progress=lambda done, total: bar("frames", done, total)
                )
        else:
            assert video is not None
            result = measure_video(video, progress=lambda done, total: bar("frames", done, total))
    if as_json:
        emit_json(result)
        return
    console().print(
        f"{result.frames} frames: warping error {result.warp_error:.6f}, flicker "
        f"{result.flicker:.3f}, longest frozen run {result.frozen_run} frames"
        + (f" from frame {result.frozen_at}" if result.frozen_at is not None else "")
    )


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the root ``app``."""
    app.command("retime")(retime_command)
    app.command("deflicker")(deflicker_command)
    app.command("cuts")(cuts_command)
    app.command("measure")(measure_command)
