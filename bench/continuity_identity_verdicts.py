"""Graded identity verdicts (issue 27) on AI-generated clips and on real photos.

Magic-Me (``DATA/aivideo_magicme_same_identity``, SOURCE.txt): one likeness (altman) in
three generated clips, another (taylor) in one. Each clip's best face (the judgeable face
of highest quality over its sampled frames) is the single reference of a character; every
other clip is judged as a take of a close shot that lists that character, with that
character alone in the bible. 12 ordered cases: 6 same-person, 6 different-person.

Real photos (``DATA/faces_identity``, identities from SOURCE.txt): every single-face photo
is a reference, every other photo (two-person photos included, and each test photo also
grey, half-size and EXIF-rotated) a take; the verdict before issue 27 (one frame, the
same person within 0.6, else ``identity_drift``) is compared with the new one: a verdict
"changes" when a pass becomes a finding or a finding a pass.

Two settings are reported: the defaults, and leave-one-clip-out: for each held-out clip
the different-person distance is refit on the cases that do not involve it (the
midpoint between the largest same-person and the smallest different-person median
distance there) and only the held-out clip's cases are judged with it.

Goals: no same-person clip reported as a different person; identity_uncertain on at most
one same-person clip in four; at least three different-person cases in four reported as
a different person, the rest uncertain; no verdict changed on faces_identity. Rates carry
the number of cases and a Wilson 95% interval.

Usage: python bench/continuity_identity_verdicts.py [DATA]   (DATA: ../shared/data)
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from _stats import wilson
from setpiece.continuity.embedders import DlibFaceEmbedder, FaceEmbedder, FaceScan
from setpiece.continuity.faces import (
    CharacterReference,
    check_identity,
    face_quality,
)
from setpiece.continuity.settings import ContinuitySettings
from setpiece.store.frames import load_rgb
from setpiece.store.video import Frame

CLIPS = {
    "magicme_altman_superman.mp4": "altman",
    "magicme_altman_walking.mp4": "altman",
    "magicme_altman_happy_new_year_v2v.mp4": "altman",
    "magicme_taylor_aurora.mp4": "taylor",
}
# faces_identity/SOURCE.txt
PHOTOS = {
    "alex_lacamoire__img1.jpg": {"alex"},
    "test__alex_lacamoire1.jpg": {"alex"},
    "biden__biden.jpg": {"biden"},
    "biden__biden2.jpg": {"biden"},
    "examples__lin-manuel-miranda.png": {"lin"},
    "obama__obama.jpg": {"obama"},
    "obama__obama2.jpg": {"obama"},
    "test__obama1.jpg": {"obama"},
    "test_images__obama3.jpg": {"obama"},
    "rose_leslie__img1.jpg": {"rose"},
    "rose_leslie__img2.jpg": {"rose"},
    "test__johnsnow_test1.jpg": {"kit"},
    "test__kit_with_rose.jpg": {"kit", "rose"},
    "test__obama_and_biden.jpg": {"obama", "biden"},
}
VERDICTS = ("same", "identity_drift", "identity_other", "identity_uncertain", "identity_missing")


def rate(hits: int, total: int) -> str:
    lo, hi = wilson(hits, total)
    return f"{hits}/{total} = {hits / max(1, total):.2f} (Wilson 95% CI {lo:.2f}-{hi:.2f})"


class Cached(FaceEmbedder):
    """dlib's embedder, each picture scanned once (the cases share their frames)."""

    name = DlibFaceEmbedder.name

    def __init__(self) -> None:
        self.inner = DlibFaceEmbedder()
        self.scans: dict[int, FaceScan] = {}

    def scan(
        self, rgb: np.ndarray, *, detect_width: int, min_face: int, max_faces: int
    ) -> FaceScan:
        key = id(rgb)
        if key not in self.scans:
            self.scans[key] = self.inner.scan(
                rgb, detect_width=detect_width, min_face=min_face, max_faces=max_faces
            )
        return self.scans[key]


