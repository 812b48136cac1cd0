"""How often a script revision keeps every scene's identity, per edit kind, on real scripts.

Corpora (``../shared/data``; nothing from it is copied): the official Fountain
samples (Brick & Steel, The Last Birthday Card, Big Fish) and the full-length
scripts of ``screenplays_jumpcut`` (gumshoe, mostly-genius, vikings), each read
from its ``.fountain`` and from its ``.fdx`` (the two readers give the units).

For each script, ``--sequences`` random edit sequences (seeded) run the generator
of the property tests (``tests/screenplay_edits.py``) over the script's real
scenes: one to five revisions, each of one to three edits (insert, drop, move,
split, merge, a rewrite of fewer than half a scene's units, a full rewrite), on
disjoint scenes, half of the sequences with the production's numbers written
into the script. Each revision goes through ``revisions.revise`` as the import
does (numbers locked), and each edit is scored right when every scene it touched
came out as the edit says (continued, added or OMITTED); each scene no edit
touched is scored too (``untouched``). The anchor, run on the same revisions, is
the matcher Setpiece had before (scene number, then heading alignment, then equal
content), re-implemented here from its last version.

Goal: 100 % on every kind but full rewrites, which are reported apart.

Run: ``python bench/script_revisions.py [--data PATH] [--sequences N] [--seed S]``.
Prints one table: per edit kind, right / cases, share, Wilson 95 % interval, and
the anchor's share; then how many imports numbered every scene as the rules say
(kept numbers, letters after the previous scene), and the time per import on the
largest script.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import wilson  # noqa: E402
from _timing import load_average, machine  # noqa: E402
from screenplay_edits import KINDS, Project, Record, Scene, numbers_right, revise_script, score  # noqa: E402
from setpiece.script.importer import split_scenes  # noqa: E402
from setpiece.script.reading import read_script  # noqa: E402
from setpiece.script.revisions import Draft, Standing, units_of  # noqa: E402


def anchor(old: Sequence[Standing], new: Sequence[Draft]) -> tuple[list[int | None], list[int]]:
    """The matcher before issue 22 (``importer._match`` at 43892a5), on the same inputs."""
    result: list[int | None] = [None] * len(new)
    taken: set[int] = set()
    by_number = {s.number: j for j, s in enumerate(old)}
    for i, scene in enumerate(new):
        if scene.number and scene.number in by_number:
            result[i] = by_number[scene.number]
            taken.add(by_number[scene.number])
    free_old = [j for j in range(len(old)) if j not in taken]
    free_new = [i for i, m in enumerate(result) if m is None]
    matcher = difflib.SequenceMatcher(
        a=[(old[j].units or ("",))[0] for j in free_old],
        b=[new[i].units[0] for i in free_new],
        autojunk=False,
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            for k in range(a1 - a0):
                result[free_new[b0 + k]] = free_old[a0 + k]
                taken.add(free_old[a0 + k])
    by_content = {old[j].units: j for j in range(len(old)) if j not in taken}
    for i, scene in enumerate(new):
        if result[i] is None and scene.units in by_content:
            result[i] = by_content.pop(scene.units)
    continued = {j for j in result if j is not None}
    return result, [j for j in range(len(old)) if j not in continued]


def scripts(data: Path) -> list[Path]:
    found = sorted((data / "fountain_official_samples").glob("*.fountain"))
    for folder in sorted((data / "screenplays_jumpcut").iterdir()):
        if folder.is_dir() and (folder / "manifest.json").exists():
            found += sorted(p for p in folder.glob("*.fountain")) + sorted(
                folder.glob(f"{folder.name}.fdx")
            )
    return [p for p in found if p.is_file()]


def base_scenes(path: Path) -> list[Scene]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = split_scenes(read_script(path))
    return [Scene(p.heading, list(units_of(p.heading, p.body)[1:]), None) for p in parsed]


def run_script(
    path: Path, sequences: int, seed: int, tally: dict[str, list[int]], timing: list[float]
) -> None:
    base = base_scenes(path)
    for sequence in range(sequences):
        rng = Random(f"{seed}:{path.name}:{sequence}")
        numbered = sequence % 2 == 1
        script = [Scene(s.heading, list(s.body), None) for s in base]
        if numbered:
            for k, scene in enumerate(script, start=1):
                scene.number = str(k)
        project = Project()
        project.run(script)
        project.adopt(script)
        for _ in range(rng.randint(1, 5)):
            kinds = [KINDS[rng.randint(0, len(KINDS) - 1)] for _ in range(rng.randint(1, 3))]
            revision = revise_script(script, rng.randint, kinds)
            before = [
                Record(r.ident, r.number, r.heading, r.units, r.omitted) for r in project.records
            ]
            idents = [r.ident for r in before]
            old = project.standing()
            drafts = project.drafts(revision.scenes)
            started = time.perf_counter()
            outcome = project.run(revision.scenes)
            timing.append(time.perf_counter() - started)
            for kind, right in score(revision, idents, outcome.continues, outcome.omitted):
                tally[kind][0] += right
                tally[kind][1] += 1
            for kind, right in score(revision, idents, *anchor(old, drafts)):
                tally[kind][2] += right
            tally["numbers"][0] += not numbers_right(before, outcome, len(revision.scenes))
            tally["numbers"][1] += 1
            project.adopt(revision.scenes)
            if numbered:
                for scene, number in zip(revision.scenes, outcome.numbers, strict=True):
                    scene.number = number
            script = revision.scenes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # ../shared/data beside the checkout (a worktree one level deeper looks one higher).
    near = [up / "shared" / "data" for up in ROOT.parents[:2]]
    default = next((p for p in near if p.is_dir()), near[0])
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--sequences", type=int, default=100, help="edit sequences per script")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args(argv)
    paths = scripts(args.data)
    if not paths:
        print(f"no scripts under {args.data}", file=sys.stderr)
        return 2
    print(f"machine: {machine()}; load average before: {load_average()}")
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    timings: dict[str, list[float]] = {}
    for path in paths:
        timing: list[float] = []
        run_script(path, args.sequences, args.seed, tally, timing)
        timings[path.name] = timing
        print(f"  {path.name}: {len(base_scenes(path))} scenes, {len(timing)} imports")
    print()
    print("| edit kind | right / cases | share | Wilson 95 % | anchor (before) |")
    print("|---|---|---|---|---|")
    for kind in (*KINDS, "untouched"):
        right, total, old = tally[kind]
        lo, hi = wilson(right, total)
        share = right / total if total else 0.0
        print(
            f"| {kind} | {right} / {total} | {share:.2%} | {lo:.2%} - {hi:.2%} | "
            f"{old / total if total else 0:.2%} |"
        )
    right, total, _ = tally["numbers"]
    lo, hi = wilson(right, total)
    print()
    print(f"imports numbered as the rules say: {right} / {total} (Wilson 95 % {lo:.2%} - {hi:.2%})")
    largest = max(
        timings, key=lambda name: len(base_scenes(next(p for p in paths if p.name == name)))
    )
    median = sorted(timings[largest])[len(timings[largest]) // 2]
    print()
    print(f"median time per import on {largest}: {median * 1000:.1f} ms")
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
