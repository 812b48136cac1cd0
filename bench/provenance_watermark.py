"""Watermark robustness: Setpiece's mark against the invisible-watermark package, same attacks.

Bit accuracy after each attack (JPEG 90/80/70/50, resize 0.5 and 0.75, crop 10 %,
brightness +20 %, H.264 CRF 23 and 28 of an 8-frame still clip, judged on one frame),
PSNR of the marked image, and for ours the share of pictures whose payload (project
+ take, CRC-checked) comes back exactly, with Wilson 95 % intervals, and the
false-positive rate of ``found`` on unmarked pictures.

The anchor imports torch and a non-headless OpenCV, so it runs in its own venv:

    python -m venv /tmp/bench-iwm
    /tmp/bench-iwm/bin/pip install "torch==2.13.0+cpu" invisible-watermark

(or, without downloading torch again: install numpy, opencv-python-headless, PyWavelets
and Pillow under .ci/constraints.txt, then invisible-watermark==0.2.0 ``--no-deps``, and
append the project venv's site-packages to the new venv's in a ``.pth`` file: torch comes
from there.)

    python bench/provenance_watermark.py [--anchor-python /tmp/bench-iwm/bin/python]
        [--previous REV]

(invisible-watermark 0.2.0 needs numpy, opencv-python, Pillow, PyWavelets and torch; no
torchvision. Installed with ``--no-deps`` into a venv that sees the project venv's
packages through a .pth file, its opencv-python is the project's headless OpenCV.)

``--previous REV`` (default ``main``) runs the previous mark, the code of that git
revision exported with ``git archive``, on the same pictures in a subprocess and prints
its figures beside ours. Flat fields (issue 30): a mid-grey, a black and a white still
at 1920x1080, a mid-grey at 640x360 and a soft ramp at 1280x720; for each, the largest
change of a pixel, the standard deviation of the marked still, the PSNR, and whether
``detect`` finds a mark (it must not: a still too flat to carry one is delivered
unmarked, and said so).

Pictures: the photographs bundled with scikit-image, at their own size and resized to
1280x720 (a video frame). Bits: ours decodes 72 payload bits through the convolutional
code; the anchor carries 64 raw bits (its own scheme, no error correction).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine

IMAGES = [
    "astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "retina",
    "hubble_deep_field", "brick", "grass", "gravel", "coins", "moon", "clock", "cell",
    "colorwheel", "page", "text",
]  # fmt: skip
ATTACKS = [
    "none", "jpeg90", "jpeg80", "jpeg70", "jpeg50", "resize0.5", "resize0.75", "crop10",
    "brightness", "h264crf23", "h264crf28",
]  # fmt: skip
ANCHOR_METHODS = ["dwtDct", "dwtDctSvd"]
ANCHOR_BITS = 64

_WORKER = r"""
import json, sys, cv2, numpy as np
from imwatermark import WatermarkEncoder, WatermarkDecoder
mode, folder, method, bits_json = sys.argv[1:5]
bits = json.loads(bits_json)
from pathlib import Path
folder = Path(folder)
if mode == "embed":
    enc = WatermarkEncoder(); enc.set_watermark("bits", bits)
    for src in sorted((folder / "orig").glob("*.png")):
        bgr = cv2.imread(str(src))
        out = folder / f"marked_{method}"; out.mkdir(exist_ok=True)
        cv2.imwrite(str(out / src.name), enc.encode(bgr, method))
else:
    dec = WatermarkDecoder("bits", len(bits)); result = {}
    for src in sorted((folder / f"attacked_{method}").glob("*.png")):
        try:
            got = [int(b) for b in dec.decode(cv2.imread(str(src)), method)]
        except Exception as exc:
            got = None
        result[src.name] = got
    print(json.dumps(result))
