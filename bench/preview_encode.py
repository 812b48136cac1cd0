"""Preview movie speed: a 1920x1080, 24 fps cut of 10 clips x 48 frames, written as MP4.

The cut is a typical previs assembly: eight animatics rendered by the previs backend at
1920x1080 and 24 fps (half of them given a stereo AAC tone, so sound is decoded,
resampled and re-encoded too), one at 1280x720 and 30 fps (scaled and conformed), and
one shot with no take (a slate). Each is imported, circled and assembled; then, in
the same run:

- ``write_preview`` without burn-ins, with burn-ins, and with x264's "ultrafast" preset
  instead of the default (the alternative that was weighed);
- the anchor: PyAV encoding the same 480 frames, already decoded and conformed to
  1080p yuv420p, with the same encoder settings and nothing else (no decoding, no
  sound, no drawing). That is the floor any preview writer pays.

Each figure is the median of ``--runs`` runs; the encoder uses the machine's cores as
it would in use (no pinning). Realtime factor = frames per second / 24.

    python bench/preview_encode.py [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from _timing import machine
from setpiece.edit import movie
from setpiece.edit.movie import write_preview
from setpiece.generate.backends.previs import PrevisGenerator
from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief
from setpiece.production.context import Production, init_production
from setpiece.production.cut import Cut, assemble
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot
from setpiece.production.takes import approve_take, import_takes

FPS = Fraction(24)
SIZE = (1920, 1080)
CLIPS = 10
FRAMES = 48
MOVES = ("slow push-in", "pan left", "static", "dolly out", "handheld", "tilt up")


def brief(index: int) -> ShotBrief:
    return ShotBrief(
        code=f"{index + 1}A",
        scene="1",
        heading="INT. KITCHEN - NIGHT",
        description="Zoë slides the letter across the table; Marcus doesn't look up.",
        size=("MS", "CU", "WS", "MCU")[index % 4],
        angle="eye",
        lens_mm=(35.0, 50.0, 85.0)[index % 3],
        camera_move=MOVES[index % len(MOVES)],
        int_ext="INT",
        location="KITCHEN",
        time_of_day="NIGHT",
        subjects=(
            SubjectBrief("Zoë", "character", side="left", color=(176, 84, 160)),
            SubjectBrief("Marcus", "character", side="right", color=(84, 150, 100)),
            SubjectBrief("letter", "prop", side="centre"),
        ),
    )


def with_tone(video: Path, target: Path, seconds: float, pitch: float) -> Path:
    """``video``'s picture, copied, with a stereo 48 kHz AAC sine tone as long as it."""
    with av.open(os.fspath(video)) as source, av.open(os.fspath(target), "w", "mp4") as out:
        picture = out.add_stream_from_template(source.streams.video[0])
        sound = out.add_stream("aac", rate=48000, layout="stereo")
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = picture
                out.mux(packet)
        samples = int(48000 * seconds)
        t = np.arange(samples, dtype=np.float32) / 48000
        wave = (0.2 * np.sin(2 * math.pi * pitch * t)).astype(np.float32)
        for start in range(0, samples, 1024):
            block = np.stack([wave[start : start + 1024]] * 2)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return target


def build(folder: Path) -> tuple[Production, Cut]:
    production = init_production(
        folder / "film", name="Bench", fps=FPS, resolution=SIZE, actor="bench"
    )
    scene = add_scene(production, "INT. KITCHEN - NIGHT").number
    generator = PrevisGenerator()
    renders = folder / "renders"
    for index in range(CLIPS):
        code = f"{index + 1}A"
        add_shot(production, scene, code, duration=Fraction(FRAMES) / FPS)
        if index == CLIPS - 1:
            continue  # no take: a slate
        other = index == 4
        width, height = (1280, 720) if other else SIZE
        fps = Fraction(30) if other else FPS
        frames = 60 if other else FRAMES
        request = RenderRequest(
            mode=Mode.TEXT_TO_VIDEO,
            prompt="",
            seed=index,
            width=width,
            height=height,
            fps=fps,
            frames=frames,
            brief=brief(index),
            parameters={"caption": "overlay"},
        )
        path = generator.render(request, renders).path
        if index % 2 == 0:
            path = with_tone(path, renders / f"tone{index}.mp4", frames / fps, 220.0 * (index + 1))
        take = import_takes(production, code, [path]).created[0]
        approve_take(production, code, take.id)
    return production, assemble(production)


