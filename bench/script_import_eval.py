"""Evaluation: the official Fountain samples through `script import`, and a revision that loses nothing.

1. Brick & Steel, The Last Birthday Card and Big Fish (../shared/data/fountain_official_samples)
   are imported into fresh projects. Scene counts are checked against the expected 8, 48 and
   190 and against screenplain (a second, independent parser); speaking characters are
   compared with screenplain's distinct character cues (extensions stripped).
2. Big Fish is imported, every scene gets a planned shot list and a take on each shot, one
   shot per scene is approved; then a revision is imported that rewrites dialogue in 20
   scenes, drops 10 and inserts 10 new ones. Counted: takes before and after (must be equal),
   approvals kept, scenes flagged, omitted and added, and the numbers the new scenes got.

    python bench/script_import_eval.py [--data ../shared/data/fountain_official_samples]
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from pathlib import Path

from _timing import machine
from setpiece.production import scenes, shots, takes
from setpiece.production.context import init_production
from setpiece.script.importer import import_script
from setpiece.script.planning import plan_shots

EXPECTED = {"Brick-and-Steel": 8, "The-Last-Birthday-Card": 48, "Big-Fish": 190}


def screenplain_counts(path: Path) -> tuple[int, set[str]]:
    from screenplain.parsers import fountain
    from screenplain.types import Dialog, DualDialog, Slug

    with path.open(encoding="utf-8-sig") as handle:
        screenplay = fountain.parse(handle)
    slugs = sum(1 for p in screenplay.paragraphs if isinstance(p, Slug))
    names: set[str] = set()
    for p in screenplay.paragraphs:
        dialogs = (
            [p.left, p.right] if isinstance(p, DualDialog) else [p] if isinstance(p, Dialog) else []
        )
        for d in dialogs:
            html = str(d.character.to_html()).replace("&nbsp;", " ")
            cue = re.sub(r"\s*\(.*?\)\s*", " ", html).replace("^", "").strip()
            names.add(" ".join(cue.split()).upper())
    return slugs, names


def part_one(data: Path) -> None:
    print(
        "| script | scenes (expected) | screenplain | characters | screenplain cues | in both | locations | props | time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, expected in EXPECTED.items():
        path = data / f"{name}.fountain"
        with (
            tempfile.TemporaryDirectory() as tmp,
            init_production(Path(tmp) / "film", actor="eval") as prod,
        ):
            started = time.perf_counter()
            report = import_script(prod, path)
            elapsed = time.perf_counter() - started
            from setpiece.model.enums import BibleKind
            from setpiece.production.bible import list_entries

            characters = {
                c.name.upper() for c in list_entries(prod, BibleKind.CHARACTER) if c.dialogue_lines
            }
            locations = len(list_entries(prod, BibleKind.LOCATION))
            props = len(list_entries(prod, BibleKind.PROP))
        slugs, cues = screenplain_counts(path)
        ok = "ok" if report.scenes == expected == slugs else "MISMATCH"
        print(
            f"| {name} | {report.scenes} ({expected}) {ok} | {slugs} | {len(characters)} | {len(cues)} | "
            f"{len(characters & cues)} | {locations} | {props} | {elapsed:.2f} s |"
        )


def revise(text: str, rng: random.Random) -> tuple[str, int, int, int]:
    """Rewrites dialogue in 20 scenes, drops 10, inserts 10 (headings kept unique by content)."""
    parts = re.split(r"(?m)^(?=(?:INT|EXT|INT\./EXT|I/E)[. ])", text)
    head, scene_texts = parts[0], parts[1:]
    indices = list(range(len(scene_texts)))
    rewritten = set(rng.sample(indices, 20))
    dropped = set(rng.sample([i for i in indices if i not in rewritten], 10))
    inserted_after = set(rng.sample([i for i in indices if i not in dropped], 10))
    out = [head]
    for i, body in enumerate(scene_texts):
        if i in dropped:
            continue
        if i in rewritten:
            body = body.rstrip("\n") + "\n\nEDWARD\nA line the rewrite added.\n\n"
        out.append(body)
        if i in inserted_after:
            out.append(
                f"INT. NEW SET {i} - DAY\n\nA scene the revision added after scene {i + 1}.\n\n"
            )
    return "".join(out), len(rewritten), len(dropped), len(inserted_after)


def part_two(data: Path) -> None:
    from mediafactory_light import write_still

    rng = random.Random(11)
    path = data / "Big-Fish.fountain"
    with (
        tempfile.TemporaryDirectory() as tmp,
        init_production(Path(tmp) / "film", actor="eval") as prod,
    ):
        import_script(prod, path)
        plan = plan_shots(prod)
        incoming = Path(tmp) / "in"
        incoming.mkdir()
        made: dict[str, str] = {}
        approved: set[str] = set()
        files = [write_still(incoming / f"{i}.png", i) for i in range(len(plan.created))]
        by_scene: dict[str, list[str]] = {}
        for shot, file in zip(plan.created, files, strict=True):
            result = takes.import_takes(prod, shot["code"], [file])
            made[result.created[0].id] = shot["code"]
            by_scene.setdefault(shot["scene"], []).append(shot["code"])
        for codes in by_scene.values():
            take = next(t for t, c in made.items() if c == codes[0])
            takes.approve_take(prod, codes[0], take)
            approved.add(codes[0])
        revised = Path(tmp) / "Big-Fish-rev2.fountain"
        text, n_rewritten, n_dropped, n_inserted = revise(path.read_text(encoding="utf-8-sig"), rng)
        revised.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        report = import_script(prod, revised)
        elapsed = time.perf_counter() - started
        after = {t.id: t.shot for t in takes.list_takes(prod)}
        lost = [t for t in made if t not in after or after[t] != made[t]]
        still_approved = sum(
            1 for code in approved if shots.get_shot(prod, code).status == "approved"
        )
        flagged = [s.number for s in scenes.list_scenes(prod) if s.needs_review]
    print(
        f"\nBig Fish revision: {n_rewritten} scenes rewritten, {n_dropped} dropped, {n_inserted} inserted"
    )
    print(f"  takes before {len(made)}, after {len(after)}, lost or moved {len(lost)}")
    print(f"  approvals kept {still_approved} of {len(approved)}")
    print(
        f"  changed (flagged for review) {len(report.changed)}, omitted {len(report.omitted)}, "
        f"added {len(report.added)}: {', '.join(report.added)}"
    )
    print(f"  flagged scenes in the project: {len(flagged)}; re-import took {elapsed:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parents[2]
        / "shared"
        / "data"
        / "fountain_official_samples",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    part_one(args.data)
    part_two(args.data)


if __name__ == "__main__":
    main()
