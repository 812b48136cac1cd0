"""The keypoint stage: copies the window codes cannot reach (banners, logos, half crops).

A whole-frame code moves too far when a quarter of the frame is covered or half of it
cut away (bench/integrity_transforms.py: recall 0.14 banner, 0.23 logo, 0.17 half crop
with codes and SSIM alone). Local features survive both, so when the code path names
nothing this stage matches the take frame's ORB features (Rublee et al., ICCV 2011)
against every reference thumbnail's, and a candidate becomes a copy only after four
proofs, each answering a way the previous keypoint attempt failed (it fitted previs
panels of different locations through their identical caption strips, precision 0.70):

1. **Features shared across works are dropped.** A reference feature whose descriptor
   recurs at the same place in several other works' frames (a renderer's caption strip,
   a broadcaster's bug) says nothing about which work a take copies.
2. **A geometric fit** (a similarity transform, RANSAC) with at least
   ``keypoint_inliers`` inliers, spread over the take's footprint on the reference (their
   bounding box at least :data:`SPREAD` of its width and height, or, for :data:`MANY`
   inliers, of its area: :func:`spread_holds`), at a plausible scale.
3. **The pictures agree where they overlap.** The take is warped onto the reference and
   compared in a grid of cells (normalised cross-correlation of the grey cells); at least
   ``keypoint_agreement`` of the informative cells must agree. Cells that recur in other
   works' frames (the previs renderer draws one backdrop for every location of a time
   of day) are not counted, for the reason of 1. An opaque banner or logo
   only lowers that fraction by the area it covers; another picture that happens to share
   some structure fails most cells.
4. **The colours are the reference's under one grade** (:mod:`setpiece.integrity.grade`):
   where the pictures agree in structure, a saturation change and a monotone curve per
   channel explain at least :data:`GRADED` of the pixels. The previs renderer draws a cast
   the same way in every location; another panel of the same figures agrees in structure,
   not in colour (a blue figure is green there, a desert an office).

A reference too smooth for features (a colour gradient, fog) cannot be fitted, and its
code is unsteady; :meth:`KeypointCorpus.smooth_candidates` shortlists such references by
the direction of their low DCT frequencies, for the check to verify them whole.

Measured and chosen in bench/integrity_transforms.py (figures in bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from setpiece.integrity.grade import explained
from setpiece.integrity.hashing import HASH_SIDE
from setpiece.integrity.settings import IntegritySettings

__all__ = ["KeypointCorpus", "KeypointMatch", "box_agreement", "spread_holds"]

SIDE = 256
"""Longest side of the pictures features are taken on (the reference thumbnails' size)."""

SPREAD = 0.35
"""Smallest extent of the inliers' bounding box, as a fraction of the width and height of
the take's footprint on the reference; a fit held by one strip of the take is refused. (As a
fraction of the whole reference, it refused 31 of the 45 half-area crops the stage missed:
a crop's inliers cannot spread over more than the crop.)"""

MANY = 35
"""A fit of at least this many inliers passes on the area of their bounding box instead:
at least :data:`AREA` of the footprint's area, and :data:`NARROW` of each side. A picture
whose detail sits in one block (a figure on a plain ground, a fabric swatch) cannot spread
its features over 35 % of both sides; 35 inliers over such a block are not a strip. On the
issue's transforms this kept 97 true matches that the sides alone refused, and no false
one; at 30 inliers two false previs matches came in (bench/RESULTS.md, 7 Dec 2026)."""

AREA = 0.08
"""Smallest area of the inliers' box, as a fraction of the footprint's, for a fit of
:data:`MANY` inliers. At 0.1225 (``SPREAD`` squared) it refused fits of 60-136 inliers over
ribbons and contour plots under a logo or cut to half (boxes of 0.09-0.10); from 0.06 to
0.09 no false match came in (bench/RESULTS.md, 7 Dec 2026)."""

NARROW = 0.15
"""Smallest side of the inliers' box, as a fraction of the footprint's, for a fit of
:data:`MANY` inliers: a caption strip is narrower."""

FOOTPRINT = 0.25
"""Smallest share of the reference's area the take's footprint covers: a match on a sliver
of the reference proves too little."""

GRID = 8
"""Cells per side of the agreement grid."""

CELL_NCC = 0.5
"""Correlation over which a cell agrees."""

SHARED = 3
"""A reference feature recurring (same place, near-identical descriptor) in this many other
works' frames is dropped."""

MIN_CELLS = 6
"""Fewest informative cells an agreement is measured on; fewer answer 0 (no proof)."""

OUTSIDE, FLAT, DISAGREES, AGREES = -1, 0, 1, 2
"""How a take stands on a grid cell of the reference (:func:`_cell_states`)."""

GRADED = 0.65
"""Smallest share of the pixels where take and reference agree in structure that one
colour grade of the reference explains (:func:`setpiece.integrity.grade.explained`): the
previs renderer's figures agree in structure from one location to the next, not in colour.
Chosen on one fold of a full draw of bench/integrity_transforms.py (seed 30), every
structural match logged with its share: the largest share that lost no copy there (false
previs matches 14 -> 1); on the other fold it lost one cartoon of 106 and left 1 false
match of 127 (bench/RESULTS.md, 7 Dec 2026)."""

COLOUR_SIDE = 64
"""Longest side of the pictures colour is compared at."""

ACHROMATIC = 0.02
"""Mean chroma (largest minus smallest channel, of the full range) under which a reference
is black and white: a copy of it may be tinted or colourised, so only its lightness is
compared (a grade of grey cannot make two figures of one lightness blue and green)."""

SMOOTH_COSINE = 0.5
"""Smallest cosine between a take's and a smooth reference's low DCT frequencies (the 63
pHash coefficients before they are cut to bits) for the reference to be verified. A
picture too smooth for features (a colour gradient, fog) has pHash bits near their median:
a banner or a grade moves its code 16-36 bits, as far as an unrelated picture's, while the
coefficients themselves keep their direction. On the bench's transforms of c2pa's gradient
this kept 90 % of its copies and 10 % of the other pictures (bench/RESULTS.md)."""

_CANDIDATES = 4
_RATIO = 0.85
_FEATURES = 500


@dataclass(frozen=True)
class KeypointMatch:
    """A reference frame the take copies, by the keypoint stage."""

    reference: int  # position in the corpus
    inliers: int
    agreement: float  # fraction of informative overlapping cells that agree
    mirrored: bool
    box: tuple[int, int, int, int]  # the take's outline in the reference's pixels


def spread_holds(width: float, height: float, inliers: int) -> bool:
    """Whether inliers whose bounding box spans ``width`` and ``height`` of the take's
    footprint (fractions) hold a fit over more than a strip: both sides at least
    :data:`SPREAD`, or, for :data:`MANY` inliers or more, the box's area at least
    :data:`AREA` and each side at least :data:`NARROW`."""
    if width >= SPREAD and height >= SPREAD:
        return True
    return inliers >= MANY and width * height >= AREA and min(width, height) >= NARROW


def _shrunk(picture: np.ndarray) -> np.ndarray:
    """``picture`` brought down to a longest side of :data:`SIDE` (never up)."""
    import cv2

    h, w = picture.shape[:2]
    scale = SIDE / max(h, w)
    if scale >= 1:
        return picture
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def _grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    if rgb.ndim == 2:
        return _shrunk(np.ascontiguousarray(rgb))
    return _shrunk(cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY))


