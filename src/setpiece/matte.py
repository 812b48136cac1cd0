"""The picture inside a matte: letterbox bars, a storyboard panel's paper and caption.

Continuity measures a shot's light on the picture, not on its bars; the integrity check
matches the picture, not the paper and caption strip every previs panel shares (a demo
take of one scene matched a staged reference of another through them alone). The
capabilities may not import each other, so the finder lives here, at the bottom.
"""

from __future__ import annotations

import numpy as np

__all__ = ["picture_box"]

_MATTE_LEVELS = 16  # a matte differs from its own colour by less than this (8-bit)


def picture_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """The picture inside a uniform matte (letterbox bars, a storyboard panel's paper):
    (top, bottom, left, right) in pixels, the whole frame when there is none.

    A matte is the colour all four corners share; the picture is the longest run of rows
    mostly unlike it (a caption on the matte has too few such pixels to count), and the
    columns mostly unlike it within those rows.
    """
    height, width = rgb.shape[:2]
    whole = (0, height, 0, width)
    corners = np.array([rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]], dtype=np.int32)
    if np.ptp(corners, axis=0).max() > _MATTE_LEVELS:
        return whole
    unlike = np.abs(rgb.astype(np.int32) - np.median(corners, axis=0)).max(axis=2)
    unlike_rows = np.append((unlike > _MATTE_LEVELS).mean(axis=1) > 0.6, False)
    best, start = (0, 0), -1
    for row, inside in enumerate(unlike_rows):
        if inside and start < 0:
            start = row
        elif not inside and start >= 0:
            best = max(best, (start, row), key=lambda run: run[1] - run[0])
            start = -1
    top, bottom = best
    if bottom - top < height // 4:
        return whole  # a black or white frame, or a picture that is mostly matte
    columns = np.flatnonzero((unlike[top:bottom] > _MATTE_LEVELS).mean(axis=0) > 0.6)
    if columns.size < width // 4:
        return whole
    return top, bottom, int(columns[0]), int(columns[-1]) + 1
