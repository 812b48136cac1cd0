"""Frame interpolation quality and speed: Setpiece's flow interpolation against simple
blending and FFmpeg's ``minterpolate`` (mi_mode=mci), in the same run.

Real clips have every other frame dropped; each dropped frame is rebuilt from its two
neighbours and compared with the original (PSNR over RGB, SSIM over luma):

- testvideo.mp4 (1280x720; its moving stretch, frames 505-565: the rest is nearly still),
- goldeneye-vfr-drop3.mp4 (1280x544; the frames at every 3rd nominal number, all
  present and evenly spaced 1/8 s apart, within each of its first two shots),
- the CFD animation PNG sequence (interp_cfd_sequence_film_pr83).

minterpolate gets the kept frames as a PNG sequence at half the rate and writes the
full rate (the ffmpeg binary that imageio-ffmpeg ships, a benchmark-only dependency).
Speed, like for like and end to end: both start from the same PNG files of the kept
frames and deliver the in-between pictures in memory. minterpolate's time is a whole
ffmpeg run to the null muxer (PNG decode, filter); Setpiece's is reading the PNGs, flow
and interpolation, with successive pairs in a pool of two threads as ``retime`` runs
them (minterpolate's filter is single-threaded; this machine has 2 cores). Blending's
time is the blend alone (it is a reference for quality, not for speed). Also measured: flow at full resolution instead of
the default 384-pixel long side, the choice the defaults make.

    python bench/motion_interp.py [--data ../shared/data] [--pairs 12] [--speed-only]

``--speed-only`` leaves out the full-resolution flow variant (about a minute on 2 quiet
cores); the load average is printed before and after: rerun it on a quiet machine.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
from skimage.metrics import structural_similarity

from _timing import load_average, machine
from setpiece.motion.config import MotionSettings, motion_settings
from setpiece.motion.flow import Interpolator
from setpiece.store.video import decode

ROOT = Path(__file__).resolve().parents[1]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a, b))
    return float(structural_similarity(ga, gb, data_range=255))


def clips(data: Path, pairs: int) -> dict[str, list[np.ndarray]]:
    """Runs of consecutive frames (odd length) from each source, within one shot."""
    shotcut = data / "shotcut_pyscenedetect_resources"
    frames = [f.rgb for f in decode(shotcut / "testvideo.mp4")]
    # goldeneye-vfr-drop3 lacks every third frame, so neighbours are unevenly spaced;
    # frames whose nominal number is a multiple of 3 are all there and evenly spaced
    # (1/8 s apart: large motion). Its cuts are at nominal frames 90 and 210.
    rate = 24000 / 1001
    golden = {
        round(float(f.time) * rate): f.rgb for f in decode(shotcut / "goldeneye-vfr-drop3.mp4")
    }
    spaced = [golden[k] for k in range(0, 90, 3) if k in golden]
    later = [golden[k] for k in range(93, 210, 3) if k in golden]
    cfd = sorted((data / "interp_cfd_sequence_film_pr83").glob("*.png"))
    n = 2 * pairs + 1
    return {
        # testvideo is mostly still; frames 505-565 are its moving stretch.
        "testvideo (moving)": frames[505 : 505 + min(n, 31)],
        "testvideo (moving, later)": frames[535 : 535 + min(n, 31)],
        "goldeneye 8 fps (shot 1)": spaced[: min(n, len(spaced) // 2 * 2 - 1)],
        "goldeneye 8 fps (shot 2)": later[: min(n, len(later) // 2 * 2 - 1)],
        "cfd animation": [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in cfd],
    }


def write_kept(run: list[np.ndarray], folder: Path) -> list[Path]:
    """The frames kept (every other one) as a PNG sequence: both methods' input."""
    paths = []
    for i, frame in enumerate(run[::2]):
        path = folder / f"in_{i:04d}.png"
        cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def ours(kept: list[Path], settings: MotionSettings) -> tuple[list[np.ndarray], float]:
    """End to end from the PNG files: read, flow, interpolate, as ``retime`` runs it
    (flow and interpolation of successive pairs in a pool of two threads)."""
    started = time.perf_counter()
    # RGB straight from the decoder (OpenCV 4.10 and later), not BGR and a conversion.
    read = cv2.IMREAD_COLOR_RGB  # type: ignore[attr-defined, unused-ignore]

    def between(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        return engine.interpolate(a[0], b[0], engine.flow(a[1], b[1]), 0.5)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pictures = list(pool.map(lambda path: cv2.imread(str(path), read), kept))
        engine = Interpolator(pictures[0].shape[1], pictures[0].shape[0], settings)
        frames = list(pool.map(lambda rgb: (rgb, engine.grey(rgb)), pictures))
        out = list(pool.map(between, frames[:-1], frames[1:]))
    return out, time.perf_counter() - started


def minterpolate(kept: list[Path], folder: Path) -> tuple[list[np.ndarray], float]:
    """minterpolate's pictures, and the time of a whole ffmpeg run from the same PNG
    files to the null muxer (process start, PNG decode and filter: end to end)."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    source = ["-framerate", "12", "-i", str(folder / "in_%04d.png")]
    filt = ["-vf", "minterpolate=fps=24:mi_mode=mci"]
    subprocess.run(
        [exe, "-v", "error", "-y", *source, *filt, str(folder / "out_%04d.png")], check=True
    )
    started = time.perf_counter()
    subprocess.run([exe, "-v", "error", *source, *filt, "-f", "null", "-"], check=True)
    seconds = time.perf_counter() - started
    out = []
    for i in range(len(kept) - 1):
        # 1-based names: out_(2i+2) lies between kept i and i+1. minterpolate stops one
        # output period short of the last input, so the last pair may be missing.
        name = folder / f"out_{2 * i + 2:04d}.png"
        if not name.exists():
            break
        out.append(cv2.cvtColor(cv2.imread(str(name)), cv2.COLOR_BGR2RGB))
    return out, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--flow-side", type=int, default=MotionSettings().flow_long_side)
    parser.add_argument("--preset", default=MotionSettings().flow_preset)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [motion] setting for Setpiece, as in setpiece.toml (still_detail=false)",
    )
    parser.add_argument(
        "--speed-only", action="store_true", help="the default's speed against minterpolate only"
    )
    args = parser.parse_args()
    settings = replace(
        motion_settings({"motion": tomllib.loads("\n".join(args.set))}),
        flow_long_side=args.flow_side,
        flow_preset=args.preset,
    )
    full = MotionSettings(flow_long_side=4096, flow_fine_side=0, flow_preset=args.preset)
    print(f"machine: {machine()}; load average {load_average()}")
    methods: tuple[str, ...] = ("setpiece", "setpiece full-res flow", "blend", "minterpolate")
    if args.speed_only:
        methods = ("setpiece", "blend", "minterpolate")
    scores: dict[str, dict[str, list[float]]] = {m: {"psnr": [], "ssim": []} for m in methods}
    seconds = dict.fromkeys(methods, 0.0)
    count = 0
    for name, run in clips(args.data, args.pairs).items():
        if len(run) % 2 == 0:
            run = run[:-1]
        truth = run[1::2]
        built = {}
        with tempfile.TemporaryDirectory() as folder:
            kept = write_kept(run, Path(folder))
            built["setpiece"], t = ours(kept, settings)
            seconds["setpiece"] += t
            if "setpiece full-res flow" in methods:
                built["setpiece full-res flow"], t = ours(kept, full)
                seconds["setpiece full-res flow"] += t
            started = time.perf_counter()
            built["blend"] = [
                cv2.addWeighted(run[i], 0.5, run[i + 2], 0.5, 0) for i in range(0, len(run) - 2, 2)
            ]
            seconds["blend"] += time.perf_counter() - started
            built["minterpolate"], t = minterpolate(kept, Path(folder))
            seconds["minterpolate"] += t
        # Score every method on the frames minterpolate delivered, so all see the same set.
        truth = truth[: len(built["minterpolate"])]
        line = [f"{name} ({len(truth)} frames, {run[0].shape[1]}x{run[0].shape[0]})"]
        for method in methods:
            p = [psnr(a, b) for a, b in zip(built[method], truth, strict=False)]
            s = [ssim(a, b) for a, b in zip(built[method], truth, strict=False)]
            scores[method]["psnr"] += p
            scores[method]["ssim"] += s
            line.append(f"{method} {statistics.mean(p):.2f} dB / {statistics.mean(s):.4f}")
        count += len(truth)
        print("  " + " | ".join(line))
    print(
        f"\nall clips, {count} rebuilt frames: mean PSNR (95% CI) / mean SSIM / frames per second"
    )
    for method in methods:
        p = scores[method]["psnr"]
        half = 1.96 * statistics.stdev(p) / math.sqrt(len(p))
        print(
            f"  {method:24s} {statistics.mean(p):6.2f} dB (+-{half:.2f})  "
            f"{statistics.mean(scores[method]['ssim']):.4f}  {count / seconds[method]:8.1f} fps"
        )
    gain = statistics.mean(scores["setpiece"]["psnr"]) - statistics.mean(
        scores["minterpolate"]["psnr"]
    )
    speed = seconds["minterpolate"] / seconds["setpiece"]
    print(f"\nsetpiece vs minterpolate: {gain:+.2f} dB PSNR, {speed:.1f}x the speed")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
