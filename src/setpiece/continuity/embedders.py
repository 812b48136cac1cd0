"""The face and look models behind continuity, each behind one small interface.

The identity checks only ask a :class:`FaceEmbedder` for the faces in a picture, each
with a descriptor and its five landmarks, and compare descriptors by Euclidean distance
against the embedder's two distances (``default_threshold``: the same person within it;
``default_other``: someone else beyond it); the look checks only ask a :class:`LookModel`
for a picture's statistics and for the difference between two. Embedders are registered
by name (``[continuity] embedder``); nothing in the checks changes with the model.

The built-in face model is dlib's: the HOG frontal face detector (fast on a CPU), the
5-point landmark model, and the ResNet that maps a face chip to 128 numbers, where two
photos of one person lie within about 0.6 of each other. Its model files come from the
``face-recognition-models`` package; that package's ``__init__`` needs pkg_resources,
so its folder is found without importing it. Models load once per process. The
"likeness drifting" band between 0.6 and 0.75 is this module's choice: dlib documents
only 0.6, and on real photos two different people were never closer than 0.65
(bench/RESULTS.md, issue 27).

The stronger one, ``arcface-onnx``, is an ArcFace-type network the user provides as an
ONNX file (``[continuity] face_model``; never downloaded), run by onnxruntime on the
faces dlib finds, each aligned by its landmarks to the 112x112 crop ArcFace models are
trained on (the eye centres and the nose of the InsightFace template). It must take
(batch, 3, 112, 112) float pixels scaled to -1..1 and give (batch, 512); anything else
is refused when the check starts, naming the shape it expected. Its descriptors are
unit vectors: a distance d is a cosine similarity of 1 - d^2/2, so 1.13 (deepface's
documented ArcFace threshold, cosine 0.36) is the same person and beyond 1.30 (cosine
0.15) someone else.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from setpiece.errors import InvalidInputError, MissingExtraError, needs_extra

if TYPE_CHECKING:
    from setpiece.continuity.look import LookDifference, LookStats

__all__ = [
    "EMBEDDERS",
    "DlibFaceEmbedder",
    "Face",
    "FaceEmbedder",
    "FaceScan",
    "LookModel",
    "OnnxFaceEmbedder",
    "face_embedder",
]


@dataclass(frozen=True)
class Face:
    """A face found in a picture: its box in the picture's own pixels and its descriptor."""

    left: int
    top: int
    right: int
    bottom: int
    descriptor: np.ndarray
    landmarks: np.ndarray | None = None  # (5, 2): dlib's eye corners and nose, picture pixels
    confidence: float = (
        1.0  # the detector's score (dlib HOG: above 0 is a face, above 1 a clear one)
    )

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
    default_threshold: float = 0.6  # the same person within this distance
    default_other: float = 0.75  # someone else beyond this one; between: a drifting likeness

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


@dataclass(frozen=True)
class _Found:
    """A detected face before it is described: its box, and its neighbourhood for the model."""

    box: tuple[int, int, int, int]
    region: np.ndarray  # the face's neighbourhood at full resolution
    shape: Any  # dlib's landmarks, in the region's pixels
    landmarks: np.ndarray  # the same five points in the picture's pixels
    confidence: float


def _detect(
    rgb: np.ndarray, *, detect_width: int, min_face: int, max_faces: int
) -> tuple[list[_Found], int, int]:
    """dlib's faces of a picture, largest first: (faces, found, too small)."""
    import cv2

    detector, landmarks, _ = _dlib_models()  # says which extra when dlib is missing
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
    boxes, scores, _ = detector.run(small, 1 if width < detect_width else 0, 0.0)
    if not len(boxes) and scale < 1:
        # A second look at full resolution, only where the downscaled frame showed no face:
        # a full figure walking in a 1024 px frame has a ~90 px face that the 640 px pass
        # misses (the Magic-Me walking clip, issue 27).
        (boxes, scores, _), scale = detector.run(pixels, 0, 0.0), 1.0
    found = [
        (
            max(0, round(box.left() / scale)),
            max(0, round(box.top() / scale)),
            min(width, round(box.right() / scale)),
            min(height, round(box.bottom() / scale)),
            float(score),
        )
        for box, score in zip(boxes, scores, strict=True)
    ]
    found.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    large = [b for b in found if b[2] - b[0] >= min_face]
    faces = []
    for left, top, right, bottom, score in large[:max_faces]:
        # dlib copies the whole picture it is handed: on a 1080p frame that copy costs
        # more than the network, so it gets the face's neighbourhood, at full resolution.
        pad = right - left
        x0, y0 = max(0, left - pad), max(0, top - pad)
        region = np.ascontiguousarray(
            pixels[y0 : min(height, bottom + pad), x0 : min(width, right + pad)]
        )
        shape = landmarks(region, dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0))
        points = np.array(
            [(shape.part(i).x + x0, shape.part(i).y + y0) for i in range(5)], dtype=np.float64
        )
        faces.append(_Found((left, top, right, bottom), region, shape, points, score))
    return faces, len(found), len(found) - len(large)


class DlibFaceEmbedder(FaceEmbedder):
    """dlib's HOG detector, 5-point landmarks and 128-d ResNet descriptor, on the CPU."""

    name = "dlib-resnet-v1"
    default_threshold = 0.6
    default_other = 0.75

    def scan(
        self, rgb: np.ndarray, *, detect_width: int = 640, min_face: int = 40, max_faces: int = 20
    ) -> FaceScan:
        _, _, network = _dlib_models()
        found, count, small = _detect(
            rgb, detect_width=detect_width, min_face=min_face, max_faces=max_faces
        )
        faces = [
            Face(
                *f.box,
                np.asarray(network.compute_face_descriptor(f.region, f.shape), dtype=np.float64),
                f.landmarks,
                f.confidence,
            )
            for f in found
        ]
        return FaceScan(faces, found=count, too_small=small)