def clip_frames(path: Path) -> list[Frame]:
    """The frames the check samples: every ``frame_stride``, or often enough for 16."""
    with av.open(os.fspath(path)) as container:
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    every = max(1, min(ContinuitySettings().frame_stride, len(pictures) // 16))
    return [Frame(i, Fraction(0), pictures[i]) for i in range(0, len(pictures), every)]


def best_face(
    embedder: Cached, frames: list[Frame], settings: ContinuitySettings
) -> np.ndarray | None:
    """The descriptor of the judgeable face of highest quality over the frames."""
    scored = []
    for frame in frames:
        scan = embedder.scan(
            frame.rgb,
            detect_width=settings.detect_width,
            min_face=settings.min_face,
            max_faces=settings.max_faces,
        )
        for face in scan.faces[:1]:
            quality = face_quality(frame.rgb, face)
            if quality.problem(settings) is None:
                scored.append((quality.score(settings), frame.index, face.descriptor))
    return max(scored, key=lambda s: (s[0], -s[1]))[2] if scored else None


@dataclasses.dataclass
class Case:
    reference: str
    take: str
    same: bool
    verdict: str = ""
    distance: float | None = None
    frames: list[int] = dataclasses.field(default_factory=list)
    reason: str = ""


def judge(
    embedder: Cached,
    case: Case,
    reference: np.ndarray,
    frames: list[Frame],
    settings: ContinuitySettings,
) -> None:
    references = {"X": CharacterReference("X", [reference])}
    result = check_identity(embedder, frames, ["X"], references, settings, close_shot=True)
    found = [i for i in result.issues if not i.data.get("within_take")]
    if not found:
        case.verdict, case.distance, case.frames, case.reason = "same", None, [], ""
        return
    issue = found[0]
    case.verdict = issue.kind
    case.distance = issue.data.get("distance")
    case.frames = issue.frames
    case.reason = issue.reason


def goals(cases: list[Case]) -> tuple[dict[str, Counter[str]], list[str]]:
    same = Counter(c.verdict for c in cases if c.same)
    other = Counter(c.verdict for c in cases if not c.same)
    n_same, n_other = sum(same.values()), sum(other.values())
    lines = [
        f"same-person clips reported as a different person: {rate(same['identity_other'], n_same)}"
        f" (goal: none) -> {'met' if same['identity_other'] == 0 else 'NOT met'}",
        f"same-person clips uncertain: {rate(same['identity_uncertain'], n_same)} (goal: at "
        f"most 1 in 4) -> {'met' if same['identity_uncertain'] * 4 <= n_same else 'NOT met'}",
        f"different-person cases reported as a different person: "
        f"{rate(other['identity_other'], n_other)} (goal: at least 3 in 4, the rest uncertain) -> "
        + (
            "met"
            if other["identity_other"] * 4 >= 3 * n_other
            and other["identity_other"] + other["identity_uncertain"] == n_other
            else "NOT met"
        ),
    ]
    return {"same person": same, "different person": other}, lines


def table(title: str, cases: list[Case]) -> None:
    print(f"\n{title}")
    counts, lines = goals(cases)
    for truth, counter in counts.items():
        total = sum(counter.values())
        shown = ", ".join(f"{v} {rate(counter[v], total)}" for v in VERDICTS if counter[v])
        print(f"  {truth} ({total} cases): {shown}")
    for line in lines:
        print("  " + line)


def magicme(root: Path, embedder: Cached, settings: ContinuitySettings) -> None:
    folder = root / "aivideo_magicme_same_identity"
    frames = {name: clip_frames(folder / name) for name in CLIPS}
    best = {name: best_face(embedder, frames[name], settings) for name in CLIPS}
    for name, face in best.items():
        print(
            f"  {name}: {len(frames[name])} frames sampled, best face {'found' if face is not None else 'NONE'}"
        )
    cases = []
    for ref, take in itertools.permutations(CLIPS, 2):
        reference = best[ref]
        if reference is None:
            print(f"  no case with reference {ref}: no judgeable face")
            continue
        case = Case(ref, take, CLIPS[ref] == CLIPS[take])
        judge(embedder, case, reference, frames[take], settings)
        cases.append(case)
    print("\nMagic-Me, defaults: per case (reference -> take: truth, verdict, median, frames)")
    for c in cases:
        distance = "-" if c.distance is None else f"{c.distance:.3f}"
        print(
            f"  {c.reference[8:-4]} -> {c.take[8:-4]}: {'same' if c.same else 'other'}, "
            f"{c.verdict}, {distance}, frames {c.frames}"
        )
        if c.reason:
            print(f"      reason: {c.reason}")
    table("Magic-Me, defaults", cases)

    # Leave one clip out: refit the different-person distance without the held-out clip.
    held_cases: list[Case] = []
    distances: dict[tuple[str, str], float] = {}
    # Every case's median, measured with no verdict short of "drifting" (same within 0.01).
    loose = dataclasses.replace(settings, face_other=1.99, face_threshold=0.01)
    for c in cases:
        probe = Case(c.reference, c.take, c.same)
        judge(embedder, probe, best[c.reference], frames[c.take], loose)  # type: ignore[arg-type]
        distances[(c.reference, c.take)] = probe.distance if probe.distance is not None else 0.0
        print(
            f"  median {c.reference[8:-4]} -> {c.take[8:-4]}: {distances[(c.reference, c.take)]:.3f}"
        )
    for held in CLIPS:
        train = [c for c in cases if held not in (c.reference, c.take)]
        same = [distances[(c.reference, c.take)] for c in train if c.same]
        other = [distances[(c.reference, c.take)] for c in train if not c.same]
        fitted = settings.face_other or DlibFaceEmbedder.default_other
        if same and other and max(same) < min(other):
            fitted = max((max(same) + min(other)) / 2, DlibFaceEmbedder.default_threshold + 0.05)
        tuned = dataclasses.replace(settings, face_other=round(fitted, 3))
        print(
            f"  held out {held}: different-person distance refit to {fitted:.3f} on {len(train)} cases"
        )
        for c in cases:
            if held in (c.reference, c.take) and (c.reference, c.take) not in {
                (h.reference, h.take) for h in held_cases
            }:
                again = Case(c.reference, c.take, c.same)
                judge(embedder, again, best[c.reference], frames[c.take], tuned)  # type: ignore[arg-type]
                held_cases.append(again)
    table(
        "Magic-Me, leave-one-clip-out (each case judged once, in the first fold holding it out)",
        held_cases,
    )


def variants(rgb: np.ndarray) -> dict[str, np.ndarray]:
    grey = np.repeat(np.asarray(Image.fromarray(rgb).convert("L"))[:, :, None], 3, axis=2)
    half = np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] // 2, rgb.shape[0] // 2)))
    buffer = io.BytesIO()  # rotated pixels with an EXIF orientation that rotates them back
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).transpose(Image.Transpose.ROTATE_90).save(
        buffer, "JPEG", exif=exif, quality=95
    )
    buffer.seek(0)
    return {"original": rgb, "grey": grey, "half": half, "exif-rotated": load_rgb(buffer)}


