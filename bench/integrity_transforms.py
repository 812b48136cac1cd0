"""Near-duplicates through the issue's fixed transforms (issue 30), with pHash as anchor.

Usage: python bench/integrity_transforms.py [--quick] [--seed N] [--data DIR]

The transforms are fixed by the issue so that they cannot be made easy:

* ``banner``: an opaque caption banner covering 25 % of the frame height, top or bottom;
* ``logo``: an opaque logo covering 5-25 % of the frame's area, anywhere;
* ``crop50``: a crop keeping 50 % of the area (width fraction 0.5-1, anchored anywhere);
* ``mirror``; ``jpeg30``: JPEG at quality 30;
* three stylisations: ``posterise`` (2 or 3 bits a channel), ``grade`` (a heavy colour
  grade: contrast, saturation, gamma and a strong tint together) and ``cartoon``
  (bilateral smoothing, colour quantisation and dark adaptive-threshold edges).

Sources: every photograph and still under DATA (the imagededup UKBench pictures, the
face photographs, the c2pa and interpolation fixtures, the AnimateDiff still), brought to
at most 640 px, and previs panels of 8 locations x 5 shots rendered by the project's
previs generator (``integrity_eval.previs_frames``). Some DATA pictures are one work:
the c2pa fixtures signed from one picture, consecutive frames of one clip, imagededup's
variants of one photo. Such same-source groups are found by construction (the folder
rules in :func:`group_of`) and a match inside the group counts as true.

Corpora: the natural references are all natural pictures; the previs references are
shots A and B of every location. Queries: per transform, every natural picture
three times (once with --quick; each draw its own parameters) and every previs reference twice, as
copies (positives); and every previs frame of shots C-E once per transform as a negative.
A match to a previs reference of another location is false; to the other reference
of the same location (same backdrop) neutral, counted apart.

Rules, in one run: ``keypoints`` (the shipped defaults: window codes and pixel
verification, then the keypoint stage of :mod:`setpiece.integrity.keypoints`),
``previous`` (the same settings with ``keypoints = false``, which is main's rule: that
code path is unchanged) and imagehash's pHash at Hamming 10 (anchor). Cross-validation:
the sources are split in two folds by a hash of their group; figures are printed for
each fold, so a threshold chosen on one fold can be read on the other.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from integrity_eval import LOCATIONS, load, previs_frames, thumb, wilson
from setpiece.integrity.hashing import WINDOWS, Window, query_codes, reference_codes
from setpiece.integrity.index import HammingIndex
from setpiece.integrity.keypoints import KeypointCorpus, KeypointMatch, box_agreement
from setpiece.integrity.settings import IntegritySettings
from setpiece.integrity.verify import is_copy, verify

REPO = Path(__file__).resolve().parents[1]
SIDE = 640

# Transforms --------------------------------------------------------------------------


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def banner(im: Image.Image, rng: random.Random) -> Image.Image:
    im = im.copy()
    h = round(0.25 * im.height)
    y = 0 if rng.random() < 0.5 else im.height - h
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, y, im.width, y + h), fill=_colour(rng))
    draw.text((im.width * 0.05, y + h * 0.3), "BREAKING  -  LIVE  2026", fill=_colour(rng))
    return im


def logo(im: Image.Image, rng: random.Random) -> Image.Image:
    im = im.copy()
    area = rng.uniform(0.05, 0.25) * im.width * im.height
    aspect = rng.uniform(0.6, 1.6)
    w = min(im.width, round((area * aspect) ** 0.5))
    h = min(im.height, round(area / max(w, 1)))
    x = rng.randrange(0, im.width - w + 1)
    y = rng.randrange(0, im.height - h + 1)
    draw = ImageDraw.Draw(im)
    draw.rectangle((x, y, x + w, y + h), fill=_colour(rng))
    draw.ellipse((x + w * 0.1, y + h * 0.1, x + w * 0.9, y + h * 0.9), fill=_colour(rng))
    draw.text((x + w * 0.3, y + h * 0.45), "LOGO", fill=_colour(rng))
    return im


def crop50(im: Image.Image, rng: random.Random) -> Image.Image:
    fw = rng.uniform(0.5, 1.0)
    fh = 0.5 / fw
    w, h = round(im.width * fw), round(im.height * fh)
    x = rng.randrange(0, im.width - w + 1)
    y = rng.randrange(0, im.height - h + 1)
    return im.crop((x, y, x + w, y + h))


def mirror(im: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(im)


def jpeg30(im: Image.Image, rng: random.Random) -> Image.Image:
    return _jpeg(im, 30)


def posterise(im: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.posterize(im, rng.choice([2, 3]))


def grade(im: Image.Image, rng: random.Random) -> Image.Image:
    arr = np.asarray(im).astype(np.float32) / 255
    grey = arr.mean(axis=2, keepdims=True)
    saturation = rng.choice([rng.uniform(0.0, 0.4), rng.uniform(1.8, 2.5)])
    arr = np.clip(grey + (arr - grey) * saturation, 0, 1)
    contrast = rng.uniform(1.4, 1.9) if rng.random() < 0.5 else rng.uniform(0.45, 0.65)
    arr = np.clip((arr - 0.5) * contrast + 0.5, 0, 1)
    arr = arr ** rng.uniform(0.5, 1.8)
    tint = np.array([rng.uniform(0.6, 1.3) for _ in range(3)], dtype=np.float32)
    arr = np.clip(arr * tint + rng.uniform(-0.08, 0.08), 0, 1)
    return Image.fromarray((arr * 255).astype(np.uint8))


def cartoon(im: Image.Image, rng: random.Random) -> Image.Image:
    import cv2

    rgb = np.ascontiguousarray(np.asarray(im))
    smooth = rgb
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 9, 75, 75)
    levels = rng.choice([4, 6, 8])
    step = 256 // levels
    flat = (smooth // step) * step + step // 2
    grey = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(
        grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, rng.choice([2, 5])
    )
    out = np.where(edges[:, :, None] == 0, 0, flat).astype(np.uint8)
    return Image.fromarray(out)


TRANSFORMS = {
    "banner": banner,
    "logo": logo,
    "crop50": crop50,
    "mirror": mirror,
    "jpeg30": jpeg30,
    "posterise": posterise,
    "grade": grade,
    "cartoon": cartoon,
}


# Sources -----------------------------------------------------------------------------


def group_of(path: Path) -> str:
    """Which work a DATA picture is: pictures of one group are one picture (or one clip)."""
    folder, stem = path.parent.name, path.stem
    if folder.startswith("c2pa"):
        # measured (grey correlation at 64x48, and looked at): the fixtures are two
        # pictures, signed over and over, and two composites holding both
        if stem in ("A", "CA", "CACA", "E-sig-CA", "XCA"):
            return "c2pa-ribbons"
        if stem in ("C", "C_with_CAWG_data"):
            return "c2pa-gradient"
        if stem in ("CACAE-uri-CA", "CIE-sig-CA"):
            return "c2pa-gradient+c2pa-ribbons"  # the gradient with the ribbons inset
    if folder == "interp_cfd_sequence_film_pr83":
        return folder  # nine consecutive frames of one simulation
    if folder in ("interp_film_demo_pair",):
        return folder
    if folder == "interp_rife_demo_pairs":
        return f"rife-{stem.split('_')[0]}"  # I0_0 and I0_1 are two frames of one clip
    if stem.startswith("ukbench"):
        return stem.split("_")[0]  # imagededup's variants of one photo
    return f"{folder}/{stem}"


@dataclass
class Source:
    name: str
    group: str
    rgb: np.ndarray
    location: int | None = None  # previs


def natural_sources(data: Path) -> list[Source]:
    out = []
    for path in sorted(data.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png") or path.stat().st_size < 2000:
            continue
        try:
            image = load(path)
        except Exception:  # the imagededup fixtures include a corrupt JPEG on purpose
            continue
        if min(image.size) < 32:
            continue
        image.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
        out.append(Source(str(path.relative_to(data)), group_of(path), np.asarray(image)))
    return out


@dataclass
class Case:
    transform: str
    family: str  # natural | previs
    rgb: np.ndarray
    source: int | None  # reference index of the source; None for a negative
    group: str | None
    location: int | None
    fold: int = 0


def same(a: str | None, b: str | None) -> bool:
    """Whether two group names share a work (a composite names both of its works)."""
    return a is not None and b is not None and bool(set(a.split("+")) & set(b.split("+")))


def fold_of(group: str) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest(), 16) % 2


def make_cases(
    natural: list[Source],
    previs_refs: list[Source],
    previs_others: list[Source],
    reps: int,
    seed: int,
) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for name, transform in TRANSFORMS.items():
        for index, src in enumerate(natural):
            for _ in range(reps):
                out = np.asarray(transform(Image.fromarray(src.rgb), rng))
                cases.append(Case(name, "natural", out, index, src.group, None, fold_of(src.group)))
        for index, src in enumerate(previs_refs):
            for _ in range(2):
                out = np.asarray(transform(Image.fromarray(src.rgb), rng))
                fold = (src.location or 0) % 2
                cases.append(Case(name, "previs", out, index, src.group, src.location, fold))
        for src in previs_others:
            out = np.asarray(transform(Image.fromarray(src.rgb), rng))
            fold = (src.location or 0) % 2
            cases.append(Case(name, "previs", out, None, None, src.location, fold))
    return cases


# Rules -------------------------------------------------------------------------------


class WindowRule:
    """The check's own path (check.py): window codes, the multi-index lookup, SSIM
    verification of the closest ``candidates`` reference frames, then (when enabled) the
    keypoint stage over the corpus."""

    def __init__(
        self,
        refs: list[np.ndarray],
        config: IntegritySettings,
        always: bool = False,
        works: list[int] | None = None,
    ) -> None:
        self.config = config
        self.thumbs = [thumb(r, config.thumb) for r in refs]
        codes = [reference_codes(r) for r in refs]
        self.owner = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
        self.window_of = np.concatenate([np.arange(len(c)) for c in codes])
        self.index = HammingIndex(np.concatenate(codes))
        self.keypoints = KeypointCorpus(self.thumbs, config, works) if config.keypoints else None
        self.log: list[tuple[dict[int, float], list[KeypointMatch]]] = []
        self.always = always  # run the keypoint stage even when the codes named a frame

    def __call__(self, rgb: np.ndarray) -> set[int]:
        config = self.config
        hits = self.index.search(query_codes(rgb), config.hamming)
        tried: set[int] = set()
        coded: dict[int, float] = {}
        for pick in np.argsort(hits.distance, kind="stable"):
            ref = int(self.owner[int(hits.code[pick])])
            if ref in tried:
                continue
            if len(tried) >= config.candidates:
                break
            tried.add(ref)
            window = WINDOWS[int(self.window_of[int(hits.code[pick])])]
            alignment = verify(rgb, self.thumbs[ref], window, bool(hits.query[pick]))
            if is_copy(alignment, config):
                coded[ref] = (
                    box_agreement(
                        self.thumbs[ref],
                        rgb,
                        alignment.box,
                        alignment.mirrored,
                        self.keypoints.shared_cells[ref],
                    )
                    if self.keypoints is not None
                    else 1.0
                )
        named = {r for r, a in coded.items() if a >= config.keypoint_agreement}
        run = self.keypoints is not None and (self.always or not named)
        matches = self.keypoints.match(rgb) if run and self.keypoints is not None else []
        self.log.append((coded, matches))
        if named:
            return named
        if matches or self.keypoints is None:
            return {m.reference for m in matches}
        return self._smooth(rgb)

    def _smooth(self, rgb: np.ndarray) -> set[int]:
        """check.py's last stage: smooth references, verified whole."""
        assert self.keypoints is not None
        config = self.config
        found = set()
        for ref, mirrored in self.keypoints.smooth_candidates(rgb, config.candidates):
            alignment = verify(rgb, self.thumbs[ref], Window(0.0, 0.0, 1.0, 1.0), mirrored)
            agreement = box_agreement(
                self.thumbs[ref], rgb, alignment.box, mirrored, self.keypoints.shared_cells[ref]
            )
            if is_copy(alignment, config) and agreement >= config.keypoint_agreement:
                found.add(ref)
        return found


