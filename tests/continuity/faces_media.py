"""Pictures of real faces for the continuity tests, from files installed with scikit-image.

No test may download anything, and no test reads /work/shared. Two real photographs
ship inside the scikit-image wheel: ``astronaut.png`` (Eileen Collins, 512x512) and
``lfw_subset.npy`` (25x25 greyscale face crops from Labeled Faces in the Wild, of
people other than her). The ground truth these tests rely on, honestly stated:

* "the same person in another photo" is the astronaut photo transformed (cropped,
  shifted, rescaled, re-exposed, mirrored): the same photograph, not a second one;
* "a different person" is an LFW face, upscaled to a usable size (so it is blurry).

The bench (bench/continuity_identity_eval.py) measures the model on real distinct
photos of several people instead.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image
from skimage import data

__all__ = [
    "another_person",
    "astronaut",
    "astronaut_again",
    "noise",
    "save",
    "tinted",
    "write_face_video",
]


def astronaut() -> np.ndarray:
    """Eileen Collins, 512x512 RGB; her face is about 90 px wide near the top."""
    return np.ascontiguousarray(data.astronaut())


def astronaut_again() -> np.ndarray:
    """The same person, the photo cropped, rescaled, mirrored and re-exposed."""
    picture = astronaut()[10:420, 40:460, :]
    picture = cv2.resize(picture, (360, 352), interpolation=cv2.INTER_AREA)[:, ::-1]
    return np.ascontiguousarray(np.clip(picture.astype(np.float32) * 0.85 + 18, 0, 255)).astype(
        np.uint8
    )


def another_person(index: int = 1, size: int = 220) -> np.ndarray:
    """Someone else: LFW face ``index`` upscaled on a plain border, as RGB."""
    faces = np.load(Path(data.__file__).parent / "lfw_subset.npy")
    grey = (faces[index] * 255).astype(np.uint8)
    big = cv2.resize(grey, (size, size), interpolation=cv2.INTER_CUBIC)
    padded = np.pad(big, size // 4, mode="edge")
    return np.ascontiguousarray(np.repeat(padded[:, :, None], 3, axis=2))


def noise(w: int = 160, h: int = 120, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def tinted(rgb: np.ndarray, gain: tuple[float, float, float]) -> np.ndarray:
    """A colour cast: each channel scaled (a warm or cool grade, or an exposure change)."""
    return np.clip(rgb.astype(np.float32) * np.array(gain, dtype=np.float32), 0, 255).astype(
        np.uint8
    )


def save(path: str | os.PathLike[str], rgb: np.ndarray) -> Path:
    Image.fromarray(rgb, "RGB").save(path)
    return Path(path)


def write_face_video(
    path: str | os.PathLike[str],
    pictures: list[np.ndarray],
    *,
    size: tuple[int, int] = (256, 256),
    fps: Fraction = Fraction(24),
    audio: bool = False,
) -> Path:
    """An H.264 MP4 showing ``pictures`` one per frame (index first, faststart)."""
    width, height = size
    with av.open(os.fspath(path), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        stream = out.add_stream(
            "libx264" if "libx264" in av.codecs_available else "mpeg4", rate=fps
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(cv2.resize(picture, size), format="rgb24")
            frame.pts = index
            frame.time_base = 1 / fps
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            samples = int(48000 * len(pictures) / fps)
            for start in range(0, samples, 1024):
                block = av.AudioFrame.from_ndarray(
                    np.zeros((2, min(1024, samples - start)), dtype=np.float32),
                    format="fltp",
                    layout="stereo",
                )
                block.sample_rate = 48000
                block.pts = start
                out.mux(sound.encode(block))
            out.mux(sound.encode(None))
    return Path(path)
