"""The face and look models behind continuity, each behind one small interface.

The identity checks only ask a :class:`FaceEmbedder` for the faces in a picture, each
with a descriptor, and compare descriptors by Euclidean distance against a threshold;
the look checks only ask a :class:`LookModel` for a picture's statistics and for the
difference between two. A stronger embedder (ArcFace or CLIP on a GPU, from local
weights) is a new subclass with its own ``name`` and ``default_threshold``; nothing in
the checks changes.

The built-in face model is dlib's: the HOG frontal face detector (fast on a CPU), the
5-point landmark model, and the ResNet that maps a face chip to 128 numbers, where two
photos of one person lie within about 0.6 of each other. Its model files come from the
``face-recognition-models`` package; that package's ``__init__`` needs pkg_resources,
so its folder is found without importing it. Models load once per process.
"""

from __future__ import annotations

import functools
import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from setpiece.errors import InvalidInputError, MissingExtraError, needs_extra

if TYPE_CHECKING:
    from setpiece.continuity.look import LookDifference, LookStats

__all__ = ["DlibFaceEmbedder", "Face", "FaceEmbedder", "LookModel", "face_embedder"]


@dataclass(frozen=True)
class Face:
    """A face found in a picture: its box in the picture's own pixels and its descriptor."""

    left: int
    top: int
    right: int
    bottom: int
    descriptor: np.ndarray

    @property
    def width(self) -> int:
        return self.right - self.left

    def crop(self, rgb: np.ndarray, margin: float = 0.3) -> np.ndarray:
        """The face with a margin around it, clipped to the picture."""
        pad = int(self.width * margin)
        height, width = rgb.shape[:2]
        return rgb[
            max(0, self.top - pad) : min(height, self.bottom + pad),
            max(0, self.left - pad) : min(width, self.right + pad),
        ]


@dataclass(frozen=True)
class FaceScan:
    """What a face model saw in one picture."""

    faces: list[Face]
    found: int  # faces detected, before the too-small and over-the-limit ones were dropped
    too_small: int


class FaceEmbedder(ABC):
    """Finds faces and describes each with a vector; same person means a short distance."""

    name: str = ""
    default_threshold: float = 0.6

    @abstractmethod
    def scan(
        self, rgb: np.ndarray, *, detect_width: int, min_face: int, max_faces: int
    ) -> FaceScan:
        """The faces of an 8-bit RGB picture, largest first.

        Args:
            rgb: (height, width, 3) uint8 pixels.
            detect_width: Downscale wider pictures to this width to detect; boxes and
                descriptors stay in the picture's own resolution.
            min_face: Faces narrower than this (own pixels) are counted, not described.
            max_faces: Describe at most this many faces (the largest).
        """

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


class LookModel(ABC):
    """Summarises a shot's look and measures how far two looks are apart."""

    name: str = ""

    @abstractmethod
    def stats(self, frames: list[np.ndarray]) -> LookStats:
        """The look of some RGB frames of one take, pooled."""

    @abstractmethod
    def compare(self, a: LookStats, b: LookStats) -> LookDifference:
        """How ``b`` differs from ``a``."""


def _models_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("identity checks", "faces", "face_recognition_models")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@functools.lru_cache(maxsize=1)
def _dlib_models() -> tuple[Any, Any, Any]:
    with needs_extra("faces", "identity checks"):
        import dlib
    folder = _models_folder()
    landmarks = folder / "shape_predictor_5_face_landmarks.dat"
    network = folder / "dlib_face_recognition_resnet_model_v1.dat"
    for path in (landmarks, network):
        if not path.is_file():
            raise InvalidInputError(
                f"dlib's model file {path} is missing: pip install --force-reinstall "
                "face-recognition-models"
            )
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(landmarks)),
        dlib.face_recognition_model_v1(str(network)),
    )


class DlibFaceEmbedder(FaceEmbedder):
    """dlib's HOG detector, 5-point landmarks and 128-d ResNet descriptor, on the CPU."""

    name = "dlib-resnet-v1"
    default_threshold = 0.6

    def scan(
        self, rgb: np.ndarray, *, detect_width: int = 640, min_face: int = 40, max_faces: int = 20
    ) -> FaceScan:
        import cv2

        detector, landmarks, network = _dlib_models()  # says which extra when dlib is missing
        import dlib

        pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
        height, width = pixels.shape[:2]
        scale = min(1.0, detect_width / width)
        small = (
            cv2.resize(
                pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
            if scale < 1
            else pixels
        )
        # Upsampling once finds faces down to ~40 px instead of ~80; it costs four times the
        # detection, so only pictures smaller than the detection width get it.
        boxes = detector(small, 1 if width < detect_width else 0)
        found = [
            (
                max(0, round(box.left() / scale)),
                max(0, round(box.top() / scale)),
                min(width, round(box.right() / scale)),
                min(height, round(box.bottom() / scale)),
            )
            for box in boxes
        ]
        found.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
        large = [b for b in found if b[2] - b[0] >= min_face]
        faces = []
        for left, top, right, bottom in large[:max_faces]:
            # dlib copies the whole picture it is handed: on a 1080p frame that copy costs
            # more than the network, so it gets the face's neighbourhood, at full resolution.
            pad = right - left
            x0, y0 = max(0, left - pad), max(0, top - pad)
            region = np.ascontiguousarray(
                pixels[y0 : min(height, bottom + pad), x0 : min(width, right + pad)]
            )
            box = dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0)
            shape = landmarks(region, box)
            vector = np.asarray(network.compute_face_descriptor(region, shape), dtype=np.float64)
            faces.append(Face(left, top, right, bottom, vector))
        return FaceScan(faces, found=len(found), too_small=len(found) - len(large))


_EMBEDDERS: dict[str, type[FaceEmbedder]] = {DlibFaceEmbedder.name: DlibFaceEmbedder}


@functools.lru_cache(maxsize=4)
def face_embedder(name: str = DlibFaceEmbedder.name) -> FaceEmbedder:
    """The face embedder called ``name`` (one instance per process)."""
    if name not in _EMBEDDERS:
        raise InvalidInputError(
            f"unknown face embedder {name!r}: available are {', '.join(sorted(_EMBEDDERS))}"
        )
    return _EMBEDDERS[name]()
