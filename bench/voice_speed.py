"""Synthesis speed of the embedded voice (eSpeak NG) as a real-time factor, issue 31.

Every dialogue line of The Last Reel (the demo screenplay) and of the jumpcut corpus's
Fountain screenplays (/work/shared/data/screenplays_jumpcut, when present) is spoken in its
character's default voice (``default_voices`` over the cast), twice over:

* **engine**: eSpeak NG alone (load the library afresh, initialise, synthesise, unload:
  what ``EspeakVoice.synthesize`` does before it writes the WAV);
* **speak**: the whole ``EspeakVoice.speak`` a dialogue take goes through (checks, WAV
  written, read back by FFmpeg, BS.1770 loudness measured, moved into place).

The real-time factor is seconds of speech over seconds of wall time, aggregated over all
lines (total over total), with a 95 % bootstrap interval that resamples lines. The anchor,
timed in the same run, is the per-line library reload alone (load, initialise, terminate,
unload, nothing spoken): the price of determinism, as a share of the engine's time.
Goal: at least 20 times faster than real time. Load averages are printed before and after.

Run: ``python bench/voice_speed.py [--data PATH] [--record]`` (needs the voices extra).
``--record`` appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from _timing import load_average, machine
from setpiece.script.elements import Character, Dialogue
from setpiece.script.fountain import parse_fountain
from setpiece.voice import SpeechRequest
from setpiece.voice.espeak import SAMPLE_RATE, EspeakVoice, _Engine, default_voices

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "setpiece" / "pipeline" / "demo.fountain"
DATA = Path("/work/shared/data/screenplays_jumpcut")


def lines_of(path: Path) -> list[tuple[str, str]]:
    """(character, line) for every spoken dialogue element, in order."""
    script = parse_fountain(path.read_text(encoding="utf-8"), str(path))
    speaker, found = None, []
    for element in script.elements:
        if isinstance(element, Character):
            speaker = element.name
        elif isinstance(element, Dialogue) and speaker and any(c.isalnum() for c in element.text):
            found.append((speaker, " ".join(element.text.split())))
    return found


def bootstrap(audio: list[float], wall: list[float], rounds: int = 2000) -> tuple[float, float]:
    """95 % interval of sum(audio) / sum(wall), resampling lines."""
    rng = random.Random(31)
    n = len(audio)
    ratios = []
    for _ in range(rounds):
        picks = [rng.randrange(n) for _ in range(n)]
        ratios.append(sum(audio[i] for i in picks) / sum(wall[i] for i in picks))
    ratios.sort()
    return ratios[int(0.025 * rounds)], ratios[int(0.975 * rounds) - 1]


def measure(name: str, lines: list[tuple[str, str]], folder: Path) -> list[str]:
    engine = _Engine.get()
    backend = EspeakVoice()
    cast = default_voices({speaker for speaker, _ in lines})
    engine_audio, engine_wall, speak_audio, speak_wall, reload_wall = [], [], [], [], []
    backend.speak(SpeechRequest("Warm up.", cast[lines[0][0]]), folder)  # first-load costs
    for speaker, text in lines:
        spec = cast[speaker]
        started = time.perf_counter()
        samples = engine.speak(text, spec.voice, spec.rate, spec.pitch)
        engine_wall.append(time.perf_counter() - started)
        engine_audio.append(len(samples) / 2 / SAMPLE_RATE)
        started = time.perf_counter()
        speech = backend.speak(SpeechRequest(text, spec), folder)
        speak_wall.append(time.perf_counter() - started)
        speak_audio.append(float(speech.seconds))
        speech.path.unlink()
        started = time.perf_counter()
        with engine._loaded():
            pass
        reload_wall.append(time.perf_counter() - started)
    rows = []
    for kind, audio, wall in (
        ("engine", engine_audio, engine_wall),
        ("speak", speak_audio, speak_wall),
    ):
        low, high = bootstrap(audio, wall)
        rows.append(
            f"{name:<26} {kind:<6} {len(lines):>5} {sum(audio):>8.1f} {sum(wall):>7.2f} "
            f"{sum(audio) / sum(wall):>7.1f}  [{low:.1f}, {high:.1f}]"
        )
    share = sum(reload_wall) / sum(engine_wall)
    rows.append(
        f"{name:<26} reload {len(lines):>5} {'':>8} {sum(reload_wall):>7.2f} "
        f"{'':>7}  {share:.1%} of the engine's time"
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    scripts = [("The Last Reel (demo)", DEMO)]
    scripts += [(p.stem, p) for p in sorted(args.data.glob("*/*.fountain"))]
    before = load_average()
    header = (
        f"{'screenplay':<26} {'path':<6} {'lines':>5} {'audio s':>8} {'wall s':>7} "
        f"{'RTF':>7}  95 % CI"
    )
    rows = [header]
    with tempfile.TemporaryDirectory() as folder:
        for name, path in scripts:
            lines = lines_of(path)
            if lines:
                rows += measure(name, lines, Path(folder))
                print(rows[-3], rows[-2], rows[-1], sep="\n", flush=True)
    after = load_average()
    engine = _Engine.get()
    report = "\n".join(
        [
            f"eSpeak NG {engine.version} (espeakng-loader), {machine()}",
            f"load average before: {before}; after: {after}",
            "",
            *rows,
        ]
    )
    print()
    print(report)
    if args.record:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write(
                "\n### Issue 31 (voices): eSpeak NG synthesis speed\n\n"
                f"```\n$ python bench/voice_speed.py\n{report}\n```\n"
            )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    raise SystemExit(main())
