"""Throughput of the identity check on 1080p frames, on this machine.

A real photo (scikit-image's astronaut, bundled) is upscaled into a 1920x1080 frame,
and the identity check's per-frame work (downscale, HOG detection, landmarks, the
128-d descriptor on the full-resolution chip, matching) is timed. The anchor, in the
same run: detection on the full 1080p frame without downscaling, which is what the
downscale saves. Goal: at least 5 frames per second on the 2-core dev VM.

Usage: python bench/continuity_throughput.py [FRAMES]
"""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np
from skimage import data

from setpiece.continuity.embedders import DlibFaceEmbedder, _dlib_models
from setpiece.continuity.faces import check_identity, reference_for
from setpiece.continuity.settings import ContinuitySettings
from setpiece.store.frames import Frame


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    settings = ContinuitySettings()
    embedder = DlibFaceEmbedder()
    photo = data.astronaut()
    frame = np.zeros((1080, 1920, 3), dtype=np.uint8)
    frame[:, 420:1500] = cv2.resize(photo, (1080, 1080), interpolation=cv2.INTER_CUBIC)
    references = {"ANNA": reference_for(embedder, "ANNA", [("#1", photo)], settings)}
    frames = [Frame(i, 0, frame) for i in range(count)]  # type: ignore[arg-type]
    check_identity(embedder, frames[:1], ["ANNA"], references, settings, close_shot=True)
    started = time.perf_counter()
    result = check_identity(embedder, frames, ["ANNA"], references, settings, close_shot=True)
    seconds = time.perf_counter() - started
    fps = count / seconds
    print(
        f"identity check, 1080p, detect width {settings.detect_width}: {fps:.1f} frames/s "
        f"({count} frames, {result.faces} faces, {len(result.issues)} findings)"
    )
    detector = _dlib_models()[0]
    started = time.perf_counter()
    for _ in range(max(3, count // 8)):
        detector(frame, 0)
    full = (time.perf_counter() - started) / max(3, count // 8)
    print(
        f"anchor: HOG detection alone on the full 1080p frame: {1 / full:.1f} frames/s; "
        f"the whole check with downscaling is {fps * full:.1f}x that"
    )
    print(f"goal (>= 5 frames/s): {'met' if fps >= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