def photos(root: Path, embedder: Cached, settings: ContinuitySettings) -> None:
    folder = root / "faces_identity"
    pictures = {name: load_rgb(folder / name) for name in PHOTOS}
    references = {}
    for name, rgb in pictures.items():
        scan = embedder.scan(
            rgb, detect_width=settings.detect_width, min_face=settings.min_face, max_faces=5
        )
        if len(PHOTOS[name]) == 1 and len(scan.faces) == 1:
            references[name] = scan.faces[0].descriptor
        elif len(PHOTOS[name]) == 1:
            print(f"  {name}: {len(scan.faces)} faces found, not a reference")
    takes = {(name, kind): rgb for name, p in pictures.items() for kind, rgb in variants(p).items()}
    changed, cases = [], []
    grades: Counter[tuple[bool, str]] = Counter()
    for ref, (take, kind) in itertools.product(references, takes):
        if ref == take:
            continue
        (who,) = PHOTOS[ref]
        frames = [Frame(0, Fraction(0), takes[(take, kind)])]
        case = Case(ref, f"{take} ({kind})", who in PHOTOS[take])
        judge(embedder, case, references[ref], frames, settings)
        old = check_identity(
            embedder,
            frames,
            ["X"],
            {"X": CharacterReference("X", [references[ref]])},
            dataclasses.replace(settings, face_other=1.99, min_sharpness=0.0, max_turn=1.0),
            close_shot=True,
        )
        distance = old.issues[0].data.get("distance") if old.issues else None
        old_pass = not old.issues or (distance is not None and distance <= 0.6)
        new_pass = case.verdict == "same"
        grades[(case.same, case.verdict)] += 1
        cases.append(case)
        if old_pass != new_pass:
            changed.append(
                f"{ref} -> {case.take}: before {'pass' if old_pass else 'finding'}, now {case.verdict}"
            )
    right = sum((c.verdict == "same") == c.same for c in cases)
    for c in cases:
        if c.same and c.verdict != "same":
            print(f"  same person not passed: {c.reference} -> {c.take}: {c.verdict}: {c.reason}")
    print(
        f"\nfaces_identity: {len(references)} reference photos, {len(takes)} takes (14 photos x 4 variants), {len(cases)} cases"
    )
    print(f"  pass/finding right: {rate(right, len(cases))}")
    for (same, verdict), count in sorted(grades.items()):
        print(f"  {'same' if same else 'different'} person -> {verdict}: {count}")
    print(
        f"  verdicts changed from before issue 27: {rate(len(changed), len(cases))} (goal: none) -> {'met' if not changed else 'NOT met'}"
    )
    for line in changed:
        print("    " + line)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "../shared/data")
    settings = ContinuitySettings()
    embedder = Cached()
    started = time.perf_counter()
    print(
        f"defaults: {settings.embedder}, same within {DlibFaceEmbedder.default_threshold}, other beyond "
        f"{DlibFaceEmbedder.default_other}, judge_frames {settings.judge_frames}, min_sharpness "
        f"{settings.min_sharpness}, max_turn {settings.max_turn}"
    )
    magicme(root, embedder, settings)
    photos(root, embedder, settings)
    print(
        f"\n{time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f} (2 cores)"
    )


if __name__ == "__main__":
    main()
