"""Line placement in the preview movie, measured by decoding the movie (issue 31).

For each screenplay (the demo's *The Last Reel* and the jumpcut corpus in
/work/shared/data/screenplays_jumpcut), in a fresh project with slates for pictures: the
script is imported and planned (``script.planning``), every line spoken by its default
eSpeak NG voice (``pipeline.dialogue.render_dialogue``), the shots lengthened to fit their
lines (``make --dialogue``'s step), the cut assembled and written as the preview movie with
its dialogue (``pipeline.deliver``'s placement). Then the movie's sound is decoded and,
for each line that starts alone (not the second of a dual pair), the first sample above
-34 dBFS at or after the previous line's end is compared with where the rule puts the
line's first sound: its computed in-point (``edit.sound.place_lines``) plus the line
take's own leading silence (measured in the levelled take the same way). A line passes
when the two are within one frame. Printed: cases, passes with a Wilson 95 % interval,
the largest error in ms, per screenplay, and the load average.

    python bench/dialogue_placement.py [--max-lines 40] [--fps 24000/1001]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/data/screenplays_jumpcut")
THRESHOLD = 0.02  # -34 dBFS


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def scripts() -> list[Path]:
    from setpiece.pipeline.demo import demo_script

    found = [demo_script()]
    if DATA.is_dir():
        found += sorted(DATA.glob("*/*.fountain"))
        found += sorted(DATA.glob("extranormal_and_fdx_fixtures/dual-dialogue-basic.fdx"))
    return found


def lead_in(samples: np.ndarray) -> int:
    loud = np.nonzero(np.abs(samples).max(axis=0) > THRESHOLD)[0]
    return int(loud[0]) if loud.size else -1


def measure(script: Path, fps: Fraction, max_lines: int) -> tuple[int, int, float, int]:
    """(cases, passes, worst error in ms, lines placed) for one screenplay."""
    import av

    from setpiece.edit.movie import write_preview
    from setpiece.edit.sound import _line_gain, place_lines, read_line, sample_at
    from setpiece.pipeline.dialogue import render_dialogue
    from setpiece.pipeline.make import _fit_shots_to_lines
    from setpiece.production.context import init_production
    from setpiece.production.cut import assemble
    from setpiece.production.dialogue import cut_lines, dialogue_settings, list_lines
    from setpiece.script.importer import import_script
    from setpiece.script.planning import plan_shots

    with tempfile.TemporaryDirectory() as tmp:
        with init_production(
            Path(tmp) / "film", name=script.stem, fps=fps, resolution=(160, 90), actor="bench"
        ) as production:
            import_script(production, script)
            plan_shots(production)
            spoken = {line.id for line in list_lines(production)[:max_lines]}
            scenes = sorted({name.split("/")[0] for name in spoken})
            for scene in scenes:
                render_dialogue(production, scene=scene)
            _fit_shots_to_lines(production)
            cut = assemble(production)
            with production.transaction(read_only=True) as session:
                lines = [a for a in cut_lines(production, session) if a.line in spoken]
            pause = dialogue_settings(production.config.settings).pause
            placement = place_lines(cut, lines, pause=pause)
            movie = Path(tmp) / "cut.mp4"
            write_preview(cut, movie, dialogue=placement)
            leads = {}
            for placed in placement.lines:
                take = read_line(placed.line.audio, placed.line.line)
                take *= _line_gain(take)
                leads[placed.line.line] = lead_in(take)
        with av.open(str(movie)) as container:
            sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    frame = 48000 / float(fps)  # samples in one frame
    cases = passes = 0
    worst = 0.0
    previous_end = 0
    for placed in sorted(placement.lines, key=lambda p: p.record_in):
        start = sample_at(placed.record_in, fps)
        if placed.track == 1 and start >= previous_end:
            lead = leads[placed.line.line]
            if lead >= 0:
                window = sound[:, previous_end : start + lead + 4 * int(frame)]
                heard = lead_in(window)
                if heard >= 0:
                    error = abs(previous_end + heard - (start + lead))
                    cases += 1
                    passes += error <= frame
                    worst = max(worst, error / 48)
        previous_end = max(previous_end, start + math.ceil(placed.line.seconds * 48000))
    return cases, passes, worst, len(placement.lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-lines", type=int, default=40, help="lines per screenplay")
    parser.add_argument("--fps", default="24000/1001")
    args = parser.parse_args()
    fps = Fraction(args.fps)
    total = good = 0
    worst = 0.0
    started = time.perf_counter()
    for script in scripts():
        t0 = time.perf_counter()
        cases, passes, error, placed = measure(script, fps, args.max_lines)
        total, good, worst = total + cases, good + passes, max(worst, error)
        print(
            f"{script.name:32s} lines placed {placed:3d}, measured {cases:3d}, within one frame "
            f"{passes:3d}, worst {error:6.1f} ms ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    low, high = wilson(good, total)
    print(
        f"all: {good}/{total} lines start within one frame of their computed in-point "
        f"({100 * good / max(1, total):.1f} %, Wilson 95 % {100 * low:.1f}-{100 * high:.1f} %), "
        f"worst {worst:.1f} ms; one frame is {1000 / float(fps):.1f} ms at {args.fps} fps"
    )
    print(f"{time.perf_counter() - started:.0f} s, load average {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
