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

Second family, stylised frames of one renderer: previs panels (caption strip below, as
the demo renders them) of 8 locations x 5 shots (sizes and casts so that no framing
and cast repeats across locations), 640x360. References: per location, shot A made
as the demo makes its lookalike (10 % reflect padding, mirror, warm grade, caption,
JPEG 85) and shot B graded, enlarged 1.3x, captioned and JPEG 70. Queries: every
frame as rendered and as JPEG 75, and copies of each reference's source frame by
every transform above. A match to a reference of another location is a false
positive; a match to the other reference of the same location (same backdrop) is
counted apart, as neither right nor wrong. The two families use separate corpora.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _stats import wilson
from setpiece.integrity.hashing import WINDOWS, query_codes, reference_codes
from setpiece.integrity.index import HammingIndex
from setpiece.integrity.settings import IntegritySettings
from setpiece.integrity.verify import Alignment, is_copy, verify
from setpiece.store.frames import to_rgb

REPO = Path(__file__).resolve().parents[1]


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
    location: int | None = None  # previs: the frame's location


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


# Previs: stylised frames of one renderer ----------------------------------------------

LOCATIONS = [
    "INT. PROJECTION BOOTH - NIGHT",
    "EXT. CINEMA ROOFTOP - NIGHT",
    "INT. CINEMA AUDITORIUM - NIGHT",
    "INT. KITCHEN - NIGHT",
    "EXT. DESERT ROAD - DAY",
    "EXT. HARBOUR - DUSK",
    "INT. OFFICE - DAY",
    "EXT. FOREST - NIGHT",
]
SIZES = ["WS", "MS", "CU", "MCU", "MWS"]
CASTS = [
    ("Mara",),
    ("Mara", "Teo"),
    ("Teo",),
    ("Brandt",),
    ("Teo", "Brandt"),
    ("Ines",),
    ("Ines", "Mara"),
    ("Oskar",),
    ("Brandt", "Oskar"),
]
COLOURS = {
    "Mara": (200, 60, 40),
    "Teo": (40, 90, 200),
    "Brandt": (60, 160, 80),
    "Ines": (220, 190, 60),
    "Oskar": (150, 70, 170),
}
SHOTS_PER_LOCATION = 5


def previs_frames(folder: Path) -> dict[tuple[int, int], np.ndarray]:
    """(location, shot) -> the rendered panel; size and cast never repeat across locations."""
    from setpiece.generate.backends.previs import PrevisGenerator
    from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief

    generator = PrevisGenerator()
    frames = {}
    for li, heading in enumerate(LOCATIONS):
        int_ext, rest = heading.split(". ", 1)
        location, time_of_day = rest.split(" - ")
        for si in range(SHOTS_PER_LOCATION):
            size, cast = SIZES[(3 * li + si) % len(SIZES)], CASTS[(li + si) % len(CASTS)]
            sides = ["left", "right"] if len(cast) == 2 else ["centre"]
            brief = ShotBrief(
                code=f"{li + 1}{'ABCDE'[si]}",
                scene=str(li + 1),
                heading=heading,
                description="They wait in silence.",
                size=size,
                angle="eye",
                lens_mm=35.0,
                camera_move="static",
                int_ext=int_ext,
                location=location,
                time_of_day=time_of_day,
                subjects=tuple(
                    SubjectBrief(name, "character", side=side, color=COLOURS[name])
                    for name, side in zip(cast, sides, strict=True)
                ),
            )
            request = RenderRequest(
                mode=Mode.TEXT_TO_IMAGE,
                prompt=heading,
                seed=10 * li + si,
                width=640,
                height=360,
                brief=brief,
            )
            result = generator.render(request, folder)
            frames[(li, si)] = np.asarray(load(result.path))
    return frames


