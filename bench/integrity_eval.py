"""Accuracy of the integrity check: near-duplicate recall and precision, with imagehash as anchor.

Usage: python bench/integrity_eval.py [DATA]   (DATA defaults to ../shared/data from the repo root)

Corpus: the 10 UKBench photos of DATA/neardup_imagededup_tests/base_images. Positives:
imagededup's own variants of ukbench00120 (hflip, resize, rotation, grey) plus copies
this script makes of every corpus photo, seeded: JPEG quality 30-90, resize 25-200 %,
crops up to 20 % per side-pair, mirror, rotations of 1-5 degrees, colour shifts
(contrast, saturation, gamma, tint), overlaid text, an overlaid logo, and combined
copies (crop + mirror + grade + text). Negatives: every unrelated picture found under
DATA (faces_identity, the c2pa and interpolation fixtures), each as is and in four
transformed versions, looked up against the same corpus.

A query counts as a true positive when the check names its source, a false positive
when it names any other work (for a positive) or any work at all (for a negative).
Setpiece runs its own pipeline (window codes, the multi-index lookup, SSIM
verification); the anchors are imagehash's pHash, dHash and wHash at Hamming 10
against every corpus photo (imagededup's hashes are the same algorithms). A sweep of
the Hamming radius and the SSIM floor is printed to justify the defaults.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from setpiece.integrity.hashing import WINDOWS, query_codes, reference_codes
from setpiece.integrity.index import HammingIndex
from setpiece.integrity.settings import IntegritySettings
from setpiece.integrity.verify import verify
from setpiece.store.frames import to_rgb

REPO = Path(__file__).resolve().parents[1]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# Transforms -------------------------------------------------------------------------


def jpeg(im: Image.Image, rng: random.Random) -> Image.Image:
    import io

    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=rng.randint(30, 90))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def resize(im: Image.Image, rng: random.Random) -> Image.Image:
    f = rng.uniform(0.25, 2.0)
    return im.resize((max(16, round(im.width * f)), max(16, round(im.height * f))))


def crop(im: Image.Image, rng: random.Random) -> Image.Image:
    w, h = im.size
    cx, cy = rng.uniform(0.05, 0.2), rng.uniform(0.0, 0.2)
    ax, ay = rng.random(), rng.random()
    return im.crop(
        (
            round(w * cx * ax),
            round(h * cy * ay),
            w - round(w * cx * (1 - ax)),
            h - round(h * cy * (1 - ay)),
        )
    )


def mirror(im: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(im)


def rotate(im: Image.Image, rng: random.Random) -> Image.Image:
    angle = rng.choice([-1, 1]) * rng.uniform(1, 5)
    return im.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False)


def grade(im: Image.Image, rng: random.Random) -> Image.Image:
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.7, 1.4))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.3, 1.6))
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.8, 1.2))
    arr = np.asarray(im).astype(np.float32) / 255
    gamma = rng.uniform(0.7, 1.4)
    tint = np.array([rng.uniform(0.85, 1.15) for _ in range(3)], dtype=np.float32)
    arr = np.clip((arr**gamma) * tint, 0, 1)
    return Image.fromarray((arr * 255).astype(np.uint8))


def text(im: Image.Image, rng: random.Random) -> Image.Image:
    im = im.copy()
    draw = ImageDraw.Draw(im)
    size = max(10, im.height // 10)
    try:
        from PIL import ImageFont

        font = ImageFont.load_default(size=size)
    except Exception:
        font = None
    y = rng.choice([0.05, 0.8]) * im.height
    draw.text((im.width * 0.05, y), "SETPIECE 2026 (c) PREVIEW", fill=(255, 255, 255), font=font)
    return im


def logo(im: Image.Image, rng: random.Random) -> Image.Image:
    im = im.copy()
    draw = ImageDraw.Draw(im)
    side = im.width // 7
    x = rng.choice([0.03, 0.97 - side / im.width]) * im.width
    y = rng.choice([0.03, 0.97 - side / im.height]) * im.height
    draw.ellipse((x, y, x + side, y + side), fill=(230, 40, 40), outline=(255, 255, 255), width=3)
    draw.rectangle(
        (x + side * 0.3, y + side * 0.3, x + side * 0.7, y + side * 0.7), fill=(255,) * 3
    )
    return im


def combined(im: Image.Image, rng: random.Random) -> Image.Image:
    return jpeg(text(grade(mirror(crop(im, rng), rng), rng), rng), rng)


TRANSFORMS = {
    "jpeg": jpeg,
    "resize": resize,
    "crop": crop,
    "mirror": mirror,
    "rotate": rotate,
    "grade": grade,
    "text": text,
    "logo": logo,
    "combined": combined,
}
PER_TRANSFORM = 3


@dataclass
class Case:
    name: str
    kind: str  # transform name, "imagededup", or "negative"
    source: int | None  # corpus index of the true source, None for a negative
    rgb: np.ndarray


def load(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return Image.fromarray(to_rgb(image))


def build_cases(data: Path) -> tuple[list[Path], list[Case]]:
    rng = random.Random(7)
    base = sorted((data / "neardup_imagededup_tests" / "base_images").glob("*.jpg"))
    cases: list[Case] = []
    for index, path in enumerate(base):
        original = load(path)
        for name, transform in TRANSFORMS.items():
            for n in range(PER_TRANSFORM):
                cases.append(
                    Case(
                        f"{path.stem}/{name}{n}", name, index, np.asarray(transform(original, rng))
                    )
                )
    mixed = data / "neardup_imagededup_tests"
    source = [p.name for p in base].index("ukbench00120.jpg")
    for path in [
        *sorted((mixed / "mixed_images").glob("ukbench00120_*.jpg")),
        mixed / "ukbench00120_gray.jpg",
    ]:
        cases.append(Case(path.name, "imagededup", source, np.asarray(load(path))))
    unrelated = [
        p
        for p in sorted(data.rglob("*"))
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
        and "neardup" not in str(p)
        and p.stat().st_size > 2000
    ]
    negative_transforms = ["jpeg", "crop", "mirror", "grade"]
    for path in unrelated:
        try:
            original = load(path)
        except Exception:
            continue
        if min(original.size) < 32:
            continue
        cases.append(Case(path.name, "negative", None, np.asarray(original)))
        for name in negative_transforms:
            cases.append(
                Case(
                    f"{path.name}/{name}",
                    "negative",
                    None,
                    np.asarray(TRANSFORMS[name](original, rng)),
                )
            )
    return base, cases


# Setpiece ---------------------------------------------------------------------------


def thumb(rgb: np.ndarray, side: int) -> np.ndarray:
    image = Image.fromarray(rgb)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(image)


def setpiece_scores(
    base: list[Path], cases: list[Case], config: IntegritySettings, radius: int
) -> list[dict[int, tuple[int, float]]]:
    """Per case: corpus index -> (best Hamming, best SSIM) over verified candidates."""
    refs = [np.asarray(load(p)) for p in base]
    thumbs = [thumb(r, config.thumb) for r in refs]
    codes = [reference_codes(r) for r in refs]
    flat = np.concatenate(codes)
    owner = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
    window_of = np.concatenate([np.arange(len(c)) for c in codes])
    index = HammingIndex(flat)
    results = []
    for case in cases:
        hits = index.search(query_codes(case.rgb), radius)
        found: dict[int, tuple[int, float]] = {}
        # as check.py does: the closest hit of each reference frame is verified, up to
        # ``candidates`` reference frames per query
        for pick in np.argsort(hits.distance, kind="stable"):
            code = int(hits.code[pick])
            ref = int(owner[code])
            if ref in found:
                continue
            if len(found) >= config.candidates:
                break
            mirrored = bool(hits.query[pick])
            window = WINDOWS[int(window_of[code])]
            found[ref] = (
                int(hits.distance[pick]),
                verify(case.rgb, thumbs[ref], window, mirrored).ssim,
            )
        results.append(found)
    return results


def count(cases: list[Case], predicted: list[set[int]]) -> tuple[int, int, int, int]:
    """(true positives, positives, false positives, predictions)."""
    tp = fp = positives = predictions = 0
    for case, names in zip(cases, predicted, strict=True):
        predictions += len(names)
        if case.source is not None:
            positives += 1
            tp += case.source in names
            fp += len(names - {case.source})
        else:
            fp += len(names)
    return tp, positives, fp, predictions


def line(label: str, tp: int, positives: int, fp: int) -> str:
    predictions = tp + fp
    p = tp / predictions if predictions else 1.0
    r = tp / positives if positives else 0.0
    plo, phi = wilson(tp, predictions)
    rlo, rhi = wilson(tp, positives)
    return (
        f"| {label} | {p:.3f} [{plo:.3f}, {phi:.3f}] (n={predictions}) "
        f"| {r:.3f} [{rlo:.3f}, {rhi:.3f}] (n={positives}) | {fp} |"
    )


def main() -> None:
    import imagehash

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else (REPO / ".." / "shared" / "data").resolve()
    config = IntegritySettings()
    base, cases = build_cases(data)
    negatives = sum(c.source is None for c in cases)
    print(
        f"corpus {len(base)} photos; {len(cases) - negatives} positive and {negatives} negative queries"
    )

    started = time.perf_counter()
    wide = setpiece_scores(base, cases, config, radius=16)
    elapsed = time.perf_counter() - started
    print(
        f"setpiece: {elapsed:.1f} s for {len(cases)} queries ({1000 * elapsed / len(cases):.0f} ms each)"
    )

    print(
        "\n| method | precision [95% CI] | recall [95% CI] | false positives |\n|---|---|---|---|"
    )

    def predict(radius: int, floor: float) -> list[set[int]]:
        return [{r for r, (d, s) in found.items() if d <= radius and s >= floor} for found in wide]

    tp, positives, fp, _ = count(cases, predict(config.hamming, config.ssim))
    print(line(f"Setpiece (Hamming {config.hamming}, SSIM {config.ssim})", tp, positives, fp))

    refs = [Image.open(p).convert("RGB") for p in base]
    for name, fn in (
        ("pHash", imagehash.phash),
        ("dHash", imagehash.dhash),
        ("wHash", imagehash.whash),
    ):
        ref_hashes = [fn(r) for r in refs]
        predicted = []
        for case in cases:
            h = fn(Image.fromarray(case.rgb))
            predicted.append({i for i, rh in enumerate(ref_hashes) if h - rh <= 10})
        tp_, positives_, fp_, _ = count(cases, predicted)
        print(line(f"imagehash {name} (Hamming 10)", tp_, positives_, fp_))

    print("\nRecall by transform (Setpiece defaults):")
    chosen = predict(config.hamming, config.ssim)
    for kind in [*TRANSFORMS, "imagededup"]:
        members = [i for i, c in enumerate(cases) if c.kind == kind]
        hit = sum(cases[i].source in chosen[i] for i in members)
        print(f"  {kind}: {hit}/{len(members)}")
    misses = [
        cases[i].name
        for i, c in enumerate(cases)
        if c.source is not None and c.source not in chosen[i]
    ]
    print("  missed:", ", ".join(misses) or "none")
    false = [
        cases[i].name
        for i, c in enumerate(cases)
        if chosen[i] - ({c.source} if c.source is not None else set())
    ]
    print("  false positives:", ", ".join(false) or "none")

    print("\nSweep (precision / recall / false positives):")
    for radius in (8, 10, 12, 14, 16):
        cells = []
        for floor in (0.3, 0.4, 0.5, 0.6, 0.7):
            tp_, positives_, fp_, _ = count(cases, predict(radius, floor))
            p = tp_ / (tp_ + fp_) if tp_ + fp_ else 1.0
            cells.append(f"ssim {floor}: {p:.3f}/{tp_ / positives_:.3f}/{fp_}")
        print(f"  hamming {radius}: " + "  ".join(cells))
    ssims_pos = sorted(
        wide[i][c.source][1]
        for i, c in enumerate(cases)
        if c.source is not None and c.source in wide[i]
    )
    ssims_neg = sorted(
        s for i, c in enumerate(cases) for r, (d, s) in wide[i].items() if r != c.source
    )
    print(
        f"\nSSIM of true pairs: min {ssims_pos[0]:.3f}, 5th pct {np.percentile(ssims_pos, 5):.3f}"
    )
    if ssims_neg:
        print(
            f"SSIM of false pairs: max {ssims_neg[-1]:.3f}, 95th pct {np.percentile(ssims_neg, 95):.3f}, n={len(ssims_neg)}"
        )


if __name__ == "__main__":
    main()