class PHashRule:
    def __init__(self, refs: list[np.ndarray]) -> None:
        import imagehash

        self.hash = imagehash.phash
        self.refs = [self.hash(Image.fromarray(r)) for r in refs]

    def __call__(self, rgb: np.ndarray) -> set[int]:
        h = self.hash(Image.fromarray(rgb))
        return {i for i, r in enumerate(self.refs) if h - r <= 10}


# Counting ----------------------------------------------------------------------------


def fmt(k: int, n: int) -> str:
    if n == 0:
        return "n/a"
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}] ({k}/{n})"


def tally(
    cases: list[Case],
    predicted: list[set[int]],
    groups: dict[str, list[str]],
    locations: list[int],
    fold: int | None = None,
) -> dict[str, tuple[int, int]]:
    """Per transform recall (hits, positives); per family precision (true, predictions)."""
    out: dict[str, list[int]] = {}
    neutral = 0
    for case, names in zip(cases, predicted, strict=True):
        group = case.group
        if fold is not None and case.fold != fold:
            continue
        refs_group = groups[case.family]
        if case.source is not None:
            hit = any(same(refs_group[n], group) for n in names)
            cell = out.setdefault(f"recall {case.transform}", [0, 0])
            cell[0] += hit
            cell[1] += 1
        for n in names:
            if case.family == "natural":
                right = same(refs_group[n], group)
            else:
                if n != case.source and locations[n] == case.location:
                    neutral += 1  # the other shot of the same location: same backdrop
                    continue
                right = case.source is not None and n == case.source
            cell = out.setdefault(f"precision {case.family}", [0, 0])
            cell[0] += right
            cell[1] += 1
    result = {k: (v[0], v[1]) for k, v in out.items()}
    result["neutral previs"] = (neutral, neutral)
    return result


