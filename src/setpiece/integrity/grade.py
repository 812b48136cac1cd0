"""Whether a take's colours are a reference's under one colour grade.

The keypoint stage (:mod:`setpiece.integrity.keypoints`) proves a copy by structure:
features, a geometric fit, grey cells that correlate. The previs renderer draws its
characters the same way in every location, so two panels of one cast in two places agree
in structure (all 16 false previs matches of bench/integrity_transforms.py, seed 30, one
draw, were such panels); what differs is colour: a blue figure is green in the other
panel, a desert is an office. A copy's colours, however graded, are the reference's under
one grade: a saturation change, then a monotone curve per channel. Contrast, gamma, lift
and gain, a tint and posterisation are all such curves (the ASC CDL is one family of
them). :func:`explained` fits the best such grade, robustly (a banner or a logo covers
part of the overlap), and answers the share of the pixels it explains.

The curves are isotonic regressions (pool adjacent violators, weighted) over the
reference's tones binned to 1/:data:`BINS`: ``scipy.optimize.isotonic_regression`` does the
same, but scipy is not a core dependency, and over at most 129 bins this loop is small:
on 2,304 pixels (64 x 36), 1.4 ms for a copy (the first saturation explains it) and 6.3 ms
for another picture (all seven tried), on the 2-core development machine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SATURATIONS", "TOLERANCE", "explained"]

TOLERANCE = 0.08
"""Largest difference (of the full range, in any channel: about 20 of 255 levels) between
a take pixel and the graded reference pixel for the grade to explain it."""

SATURATIONS = (1.0, 0.7, 1.5, 0.35, 2.0, 0.0, 2.5)
"""Saturation changes tried (0: grey, 1: unchanged), each followed by its own curves; the
nearest to none first, since a search that has its answer stops."""

BINS = 128
"""Tones per channel the curves are fitted over."""

_FEWEST = 16  # fewest pixels a refit is made on


def _pava(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence closest to ``values`` in weighted least squares."""
    means: list[float] = []
    mass: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        means.append(value)
        mass.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            total = mass[-2] + mass[-1]
            means[-2] = (means[-2] * mass[-2] + means[-1] * mass[-1]) / total
            mass[-2] = total
            sizes[-2] += sizes[-1]
            del means[-1], mass[-1], sizes[-1]
    return np.repeat(np.array(means), sizes)


def _curve(source: np.ndarray, target: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The monotone curve from ``source`` tones to ``target`` fitted on ``keep``, applied
    to every pixel."""
    bins = np.clip(np.rint(source * BINS), 0, BINS).astype(np.int64)
    weight = np.bincount(bins[keep], minlength=BINS + 1).astype(np.float64)
    total = np.bincount(bins[keep], weights=target[keep], minlength=BINS + 1)
    used = np.flatnonzero(weight)
    fitted = _pava(total[used] / weight[used], weight[used])
    return np.interp(bins, used, fitted)


def explained(
    reference: np.ndarray,
    take: np.ndarray,
    fit: np.ndarray,
    judge: np.ndarray,
    enough: float = 1.0,
) -> float:
    """The largest share of the ``judge`` pixels that one grade of ``reference`` brings
    within :data:`TOLERANCE` of ``take``, the grade fitted on the ``fit`` pixels; the
    search stops at the first grade that explains ``enough``.

    Args:
        reference: The reference's pixels, n x 3, in [0, 1].
        take: The take's pixels at the same places, n x 3, in [0, 1].
        fit: The pixels a grade is fitted on (the outliers among them are dropped and the
            grade refitted, twice: a banner or a logo is not graded).
        judge: The pixels it is judged on.
    """
    if not judge.any() or int(fit.sum()) < _FEWEST:
        return 1.0
    best = 0.0
    grey = reference.mean(axis=1, keepdims=True)
    for saturation in SATURATIONS:
        source = np.clip(grey + saturation * (reference - grey), 0.0, 1.0)
        keep = fit
        for rounds in range(3):
            graded = np.stack([_curve(source[:, c], take[:, c], keep) for c in range(3)], axis=1)
            residual = np.abs(graded - take).max(axis=1)
            if rounds == 0:  # the worst 40 % (and what is near them) are suspects
                again = fit & (residual < np.quantile(residual[fit], 0.6) + TOLERANCE / 2)
            else:
                again = fit & (residual < TOLERANCE)
            if int(again.sum()) < _FEWEST:
                break
            keep = again
        best = max(best, float((residual[judge] < TOLERANCE).mean()))
        if best >= enough:
            break
    return best
