"""Deflicker: flicker index, warping error and fidelity before and after, against
FFmpeg's ``deflicker`` filter (defaults: 5 frames, arithmetic mean), in the same run.

Clips are real footage (640x360) made to flicker by this script with a seeded
per-frame gain (uniform +-15 %) and a small per-channel colour wobble (+-3 %):

- testvideo.mp4's moving stretch (frames 505-565), goldeneye-vfr-drop3.mp4's second
  shot (action), and testvideo.mp4's still second shot;
- a light change: testvideo's second shot at 60 % brightness until frame 40, then full
  (a light switched on), with and without flicker on top. The data holds no filmed
  light switch, so the step is rendered; its truth is known exactly.

Figures: the flicker index and warping error of ``setpiece measure``; PSNR against
the clean footage before the flicker was added (the truth); and for the light change,
how much of the step happens between frames 39 and 40 (1.0: a clean step; a filter
that smears it spreads it over its window and scores lower).

    python bench/motion_deflicker.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

from _timing import machine
from setpiece.motion.deflicker import deflicker
from setpiece.motion.measure import measure_video
from setpiece.store.video import decode

ROOT = Path(__file__).resolve().parents[1]
SIZE = (640, 360)
STEP = 40


def write(path: Path, frames: list[np.ndarray]) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"crf": "14", "preset": "veryfast"}
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def flicker(frames: list[np.ndarray], seed: int, amount: float = 0.15) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for rgb in frames:
        gain = rng.uniform(1 - amount, 1 + amount) * rng.uniform(0.97, 1.03, 3)
        out.append(np.clip(rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    return out


def lit(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [
        (f.astype(np.float32) * (0.6 if i < STEP else 1.0)).astype(np.uint8)
        for i, f in enumerate(frames)
    ]


def psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    mse = np.mean([((x.astype(np.float64) - y) ** 2).mean() for x, y in zip(a, b, strict=False)])
    return 10 * math.log10(255.0**2 / mse)


def sharpness(frames: list[np.ndarray]) -> float:
    luma = [float(f.mean()) for f in frames]
    whole = np.mean(luma[STEP + 4 : STEP + 10]) - np.mean(luma[STEP - 10 : STEP - 4])
    return (luma[STEP] - luma[STEP - 1]) / whole if whole else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    folder = args.data / "shotcut_pyscenedetect_resources"
    test = [f.rgb for f in decode(folder / "testvideo.mp4", size=SIZE)]
    gold = [f.rgb for f in decode(folder / "goldeneye-vfr-drop3.mp4", size=SIZE)]
    clean = {
        "testvideo moving": test[505:565],
        "goldeneye action": gold[63:139],
        "testvideo still": test[222:300],
        "light switched on": lit(test[222:300]),
        "light on + flicker": lit(test[222:300]),
    }
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, truth) in enumerate(clean.items()):
            shaky = truth if name == "light switched on" else flicker(truth, seed=n)
            source = write(Path(tmp) / f"in{n}.mp4", shaky)
            ours, theirs = Path(tmp) / f"ours{n}.mp4", Path(tmp) / f"ffmpeg{n}.mp4"
            started = time.perf_counter()
            deflicker(source, ours)
            ours_s = time.perf_counter() - started
            started = time.perf_counter()
            subprocess.run(
                [
                    exe,
                    "-v",
                    "error",
                    "-i",
                    str(source),
                    "-vf",
                    "deflicker",
                    "-c:v",
                    "libx264",
                    "-crf",
                    "14",
                    "-preset",
                    "veryfast",
                    str(theirs),
                ],
                check=True,
            )
            theirs_s = time.perf_counter() - started
            print(f"{name} ({len(truth)} frames)")
            for label, path, seconds in (
                ("input", source, 0.0),
                ("setpiece", ours, ours_s),
                ("ffmpeg deflicker", theirs, theirs_s),
            ):
                figures = measure_video(path)
                frames = [f.rgb for f in decode(path)]
                extra = f"  step {sharpness(frames):.2f}" if "light" in name else ""
                took = f"  {len(truth) / seconds:6.1f} fps" if seconds else ""
                print(
                    f"  {label:17s} flicker {figures.flicker:6.3f}  E_warp "
                    f"{figures.warp_error:.5f}  PSNR vs clean {psnr(frames, truth):5.2f} dB"
                    f"{extra}{took}"
                )


if __name__ == "__main__":
    main()