def floors(
    cases: list[Case],
    logs: dict[str, list[tuple[dict[int, float], list[KeypointMatch]]]],
    inliers: int,
    agreement: float,
) -> list[set[int]]:
    """Predictions of the keypoint rule at other floors, from a loose run's log."""
    position = {"natural": 0, "previs": 0}
    out = []
    for case in cases:
        coded, matches = logs[case.family][position[case.family]]
        position[case.family] += 1
        named = {r for r, a in coded.items() if a >= agreement}
        out.append(
            named
            or {m.reference for m in matches if m.inliers >= inliers and m.agreement >= agreement}
        )
    return out


def sweep(
    cases: list[Case],
    logs: dict[str, list[tuple[dict[int, float], list[KeypointMatch]]]],
    groups: dict[str, list[str]],
    locations: list[int],
) -> None:
    print("sweep of the keypoint floors, per fold: worst recall / precision natural / previs")
    for inliers in (8, 10, 12, 15, 20):
        for agreement in (0.3, 0.4, 0.5, 0.6, 0.7):
            predicted = floors(cases, logs, inliers, agreement)
            cells = []
            for fold in (0, 1):
                t = tally(cases, predicted, groups, locations, fold=fold)
                recalls = [t[k][0] / t[k][1] for k in t if k.startswith("recall") and t[k][1]]
                pn, pp = t.get("precision natural", (0, 0)), t.get("precision previs", (0, 0))
                cells.append(
                    f"f{fold} {min(recalls):.3f} / {pn[0] / max(pn[1], 1):.3f} / "
                    f"{pp[0] / max(pp[1], 1):.3f}"
                )
            print(f"  inliers {inliers} agreement {agreement}: " + "  ".join(cells))


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one draw a picture, fewer rules")
    parser.add_argument("--seed", type=int, default=30)
    default_data = next(
        (
            p
            for p in (REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data")
            if p.is_dir()
        ),
        REPO.parent / "shared" / "data",
    )
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--verbose", action="store_true", help="list false matches")
    parser.add_argument("--sweep", action="store_true", help="keypoint floors swept")
    parser.add_argument(
        "--only", default="", help="comma-separated rules (keypoints,previous,phash)"
    )
    args = parser.parse_args()
    print(
        f"# {sys.platform}, {os.cpu_count()} cores; load average at start "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; seed {args.seed}"
    )
    natural = natural_sources(args.data)
    with tempfile.TemporaryDirectory() as folder:
        frames = previs_frames(Path(folder))
    previs_refs, previs_others = [], []
    for (li, si), rgb in sorted(frames.items()):
        src = Source(f"previs {li}{'ABCDE'[si]}", f"previs-{li}-{si}", rgb, li)
        (previs_refs if si < 2 else previs_others).append(src)
    reps = 1 if args.quick else 3
    cases = make_cases(natural, previs_refs, previs_others, reps, args.seed)
    groups = {"natural": [s.group for s in natural], "previs": [s.group for s in previs_refs]}
    locations = [s.location or 0 for s in previs_refs]
    print(
        f"natural sources {len(natural)} in {len(set(groups['natural']))} groups; previs "
        f"references {len(previs_refs)} of {len(LOCATIONS)} locations, negatives "
        f"{len(previs_others)}; {len(cases)} queries"
    )
    order = sorted(set(groups["natural"]))
    work_of_natural = [order.index(g) for g in groups["natural"]]
    default = IntegritySettings()
    loose = replace(default, keypoint_inliers=8, keypoint_agreement=0.0) if args.sweep else default
    rules = {
        "keypoints": lambda refs, works: WindowRule(refs, loose, args.sweep, works),
        "previous": lambda refs, works: WindowRule(refs, replace(default, keypoints=False)),
        "phash": lambda refs, works: PHashRule(refs),
    }
    chosen = [r for r in (args.only.split(",") if args.only else rules)]
    results: dict[str, dict[str, tuple[int, int]]] = {}
    folds: dict[str, list[dict[str, tuple[int, int]]]] = {}
    for name in chosen:
        started = time.perf_counter()
        by_family = {
            # a same-source group is one work (features shared inside it are its own)
            "natural": rules[name]([s.rgb for s in natural], work_of_natural),
            "previs": rules[name]([s.rgb for s in previs_refs], None),
        }
        built = time.perf_counter() - started
        started = time.perf_counter()
        predicted = [by_family[c.family](c.rgb) for c in cases]
        elapsed = time.perf_counter() - started
        print(
            f"{name}: corpus built in {built:.1f} s; {1000 * elapsed / len(cases):.0f} ms a "
            f"query ({len(cases)} queries, load {os.getloadavg()[0]:.1f})"
        )
        if name == "keypoints" and args.sweep:
            logs = {f: by_family[f].log for f in by_family}  # type: ignore[attr-defined]
            sweep(cases, logs, groups, locations)
            predicted = floors(cases, logs, default.keypoint_inliers, default.keypoint_agreement)
        results[name] = tally(cases, predicted, groups, locations)
        if args.verbose:
            names = {"natural": [s.name for s in natural], "previs": [s.name for s in previs_refs]}
            for case, got in zip(cases, predicted, strict=True):
                for n in got:
                    if case.family == "natural" and not same(groups["natural"][n], case.group):
                        print(
                            f"  false natural {case.transform}: {case.group} -> {names['natural'][n]}"
                        )
                    if case.family == "previs" and locations[n] != case.location:
                        print(
                            f"  false previs {case.transform}: loc {case.location} src {case.source} -> {names['previs'][n]}"
                        )
        folds[name] = [tally(cases, predicted, groups, locations, fold=f) for f in (0, 1)]
    keys = [f"recall {t}" for t in TRANSFORMS] + ["precision natural", "precision previs"]
    print("\n| measure | " + " | ".join(chosen) + " |\n|---|" + "---|" * len(chosen))
    for key in keys:
        print(f"| {key} | " + " | ".join(fmt(*results[n].get(key, (0, 0))) for n in chosen) + " |")
    print(
        "| neutral previs | "
        + " | ".join(str(results[n]["neutral previs"][0]) for n in chosen)
        + " |"
    )
    print("\nPer fold (sources split by a hash of their group):")
    for fold in (0, 1):
        for key in keys:
            print(
                f"  fold {fold} {key}: "
                + "; ".join(f"{n} {fmt(*folds[n][fold].get(key, (0, 0)))}" for n in chosen)
            )
    print(f"# load average at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
