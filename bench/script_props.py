"""Precision and recall of candidate props against hand labels, with the old detector as anchor.

Labels: ``bench/labels/props.tsv`` (how they were made: ``bench/labels/README.md``),
the props of the three official Fountain samples (``../shared/data``, nothing copied)
and of the demo. Both detectors read each script through the importer
(``split_scenes``) and are scored on distinct prop names per script, as the bible
holds them. Goal (issue 23): precision at least 0.9, recall at least 0.8.

The detector has no fitted threshold; its word lists and rules were written from
screenwriting convention. To show it is not fitted to one script, the table prints
each script apart as well as the total.

Run: ``python bench/script_props.py [--data PATH]``. Prints, per script and in total:
true positives, detections, labels, precision and recall with Wilson 95 % intervals,
for the detector and the anchor; then the false positives and the misses.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import _props_anchor  # noqa: E402
from _stats import wilson  # noqa: E402
from _timing import load_average, machine  # noqa: E402
from setpiece.script.importer import split_scenes  # noqa: E402
from setpiece.script.props import find_props  # noqa: E402
from setpiece.script.reading import read_script  # noqa: E402

DEMO = ROOT / "src" / "setpiece" / "pipeline" / "demo.fountain"


def labels() -> dict[str, list[set[str]]]:
    found: dict[str, list[set[str]]] = defaultdict(list)
    for line in (ROOT / "bench" / "labels" / "props.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        script, _scene, _heading, spellings = line.split("\t")
        forms = {s.strip().upper() for s in spellings.split("|")}
        same = [known for known in found[script] if known & forms]
        if same:
            same[0].update(forms)  # one prop labelled in several scenes
        else:
            found[script].append(forms)
    return found


def detected(path: Path, detector: object) -> set[str]:
    script = read_script(path)
    speakers = {e.name for e in script.elements if e.type == "character"}
    names: set[str] = set()
    for scene in split_scenes(script):
        action = [str(e.get("text", "")) for e in scene.body if e.get("type") == "action"]
        names.update(p.upper() for p in detector(action, speakers))  # type: ignore[operator]
    return names


def score(found: set[str], wanted: list[set[str]]) -> tuple[int, int, int, list[str], list[str]]:
    right = [name for name in found if any(name in forms for forms in wanted)]
    missed = [sorted(forms)[0] for forms in wanted if not forms & found]
    wrong = sorted(found - set(right))
    return len(right), len(found), len(wanted) - len(missed), wrong, missed


def _share(hits: int, total: int) -> str:
    lo, hi = wilson(hits, total)
    share = hits / total if total else float("nan")
    return f"{hits:>3}/{total:<3} {share:5.2f} [{lo:.2f}, {hi:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    args = parser.parse_args()
    wanted = labels()
    paths = {
        name: (DEMO if name == "demo.fountain" else args.data / "fountain_official_samples" / name)
        for name in wanted
    }
    print(f"# script props vs hand labels; machine: {machine()}; load average {load_average()}")
    print(f"{'script':34} {'detector':>8}  {'precision':26} {'recall':26}")
    totals = {"new": [0, 0, 0, 0], "anchor": [0, 0, 0, 0]}
    errors: list[str] = []
    for name, path in paths.items():
        for label, detector in (("new", find_props), ("anchor", _props_anchor.find_props)):
            right, found, recalled, wrong, missed = score(detected(path, detector), wanted[name])
            total = totals[label]
            for i, v in enumerate((right, found, recalled, len(wanted[name]))):
                total[i] += v
            precision = _share(right, found)
            recall = _share(recalled, len(wanted[name]))
            print(f"{name:34} {label:>8}  {precision:26} {recall:26}")
            if label == "new":
                errors += [f"  {name}: false positive {w}" for w in wrong]
                errors += [f"  {name}: missed {m}" for m in missed]
    for label, (right, found, recalled, labelled) in totals.items():
        precision, recall = _share(right, found), _share(recalled, labelled)
        print(f"{'ALL (goal P>=0.90, R>=0.80)':34} {label:>8}  {precision:26} {recall:26}")
    print("\n".join(errors) or "  no false positive, no miss")


if __name__ == "__main__":
    main()
