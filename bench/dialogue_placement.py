"""Line placement in the preview movie, measured by decoding the movie (issue 31).

For each screenplay (the demo's *The Last Reel*, the jumpcut corpus in
/work/shared/data/screenplays_jumpcut, the two afterwriting short films and the
dual-dialogue FDX fixture), in a fresh project with slates for pictures: the script is
imported and planned (``script.planning``), the first ``--max-lines`` lines and every
dual line (dual dialogue and joint cues such as ODE & GODUHA, so that pairs are
measured) spoken by their default eSpeak NG voices (``pipeline.dialogue.render_dialogue``,
their scenes whole), the shots lengthened to fit their lines (``make --dialogue``'s step),
and each scene that has a chosen line cut and written as a preview movie with its
dialogue (``edit.sound.place_lines``, the placement ``pipeline.deliver`` uses): a scene's
cut is a cut like the film's, and writing only those scenes keeps the slates' encoding,
most of the time, in proportion to the lines measured. Then each movie's sound is decoded
and, for each start heard alone (a line on its own, or a dual pair, whose lines the rule
starts on the same frame), the first sample above -34 dBFS at or after the previous
line's end is compared with where the rule puts the first sound: the computed in-point
(shot in-point plus ``[dialogue] pause``, or the previous line's end plus the pause) plus
the take's own leading silence (the shorter of the pair's two), measured in the levelled
take the same way. A start passes when the two are within one frame. Printed: per
screenplay and in all, starts measured (lines alone and pairs apart), passes with a
Wilson 95 % interval, the largest error in ms, and the load average before and after.

    python bench/dialogue_placement.py [--max-lines 40] [--fps 24000/1001] [--only NAME]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from _stats import wilson

DATA = Path("/work/shared/data")
THRESHOLD = 0.02  # -34 dBFS


def scripts() -> list[Path]:
    from setpiece.pipeline.demo import demo_script

    found = [demo_script()]
    if DATA.is_dir():
        found += sorted(DATA.glob("screenplays_jumpcut/*/*.fountain"))
        found += sorted(DATA.glob("screenplays_afterwriting/*.fountain"))
        found += sorted(DATA.glob("screenplays_jumpcut/*/dual-dialogue-basic.fdx"))
    return found


def lead_in(samples: np.ndarray) -> int:
    loud = np.nonzero(np.abs(samples).max(axis=0) > THRESHOLD)[0]
    return int(loud[0]) if loud.size else -1


@dataclass
class Tally:
    """Starts measured and passed, for lines alone and for dual pairs."""

    lines: int = 0
    lines_ok: int = 0
    pairs: int = 0
    pairs_ok: int = 0
    placed: int = 0
    worst_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.lines += other.lines
        self.lines_ok += other.lines_ok
        self.pairs += other.pairs
        self.pairs_ok += other.pairs_ok
        self.placed += other.placed
        self.worst_ms = max(self.worst_ms, other.worst_ms)


def score(placement: Any, sound: np.ndarray, leads: dict[str, int], fps: Fraction) -> Tally:
    """Each start heard alone in one movie against the rule (see the module docstring)."""
    from setpiece.edit.sound import sample_at

    frame = 48000 / float(fps)  # samples in one frame
    tally = Tally(placed=len(placement.lines))
    starts: dict[int, list[Any]] = {}
    for placed in placement.lines:
        starts.setdefault(placed.record_in, []).append(placed)
    previous_end = 0
    for record_in in sorted(starts):
        group = starts[record_in]
        start = sample_at(record_in, fps)
        heard_leads = [leads[p.line.line] for p in group if leads[p.line.line] >= 0]
        if start >= previous_end and heard_leads:
            lead = min(heard_leads)
            window = sound[:, previous_end : start + lead + 4 * int(frame)]
            heard = lead_in(window)
            if heard >= 0:
                error = abs(previous_end + heard - (start + lead))
                ok = error <= frame
                if len(group) > 1:
                    tally.pairs, tally.pairs_ok = tally.pairs + 1, tally.pairs_ok + ok
                else:
                    tally.lines, tally.lines_ok = tally.lines + 1, tally.lines_ok + ok
                tally.worst_ms = max(tally.worst_ms, error / 48)
        for placed in group:
            end = start + math.ceil(placed.line.seconds * 48000)
            previous_end = max(previous_end, end)
    return tally


def measure(script: Path, fps: Fraction, max_lines: int) -> Tally:
    """Starts measured and passed for one screenplay."""
    import av

    from setpiece.edit.movie import write_preview
    from setpiece.edit.sound import _line_gain, place_lines, read_line
    from setpiece.pipeline.dialogue import render_dialogue
    from setpiece.pipeline.make import _fit_shots_to_lines
    from setpiece.production.context import init_production
    from setpiece.production.cut import assemble
    from setpiece.production.dialogue import cut_lines, dialogue_settings, list_lines
    from setpiece.script.importer import import_script
    from setpiece.script.planning import plan_shots

    tally = Tally()
    with (
        tempfile.TemporaryDirectory() as tmp,
        init_production(
            Path(tmp) / "film", name=script.stem, fps=fps, resolution=(160, 90), actor="bench"
        ) as production,
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = import_script(production, script)
        tally.notes += report.warnings
        plan_shots(production)
        every = list_lines(production)
        spoken = {line.id for line in every[:max_lines]} | {x.id for x in every if x.dual}
        scenes = list(dict.fromkeys(x.scene for x in every if x.id in spoken))
        for scene in scenes:
            render_dialogue(production, scene=scene)
        _fit_shots_to_lines(production)
        pause = dialogue_settings(production.config.settings).pause
        for number, scene in enumerate(scenes):
            cut = assemble(production, scene=scene)
            with production.transaction(read_only=True) as session:
                lines = [a for a in cut_lines(production, session, scene=scene) if a.line in spoken]
            placement = place_lines(cut, lines, pause=pause)
            movie = Path(tmp) / f"scene{number}.mp4"
            write_preview(cut, movie, dialogue=placement)
            leads = {}
            for placed in placement.lines:
                take = read_line(placed.line.audio, placed.line.line)
                take *= _line_gain(take)
                leads[placed.line.line] = lead_in(take)
            with av.open(str(movie)) as container:
                sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
            tally.add(score(placement, sound, leads, fps))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-lines", type=int, default=40, help="lines per screenplay")
    parser.add_argument("--fps", default="24000/1001")
    parser.add_argument("--only", help="only the screenplays whose file name has this")
    args = parser.parse_args()
    fps = Fraction(args.fps)
    print(f"load average at the start {os.getloadavg()}", flush=True)
    total = Tally()
    started = time.perf_counter()
    for script in scripts():
        if args.only and args.only not in script.name:
            continue
        t0 = time.perf_counter()
        tally = measure(script, fps, args.max_lines)
        total.add(tally)
        print(
            f"{script.name:28s} placed {tally.placed:3d}; alone {tally.lines_ok:3d}/{tally.lines:3d}"
            f", dual pairs {tally.pairs_ok}/{tally.pairs} within one frame; worst "
            f"{tally.worst_ms:5.1f} ms ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        for note in tally.notes:
            print(f"    import warning: {note}", flush=True)
    frame_ms = 1000 / float(fps)
    for label, good, cases in (
        ("lines alone", total.lines_ok, total.lines),
        ("dual pairs", total.pairs_ok, total.pairs),
        ("all starts", total.lines_ok + total.pairs_ok, total.lines + total.pairs),
    ):
        low, high = wilson(good, cases)
        print(
            f"{label}: {good}/{cases} within one frame ({100 * good / max(1, cases):.1f} %, "
            f"Wilson 95 % {100 * low:.1f}-{100 * high:.1f} %)"
        )
    print(f"worst {total.worst_ms:.1f} ms; one frame is {frame_ms:.1f} ms at {args.fps} fps")
    print(
        f"{time.perf_counter() - started:.0f} s, load average at the end {os.getloadavg()}",
        flush=True,
    )


if __name__ == "__main__":
    main()
