"""The torch side of the diffusers backend: device, dtype, loading, attention and adapters.

Imported only when a render needs a pipeline. Decisions:

- Device and dtype: CUDA in bfloat16 (float16 where the card has no bf16), Apple
  MPS in float16, else the CPU in float32; the ``device`` and ``dtype`` config
  keys override.
- Loading never reaches the network: every ``from_pretrained`` gets
  ``local_files_only=True``. Text-to-image and image-to-image load through
  diffusers' ``AutoPipelineFor*`` classes (which map, for example, a
  ``StableDiffusionPipeline`` folder to ``StableDiffusionImg2ImgPipeline``);
  the second mode of one folder is made with ``from_pipe``, sharing the first's
  weights. Video folders load as the class their ``model_index.json`` names.
- Attention is PyTorch's ``scaled_dot_product_attention``: models whose
  processors are diffusers' classic ``AttnProcessor`` family get
  ``AttnProcessor2_0``; models on diffusers' newer attention dispatcher use its
  default backend, which is the same function.
- LoRA adapters are loaded once per pipeline under a name derived from their
  path, then switched on (``set_adapters``) or off (``disable_lora``) per call.
- The IP-Adapter is loaded when a request brings reference images and unloaded
  for one that brings none (a UNet holding one refuses to run without image
  embeddings); its image encoder is kept, so loading it again reads only the
  adapter's own small weight file.
"""

from __future__ import annotations

import gc
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.generate.backends._diffusers_model import IPAdapterFiles, ModelFolder, first_line
from setpiece.generate.base import Mode, RenderError

__all__ = [
    "Loaded",
    "Shared",
    "choose_device",
    "choose_dtype",
    "free_memory",
    "is_out_of_memory",
    "load_pipeline",
    "set_ip_adapter",
    "set_lora",
    "use_sdpa",
]

_DTYPES = ("float32", "float16", "bfloat16")


def choose_device(configured: str | None) -> str:
    import torch

    if configured:
        return configured
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def choose_dtype(device: str, configured: str | None) -> Any:
    import torch

    if configured:
        if configured not in _DTYPES:
            raise RenderError(f"dtype {configured!r} is not one of {', '.join(_DTYPES)}")
        return getattr(torch, configured)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


@dataclass
class Shared:
    """What the pipelines of one model folder share: ``from_pipe`` shares the weights, so
    adapters loaded through one pipeline are in the others too."""

    scheduler_config: Any  # the folder's own scheduler, set afresh before each call
    scheduler_class: type
    loras: dict[Path, str] = field(default_factory=dict)  # path -> adapter name
    ip_adapter: IPAdapterFiles | None = None  # the one in the UNet now
    image_encoder: Any = None  # kept across unloads
    feature_extractor: Any = None


@dataclass
class Loaded:
    """A pipeline in memory and its folder's shared state."""

    pipe: Any
    shared: Shared


def load_pipeline(
    model: ModelFolder, mode: Mode, device: str, dtype: Any, sibling: Loaded | None
) -> Loaded:
    """Loads ``model`` for ``mode``, sharing weights with ``sibling`` (same folder) if given.

    Raises:
        RenderError: The folder cannot be loaded, or diffusers has no pipeline for the mode.
    """
    import diffusers
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image, DiffusionPipeline

    auto: Any = {
        Mode.TEXT_TO_IMAGE: AutoPipelineForText2Image,
        Mode.IMAGE_TO_IMAGE: AutoPipelineForImage2Image,
    }.get(mode, DiffusionPipeline)
    where = f"{model.path} ({model.class_name})"
    try:
        try:
            if sibling is not None and auto is not DiffusionPipeline:
                pipe = auto.from_pipe(sibling.pipe)
            else:
                pipe = auto.from_pretrained(str(model.path), dtype=dtype, local_files_only=True)
        except ValueError as exc:
            if "AutoPipeline can't find" not in str(exc):
                raise
            if mode is not Mode.TEXT_TO_IMAGE:
                raise RenderError(
                    f"diffusers {diffusers.__version__} has no {mode.value} pipeline for {where}"
                ) from exc
            # A text-to-image class AutoPipeline does not map (DiT, aMUSEd...): load it as it is.
            auto, sibling = DiffusionPipeline, None
            pipe = auto.from_pretrained(str(model.path), dtype=dtype, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, ImportError) as exc:
        raise RenderError(f"cannot load diffusers model {where}: {first_line(exc)}") from exc
    pipe.set_progress_bar_config(disable=True)
    if sibling is not None and auto is not DiffusionPipeline:
        return Loaded(pipe, sibling.shared)
    pipe.to(device)
    use_sdpa(pipe)
    return Loaded(pipe, Shared(pipe.scheduler.config, type(pipe.scheduler)))


