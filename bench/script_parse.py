"""Parse time of the longest official Fountain sample: Setpiece against screenplain.

Both parse the same text in the same process, alternately, after a warm-up;
the median of the repeats is reported. Setpiece is timed twice: the elements and
title page alone (what screenplain's ``parse`` returns), and the whole ``Script``
with the scene breakdown. Jouvence and fountain-py are timed for reference when
installed. The goal is Setpiece at least 3x faster than screenplain, with equal
or better agreement; agreement on the corpora is ``script_corpus_eval.py``'s job,
and the element-by-element agreement with screenplain on this very file is
printed here too.

Run: ``python bench/script_parse.py [--data PATH] [--repeat N]``; needs
``bench/requirements.txt``.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from script_corpus_eval import TOOLS
from setpiece.script.fountain import parse_fountain, stream_fountain


def _setpiece_elements(text: str) -> object:
    stream = stream_fountain(text)
    return stream.title_page, list(stream)


def _screenplain(text: str) -> object:
    from screenplain.parsers import fountain

    return fountain.parse(io.StringIO(text))


def _jouvence(text: str) -> object:
    from jouvence.parser import JouvenceParser

    return JouvenceParser().parseString(text)


def _fountain_py(text: str) -> object:
    from fountain import FountainParser

    return FountainParser().parse(text)


def _machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _median_ms(
    runs: dict[str, Callable[[str], object]], text: str, repeat: int
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():  # warm-up: imports, regex caches
        run(text)
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run(text)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> int:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=default, help="the shared data folder")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs of each parser")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    samples = sorted((args.data / "fountain_official_samples").glob("*.fountain"))
    path = max(samples, key=lambda sample: sample.stat().st_size)
    text = path.read_text(encoding="utf-8-sig")

    runs: dict[str, Callable[[str], object]] = {
        "setpiece (elements + title page)": _setpiece_elements,
        "setpiece (whole Script, with scenes)": parse_fountain,
        "screenplain 0.12": _screenplain,
    }
    for name, run in (("jouvence 0.4.2", _jouvence), ("fountain-py 0.3.0", _fountain_py)):
        try:
            run("INT. HOUSE - DAY\n")
        except ImportError:
            continue
        runs[name] = run
    medians = _median_ms(runs, text, args.repeat)
    baseline = medians["screenplain 0.12"]

    print(f"# Parse time: {path.name} ({len(text):,} characters, {text.count(chr(10)):,} lines)")
    print(f"\nmachine: {_machine()}")
    print(f"median of {args.repeat} runs each, alternating\n")
    print("| parser | median ms | screenplain / parser |")
    print("|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.2f} | {baseline / value:.2f}x |")

    ours = TOOLS["setpiece"](text, True)[1]
    theirs = TOOLS["screenplain"](text, True)[1]
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    print(
        f"\nelements agreeing with screenplain on this file: {same} of {len(theirs)} "
        f"(setpiece has {len(ours)})"
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag != "equal":
            print(f"- setpiece {ours[a0:a1]} / screenplain {theirs[b0:b1]}")
    ratio = baseline / medians["setpiece (elements + title page)"]
    verdict = "met" if ratio >= 3 else "NOT met"
    print(f"\ngoal (>= 3x screenplain): {verdict}, {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
