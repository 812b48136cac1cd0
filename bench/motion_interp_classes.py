"""Frame interpolation per motion class, on material the defaults were not tuned on.

Every clip has every other frame dropped; each dropped frame is rebuilt from its two
neighbours (12 to 24 fps) and scored against the original (PSNR over RGB). Four classes:

- ``pan/zoom 720p`` and ``pan/zoom 1080p``: a camera pan with a zoom over a real
  photograph (``faces_identity``, ``c2pa`` and ``neardup`` pictures in ../shared/data),
  with a second photograph cut out as an oval, crossing the other way in front of it
  (parallax and occlusion). Background and foreground each move 20-40 pixels per kept
  frame (the frames the interpolator sees), zoom up to 2 % per kept frame; drawn at
  random from a fixed seed, different photographs per clip.
- ``non-rigid``: the CFD animation (interp_cfd_sequence_film_pr83, every dropped frame
  at steps of 1 and 2 frames), and real photographs under a fast smooth random
  deformation (20-40 pixels per kept frame at 720p).
- ``near-static``: the clips of bench/motion_interp.py (testvideo.mp4's moving stretches,
  goldeneye at 8 fps) and testvideo's still stretches.
- ``AI clips``: every clip of aivideo_generators and aivideo_magicme_same_identity,
  every other frame dropped (up to 8 rebuilt frames a clip).

Anchors in the same run: FFmpeg's minterpolate (mi_mode=mci, the ffmpeg that
imageio-ffmpeg ships) and 50/50 blending. Per class: the mean paired PSNR difference
with a 95 % bootstrap lower bound (clips resampled, not frames: frames of one clip are
not independent), and the number of frames and clips.

Leave one clip out (``--leave-one-out``): every clip is scored with the candidate chosen
on all the other clips (same rule), and the per-class figures are those held-out
scores.

Cross-validation (``--cross-validate``): the clips of every class are split in two
halves by their position (even and odd); each candidate setting of the interpolation
(:data:`CANDIDATES`) is scored on one half, the best is chosen there (highest worst
lower bound over the classes), and the figures reported are those of the chosen
setting on the *other* half; then the halves swap. The default is right when both
halves choose it.

Speed (``--speed-only``, about 4 minutes on 2 quiet cores): per class, Setpiece end to
end from the kept frames' PNG files (read, flow, interpolate: two threads, as retime
runs) against one whole ffmpeg minterpolate run from the same PNGs to the null muxer,
with the load average printed before and after. Ratios are only meaningful with a load
average under 1.5.

    python bench/motion_interp_classes.py [--data ../shared/data] [--cross-validate] [--leave-one-out]
    python bench/motion_interp_classes.py --speed-only
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from _timing import load_average, machine
from motion_interp import clips as interp_clips
from setpiece.motion.config import MotionSettings, motion_settings
from setpiece.motion.flow import Interpolator
from setpiece.store.video import decode

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("pan/zoom 720p", "pan/zoom 1080p", "non-rigid", "near-static", "AI clips")
#: Settings the cross-validation chooses among (the first is the shipped default).
CANDIDATES: dict[str, MotionSettings] = {
    "default": MotionSettings(),
    "no fine flow": MotionSettings(flow_fine_side=0),
    "no flow blur": MotionSettings(flow_blur=0.0),
    "flow blur 0.5": MotionSettings(flow_blur=0.5),
    "no blend fallback": MotionSettings(fallback_ratio=10.0),
}


@dataclass(frozen=True)
class Clip:
    """A run of frames: the even ones are kept, the odd ones rebuilt."""

    name: str
    frames: list[np.ndarray]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


# -- material ---------------------------------------------------------------------


def _photos(data: Path) -> list[np.ndarray]:
    """Real photographs, largest first (backgrounds need the pixels)."""
    paths = sorted((data / "faces_identity").glob("*.jpg"))
    paths += sorted((data / "faces_identity").glob("*.png"))
    paths += [data / "c2pa_python_fixtures" / "C_with_CAWG_data.jpg"]
    paths += [data / "c2pa_rs_fixtures_with_known_good" / "cloud.jpg"]
    paths += sorted((data / "neardup_imagededup_tests" / "base_images").glob("*.jpg"))
    pictures = []
    for path in paths:
        picture = cv2.imread(str(path))
        if picture is not None:
            pictures.append(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
    pictures.sort(key=lambda p: -p.shape[0] * p.shape[1])
    return pictures


def _cover(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """``photo`` scaled (area-averaged, or cubic when enlarged) to cover width x height."""
    scale = max(width / photo.shape[1], height / photo.shape[0])
    size = (math.ceil(photo.shape[1] * scale), math.ceil(photo.shape[0] * scale))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(photo, size, interpolation=method)


def _direction(rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0, 2 * math.pi)
    return np.array([math.cos(angle), math.sin(angle)])


def pan_zoom(
    background: np.ndarray,
    foreground: np.ndarray,
    width: int,
    height: int,
    rng: np.random.Generator,
    frames: int = 9,
) -> list[np.ndarray]:
    """A pan and zoom over ``background`` with ``foreground`` (an oval) crossing it.

    Motion per kept frame (two frames of the 24 fps result): 20-40 pixels for each
    layer, in roughly opposite directions, and a zoom of up to 2 %.
    """
    margin = 1.5
    plate = _cover(background, round(width * margin), round(height * margin))
    bg_dir = _direction(rng)
    bg_speed = rng.uniform(20, 40) / 2  # per 24 fps frame
    zoom = rng.uniform(-0.02, 0.02) / 2
    fg_dir = -bg_dir + rng.normal(0, 0.3, 2)
    fg_dir /= np.linalg.norm(fg_dir)
    fg_speed = rng.uniform(20, 40) / 2
    # The foreground: the centre of a portrait (a face in most of these), as an oval.
    fh = round(height * rng.uniform(0.35, 0.5))
    fw = round(fh * rng.uniform(0.7, 0.9))
    source = _cover(foreground, fw, fh)
    oy, ox = (source.shape[0] - fh) // 2, (source.shape[1] - fw) // 2
    sprite = source[oy : oy + fh, ox : ox + fw]
    alpha = np.zeros((fh, fw), np.float32)
    cv2.ellipse(alpha, (fw // 2, fh // 2), (fw // 2 - 2, fh // 2 - 2), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (5, 5), 1.0)
    centre = np.array([plate.shape[1] / 2, plate.shape[0] / 2])
    middle = frames // 2
    start = np.array([width / 2, height / 2]) - fg_dir * fg_speed * middle - [fw / 2, fh / 2]
    out = []
    for i in range(frames):
        # Frame pixel p shows plate pixel centre + shift + (p - frame centre) * scale.
        scale = (1 + zoom) ** (i - middle)
        shift = bg_dir * bg_speed * (i - middle)
        offset = centre + shift - scale * np.array([width / 2, height / 2])
        matrix = np.array([[scale, 0, offset[0]], [0, scale, offset[1]]])
        frame = cv2.warpAffine(
            plate,
            matrix,
            (width, height),
            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        ).astype(np.float32)
        place = start + fg_dir * fg_speed * i
        move = np.array([[1.0, 0, place[0]], [0, 1.0, place[1]]])
        layer = cv2.warpAffine(sprite, move, (width, height), flags=cv2.INTER_CUBIC)
        cover = cv2.warpAffine(alpha, move, (width, height), flags=cv2.INTER_LINEAR)[..., None]
        frame = frame * (1 - cover) + layer.astype(np.float32) * cover
        out.append(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
    return out


def deformation(
    photo: np.ndarray, width: int, height: int, rng: np.random.Generator, frames: int = 9
) -> list[np.ndarray]:
    """``photo`` under a smooth random flowing deformation, 20-40 px per kept frame."""
    plate = _cover(photo, width, height)
    oy, ox = (plate.shape[0] - height) // 2, (plate.shape[1] - width) // 2
    plate = np.ascontiguousarray(plate[oy : oy + height, ox : ox + width])
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    waves = []
    for _ in range(4):
        k = _direction(rng) * 2 * math.pi / rng.uniform(0.3, 0.8) / max(width, height)
        waves.append((k, _direction(rng), rng.uniform(0, 2 * math.pi)))
    speed = rng.uniform(20, 40) / 2  # displacement change per 24 fps frame, pixels
    amplitude = speed / 0.6  # phase advances 0.6 rad a frame
    middle = frames // 2
    out = []
    for i in range(frames):
        dx = np.zeros_like(xs)
        dy = np.zeros_like(ys)
        for k, axis, phase in waves:
            value = np.sin(k[0] * xs + k[1] * ys + phase + 0.6 * (i - middle)) / len(waves) * 2
            dx += amplitude * axis[0] * value
            dy += amplitude * axis[1] * value
        out.append(
            cv2.remap(plate, xs + dx, ys + dy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        )
    return out


def _runs(sequence: list[np.ndarray], step: int, name: str) -> list[Clip]:
    """Every dropped frame of ``sequence`` at ``step``: runs starting at each offset."""
    runs = []
    for offset in range(2 * step):
        frames = sequence[offset::step]
        if len(frames) >= 5:  # three kept frames: minterpolate makes the first two middles
            frames = frames[: (len(frames) - 1) // 2 * 2 + 1]
            runs.append(Clip(f"{name} step {step} from {offset}", frames))
    return runs


def cases(data: Path, quick: bool = False) -> dict[str, list[Clip]]:
    """Every class's clips, from ``data`` (../shared/data)."""
    rng = np.random.default_rng(29)
    photos = _photos(data)
    out: dict[str, list[Clip]] = {name: [] for name in CLASSES}
    count = 4 if quick else 8
    for label, (width, height) in (
        ("pan/zoom 720p", (1280, 720)),
        ("pan/zoom 1080p", (1920, 1080)),
    ):
        for i in range(count):
            background = photos[i % 8]
            foreground = photos[8 + (3 * i + (label == "pan/zoom 1080p")) % (len(photos) - 8)]
            frames = pan_zoom(background, foreground, width, height, rng, 7 if quick else 9)
            out[label].append(Clip(f"pan/zoom {width}x{height} #{i}", frames))
    cfd = sorted((data / "interp_cfd_sequence_film_pr83").glob("*.png"))
    fluid = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in cfd]
    out["non-rigid"] += _runs(fluid, 1, "cfd")[:2] + _runs(fluid, 2, "cfd")[:4]
    for i in range(count // 2 if quick else count - 2):
        frames = deformation(photos[(5 * i + 2) % len(photos)], 1280, 720, rng, 7)
        out["non-rigid"].append(Clip(f"deformed photo #{i}", frames))
    for name, run in interp_clips(data, 8).items():
        if name != "cfd animation":
            out["near-static"].append(Clip(name, run[: len(run) // 2 * 2 - 1]))
    still = [f.rgb for f in decode(data / "shotcut_pyscenedetect_resources" / "testvideo.mp4")]
    for start in (100, 300, 700):
        out["near-static"].append(Clip(f"testvideo (still) {start}", still[start : start + 17]))
    videos = sorted((data / "aivideo_generators").glob("*/*.mp4"))
    videos += sorted((data / "aivideo_generators").glob("*/*.gif"))
    videos += sorted((data / "aivideo_magicme_same_identity").glob("*.mp4"))
    for path in videos:
        frames = [f.rgb for f in decode(path)]
        run = frames[: min(len(frames), 17 if not quick else 9)]
        out["AI clips"].append(Clip(path.stem, run[: (len(run) - 1) // 2 * 2 + 1]))
    return out


# -- methods ----------------------------------------------------------------------


def write_kept(clip: Clip, folder: Path) -> list[Path]:
    paths = []
    for i, frame in enumerate(clip.frames[::2]):
        path = folder / f"in_{i:04d}.png"
        cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def ours(kept: list[Path], settings: MotionSettings) -> tuple[list[np.ndarray], float]:
    """End to end from the PNG files, as retime runs it (two threads)."""
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


def minterpolate(kept: list[Path], folder: Path, timed: bool) -> tuple[list[np.ndarray], float]:
    """minterpolate's pictures, and (``timed``) a whole ffmpeg run to the null muxer."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    source = ["-framerate", "12", "-i", str(folder / "in_%04d.png")]
    filt = ["-vf", "minterpolate=fps=24:mi_mode=mci"]
    seconds = 0.0
    if timed:
        started = time.perf_counter()
        subprocess.run([exe, "-v", "error", *source, *filt, "-f", "null", "-"], check=True)
        return [], time.perf_counter() - started
    subprocess.run(
        [exe, "-v", "error", "-y", *source, *filt, str(folder / "out_%04d.png")], check=True
    )
    out = []
    for i in range(len(kept) - 1):
        # out_(2i+2) lies between kept i and i+1; the last pair may be missing.
        name = folder / f"out_{2 * i + 2:04d}.png"
        if not name.exists():
            break
        out.append(cv2.cvtColor(cv2.imread(str(name)), cv2.COLOR_BGR2RGB))
    return out, seconds


def blend(clip: Clip) -> list[np.ndarray]:
    f = clip.frames
    return [cv2.addWeighted(f[i], 0.5, f[i + 2], 0.5, 0) for i in range(0, len(f) - 2, 2)]


# -- statistics -------------------------------------------------------------------


def bootstrap_low(per_clip: list[list[float]], draws: int = 4000, seed: int = 7) -> float:
    """2.5th percentile of the mean frame difference, clips resampled with replacement."""
    rng = np.random.default_rng(seed)
    sums = np.array([sum(c) for c in per_clip])
    counts = np.array([len(c) for c in per_clip])
    picks = rng.integers(0, len(per_clip), (draws, len(per_clip)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    return float(np.percentile(means, 2.5))


@dataclass
class Scores:
    """Per clip, per method: PSNR of each rebuilt frame (the frames minterpolate made)."""

    psnr: dict[str, dict[str, list[float]]]

    def diff(self, method: str, anchor: str, names: list[str]) -> list[list[float]]:
        return [
            [x - y for x, y in zip(self.psnr[n][method], self.psnr[n][anchor], strict=True)]
            for n in names
        ]


def score(
    groups: dict[str, list[Clip]], methods: dict[str, MotionSettings], log: Callable[[str], None]
) -> Scores:
    """PSNR of every method and anchor on every rebuilt frame."""
    table: dict[str, dict[str, list[float]]] = {}
    for label, clip_list in groups.items():
        for clip in clip_list:
            truth = clip.frames[1::2]
            with tempfile.TemporaryDirectory() as folder:
                kept = write_kept(clip, Path(folder))
                built = {"minterpolate": minterpolate(kept, Path(folder), timed=False)[0]}
                built["blend"] = blend(clip)
                for method, settings in methods.items():
                    built[method] = ours(kept, settings)[0]
            n = len(built["minterpolate"])
            table[clip.name] = {
                m: [psnr(x, y) for x, y in zip(p[:n], truth[:n], strict=True)]
                for m, p in built.items()
            }
            log(
                f"  {label:15s} {clip.name:42s} "
                + " ".join(
                    f"{m[:14]} {statistics.mean(v):6.2f}" for m, v in table[clip.name].items()
                )
            )
    return Scores(table)


def report(
    scores: Scores, groups: dict[str, list[Clip]], method: str, title: str
) -> dict[str, float]:
    """Prints per class the paired difference against each anchor; returns the lower bounds."""
    print(f"\n{title}")
    print(
        f"  {'class':15s} {'frames':>6s} {'clips':>5s} {'setpiece':>8s} {'mci':>7s} {'blend':>7s}"
        "   vs minterpolate (95% low)   vs blend (95% low)"
    )
    lows = {}
    for label, clip_list in groups.items():
        names = [c.name for c in clip_list]
        if not names:
            continue
        mean = {
            m: statistics.mean(x for n in names for x in scores.psnr[n][m])
            for m in (method, "minterpolate", "blend")
        }
        frames = sum(len(scores.psnr[n][method]) for n in names)
        parts = []
        for anchor in ("minterpolate", "blend"):
            d = scores.diff(method, anchor, names)
            flat = [x for c in d for x in c]
            low = bootstrap_low(d)
            lows[f"{label} vs {anchor}"] = low
            parts.append(f"{statistics.mean(flat):+6.2f} dB ({low:+6.2f})")
        print(
            f"  {label:15s} {frames:6d} {len(names):5d} {mean[method]:8.2f} "
            f"{mean['minterpolate']:7.2f} {mean['blend']:7.2f}   {parts[0]:>24s}   {parts[1]:>18s}"
        )
    return lows


def speed(groups: dict[str, list[Clip]], settings: MotionSettings) -> None:
    print(f"\nspeed, end to end from the same PNGs (load average before: {load_average()})")
    print(f"  {'class':15s} {'frames':>6s} {'setpiece fps':>12s} {'mci fps':>8s} {'ratio':>6s}")
    for label, clip_list in groups.items():
        ours_s = theirs_s = 0.0
        frames = 0
        for clip in clip_list:
            with tempfile.TemporaryDirectory() as folder:
                kept = write_kept(clip, Path(folder))
                # Best of two of each: the load of a shared machine comes in bursts.
                ours_s += min(ours(kept, settings)[1] for _ in range(2))
                theirs_s += min(minterpolate(kept, Path(folder), timed=True)[1] for _ in range(2))
                frames += len(kept) - 1
        print(
            f"  {label:15s} {frames:6d} {frames / ours_s:12.1f} {frames / theirs_s:8.1f} "
            f"{theirs_s / ours_s:6.1f}x"
        )
    print(f"  load average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="fewer and shorter clips")
    parser.add_argument("--cross-validate", action="store_true", help="choose among CANDIDATES")
    parser.add_argument(
        "--leave-one-out", action="store_true", help="choose among CANDIDATES, one clip held out"
    )
    parser.add_argument("--speed-only", action="store_true", help="only the speed ratios")
    parser.add_argument("--only", action="append", choices=CLASSES, help="these classes only")
    parser.add_argument("--quiet", action="store_true", help="no per-clip lines")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [motion] setting for --speed-only, as in setpiece.toml (still_detail=false)",
    )
    args = parser.parse_args()
    if not (args.data / "faces_identity").is_dir():
        raise SystemExit(f"no test material at {args.data}: give --data PATH/TO/shared/data")
    print(f"machine: {machine()}; load average {load_average()}")
    groups = cases(args.data, args.quick)
    if args.only:
        groups = {k: v for k, v in groups.items() if k in args.only}
    if args.speed_only:
        speed(groups, motion_settings({"motion": tomllib.loads("\n".join(args.set))}))
        return
    log = (lambda line: None) if args.quiet else print
    choose = args.cross_validate or args.leave_one_out
    methods = CANDIDATES if choose else {"default": CANDIDATES["default"]}
    scores = score(groups, methods, log)
    report(scores, groups, "default", "all clips, the shipped defaults")
    if args.cross_validate:
        halves = [{k: v[h::2] for k, v in groups.items()} for h in (0, 1)]
        for pick, held in ((0, 1), (1, 0)):
            worst = {m: min(report_quiet(scores, halves[pick], m).values()) for m in methods}
            chosen = max(worst, key=lambda m: worst[m])
            print(
                f"\nhalf {pick}: worst lower bound per candidate: "
                + ", ".join(f"{m} {v:+.2f}" for m, v in worst.items())
                + f"; chosen: {chosen}"
            )
            report(
                scores,
                halves[held],
                chosen,
                f"held-out half {held}, setting chosen on half {pick}: {chosen}",
            )
    if args.leave_one_out:
        leave_one_out(scores, groups, list(methods))
    print(f"\nload average at the end: {load_average()}")


def leave_one_out(scores: Scores, groups: dict[str, list[Clip]], methods: list[str]) -> None:
    """Each clip scored with the candidate chosen on all the other clips (highest worst
    lower bound over the classes), then the per-class figures of those held-out scores."""
    chosen: dict[str, str] = {}
    for clip_list in groups.values():
        for clip in clip_list:
            rest = {k: [c for c in v if c.name != clip.name] for k, v in groups.items()}
            worst = {m: min(report_quiet(scores, rest, m, draws=1000).values()) for m in methods}
            chosen[clip.name] = max(worst, key=lambda m: worst[m])
    counts = {m: list(chosen.values()).count(m) for m in methods}
    print("\nleave one clip out: times each candidate was chosen: " + str(counts))
    for name, method in chosen.items():
        scores.psnr[name]["held out"] = scores.psnr[name][method]
    report(
        scores,
        groups,
        "held out",
        "leave one clip out: each clip with the setting chosen on the rest",
    )


def report_quiet(
    scores: Scores, groups: dict[str, list[Clip]], method: str, draws: int = 4000
) -> dict[str, float]:
    lows = {}
    for label, clip_list in groups.items():
        names = [c.name for c in clip_list]
        if names:
            for anchor in ("minterpolate", "blend"):
                d = scores.diff(method, anchor, names)
                lows[f"{label} vs {anchor}"] = bootstrap_low(d, draws=draws)
    return lows


if __name__ == "__main__":
    cv2.setNumThreads(int(os.environ.get("SETPIECE_BENCH_CV_THREADS", "0")) or cv2.getNumThreads())
    main()