"""


def wilson(successes: int, total: int) -> tuple[float, float]:
    if total == 0:
        return (0.0, 0.0)
    z = 1.96
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def pictures() -> dict[str, np.ndarray]:
    import skimage.data as data

    out: dict[str, np.ndarray] = {}
    for name in IMAGES:
        pixels = getattr(data, name)()
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        pixels = pixels[..., :3].astype(np.uint8)
        image = Image.fromarray(pixels)
        if max(image.size) > 1024:
            image = image.resize((1024, round(1024 * image.height / image.width)))
        w, h = image.size
        out[f"{name}"] = np.asarray(image.crop((0, 0, w - w % 2, h - h % 2)))
        out[f"{name}_720p"] = np.asarray(image.resize((1280, 720), Image.Resampling.BICUBIC))
    return out


def h264(pixels: np.ndarray, crf: int) -> np.ndarray:
    import av

    h, w = pixels.shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(24))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium"}
        for _ in range(8):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    return frames[len(frames) // 2]


def attack(pixels: np.ndarray, name: str) -> np.ndarray:
    image = Image.fromarray(pixels)
    if name == "none":
        return pixels
    if name.startswith("jpeg"):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(name[4:]))
        return np.asarray(Image.open(buffer).convert("RGB"))
    if name.startswith("resize"):
        f = float(name[6:])
        return np.asarray(
            image.resize(
                (round(image.width * f), round(image.height * f)), Image.Resampling.BILINEAR
            )
        )
    if name == "crop10":
        dx, dy = round(image.width * 0.05), round(image.height * 0.05)
        return np.asarray(image.crop((dx, dy, image.width - dx, image.height - dy)))
    if name == "brightness":
        return np.asarray(ImageEnhance.Brightness(image).enhance(1.2))
    if name.startswith("h264crf"):
        return h264(pixels, int(name[7:]))
    raise ValueError(name)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def run_ours(images: dict[str, np.ndarray]) -> dict[str, object]:
    from setpiece.provenance import watermark as wm
    from setpiece.provenance.watermark import Payload, detect, embed

    payload = Payload(0x675B, "070crbay")
    truth = payload.bits()
    acc: dict[str, list[float]] = {a: [] for a in ATTACKS}
    exact: dict[str, int] = {a: 0 for a in ATTACKS}
    psnrs, embed_s = [], []
    for pixels in images.values():
        started = time.perf_counter()
        marked = embed(pixels, payload)
        embed_s.append(time.perf_counter() - started)
        grid = wm.grid_for(pixels.shape[1], pixels.shape[0])
        psnrs.append(psnr(pixels, marked))
        for name in ATTACKS:
            attacked = attack(marked, name)
            found = detect(attacked)
            exact[name] += int(found.found and found.payload == payload)
            # Bit accuracy of the 72 decoded payload bits, on the grid the picture was marked with.
            decoded = wm._viterbi(wm.soft_bits(attacked, grid))
            acc[name].append(
                sum(int(x == y) for x, y in zip(decoded, truth, strict=True)) / len(truth)
            )
    return {
        "acc": acc,
        "exact": exact,
        "psnr": psnrs,
        "embed_s": embed_s,
        "n": len(images),
        "bits": len(truth),
    }


def false_positives(images: dict[str, np.ndarray]) -> tuple[int, int]:
    from setpiece.provenance.watermark import detect

    hits = total = 0
    rng = np.random.default_rng(7)
    for pixels in images.values():
        for name in ("none", "jpeg70", "resize0.5", "crop10", "brightness"):
            hits += int(detect(attack(pixels, name)).found)
            total += 1
        for _ in range(4):
            h, w = pixels.shape[:2]
            y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
            hits += int(detect(pixels[y : y + h // 2, x : x + w // 2]).found)
            total += 1
    return hits, total


def run_anchor(images: dict[str, np.ndarray], python: str) -> dict[str, dict[str, object]]:
    rng = np.random.default_rng(11)
    bits = [int(b) for b in rng.integers(0, 2, ANCHOR_BITS)]
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        (folder / "orig").mkdir()
        worker = folder / "worker.py"
        worker.write_text(_WORKER)
        for name, pixels in images.items():
            Image.fromarray(pixels).save(folder / "orig" / f"{name}.png")
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        for method in ANCHOR_METHODS:
            subprocess.run(
                [python, str(worker), "embed", str(folder), method, json.dumps(bits)],
                check=True,
                env=env,
            )
            attacked = folder / f"attacked_{method}"
            attacked.mkdir()
            psnrs = []
            for name, pixels in images.items():
                marked = np.asarray(
                    Image.open(folder / f"marked_{method}" / f"{name}.png").convert("RGB")
                )
                psnrs.append(psnr(pixels, marked))
                for a in ATTACKS:
                    Image.fromarray(attack(marked, a)).save(attacked / f"{name}__{a}.png")
            done = subprocess.run(
                [python, str(worker), "decode", str(folder), method, json.dumps(bits)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            decoded = json.loads(done.stdout)
            acc: dict[str, list[float]] = {a: [] for a in ATTACKS}
            exact: dict[str, int] = {a: 0 for a in ATTACKS}
            for key, got in decoded.items():
                a = key.rsplit("__", 1)[1][: -len(".png")]
                share = (
                    0.5
                    if got is None
                    else sum(int(x == y) for x, y in zip(got, bits, strict=True)) / len(bits)
                )
                acc[a].append(share)
                exact[a] += int(share == 1.0)
            results[method] = {"acc": acc, "exact": exact, "psnr": psnrs, "n": len(images)}
    return results


def flat_fields() -> dict[str, np.ndarray]:
    ramp = np.repeat(np.linspace(96, 160, 720, dtype=np.float32)[:, None], 1280, axis=1)
    return {
        "grey128_1080p": np.full((1080, 1920, 3), 128, np.uint8),
        "black_1080p": np.zeros((1080, 1920, 3), np.uint8),
        "white_1080p": np.full((1080, 1920, 3), 255, np.uint8),
        "grey128_360p": np.full((360, 640, 3), 128, np.uint8),
        "ramp_720p": np.repeat(ramp.round().astype(np.uint8)[..., None], 3, axis=2),
    }


def run_flat() -> dict[str, dict[str, float]]:
    from setpiece.provenance.watermark import Payload, detect, embed

    payload = Payload(0x675B, "070crbay")
    out = {}
    for name, pixels in flat_fields().items():
        marked = embed(pixels, payload)
        out[name] = {
            "max_change": int(np.abs(marked.astype(np.int16) - pixels).max()),
            "std": float(marked.std()),
            "psnr": psnr(pixels, marked),
            "found": bool(detect(marked).found),
        }
    return out


def run_previous(rev: str) -> dict[str, object]:
    import tarfile

    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as work:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(work, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(work) / "src")}
        done = subprocess.run(
            [sys.executable, __file__, "--ours-json"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor-python", default="/tmp/bench-iwm/bin/python")
    parser.add_argument("--out", type=Path, default=None, help="Write the markdown table here too.")
    parser.add_argument("--previous", default="main")
    parser.add_argument("--ours-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    images = pictures()
    if args.ours_json:  # the previous rule's subprocess
        print(json.dumps({"ours": run_ours(images), "flat": run_flat()}))
        return 0
    load_before = os.getloadavg()[0]
    ours = run_ours(images)
    flat = run_flat()
    previous = run_previous(args.previous) if args.previous else None
    fp_hits, fp_total = false_positives(images)
    anchor: dict[str, dict[str, object]] = {}
    if Path(args.anchor_python).exists():
        anchor = run_anchor(images, args.anchor_python)
    else:
        print(f"anchor venv {args.anchor_python} missing: see the docstring", file=sys.stderr)
    n = ours["n"]
    lines = [
        f"Watermark robustness, {n} pictures (18 scikit-image photographs at their size and at 1280x720); {machine()}",
        "",
        f"Load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| attack | ours: payload exact (95% CI) | ours: bit acc. | "
        + ("previous: payload exact | " if previous else "")
        + "".join(f"{m}: bit acc. | {m}: all 64 bits | " for m in anchor)
        + ("ratio ours/dwtDctSvd bit acc. |" if "dwtDctSvd" in anchor else ""),
        "|---|---|---|"
        + ("---|" if previous else "")
        + "---|---|" * len(anchor)
        + ("---|" if "dwtDctSvd" in anchor else ""),
    ]
    for a in ATTACKS:
        exact = ours["exact"][a]  # type: ignore[index]
        lo, hi = wilson(exact, n)  # type: ignore[arg-type]
        our_acc = float(np.mean(ours["acc"][a]))  # type: ignore[index]
        row = f"| {a} | {exact}/{n} = {exact / n:.0%} ({lo:.0%}-{hi:.0%}) | {our_acc:.3f} |"
        if previous:
            row += f" {previous['ours']['exact'][a]}/{n} |"  # type: ignore[index]
        for m in anchor:
            row += f" {float(np.mean(anchor[m]['acc'][a])):.3f} | {anchor[m]['exact'][a]}/{n} |"  # type: ignore[index]
        if "dwtDctSvd" in anchor:  # the ratio only where the anchor ran
            svd = float(np.mean(anchor["dwtDctSvd"]["acc"][a]))  # type: ignore[index]
            row += f" {our_acc / svd:.2f} |"
        lines.append(row)
    lines.append("")
    lines.append(
        f"PSNR of the marked picture (mean, min): ours {np.mean(ours['psnr']):.1f} dB, {np.min(ours['psnr']):.1f} dB; "
        + "; ".join(
            f"{m} {np.mean(anchor[m]['psnr']):.1f} dB, {np.min(anchor[m]['psnr']):.1f} dB"
            for m in anchor
        )
    )
    if previous:
        old = previous["ours"]["psnr"]  # type: ignore[index]
        lines.append(
            f"PSNR of the previous mark ({args.previous}): {np.mean(old):.1f} dB mean, "
            f"{np.min(old):.1f} dB at worst"
        )
    lines += [
        "",
        "Flat fields: largest change of a pixel, std of the marked still, PSNR, found",
        "",
    ]
    lines.append("| still | ours | previous |")
    lines.append("|---|---|---|")
    for name, got in flat.items():
        cells = [got] + ([previous["flat"][name]] if previous else [])  # type: ignore[index]
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"max {c['max_change']}, std {c['std']:.2f}, "
                f"{'identical' if c['psnr'] >= 99 else format(c['psnr'], '.1f') + ' dB'}, "
                f"found {c['found']}"
                for c in cells
            )
            + " |"
        )
    lines.append("")
    lo, hi = wilson(fp_hits, fp_total)
    lines.append(
        f"False 'found' on unmarked pictures (as they are, JPEG 70, half size, cropped, brighter, random quarter crops): "
        f"{fp_hits}/{fp_total} ({lo:.1%}-{hi:.1%} 95% CI)"
    )
    lines.append(
        f"Embedding time per picture (ours, median): {np.median(ours['embed_s']) * 1000:.0f} ms"
    )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
