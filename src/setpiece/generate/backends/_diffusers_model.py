"""What a diffusers model folder is, read from its files alone: no torch, no diffusers.

The queue asks a backend for its capabilities when it plans takes, so the
answer must be cheap: ``model_index.json`` names the pipeline class, and the
class name says which modes it serves (``modes_of``). The exact pipeline class
for a mode is resolved only when a render loads it, by diffusers itself; a
class this table guesses wrong fails there with a clear message.

IP-Adapter layout (decided here, after h94/IP-Adapter's ``models`` folder): a
folder holding one weight file (``*.safetensors`` or ``*.bin``, keys
``image_proj.*`` and ``ip_adapter.*``) and the CLIP image encoder beside it in
``image_encoder/``. It is the model folder's ``ip_adapter/`` subfolder, or the
folder or weight file named by the ``ip_adapter`` config key.

The model hash is the SHA-256 of, for each weight file (``*.safetensors``,
``*.bin``, and ``model_index.json``) in sorted relative-path order: its POSIX
relative path, a NUL, its size in decimal, a NUL, then its bytes. Hidden
folders (``.cache``, ``.git``) are skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from setpiece.errors import InvalidInputError
from setpiece.generate.base import Mode

__all__ = [
    "IPAdapterFiles",
    "ModelFolder",
    "files_hash",
    "find_ip_adapter",
    "first_line",
    "modes_of",
    "read_model_folder",
    "weight_files",
]

WEIGHT_SUFFIXES = (".safetensors", ".bin")
INDEX = "model_index.json"

# Pipeline class names, matched in this order. Diffusers names video pipelines by
# their family (Wan, LTX, CogVideoX, Mochi...) and image-to-video ones with
# ImageToVideo/I2V/Img2Vid; video-to-video, upsamplers and editors are not driven.
_NOT_DRIVEN = re.compile(r"VideoToVideo|V2V|VideoToWorld|LatentUpsample|Inpaint|Edit|Control|SR")
_IMAGE_TO_VIDEO = re.compile(r"ImageToVideo|I2V|Img2Vid|StableVideoDiffusion|^PIAPipeline$")
_TEXT_TO_VIDEO = re.compile(
    r"Video|AnimateDiff|Mochi|Latte|Allegro|^Wan|^LTX|SkyReels|TextToWorld|Helios|EasyAnimate|T2V"
)
# Families with an image-to-image pipeline in diffusers' AutoPipelineForImage2Image.
_IMAGE_TO_IMAGE_FAMILIES = re.compile(
    r"^(StableDiffusion|IF|Kandinsky|LatentConsistencyModel|Flux|QwenImage|ZImage)"
)


def modes_of(class_name: str) -> frozenset[Mode]:
    """The modes a pipeline class serves, judged from its name."""
    if _IMAGE_TO_VIDEO.search(class_name):
        return frozenset({Mode.IMAGE_TO_VIDEO})
    if _NOT_DRIVEN.search(class_name):
        return frozenset()
    if _TEXT_TO_VIDEO.search(class_name):
        return frozenset({Mode.TEXT_TO_VIDEO})
    if _IMAGE_TO_IMAGE_FAMILIES.search(class_name):
        return frozenset({Mode.TEXT_TO_IMAGE, Mode.IMAGE_TO_IMAGE})
    return frozenset({Mode.TEXT_TO_IMAGE})


@dataclass(frozen=True)
class IPAdapterFiles:
    """An IP-Adapter's weight file and its image encoder folder."""

    weights: Path
    image_encoder: Path

    @property
    def folder(self) -> Path:
        return self.weights.parent


@dataclass(frozen=True)
class ModelFolder:
    """A diffusers model folder as its ``model_index.json`` describes it."""

    path: Path
    class_name: str
    modes: frozenset[Mode]
    ip_adapter: IPAdapterFiles | None

    @property
    def is_video(self) -> bool:
        return bool(self.modes & {Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO})


def read_model_folder(path: Path, ip_adapter: str | None = None) -> ModelFolder:
    """Reads ``path/model_index.json`` and finds the folder's IP-Adapter.

    Args:
        path: The model folder.
        ip_adapter: The ``ip_adapter`` config value, if any (a folder or a weight file).

    Raises:
        InvalidInputError: Not a folder, no readable ``model_index.json``, no pipeline class
            in it, or a named IP-Adapter that is not there.
    """
    index = path / INDEX
    if not path.is_dir():
        raise InvalidInputError(f"diffusers model folder {path} does not exist or is not a folder")
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(
            f"{path} is not a diffusers model folder: it has no {INDEX}"
            " (save the pipeline with save_pretrained, or download it whole)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(
            f"{path} is not a usable diffusers model folder: {INDEX}: {exc}"
        ) from exc
    class_name = data.get("_class_name") if isinstance(data, dict) else None
    if not isinstance(class_name, str) or not class_name:
        raise InvalidInputError(
            f"{path} is not a usable diffusers model folder: {INDEX} names no pipeline class"
            " (_class_name; custom pipelines are not supported)"
        )
    return ModelFolder(
        path=path,
        class_name=class_name,
        modes=modes_of(class_name),
        ip_adapter=find_ip_adapter(path, ip_adapter),
    )


def find_ip_adapter(model: Path, configured: str | None) -> IPAdapterFiles | None:
    """The IP-Adapter named by ``configured``, else the one in ``model/ip_adapter``, else None.

    Raises:
        InvalidInputError: ``configured`` names nothing usable, or a folder holds several
            weight files (name the one to use).
    """
    if configured is None:
        folder = model / "ip_adapter"
        if not folder.is_dir():
            return None
        weights = _one_weight_file(folder)
        encoder = folder / "image_encoder"
        if weights is None or not (encoder / "config.json").is_file():
            return None
        return IPAdapterFiles(weights, encoder)
    target = Path(configured).expanduser()
    if target.is_dir():
        weights = _one_weight_file(target)
        if weights is None:
            raise InvalidInputError(
                f"IP-Adapter folder {target} holds no .safetensors or .bin file"
            )
    elif target.is_file() and target.suffix in WEIGHT_SUFFIXES:
        weights = target
    else:
        raise InvalidInputError(
            f"IP-Adapter {target} is neither a folder nor a .safetensors or .bin file"
        )
    encoder = weights.parent / "image_encoder"
    if not (encoder / "config.json").is_file():
        raise InvalidInputError(
            f"IP-Adapter {weights} has no image encoder: put its CLIP vision model in {encoder}"
        )
    return IPAdapterFiles(weights, encoder)


def _one_weight_file(folder: Path) -> Path | None:
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise InvalidInputError(
            f"IP-Adapter folder {folder} holds several weight files ({names}):"
            " name one with the ip_adapter config key"
        )
    return found[0] if found else None


def weight_files(folder: Path) -> list[Path]:
    """The files the model hash covers, in hashing order (see the module docstring)."""
    found = [
        path
        for path in folder.rglob("*")
        if (path.suffix in WEIGHT_SUFFIXES or path.relative_to(folder).as_posix() == INDEX)
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and path.is_file()
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def files_hash(root: Path, files: list[Path]) -> str:
    """SHA-256 over each file's path relative to ``root``, size and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(root).as_posix()
        digest.update(f"{relative}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def first_line(exc: BaseException) -> str:
    """An exception's first line, for one-line messages (torch's run to many)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
