"""Which frames of a video are looked at: every shot change, and a fixed stride.

References and takes are sampled the same way, so a copied shot is looked up with
frames that sit where the reference's indexed frames sit. A shot change is a jump in
the mean absolute difference of small grey frames (a deliberately simple detector:
the motion capability builds the full one, and capabilities do not import each
other); the first frame after a cut is sampled and the stride restarts there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from setpiece.store.frames import Frame

__all__ = ["sample_frames"]

_CUT_SIDE = 32


def _small(rgb: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (_CUT_SIDE, _CUT_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)


def sample_frames(frames: Iterable[Frame], *, stride: int, cut: float) -> Iterator[Frame]:
    """The frames to index or look up: the first, each shot change, and every ``stride``-th.

    Args:
        frames: Every frame of the video, in order.
        stride: Frames between samples within a shot.
        cut: Mean absolute grey difference (0-255) between neighbours that marks a cut.
    """
    previous: np.ndarray | None = None
    since = 0
    for frame in frames:
        small = _small(frame.rgb)
        is_cut = previous is not None and float(np.mean(np.abs(small - previous))) >= cut
        if previous is None or is_cut or since >= stride:
            since = 0
            yield frame
        since += 1
        previous = small
