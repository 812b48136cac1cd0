"""A character's default voice register (man's or woman's) against hand labels, with the
name hash it replaced as the anchor.

Labels: ``bench/labels/voice_register.tsv`` (how they were made: ``bench/labels/README.md``),
every speaking character of the demo and of screenplays in ``../shared/data`` (nothing
copied), read by a person who never saw the rule. Each script is read through the
importer (``split_scenes``), its cast is the importer's lines' speakers, and
``script.register.voice_registers`` decides each one from the action and the cue; the
descriptions are the script's introductions (``script.introductions``), as a new project
has them before anyone writes one.

What counts, over the characters labelled M or F:

- **wrong**: a register given that is the other sex's: a woman with a man's voice. The
  anchor is the hash of the name over all twelve eSpeak NG variants (seven male, five
  female), which is what every character got before.
- **decided**: the share given a register at all (the rest keep the hash's variant).

Characters labelled ``?`` are reported apart: any register given to them is a guess the
labeller could not check.

Run: ``python bench/voice_register.py [--data PATH]``; per script and in total, with
Wilson 95 % intervals.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import wilson  # noqa: E402
from _timing import load_average, machine  # noqa: E402
from setpiece.script.breakdown import speaker_lookup  # noqa: E402
from setpiece.script.importer import split_scenes  # noqa: E402
from setpiece.script.introductions import introductions  # noqa: E402
from setpiece.script.lines import script_lines  # noqa: E402
from setpiece.script.reading import read_script  # noqa: E402
from setpiece.script.register import FEMALE, MALE, voice_registers  # noqa: E402
from setpiece.voice.espeak import default_voice  # noqa: E402

DEMO = ROOT / "src" / "setpiece" / "pipeline" / "demo.fountain"
LABELS = ROOT / "bench" / "labels" / "voice_register.tsv"
SEX = {"M": MALE, "F": FEMALE}


def labels() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for line in LABELS.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        script, character, sex, *_ = line.split("\t")
        found[script][" ".join(character.upper().split())] = sex.strip()
    return found


def registers_of(path: Path) -> dict[str, str | None]:
    """Each speaker's register, as a new project would give it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        script = read_script(path)
    scenes = split_scenes(script)
    cues = [e.name for e in script.elements if type(e).__name__ == "Character"]
    speaker = speaker_lookup(dict.fromkeys(cues))
    cast: dict[str, None] = {}
    for scene in scenes:
        for line in script_lines(scene.body, speaker):
            cast[line.character.upper()] = None
    told = introductions(scenes).characters
    descriptions = {name: told.get(name, "") for name in cast}
    return voice_registers([scene.body for scene in scenes], cast, descriptions)


def hashed(name: str) -> str:
    variant = default_voice(name).voice.rpartition("+")[2]
    return MALE if variant.startswith("m") else FEMALE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {load_average()}")
    table = labels()
    totals = defaultdict(int)
    wrong_list: list[str] = []
    print(
        f"{'script':<52} {'labelled':>8} {'decided':>8} {'wrong':>6} {'hash wrong':>10} "
        f"{'unlabelled?':>11} {'? decided':>9}"
    )
    for script, truth in sorted(table.items()):
        path = DEMO if script == "demo" else args.data / script
        if not path.is_file():
            print(f"{script}: not found under {args.data}, skipped")
            continue
        found = registers_of(path)
        counts = defaultdict(int)
        for name, sex in truth.items():
            if name not in found:
                counts["missing"] += 1
                continue
            given = found[name]
            if sex not in SEX:
                counts["unsure"] += 1
                counts["unsure_decided"] += given is not None
                continue
            counts["labelled"] += 1
            counts["decided"] += given is not None
            if given is not None and given != SEX[sex]:
                counts["wrong"] += 1
                wrong_list.append(f"{script}: {name} labelled {sex}, given {given}")
            counts["hash_wrong"] += hashed(name) != SEX[sex]
            counts["after_wrong"] += (given or hashed(name)) != SEX[sex]
        for key, value in counts.items():
            totals[key] += value
        print(
            f"{script:<52} {counts['labelled']:>8} {counts['decided']:>8} {counts['wrong']:>6} "
            f"{counts['hash_wrong']:>10} {counts['unsure']:>11} {counts['unsure_decided']:>9}"
            + (
                f"  ({counts['missing']} labelled name(s) not a speaker)"
                if counts["missing"]
                else ""
            )
        )
    n = totals["labelled"]
    if not n:
        print("no labelled characters found")
        return
    for what, hits in (
        ("decided (a register given)", totals["decided"]),
        ("wrong register given (a woman with a man's voice, or the reverse)", totals["wrong"]),
        ("wrong sex of voice after the change (the hash where undecided)", totals["after_wrong"]),
        ("wrong sex of voice before (the name's hash alone)", totals["hash_wrong"]),
    ):
        low, high = wilson(hits, n)
        print(f"{what}: {hits}/{n} = {hits / n:.3f} (Wilson 95 % {low:.3f}-{high:.3f})")
    decided = totals["decided"]
    if decided:
        right = decided - totals["wrong"]
        low, high = wilson(right, decided)
        print(
            f"precision of the registers given: {right}/{decided} = {right / decided:.3f} "
            f"(Wilson 95 % {low:.3f}-{high:.3f})"
        )
    print(
        f"labelled '?': {totals['unsure']}, of which given a register: {totals['unsure_decided']}"
    )
    for line in wrong_list:
        print("  wrong:", line)
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
