"""Evaluation of the continuity checks on real photos: identity match rates, and look shifts.

Identity: every face photo in ``DATA/faces_identity`` (identity = the file name's part
before ``__``; files named ``test__...`` take their identity from the rest of the name
up to its digits, e.g. ``test__obama1.jpg`` is obama), one descriptor each (the largest
face; photos of several people are left out, as their identity is ambiguous). For every
pair: same person or not, and the distance. Reports the true match rate (same-person
pairs within the threshold) and the false match rate (different-person pairs within it)
at the default threshold, each with its number of pairs and a Wilson 95% interval, and
the ROC over thresholds. The anchor is the threshold dlib documents (0.6).

Look: known shifts applied by this script to each photo (exposure in stops, a warm or
cool white-balance gain, a colour cast), measured back by the look model.

Usage: python bench/continuity_identity_eval.py [DATA]   (DATA defaults to ../shared/data)
"""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import numpy as np

from _stats import wilson
from setpiece.continuity.embedders import DlibFaceEmbedder
from setpiece.continuity.look import CielabLook
from setpiece.continuity.settings import ContinuitySettings
from setpiece.store.frames import load_rgb


def identity_of(name: str) -> str:
    folder, _, rest = name.partition("__")
    if folder in ("test", "test_images", "examples"):
        return re.sub(r"[\d_]*(test\d*)?$", "", Path(rest).stem.replace("_test", "")).lower()
    return folder.lower()


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "../shared/data")
    folder = root / "faces_identity"
    settings = ContinuitySettings()
    embedder = DlibFaceEmbedder()
    people: list[tuple[str, str, np.ndarray]] = []
    photos: list[tuple[str, np.ndarray]] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        rgb = load_rgb(path)
        photos.append((path.name, rgb))
        scan = embedder.scan(rgb, detect_width=1280, min_face=20, max_faces=5)
        if len(scan.faces) != 1:
            print(f"  left out {path.name}: {len(scan.faces)} faces")
            continue
        people.append((identity_of(path.name), path.name, scan.faces[0].descriptor))
    print(f"{len(people)} single-face photos of {len({p[0] for p in people})} people")
    pairs = [
        (a[0] == b[0], float(np.linalg.norm(a[2] - b[2])), a[1], b[1])
        for a, b in itertools.combinations(people, 2)
    ]
    same = [d for s, d, *_ in pairs if s]
    other = [d for s, d, *_ in pairs if not s]
    threshold = settings.face_threshold or embedder.default_threshold
    tm, fm = sum(d <= threshold for d in same), sum(d <= threshold for d in other)
    tmr, fmr = tm / max(1, len(same)), fm / max(1, len(other))
    lo, hi = wilson(tm, len(same))
    flo, fhi = wilson(fm, len(other))
    print(
        f"threshold {threshold}: true match rate {tmr:.3f} ({tm}/{len(same)} same-person pairs, "
        f"95% CI {lo:.3f}-{hi:.3f})"
    )
    print(
        f"threshold {threshold}: false match rate {fmr:.3f} ({fm}/{len(other)} different-person "
        f"pairs, 95% CI {flo:.3f}-{fhi:.3f})"
    )
    goal = tmr >= 0.95 and fmr < 0.05
    print(f"goal (TMR >= 0.95 at FMR < 0.05): {'met' if goal else 'NOT met'}")
    for s, d, a, b in sorted(pairs, key=lambda p: p[1]):
        if (s and d > threshold) or (not s and d <= threshold):
            print(f"  error: {'same' if s else 'different'} {a} / {b}: {d:.3f}")
    print("ROC (threshold, TMR, FMR):")
    for t in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        print(
            f"  {t:.2f}  {sum(d <= t for d in same) / max(1, len(same)):.3f}  "
            f"{sum(d <= t for d in other) / max(1, len(other)):.3f}"
        )

    look = CielabLook()
    print("look shifts measured back (mean over photos; applied -> measured):")
    errors: dict[str, list[float]] = {}
    for _name, rgb in photos:
        base = look.stats([rgb])
        lin = (rgb.astype(np.float64) / 255) ** 2.2
        for stops in (-1.0, -0.5, 0.5):
            shifted = np.clip((lin * 2**stops) ** (1 / 2.2) * 255, 0, 255).astype(np.uint8)
            got = look.compare(base, look.stats([shifted])).stops
            errors.setdefault(f"exposure {stops:+.1f} stops", []).append(got)
        for label, gain in (
            ("warm gain (1.0, 0.9, 0.75)", (1.0, 0.9, 0.75)),
            ("cool gain (0.75, 0.9, 1.0)", (0.75, 0.9, 1.0)),
        ):
            shifted = np.clip(rgb * np.array(gain), 0, 255).astype(np.uint8)
            diff = look.compare(base, look.stats([shifted]))
            errors.setdefault(f"{label}: kelvin", []).append(diff.kelvin)
            errors.setdefault(f"{label}: ΔE2000", []).append(diff.delta_e)
    for label, values in errors.items():
        print(f"  {label}: mean {np.mean(values):+.2f}, sd {np.std(values):.2f} (n={len(values)})")


if __name__ == "__main__":
    main()