def use_sdpa(pipe: Any) -> None:
    """Makes every classic diffusers attention layer of ``pipe`` use ``AttnProcessor2_0``."""
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    for component in pipe.components.values():
        processors = getattr(component, "attn_processors", None)
        if not processors:
            continue
        if all(type(p) in (AttnProcessor, AttnProcessor2_0) for p in processors.values()):
            component.set_attn_processor(AttnProcessor2_0())


def set_lora(loaded: Loaded, lora: Path | None, scale: float) -> None:
    """Switches ``lora`` on at ``scale`` (loading it the first time), or every LoRA off.

    Raises:
        RenderError: The pipeline takes no LoRA, peft is missing, or the file is not a LoRA.
    """
    pipe, shared = loaded.pipe, loaded.shared
    if lora is None:
        if shared.loras:
            pipe.disable_lora()
        return
    if not hasattr(pipe, "load_lora_weights"):
        raise RenderError(f"{type(pipe).__name__} takes no LoRA")
    from importlib.util import find_spec

    if find_spec("peft") is None:
        raise RenderError("LoRA needs peft: pip install 'setpiece[diffusers]'")
    name = shared.loras.get(lora)
    if name is None:
        name = "setpiece_" + hashlib.sha256(str(lora).encode()).hexdigest()[:12]
        folder, weight_name = (lora.parent, lora.name) if lora.is_file() else (lora, None)
        try:
            pipe.load_lora_weights(
                str(folder), weight_name=weight_name, adapter_name=name, local_files_only=True
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise RenderError(f"cannot load LoRA {lora}: {first_line(exc)}") from exc
        shared.loras[lora] = name
    pipe.enable_lora()
    pipe.set_adapters([name], adapter_weights=[scale])


def set_ip_adapter(loaded: Loaded, files: IPAdapterFiles | None, scale: float) -> None:
    """Loads ``files`` into the pipeline at ``scale``, or unloads the IP-Adapter it holds.

    Raises:
        RenderError: The pipeline takes no IP-Adapter of this kind, or the files are unusable.
    """
    from diffusers.loaders import IPAdapterMixin

    pipe: Any = loaded.pipe
    shared = loaded.shared
    if files is None:
        if shared.ip_adapter is not None:
            pipe.unload_ip_adapter()
            shared.ip_adapter = None
            use_sdpa(pipe)
        return
    if not isinstance(loaded.pipe, IPAdapterMixin):
        raise RenderError(
            f"{type(pipe).__name__} takes no UNet IP-Adapter: reference images need a"
            " Stable Diffusion style model"
        )
    if shared.ip_adapter is not None and shared.ip_adapter != files:
        set_ip_adapter(loaded, None, scale)
        shared.image_encoder = shared.feature_extractor = None  # another adapter, another encoder
    # Each pipeline object holds its own reference to the encoder, even where the UNet is shared.
    if shared.image_encoder is not None and getattr(pipe, "image_encoder", None) is None:
        pipe.register_modules(image_encoder=shared.image_encoder)
    if shared.feature_extractor is not None and getattr(pipe, "feature_extractor", None) is None:
        pipe.register_modules(feature_extractor=shared.feature_extractor)
    if shared.ip_adapter is None:
        try:
            pipe.load_ip_adapter(
                str(files.folder),
                subfolder="",
                weight_name=files.weights.name,
                image_encoder_folder=files.image_encoder.name,
                local_files_only=True,
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise RenderError(f"cannot load IP-Adapter {files.weights}: {first_line(exc)}") from exc
        shared.ip_adapter = files
        shared.image_encoder = pipe.image_encoder
        shared.feature_extractor = pipe.feature_extractor
    pipe.set_ip_adapter_scale(scale)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a CUDA or MPS out-of-memory error."""
    import torch

    kinds = tuple(
        kind
        for kind in (getattr(torch, "OutOfMemoryError", None), torch.cuda.OutOfMemoryError)
        if isinstance(kind, type)
    )
    if isinstance(exc, kinds):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_memory(device: str) -> None:
    """Gives the accelerator's cached memory back (the CPU's goes back by itself)."""
    import torch

    if device.startswith("cuda"):
        gc.collect()  # tensors held by reference cycles, e.g. a traceback's frames
        torch.cuda.empty_cache()
    elif device.startswith("mps"):
        gc.collect()
        torch.mps.empty_cache()
