"""Previs animatic speed: frames per second of a 48-frame clip on one CPU core.

The shot is a typical one: two characters and a prop at a kitchen table at night,
medium shot, 50 mm, a slow push-in. For each size (1920x1080 and 960x540) it times:

- render alone: planning, painting the set once, and every frame's crop-and-scale into
  a yuv420p buffer, with no encoding;
- render + encode: the whole ``PrevisGenerator.render`` call, MP4 written and fsynced;
- the anchor, in the same run: PyAV encoding 48 pre-made frames of the same size (the
  frames this clip renders, kept in memory) with the same encoder settings, which is the
  floor any animatic writer pays.

Each figure is the median of ``--runs`` runs; the process pins itself to one core where
the OS allows it, and the encoder runs single-threaded. The goal is 20 fps at 1920x1080.

    python bench/previs_fps.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from _timing import machine
from setpiece.generate.backends._previs_paint import vignette
from setpiece.generate.backends._previs_video import ClipWriter, frame_buffers, to_planes
from setpiece.generate.backends.previs import PrevisGenerator, prepare
from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief
from setpiece.lettering import Typeface, typeface

FRAMES = 48
GOAL_FPS = 20.0
SHOT = ShotBrief(
    code="12A",
    scene="12",
    heading="INT. KITCHEN - NIGHT",
    description="Zoë slides the letter across the table; Marcus doesn't look up.",
    size="MS",
    angle="eye",
    lens_mm=50.0,
    camera_move="slow push-in",
    int_ext="INT",
    location="KITCHEN",
    time_of_day="NIGHT",
    subjects=(
        SubjectBrief("Zoë", "character", side="left", color=(176, 84, 160)),
        SubjectBrief("Marcus", "character", side="right", color=(84, 150, 100)),
        SubjectBrief("letter", "prop", side="centre"),
    ),
)


def rendered_frames(request: RenderRequest, settings: dict, face: Typeface) -> Iterator[Any]:
    """Every frame of the clip as the renderer makes it for the encoder, without encoding."""
    ready = prepare(request, settings, face, None)
    canvas = ready.canvas
    yield from frame_buffers(
        to_planes(canvas.image),
        (canvas.ox, canvas.oy),
        canvas.scale,
        ready.views,
        ready.layout,
        vignette(*ready.layout.picture[2:]),
    )


def median_seconds(work: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pinned = "not pinned"
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        pinned = f"pinned to core {core}"
    print(f"machine: {machine()}; {pinned}")
    generator = PrevisGenerator()
    face = typeface()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for width, height in ((1920, 1080), (960, 540)):
            request = RenderRequest(
                mode=Mode.TEXT_TO_VIDEO,
                prompt="",
                seed=7,
                width=width,
                height=height,
                fps=Fraction(24),
                frames=FRAMES,
                brief=SHOT,
            )
            settings = generator._settings(request)

            def render_alone(request: RenderRequest = request, settings: dict = settings) -> None:
                for _ in rendered_frames(request, settings, face):
                    pass

            def render_encode(request: RenderRequest = request) -> None:
                generator.render(request, work).path.unlink()

            made = [buffer.copy() for buffer in rendered_frames(request, settings, face)]

            def encode_only(made: list = made, width: int = width, height: int = height) -> None:
                target = work / "anchor.mp4"
                with ClipWriter(target, width, height, Fraction(24)) as writer:
                    for buffer in made:
                        writer.write(buffer)
                target.unlink()

            render_encode()  # warm caches: fonts, codecs
            alone = FRAMES / median_seconds(render_alone, args.runs)
            full = FRAMES / median_seconds(render_encode, args.runs)
            anchor = FRAMES / median_seconds(encode_only, args.runs)
            encoder = ", ".join(f"{k} {v}" for k, v in writer_settings().items())
            print(f"\n{width}x{height}, {FRAMES} frames ({encoder}), median of {args.runs}:")
            print(
                f"  render alone              {alone:7.1f} fps   {alone / GOAL_FPS:5.2f}x the 20 fps goal"
            )
            print(
                f"  render + encode (MP4)     {full:7.1f} fps   {full / GOAL_FPS:5.2f}x the 20 fps goal"
            )
            print(
                f"  anchor: PyAV encode only  {anchor:7.1f} fps   render + encode = {anchor / full:4.2f}x its time"
            )


def writer_settings() -> dict[str, object]:
    from setpiece.generate.backends._previs_video import encoder_settings

    return encoder_settings()


if __name__ == "__main__":
    main()
