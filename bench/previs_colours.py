"""Do a film's characters look different in previs? CIEDE2000 between their figures' mean colours.

Films: the three official Fountain samples (``../shared/data``, nothing copied) and the demo.
For each film the cast is read as the importer reads it (speakers, in order of first
appearance) and coloured by ``cast_colors``; each character is drawn alone, in a wide shot
by day on the neutral set, at 480x270 with no caption, no arrows and no name tag (the bench
switches the tag off to measure the figure itself); the figure's pixels are those that differ
from the same shot without it, and their mean is the figure's colour. Pairs: every pair of
the film's characters; for a cast beyond the palette (15), the pairs that share a scene (the
stated limit: colours repeat only between characters who never meet), with every pair also
reported. Goal (issue 23): every scored pair at least 20 apart. The anchor is the colouring
Setpiece had before (a hash of the name), drawn the same way.

Run: ``python bench/previs_colours.py [--data PATH]``. Prints per film: characters, scored
pairs, the smallest distance, the share of pairs >= 20 with its Wilson 95 % interval, and the
anchor's figures.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import setpiece.generate.backends._previs_paint as paint  # noqa: E402
from _stats import wilson  # noqa: E402
from _timing import load_average, machine  # noqa: E402
from setpiece.generate.backends._previs_colour import CAST_PALETTE, cast_colors, delta_e2000  # noqa: E402
from setpiece.generate.backends.previs import PrevisGenerator  # noqa: E402
from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief  # noqa: E402
from setpiece.generate.prompts import stable_color  # noqa: E402
from setpiece.script.importer import split_scenes  # noqa: E402
from setpiece.script.reading import read_script  # noqa: E402

DEMO = ROOT / "src" / "setpiece" / "pipeline" / "demo.fountain"
GOAL = 20.0


def cast_of(path: Path) -> tuple[list[str], list[list[str]]]:
    scenes = [list(scene.characters) for scene in split_scenes(read_script(path))]
    return list(dict.fromkeys(name for scene in scenes for name in scene)), scenes


def figure_mean(
    generator: PrevisGenerator, folder: Path, subject: SubjectBrief | None
) -> np.ndarray:
    brief = ShotBrief(
        code="1A",
        scene="1",
        heading="EXT. NOWHERE - DAY",
        size="WS",
        int_ext="EXT",
        location="NOWHERE",
        time_of_day="DAY",
        subjects=(subject,) if subject else (),
    )
    request = RenderRequest(
        mode=Mode.TEXT_TO_IMAGE,
        prompt="",
        seed=1,
        width=480,
        height=270,
        frames=1,
        brief=brief,
        parameters={"caption": "none", "annotate": False},
    )
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(generator.render(request, folder).path) as image:
        return np.asarray(image.convert("RGB")).astype(np.float64)


def distances(colors: dict[str, tuple[int, int, int]], work: Path) -> dict[str, np.ndarray]:
    generator = PrevisGenerator()
    empty = figure_mean(generator, work / "empty", None)
    means = {}
    for name, color in colors.items():
        drawn = figure_mean(generator, work / name, SubjectBrief(name, "character", color=color))
        mask = np.abs(drawn - empty).sum(axis=2) > 30
        means[name] = drawn[mask].mean(axis=0)
    return means


def score(means: dict[str, np.ndarray], pairs: list[tuple[str, str]]) -> tuple[int, int, float]:
    values = [delta_e2000(tuple(means[a]), tuple(means[b])) for a, b in pairs]
    return sum(v >= GOAL for v in values), len(values), min(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    args = parser.parse_args()
    paint.draw_labels = lambda *a, **k: None  # the figure itself, without its name tag
    films = {
        "Brick & Steel": args.data / "fountain_official_samples" / "Brick-and-Steel.fountain",
        "The Last Birthday Card": args.data
        / "fountain_official_samples"
        / "The-Last-Birthday-Card.fountain",
        "Big Fish": args.data / "fountain_official_samples" / "Big-Fish.fountain",
        "demo (The Last Reel)": DEMO,
    }
    print(f"# previs figure colours; machine: {machine()}; load average {load_average()}")
    print(
        f"{'film':24} {'cast':>4} {'colouring':>9} {'pairs':>6} {'min dE':>7}  share >= 20 [95 % CI]"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for film, path in films.items():
            cast, scenes = cast_of(path)
            every = list(itertools.combinations(cast, 2))
            met = {frozenset(p) for s in scenes for p in itertools.combinations(set(s), 2)}
            scored = (
                every
                if len(cast) <= len(CAST_PALETTE)
                else [p for p in every if frozenset(p) in met]
            )
            for label, colors in (
                ("new", cast_colors(cast, scenes)),
                ("anchor", {name: stable_color(name) for name in cast}),
            ):
                means = distances(colors, Path(tmp) / film / label)
                for kind, pairs in (("scored", scored), ("all", every)):
                    if kind == "all" and pairs == scored:
                        continue
                    hits, total, low = score(means, pairs)
                    lo, hi = wilson(hits, total)
                    print(
                        f"{film:24} {len(cast):>4} {label + ' ' + kind:>9} {total:>6} {low:7.1f}"
                        f"  {hits}/{total} = {hits / total:.2f} [{lo:.2f}, {hi:.2f}]"
                    )


if __name__ == "__main__":
    main()