# Where ArcFace models expect the eye centres and the nose in their 112x112 input
# (InsightFace's alignment template, arcface_dst).
_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366]], np.float32)
_INPUT = (3, 112, 112)
_LENGTH = 512
_EXPECTED = f"an ArcFace-type ONNX model with input (batch, {', '.join(map(str, _INPUT))}) float pixels in -1..1 and output (batch, {_LENGTH})"


def aligned_chip(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 RGB face chip an ArcFace model expects, aligned by dlib's five points.

    dlib's points 0-1 and 2-3 are the corners of the two eyes and 4 is the base of the
    nose; the eye centres and the nose are mapped onto the template by a similarity
    (rotation, scale, shift).
    """
    import cv2

    eyes = sorted([landmarks[0:2].mean(0), landmarks[2:4].mean(0)], key=lambda p: float(p[0]))
    source = np.array([eyes[0], eyes[1], landmarks[4]], dtype=np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(source, _TEMPLATE)
    if matrix is None:  # degenerate landmarks: a plain resize of the eye-nose box
        matrix = cv2.getAffineTransform(source, _TEMPLATE)
    return cv2.warpAffine(
        np.ascontiguousarray(rgb, dtype=np.uint8),
        matrix,
        (112, 112),
        borderMode=cv2.BORDER_REPLICATE,
    )


def _dims(shape: Any) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in shape]


def _onnx_session(model: Path) -> Any:
    """An onnxruntime session of ``model``, checked to be an ArcFace-type face model.

    Raises:
        InvalidInputError: No such file, not an ONNX model, or the wrong input or output shape.
        MissingExtraError: onnxruntime is not installed.
    """
    with needs_extra("arcface", "the arcface-onnx face embedder"):
        import onnxruntime

    if not model.is_file():
        raise InvalidInputError(
            f"face model {model} does not exist: set [continuity] face_model to {_EXPECTED}"
        )
    try:
        session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(
            f"face model {model} is not a usable ONNX model ({first}): expected {_EXPECTED}"
        ) from exc
    inputs, outputs = session.get_inputs(), session.get_outputs()
    shape = _dims(inputs[0].shape) if len(inputs) == 1 else []
    if len(inputs) != 1 or len(shape) != 4 or shape[1:] != list(_INPUT):
        got = ", ".join(f"{i.name} {tuple(i.shape)}" for i in inputs)
        raise InvalidInputError(f"face model {model} takes {got}: expected {_EXPECTED}")
    probe = np.zeros((1, *_INPUT), dtype=np.float32)
    try:
        result = np.asarray(session.run(None, {inputs[0].name: probe})[0])
    except Exception as exc:  # a graph that cannot run on a float input of that shape
        raise InvalidInputError(
            f"face model {model} cannot run on a (1, {', '.join(map(str, _INPUT))}) float input "
            f"({str(exc).strip()[:200]}): expected {_EXPECTED}"
        ) from exc
    if result.ndim != 2 or result.shape != (1, _LENGTH):
        raise InvalidInputError(
            f"face model {model} gives {outputs[0].name} of shape {tuple(result.shape)} for one "
            f"face: expected (batch, {_LENGTH}), an embedding of length {_LENGTH}; {_EXPECTED}"
        )
    return session


class OnnxFaceEmbedder(FaceEmbedder):
    """An ArcFace-type ONNX model on the faces dlib finds (see the module docstring)."""

    name = "arcface-onnx"
    default_threshold = 1.13
    default_other = 1.30

    def __init__(self, model: str | os.PathLike[str]) -> None:
        self.model = Path(model)
        self._session = _onnx_session(self.model)
        self._input = self._session.get_inputs()[0].name

    def scan(
        self, rgb: np.ndarray, *, detect_width: int = 640, min_face: int = 40, max_faces: int = 20
    ) -> FaceScan:
        found, count, small = _detect(
            rgb, detect_width=detect_width, min_face=min_face, max_faces=max_faces
        )
        faces = []
        for f in found:
            chip = aligned_chip(rgb, f.landmarks).astype(np.float32)
            batch = ((chip - 127.5) / 127.5).transpose(2, 0, 1)[None]
            vector = np.asarray(self._session.run(None, {self._input: batch})[0][0], np.float64)
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
            faces.append(Face(*f.box, vector, f.landmarks, f.confidence))
        return FaceScan(faces, found=count, too_small=small)


EMBEDDERS: dict[str, type[FaceEmbedder]] = {
    DlibFaceEmbedder.name: DlibFaceEmbedder,
    OnnxFaceEmbedder.name: OnnxFaceEmbedder,
}


@functools.lru_cache(maxsize=4)
def face_embedder(name: str = DlibFaceEmbedder.name, model: str = "") -> FaceEmbedder:
    """The face embedder called ``name`` (one instance per process and model file).

    Args:
        name: A name of :data:`EMBEDDERS`.
        model: The model file, for an embedder that needs one (``arcface-onnx``).

    Raises:
        InvalidInputError: An unknown name, a missing model path, or a bad model file.
    """
    if name not in EMBEDDERS:
        raise InvalidInputError(
            f"unknown face embedder {name!r}: available are {', '.join(sorted(EMBEDDERS))}"
        )
    if name == OnnxFaceEmbedder.name:
        if not model:
            raise InvalidInputError(
                f"the {name} face embedder needs a model file: set [continuity] face_model to "
                f"{_EXPECTED}"
            )
        return OnnxFaceEmbedder(model)
    return EMBEDDERS[name]()