def _jpeg(im: Image.Image, quality: int) -> np.ndarray:
    import io

    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def demo_reference(rgb: np.ndarray) -> np.ndarray:
    """As setpiece.pipeline.demo makes its lookalike: wider by reflection, mirrored,
    warmer, captioned, JPEG 85."""
    pixels = rgb.astype(np.float32)
    h, w = pixels.shape[:2]
    wider = np.pad(pixels, ((h // 10, h // 10), (w // 10, w // 10), (0, 0)), mode="reflect")
    graded = np.clip(wider * np.array([1.12, 1.0, 0.86]) + 10.0, 0, 255).astype(np.uint8)
    image = ImageOps.mirror(Image.fromarray(graded))
    ImageDraw.Draw(image).text((12, 8), "ARCHIVE 1954", fill=(255, 255, 255))
    return _jpeg(image, 85)


def graded_reference(rgb: np.ndarray, rng: random.Random) -> np.ndarray:
    image = grade(Image.fromarray(rgb), rng)
    image = image.resize((round(image.width * 1.3), round(image.height * 1.3)))
    ImageDraw.Draw(image).text((20, 20), "COLLECTION", fill=(255, 255, 0))
    return _jpeg(image, 70)


def build_previs(folder: Path) -> tuple[list[np.ndarray], list[int], list[Case]]:
    """References, each reference's location, and the queries."""
    rng = random.Random(11)
    frames = previs_frames(folder)
    refs: list[np.ndarray] = []
    ref_location: list[int] = []
    sources: list[tuple[int, int]] = []
    for li in range(len(LOCATIONS)):
        refs.append(demo_reference(frames[(li, 0)]))
        refs.append(graded_reference(frames[(li, 1)], rng))
        ref_location += [li, li]
        sources += [(li, 0), (li, 1)]
    cases: list[Case] = []
    for (li, si), rgb in sorted(frames.items()):
        source = sources.index((li, si)) if (li, si) in sources else None
        kind = "previs-source" if source is not None else "previs-other"
        cases.append(Case(f"previs {li}{si}", kind, source, rgb, li))
        cases.append(
            Case(f"previs {li}{si}/jpeg75", kind, source, _jpeg(Image.fromarray(rgb), 75), li)
        )
    for source, (li, si) in enumerate(sources):
        original = Image.fromarray(frames[(li, si)])
        for name, transform in TRANSFORMS.items():
            cases.append(
                Case(
                    f"previs {li}{si}/{name}",
                    "previs-copy",
                    source,
                    np.asarray(transform(original, rng)),
                    li,
                )
            )
    return refs, ref_location, cases


# Setpiece ---------------------------------------------------------------------------


def thumb(rgb: np.ndarray, side: int) -> np.ndarray:
    image = Image.fromarray(rgb)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(image)


Scores = list[dict[int, tuple[int, Alignment]]]


def setpiece_scores(
    refs: list[np.ndarray], cases: list[Case], config: IntegritySettings, radius: int
) -> Scores:
    """Per case: corpus index -> (Hamming, alignment) of its closest verified code."""
    thumbs = [thumb(r, config.thumb) for r in refs]
    codes = [reference_codes(r) for r in refs]
    flat = np.concatenate(codes)
    owner = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
    window_of = np.concatenate([np.arange(len(c)) for c in codes])
    index = HammingIndex(flat)
    results = []
    for case in cases:
        hits = index.search(query_codes(case.rgb), radius)
        found: dict[int, tuple[int, Alignment]] = {}
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
                verify(case.rgb, thumbs[ref], window, mirrored),
            )
        results.append(found)
    return results


def count(
    cases: list[Case], predicted: list[set[int]], ref_location: list[int] | None = None
) -> tuple[int, int, int, int]:
    """(true positives, positives, false positives, neutral predictions). With
    ``ref_location`` (previs), naming another reference of the case's own location is
    neutral, not false."""
    tp = fp = positives = neutral = 0
    for case, names in zip(cases, predicted, strict=True):
        if case.source is not None:
            positives += 1
            tp += case.source in names
        for name in names - {case.source}:
            if ref_location is not None and ref_location[name] == case.location:
                neutral += 1
            else:
                fp += 1
    return tp, positives, fp, neutral


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


def predict(scores: Scores, radius: int, config: IntegritySettings) -> list[set[int]]:
    return [
        {r for r, (d, alignment) in found.items() if d <= radius and is_copy(alignment, config)}
        for found in scores
    ]


def rate(tp: int, fp: int, positives: int) -> str:
    p = tp / (tp + fp) if tp + fp else 1.0
    return f"{p:.3f}/{tp / positives:.3f}/{fp}"


def main() -> None:
    import tempfile

    import imagehash

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else (REPO / ".." / "shared" / "data").resolve()
    config = IntegritySettings()
    ssim_only = replace(config, coarse_ssim=0.0, colour=-1.0)
    base, cases = build_cases(data)
    negatives = sum(c.source is None for c in cases)
    print(
        f"corpus {len(base)} photos; {len(cases) - negatives} positive and {negatives} negative queries"
    )

    started = time.perf_counter()
    wide = setpiece_scores([np.asarray(load(p)) for p in base], cases, config, radius=16)
    elapsed = time.perf_counter() - started
    print(
        f"setpiece: {elapsed:.1f} s for {len(cases)} queries ({1000 * elapsed / len(cases):.0f} ms each)"
    )
    with tempfile.TemporaryDirectory() as folder:
        prefs, ref_location, pcases = build_previs(Path(folder))
    started = time.perf_counter()
    pwide = setpiece_scores(prefs, pcases, config, radius=16)
    elapsed = time.perf_counter() - started
    psources = sum(c.source is not None for c in pcases)
    print(
        f"previs: {len(prefs)} references, {len(pcases)} queries ({psources} copies of a "
        f"reference's source frame), {elapsed:.1f} s"
    )

    print(
        "\n| method | precision [95% CI] | recall [95% CI] | false positives |\n|---|---|---|---|"
    )
    rules = [
        (
            f"Setpiece (Hamming {config.hamming}, SSIM {config.ssim}, coarse "
            f"{config.coarse_ssim}, colour {config.colour})",
            config,
        ),
        ("Setpiece SSIM only (0.5)", replace(ssim_only, ssim=0.5)),
        ("Setpiece SSIM only (0.4)", replace(ssim_only, ssim=0.4)),
    ]
    for label, rule in rules:
        tp, positives, fp, _ = count(cases, predict(wide, rule.hamming, rule))
        print(line(f"natural: {label}", tp, positives, fp))
        tp, positives, fp, neutral = count(pcases, predict(pwide, rule.hamming, rule), ref_location)
        print(line(f"previs: {label}", tp, positives, fp) + f" same location: {neutral}")

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
        print(line(f"natural: imagehash {name} (Hamming 10)", tp_, positives_, fp_))

    print("\nRecall by transform (Setpiece defaults):")
    chosen = predict(wide, config.hamming, config)
    pchosen = predict(pwide, config.hamming, config)
    for kind in [*TRANSFORMS, "imagededup"]:
        members = [i for i, c in enumerate(cases) if c.kind == kind]
        hit = sum(cases[i].source in chosen[i] for i in members)
        pmembers = [i for i, c in enumerate(pcases) if c.name.endswith("/" + kind)]
        phit = sum(pcases[i].source in pchosen[i] for i in pmembers)
        print(f"  {kind}: natural {hit}/{len(members)}, previs {phit}/{len(pmembers)}")
    members = [i for i, c in enumerate(pcases) if c.kind == "previs-source"]
    hit = sum(pcases[i].source in pchosen[i] for i in members)
    print(f"  previs source frame as rendered / JPEG 75: {hit}/{len(members)}")
    misses = [
        cases[i].name
        for i, c in enumerate(cases)
        if c.source is not None and c.source not in chosen[i]
    ]
    print("  missed (natural):", ", ".join(misses) or "none")
    false = [
        cases[i].name
        for i, c in enumerate(cases)
        if chosen[i] - ({c.source} if c.source is not None else set())
    ]
    print("  false positives (natural):", ", ".join(false) or "none")
    pfalse = [
        f"{pcases[i].name}->ref {r} (location {ref_location[r]})"
        for i, c in enumerate(pcases)
        for r in pchosen[i]
        if ref_location[r] != c.location
    ]
    print("  false positives (previs):", ", ".join(pfalse) or "none")

    print("\nSweep, SSIM only (natural precision / recall / false positives):")
    for radius in (8, 10, 12, 14, 16):
        cells = []
        for floor in (0.3, 0.4, 0.5, 0.6, 0.7):
            rule = replace(ssim_only, ssim=floor)
            tp_, positives_, fp_, _ = count(cases, predict(wide, radius, rule))
            cells.append(f"ssim {floor}: {rate(tp_, fp_, positives_)}")
        print(f"  hamming {radius}: " + "  ".join(cells))

    print("\nSweep of the floors at Hamming 14: natural p/r/fp | previs p/r/fp (same location)")
    for floor in (0.4, 0.5):
        for coarse in (0.0, 0.6, 0.65, 0.7, 0.75):
            for colour in (-1.0, 0.4, 0.5, 0.55, 0.6, 0.65):
                rule = replace(config, ssim=floor, coarse_ssim=coarse, colour=colour)
                tp_, positives_, fp_, _ = count(cases, predict(wide, 14, rule))
                ptp, ppositives, pfp, neutral = count(
                    pcases, predict(pwide, 14, rule), ref_location
                )
                print(
                    f"  ssim {floor} coarse {coarse} colour {colour}: "
                    f"{rate(tp_, fp_, positives_)} | {rate(ptp, pfp, ppositives)} ({neutral})"
                )

    for label, scores, family in (("natural", wide, cases), ("previs", pwide, pcases)):
        for measure in ("ssim", "coarse", "colour"):
            true_pairs, false_pairs = [], []
            for case, found in zip(family, scores, strict=True):
                for r, (d, alignment) in found.items():
                    value = getattr(alignment, measure)
                    if d > config.hamming or value is None:
                        continue
                    if r == case.source:
                        true_pairs.append(value)
                    elif family is cases or ref_location[r] != case.location:
                        false_pairs.append(value)
            print(
                f"{label} {measure}: true pairs n={len(true_pairs)} min {min(true_pairs):.3f} "
                f"5th pct {np.percentile(true_pairs, 5):.3f}; false pairs n={len(false_pairs)} "
                f"max {max(false_pairs):.3f} 95th pct {np.percentile(false_pairs, 95):.3f}"
            )


if __name__ == "__main__":
    main()
