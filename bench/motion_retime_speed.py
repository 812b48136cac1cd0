"""Retime speed at 1920x1080: a 12 fps clip made 24 fps, end to end (decode, cut
pre-pass, flow, interpolation, x264 encode, audio remux), in output frames per second.

The input is real footage (testvideo.mp4's moving stretch, frames 505-565, upscaled to
1080p and written at 12 fps with AAC sound), so the flow has real texture to work on.
Compared in the same run: the default settings (DIS "balanced" at 384 pixels, x264
"ultrafast"), the earlier default (DIS "medium" at 512 pixels), DIS "fast", and x264
"veryfast"; the anchor is decode + encode alone (PyAV,
same encoder settings, no interpolation): the floor any retimer pays. Goal: at least
24 output frames per second (real time) on this 2-core machine. As the machine is
shared, each variant also reports its CPU time per output frame (all threads), which
other work does not change, and the load average after it.

    python bench/motion_retime_speed.py [--data ../shared/data] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from _timing import machine
from setpiece.motion.config import MotionSettings
from setpiece.motion.retime import retime
from setpiece.store.video import decode

ROOT = Path(__file__).resolve().parents[1]


def make_input(data: Path, path: Path) -> int:
    source = data / "shotcut_pyscenedetect_resources" / "testvideo.mp4"
    frames = [f.rgb for f in decode(source) if 505 <= f.index < 565]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        sound = out.add_stream("aac", rate=48000, layout="stereo")
        for i, rgb in enumerate(frames):
            big = cv2.resize(rgb, (1920, 1080), interpolation=cv2.INTER_CUBIC)
            frame = av.VideoFrame.from_ndarray(big, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 12)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        seconds = len(frames) / 12
        for start in range(0, int(48000 * seconds), 1024):
            block = av.AudioFrame.from_ndarray(
                np.zeros((2, 1024), dtype=np.float32), format="fltp", layout="stereo"
            )
            block.sample_rate, block.pts = 48000, start
            out.mux(sound.encode(block))
        out.mux(sound.encode(None))
    return len(frames)


def anchor(source: Path, target: Path, preset: str) -> float:
    """Decode and re-encode at the same rate: no interpolation at all."""
    started = time.perf_counter()
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"crf": "18", "preset": preset}
        for i, frame in enumerate(decode(source)):
            picture = av.VideoFrame.from_ndarray(frame.rgb, format="rgb24").reformat(
                format="yuv420p"
            )
            picture.pts, picture.time_base = i, Fraction(1, 12)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    base = MotionSettings()
    variants = {
        "default": base,
        "DIS medium at 512 px": replace(base, flow_preset="medium", flow_long_side=512),
        "DIS fast": replace(base, flow_preset="fast"),
        "x264 veryfast": replace(base, encoder_preset="veryfast"),
        "DIS fast + x264 veryfast": replace(base, flow_preset="fast", encoder_preset="veryfast"),
    }
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in12.mp4"
        count = make_input(args.data, source)
        print(f"input: {count} frames, 1920x1080 at 12 fps, AAC; output 24 fps")
        decode_only = statistics.median(
            anchor(source, Path(folder) / "anchor.mp4", base.encoder_preset)
            for _ in range(args.runs)
        )
        print(f"  anchor decode+encode ({count} frames):   {count / decode_only:6.1f} fps")
        for name, settings in variants.items():
            times, cpus, frames = [], [], 0
            for _ in range(args.runs):
                started, cpu = time.perf_counter(), cpu_seconds()
                report = retime(
                    source, Path(folder) / "out.mp4", fps=Fraction(24), settings=settings
                )
                times.append(time.perf_counter() - started)
                cpus.append(cpu_seconds() - cpu)
                frames = report.frames
            median, cpu = statistics.median(times), statistics.median(cpus)
            # CPU per output frame does not depend on what else runs: real time on an
            # idle machine needs cpu * 24 / frames cores, at best.
            print(
                f"  retime 12->24, {name:26s} {frames / median:6.1f} output fps "
                f"({median:.2f} s for {frames} frames; real time = 24); "
                f"CPU {1000 * cpu / frames:5.1f} ms/frame = {cpu * 24 / frames:.2f} cores "
                f"at 24 fps; load {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