def ready_frames(cut: Cut) -> list[list[np.ndarray]]:
    """The 480 frames the preview shows, as 1080p yuv420p buffers, one list per clip."""
    from setpiece.edit.movie import fit, planes_of, rgb_to_yuv420p, slate_card

    width, height = SIZE
    clips = []
    for clip in cut.clips:
        if clip.media is None:
            card = rgb_to_yuv420p(slate_card(clip, width, height, cut.fps))
            clips.append([card] * clip.duration)
            continue
        media = clip.media
        assert media.fps is not None
        decoded = []
        with av.open(media.path) as container:
            for frame in container.decode(video=0):
                x, y, w, h = fit((frame.width, frame.height), SIZE)
                canvas = np.full((height * 3 // 2, width), 128, np.uint8)
                canvas[:height] = 16
                small = frame.reformat(width=w, height=h, format="yuv420p").to_ndarray()
                for whole, part in zip(
                    planes_of(canvas, width, height), planes_of(small, w, h), strict=True
                ):
                    scale = width // whole.shape[1]
                    whole[y // scale : (y + h) // scale, x // scale : (x + w) // scale] = part
                decoded.append(canvas)
        num = media.fps.numerator * cut.fps.denominator
        den = media.fps.denominator * cut.fps.numerator
        clips.append([decoded[min(len(decoded) - 1, k * num // den)] for k in range(clip.duration)])
    return clips


def encode_only(clips: list[list[np.ndarray]], target: Path) -> float:
    """Seconds spent encoding ``clips`` with the preview's encoder settings, nothing else."""
    spent = 0.0
    with av.open(os.fspath(target), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        stream.codec_context.gop_size = round(FPS * movie.ENCODER["keyint_seconds"])
        stream.options = {"preset": movie.ENCODER["preset"], "crf": str(movie.ENCODER["crf"])}
        count = 0
        for frames in clips:
            for buffer in frames:
                started = time.perf_counter()
                frame = av.VideoFrame.from_ndarray(buffer, format="yuv420p")
                frame.pts, frame.time_base = count, 1 / FPS
                out.mux(stream.encode(frame))
                spent += time.perf_counter() - started
                count += 1
        started = time.perf_counter()
        out.mux(stream.encode(None))
        spent += time.perf_counter() - started
    return spent


def median(work: Callable[[], float], runs: int) -> float:
    return statistics.median(work() for _ in range(runs))


def timed(work: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; not pinned; PyAV {av.__version__}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        production, cut = build(folder)
        production.close()
        print(
            f"cut: {len(cut.clips)} clips, {cut.duration} frames at {SIZE[0]}x{SIZE[1]}, "
            f"{cut.fps} fps ({len(cut.warnings)} conform warnings); "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        out = folder / "preview.mp4"
        frames = cut.duration
        results: dict[str, float] = {}
        write_preview(cut, out)  # warm: fonts, codecs, page cache
        results["write_preview"] = median(timed(lambda: write_preview(cut, out)), args.runs)
        size_default = out.stat().st_size
        results["write_preview --burn-in"] = median(
            timed(lambda: write_preview(cut, out, burn_in=True)), args.runs
        )
        preset = movie.ENCODER["preset"]
        movie.ENCODER["preset"] = "ultrafast"
        try:
            results["write_preview, x264 ultrafast"] = median(
                timed(lambda: write_preview(cut, out)), args.runs
            )
            size_fast = out.stat().st_size
        finally:
            movie.ENCODER["preset"] = preset
        clips = ready_frames(cut)
        anchor = median(lambda: encode_only(clips, folder / "anchor.mp4"), args.runs)
    encoder = f"libx264 {preset} crf {movie.ENCODER['crf']}"
    print(f"\n{frames} frames ({encoder} unless noted), median of {args.runs}:")
    for label, seconds in results.items():
        fps = frames / seconds
        print(
            f"  {label:32s} {fps:6.1f} fps  {fps / float(FPS):5.2f}x realtime  "
            f"{seconds / anchor:4.2f}x the anchor's time"
        )
    fps = frames / anchor
    print(f"  {'anchor: PyAV encode only':32s} {fps:6.1f} fps  {fps / float(FPS):5.2f}x realtime")
    print(
        f"  file size: {size_default / 1e6:.1f} MB ({preset}), {size_fast / 1e6:.1f} MB (ultrafast)"
    )


if __name__ == "__main__":
    main()