def _colour(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` at the size :func:`_grey` brings it to, as float32 RGB."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    return _shrunk(np.ascontiguousarray(rgb[:, :, :3])).astype(np.float32)


def _colour_size(height: int, width: int) -> tuple[int, int]:
    scale = min(1.0, COLOUR_SIDE / max(height, width))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _reference_colour(rgb: np.ndarray) -> np.ndarray:
    """A reference's colours as :func:`_graded` compares them."""
    colour = _colour(rgb)
    return _pooled(colour, _colour_size(*colour.shape[:2])) / 255.0


def _pooled(colour: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``colour`` brought down to ``size`` keeping each block's brightest value per channel
    (a dilation, then one pixel of each block): thin dark lines drawn over a picture (a
    cartoon filter's ink) vanish instead of darkening the block, and a monotone curve per
    channel commutes with the maximum, so a graded copy pools to the graded pool."""
    import cv2

    h, w = colour.shape[:2]
    k = max(1, round(max(h / size[1], w / size[0])))
    if k > 1:
        colour = cv2.dilate(colour, np.ones((k, k), np.uint8))
    return cv2.resize(colour, size, interpolation=cv2.INTER_NEAREST)


def _graded(
    reference: np.ndarray,
    take: np.ndarray,
    matrix: np.ndarray,
    states: np.ndarray,
    shape: tuple[int, int],
) -> float:
    """The share of the pixels where the warped take agrees with the reference in structure
    (``states``) that one colour grade of the reference explains (:mod:`.grade`).

    ``reference`` is :func:`_reference_colour`'s; ``take`` the take at :func:`_colour`'s
    size, ``matrix`` its fit onto the reference's grey (of ``shape``)."""
    import cv2

    h, w = shape
    warped = cv2.warpAffine(take, matrix, (w, h), flags=cv2.INTER_AREA)
    inside = cv2.warpAffine(np.ones(take.shape[:2], np.float32), matrix, (w, h))
    size = (reference.shape[1], reference.shape[0])
    warped = _pooled(warped, size) / 255.0
    if float((reference.max(axis=2) - reference.min(axis=2)).mean()) < ACHROMATIC:
        warped = np.repeat(warped.mean(axis=2, keepdims=True), 3, axis=2)
    inside = cv2.resize(inside, size, interpolation=cv2.INTER_AREA)
    rows = np.minimum(np.arange(size[1]) * GRID // size[1], GRID - 1)
    columns = np.minimum(np.arange(size[0]) * GRID // size[0], GRID - 1)
    state = states[rows][:, columns]
    usable = (inside >= 0.99) & (state != OUTSIDE)
    fit = (usable & (state != DISAGREES)).ravel()
    judge = (usable & (state == AGREES)).ravel()
    if int(judge.sum()) < 32:
        return 1.0  # too little agrees in structure to judge its colour
    return explained(reference.reshape(-1, 3), warped.reshape(-1, 3), fit, judge, GRADED)


INKED = 0.03
"""Smallest share of a take's pixels its closing (:func:`_inkless`) brightens by more than
30 grey levels for the take to be matched again, closed: the bench's cartoon copies had
0.094 (natural, median) and 0.059 (previs), the other transforms 0.006-0.012 (95th
percentile 0.016-0.057); a second pass on every unmatched frame would double the stage's
cost for nothing, and closing a take without ink only blurs its corners."""


def _inkless(grey: np.ndarray) -> np.ndarray:
    """``grey`` with its thin dark lines closed (a 3 x 3 grey closing): the ink a cartoon
    filter or a print draws over a picture. Its specks and edges took the take's features
    and failed its cells: on previs panels under the cartoon filter, 8-17 inliers and an
    agreement of 0.06-0.11 became 47-58 inliers and 0.84-0.93 (bench/RESULTS.md)."""
    import cv2

    return cv2.morphologyEx(grey, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


def _features(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoint positions (n x 2, float32) and ORB descriptors (n x 32, uint8)."""
    import cv2

    if min(grey.shape) < 16:
        return np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8)
    orb = cv2.ORB.create(
        nfeatures=_FEATURES,
        scaleFactor=1.2,
        nlevels=6,
        edgeThreshold=12,
        patchSize=15,
        fastThreshold=8,
    )
    points, descriptors = orb.detectAndCompute(grey, None)
    if descriptors is None or not points:
        return np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8)
    return np.array([p.pt for p in points], dtype=np.float32), descriptors


def _low(grey: np.ndarray) -> np.ndarray:
    """The 63 low DCT frequencies pHash takes its bits from (DC left out), unit length."""
    import cv2

    small = cv2.resize(
        grey.astype(np.float32), (HASH_SIDE, HASH_SIDE), interpolation=cv2.INTER_AREA
    )
    low = cv2.dct(small)[:8, :8].flatten()[1:]
    norm = float(np.linalg.norm(low))
    return np.asarray(low / norm if norm > 0 else low, np.float32)


def _cells(grey: np.ndarray) -> list[np.ndarray | None]:
    """Each grid cell brought to 8x8 and standardised; None where the cell is flat."""
    import cv2

    h, w = grey.shape
    out: list[np.ndarray | None] = []
    for gy in range(GRID):
        for gx in range(GRID):
            cell = grey[
                gy * h // GRID : (gy + 1) * h // GRID, gx * w // GRID : (gx + 1) * w // GRID
            ]
            if cell.size == 0 or float(cell.std()) < 4.0:
                out.append(None)
                continue
            small = cv2.resize(cell.astype(np.float32), (8, 8), interpolation=cv2.INTER_AREA)
            small -= small.mean()
            norm = float(np.sqrt((small * small).mean()))
            out.append(small / norm if norm > 0 else None)
    return out


def _shared_cells(greys: list[np.ndarray], works: list[int]) -> list[np.ndarray]:
    """Per reference, which grid cells recur (correlation >= 0.9 at the same place) in
    :data:`SHARED` other works' frames: a renderer's backdrop or strip, not the work."""
    cells = [_cells(g) for g in greys]
    shared = [np.zeros(GRID * GRID, bool) for _ in greys]
    if len(set(works)) <= SHARED:
        return shared
    for i, mine in enumerate(cells):
        for k, cell in enumerate(mine):
            if cell is None:
                continue
            others = {
                works[j]
                for j, theirs in enumerate(cells)
                if works[j] != works[i]
                and theirs[k] is not None
                and float((cell * theirs[k]).mean()) >= 0.9
            }
            shared[i][k] = len(others) >= SHARED
    return shared


FLAT_FLOOR = 2.5
"""Fewest grey levels (standard deviation) a take cell varies by to count as more than flat,
however low the take's contrast (:func:`_flat_take`): under it a cell holds little but
compression noise. Of the two floors tried on the issue's transforms, 1.0 and 2.5, 2.5 kept
grade recall over 0.95 with one false previs match more than before, 1.0 with two."""


def _flat_take(reference: np.ndarray, warped: np.ndarray, inside: np.ndarray) -> float:
    """The standard deviation under which a take cell is flat: 4 grey levels, scaled down
    with the take's contrast where it is lower than the reference's over the overlap, to
    :data:`FLAT_FLOOR` at least. A grade at contrast x0.55 left a soft picture's cells
    under 4, each then counted as a flat patch over texture, and the copy was refused."""
    if not inside.any():
        return 4.0
    ratio = float(warped[inside].std()) / max(float(reference[inside].std()), 1e-6)
    return max(FLAT_FLOOR, 4.0 * min(1.0, ratio))


def _cell_states(
    reference: np.ndarray,
    take: np.ndarray,
    matrix: np.ndarray,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Per grid cell of the reference (GRID x GRID), how the warped take stands there:
    :data:`OUTSIDE` (not wholly covered, or shared with other works), :data:`FLAT` (a flat
    reference cell, which says nothing), :data:`DISAGREES` or :data:`AGREES`."""
    import cv2

    h, w = reference.shape
    warped = cv2.warpAffine(take.astype(np.float32), matrix, (w, h), flags=cv2.INTER_AREA)
    inside = cv2.warpAffine(np.ones(take.shape, np.float32), matrix, (w, h))
    ref = reference.astype(np.float32)
    flat = _flat_take(ref, warped, inside >= 0.95)
    states = np.full((GRID, GRID), OUTSIDE, np.int8)
    for gy in range(GRID):
        for gx in range(GRID):
            ys = slice(gy * h // GRID, (gy + 1) * h // GRID)
            xs = slice(gx * w // GRID, (gx + 1) * w // GRID)
            if inside[ys, xs].mean() < 0.95 or (skip is not None and skip[gy * GRID + gx]):
                continue
            a = ref[ys, xs] - ref[ys, xs].mean()
            b = warped[ys, xs] - warped[ys, xs].mean()
            sa, sb = float(np.sqrt((a * a).mean())), float(np.sqrt((b * b).mean()))
            if sa < 4.0:
                states[gy, gx] = FLAT  # a flat reference cell says nothing
            elif sb >= flat and float((a * b).mean()) / (sa * sb) >= CELL_NCC:
                states[gy, gx] = AGREES
            else:
                states[gy, gx] = DISAGREES  # a flat take cell (a banner, a logo) over texture
    return states


def _agreement(
    reference: np.ndarray,
    take: np.ndarray,
    matrix: np.ndarray,
    skip: np.ndarray | None = None,
) -> float:
    """Fraction of informative grid cells of the overlap where the warped take agrees;
    cells marked in ``skip`` (shared with other works) are not counted."""
    return _fraction(_cell_states(reference, take, matrix, skip))


def _fraction(states: np.ndarray) -> float:
    agree = int((states == AGREES).sum())
    informative = agree + int((states == DISAGREES).sum())
    return agree / informative if informative >= MIN_CELLS else 0.0


def box_agreement(
    reference_rgb: np.ndarray,
    take_rgb: np.ndarray,
    box: tuple[int, int, int, int],
    mirrored: bool,
    skip: np.ndarray | None = None,
) -> float:
    """The cell agreement of a take placed on the reference at ``box`` (x0, y0, x1, y1 in
    the reference's pixels), as the code path's verification placed it."""
    reference = _grey(reference_rgb)
    take = _grey(take_rgb)
    if mirrored:
        take = np.ascontiguousarray(take[:, ::-1])
    scale = reference.shape[1] / reference_rgb.shape[1]
    x0, y0, x1, y1 = (v * scale for v in box)
    th, tw = take.shape
    matrix = np.array([[(x1 - x0) / tw, 0.0, x0], [0.0, (y1 - y0) / th, y0]], np.float64)
    return _agreement(reference, take, matrix, skip)


class KeypointCorpus:
    """The reference thumbnails' features, ready to match take frames against.

    Args:
        thumbs: The reference frames (their thumbnails), addressed by position.
        config: The integrity settings (inlier and agreement floors).
        works: The work each frame belongs to (features shared across works are dropped);
            by default every frame is its own work.
    """

    def __init__(
        self,
        thumbs: Sequence[np.ndarray],
        config: IntegritySettings,
        works: Sequence[int] | None = None,
    ) -> None:
        import cv2

        self.config = config
        self.rows: list[int] = list(range(len(thumbs)))  # the caller's numbering, if it has one
        self.greys = [_grey(t) for t in thumbs]
        self.colours = [_reference_colour(t) for t in thumbs]
        features = [_features(g) for g in self.greys]
        works = list(works) if works is not None else list(range(len(thumbs)))
        self._points: list[np.ndarray] = []
        self._descriptors: list[np.ndarray] = []
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        keep = self._shared(features, works)
        self.shared_cells = _shared_cells(self.greys, works)
        for (points, descriptors), mask in zip(features, keep, strict=True):
            self._points.append(points[mask])
            self._descriptors.append(descriptors[mask])
        # references with too few features for a fit: shortlisted by their low frequencies
        self.smooth = [
            i for i, (points, _) in enumerate(features) if len(points) < config.keypoint_inliers
        ]
        self._smooth_low = np.array([_low(self.greys[i]) for i in self.smooth], np.float32)
        sizes = [len(d) for d in self._descriptors]
        self._owner = np.repeat(np.arange(len(sizes)), sizes)
        self._pool = (
            np.concatenate(self._descriptors) if sum(sizes) else np.empty((0, 32), np.uint8)
        )

    def _shared(
        self, features: list[tuple[np.ndarray, np.ndarray]], works: list[int]
    ) -> list[np.ndarray]:
        """Per frame, which features to keep: not recurring in SHARED other works."""
        keep = [np.ones(len(p), bool) for p, _ in features]
        if len(set(works)) <= SHARED:
            return keep
        counts = [np.zeros(len(p), np.int64) for p, _ in features]
        for i, (pi, di) in enumerate(features):
            if len(di) == 0:
                continue
            si = np.array(self.greys[i].shape[::-1], np.float32)
            seen: list[set[int]] = [set() for _ in range(len(di))]
            for j, (pj, dj) in enumerate(features):
                if works[j] == works[i] or len(dj) == 0:
                    continue
                sj = np.array(self.greys[j].shape[::-1], np.float32)
                for m in self._matcher.match(di, dj):
                    if m.distance > 24:
                        continue
                    near = np.abs(pi[m.queryIdx] / si - pj[m.trainIdx] / sj).max() < 0.02
                    if near:
                        seen[m.queryIdx].add(works[j])
            counts[i] = np.array([len(s) for s in seen], np.int64)
            keep[i] = counts[i] < SHARED
        return keep

    def smooth_candidates(self, rgb: np.ndarray, most: int) -> list[tuple[int, bool]]:
        """The smooth references (too few features for :meth:`match`) a take frame may
        copy, as (position, mirrored), closest first: at most ``most``, each at a cosine
        of at least :data:`SMOOTH_COSINE`. They still have to pass pixel verification."""
        if not self.smooth:
            return []
        grey = _grey(rgb)
        if min(grey.shape) < 8:
            return []
        scored = []
        for mirrored in (False, True):
            picture = np.ascontiguousarray(grey[:, ::-1]) if mirrored else grey
            cosines = self._smooth_low @ _low(picture)
            scored += [
                (float(c), ref, mirrored) for c, ref in zip(cosines, self.smooth, strict=True)
            ]
        scored.sort(key=lambda item: -item[0])
        out: list[tuple[int, bool]] = []
        for cosine, ref, mirrored in scored:
            if cosine < SMOOTH_COSINE or len(out) >= most:
                break
            if all(ref != seen for seen, _ in out):
                out.append((ref, mirrored))
        return out

    def match(self, rgb: np.ndarray) -> list[KeypointMatch]:
        """The reference frames a take frame copies, by the four proofs; when none does,
        again with the take's thin dark lines closed (:func:`_inkless`)."""
        if len(self._pool) == 0:
            return []
        grey = _grey(rgb)
        colour = _colour(rgb)
        found = self._match(grey, colour)
        if not found:
            closed = _inkless(grey)
            if float((closed.astype(np.int16) - grey > 30).mean()) >= INKED:
                found = self._match(closed, colour)
        return sorted(found.values(), key=lambda m: -m.inliers)

    def _match(self, grey: np.ndarray, colour: np.ndarray) -> dict[int, KeypointMatch]:
        found: dict[int, KeypointMatch] = {}
        for mirrored in (False, True):
            picture = np.ascontiguousarray(grey[:, ::-1]) if mirrored else grey
            tones = np.ascontiguousarray(colour[:, ::-1]) if mirrored else colour
            points, descriptors = _features(picture)
            if len(descriptors) < self.config.keypoint_inliers:
                continue
            votes = np.zeros(len(self._descriptors), np.int64)
            for m in self._matcher.match(descriptors, self._pool):
                if m.distance <= 50:
                    votes[self._owner[m.trainIdx]] += 1
            for ref in np.argsort(-votes, kind="stable")[:_CANDIDATES]:
                if votes[ref] < self.config.keypoint_inliers:
                    break
                match = self._prove(int(ref), picture, tones, points, descriptors, mirrored)
                if match is not None and (
                    match.reference not in found or match.inliers > found[match.reference].inliers
                ):
                    found[match.reference] = match
        return found

    def _prove(
        self,
        ref: int,
        picture: np.ndarray,
        tones: np.ndarray,
        points: np.ndarray,
        descriptors: np.ndarray,
        mirrored: bool,
    ) -> KeypointMatch | None:
        import cv2

        config = self.config
        ref_desc = self._descriptors[ref]
        if len(ref_desc) < 2:
            return None
        pairs = []
        for found in self._matcher.knnMatch(descriptors, ref_desc, k=2):
            if len(found) == 2 and found[0].distance < _RATIO * found[1].distance:
                pairs.append((found[0].queryIdx, found[0].trainIdx))
        if len(pairs) < config.keypoint_inliers:
            return None
        src = points[[q for q, _ in pairs]]
        dst = self._points[ref][[t for _, t in pairs]]
        matrix, inlier_mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0, maxIters=1000
        )
        if matrix is None:
            return None
        inliers = inlier_mask.ravel().astype(bool)
        if int(inliers.sum()) < config.keypoint_inliers:
            return None
        scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
        if not 0.25 <= scale <= 4.0:
            return None
        reference = self.greys[ref]
        h, w = reference.shape
        ph, pw = picture.shape
        corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        outline = corners @ matrix[:, :2].T + matrix[:, 2]
        x0, y0 = np.clip(outline.min(axis=0), 0, [w, h])
        x1, y1 = np.clip(outline.max(axis=0), 0, [w, h])
        if (x1 - x0) * (y1 - y0) < FOOTPRINT * w * h:
            return None
        extent = dst[inliers].max(axis=0) - dst[inliers].min(axis=0)
        if not spread_holds(
            float(extent[0] / max(x1 - x0, 1e-6)),
            float(extent[1] / max(y1 - y0, 1e-6)),
            int(inliers.sum()),
        ):
            return None
        states = _cell_states(reference, picture, matrix, self.shared_cells[ref])
        agreement = _fraction(states)
        if agreement < config.keypoint_agreement:
            return None
        if _graded(self.colours[ref], tones, matrix, states, reference.shape) < GRADED:
            return None  # the same drawing in other colours: another panel, not a copy
        return KeypointMatch(
            reference=ref,
            inliers=int(inliers.sum()),
            agreement=round(agreement, 4),
            mirrored=mirrored,
            box=(int(x0), int(y0), int(x1), int(y1)),
        )
