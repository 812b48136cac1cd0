"""Diffusers: stills and shots from local model folders, rendered on this machine's GPU (or CPU).

A model is a folder saved by diffusers (``save_pretrained``, or a whole
download), named by the ``model`` config key or by the request. Nothing is
ever downloaded: a folder without ``model_index.json`` is refused. Its
``_class_name`` decides the modes: image pipelines (Stable Diffusion, SDXL,
SD3, Flux...) make stills from text and from an init image; the video
pipelines diffusers ships (AnimateDiff, CogVideoX, LTX, Wan, HunyuanVideo,
Stable Video Diffusion...) make shots from text or from a first frame.

Configuration (``[generators.diffusers]``, read into ``DiffusersSettings``; unknown keys
are refused); every key is optional:

    model             None     the model folder (the request's ``model`` wins)
    batch_size        4        stills of one shot rendered in one pipeline call
    video_batch_size  1        the same for videos
    device, dtype     auto     CUDA bfloat16, MPS float16, else CPU float32
    steps             None     num_inference_steps; None: the pipeline's own default
    guidance          None     guidance_scale; None: the pipeline's own default
    scheduler         None     a diffusers scheduler class name; None: the folder's
    strength          None     image-to-image strength; None: the pipeline's own
    lora              None     a LoRA folder or .safetensors file (peft)
    lora_scale        1.0
    ip_adapter        None     an IP-Adapter folder or weight file; None: the model's
                               ``ip_adapter/`` subfolder if it has one
    ip_adapter_scale  0.6
    concurrency       1        takes rendered at once (the render queue's)

A request's ``parameters`` may set ``steps``, ``guidance``, ``scheduler``,
``strength``, ``lora``, ``lora_scale`` and ``ip_adapter_scale`` for one take;
any other key is refused, so a misspelt setting is never silently dropped.

Decisions:

- Takes of one shot that differ only in seed are one pipeline call: a list of
  CPU ``torch.Generator`` s, one per seed, and ``num_images_per_prompt`` (or
  ``num_videos_per_prompt``). Diffusers draws each image's noise from its own
  generator, so a take's image depends on its seed alone; batched matrix
  products may differ from unbatched ones in the last float bit, which can move
  a pixel by one level in 8 bits. Generators live on the CPU so one seed starts
  from the same noise on any device. On out-of-memory a batch is halved and
  tried again; one image that does not fit is a transient error.
- Reference images go through an IP-Adapter (UNet pipelines: SD, SDXL,
  AnimateDiff...); the layout of its files is in ``_diffusers_model``. A model
  without one declares no reference images.
- ``model_hash`` is a SHA-256 of the folder's weight files (formula in
  ``_diffusers_model``), cached while their sizes and times stay the same; the
  LoRA's and the IP-Adapter's hashes are recorded beside it.
- Cost is measured, not quoted: the wall time of each pipeline call (loading included),
  shared equally by the takes of the batch, in ``gpu_seconds`` on CUDA and
  ``compute_seconds`` elsewhere. ``quote`` stays None: the render queue estimates from
  the generator's earlier takes.
- Pipelines stay loaded, one per (folder, mode), until ``close``. An instance
  renders one request at a time: give each worker thread its own.

Importing this module imports neither torch nor diffusers; rendering does.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from setpiece.config import setting
from setpiece.errors import InvalidInputError
from setpiece.generate.backends._diffusers_model import (
    ModelFolder,
    files_hash,
    first_line,
    read_model_folder,
    weight_files,
)
from setpiece.generate.base import (
    Capabilities,
    Cost,
    Generator,
    GeneratorSettings,
    Mode,
    Origin,
    Progress,
    RenderError,
    RenderRequest,
    RenderResult,
)

if TYPE_CHECKING:
    from setpiece.generate.backends._diffusers_runtime import Loaded

__all__ = ["PARAMETERS", "DiffusersGenerator", "DiffusersSettings"]

log = logging.getLogger(__name__)

PARAMETERS = (
    "steps",
    "guidance",
    "scheduler",
    "strength",
    "lora",
    "lora_scale",
    "ip_adapter_scale",
)
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes unsigned 64-bit seeds
_VIDEO = (Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO)
_FROM_IMAGE = (Mode.IMAGE_TO_IMAGE, Mode.IMAGE_TO_VIDEO)


@dataclass(frozen=True)
class Options:
    """The per-take settings: the config's defaults with the request's parameters over them."""

    steps: int | None
    guidance: float | None
    scheduler: str | None
    strength: float | None
    lora: Path | None
    lora_scale: float
    ip_adapter_scale: float

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> Options:
        """Raises: ValueError naming the bad key and value."""
        steps, guidance, strength = values["steps"], values["guidance"], values["strength"]
        scheduler, lora = values["scheduler"], values["lora"]
        if steps is not None and (
            isinstance(steps, bool) or not isinstance(steps, int) or steps < 1
        ):
            raise ValueError(f"steps must be a whole number from 1, not {steps!r}")
        if scheduler is not None and (
            not isinstance(scheduler, str) or not scheduler.endswith("Scheduler")
        ):
            raise ValueError(
                f"scheduler must name a diffusers scheduler class such as"
                f" 'EulerDiscreteScheduler', not {scheduler!r}"
            )
        if strength is not None and not 0 < _number("strength", strength) <= 1:
            raise ValueError(f"strength must be more than 0 and at most 1, not {strength!r}")
        if lora is not None and (not isinstance(lora, str | Path) or not str(lora).strip()):
            raise ValueError(f"lora must be a path to a folder or .safetensors file, not {lora!r}")
        return cls(
            steps=steps,
            guidance=None if guidance is None else _number("guidance", guidance),
            scheduler=scheduler,
            strength=None if strength is None else float(strength),
            lora=None if lora is None else Path(lora).expanduser(),
            lora_scale=_number("lora_scale", values["lora_scale"]),
            ip_adapter_scale=_number("ip_adapter_scale", values["ip_adapter_scale"]),
        )


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a number from 0, not {value!r}")
    return float(value)


def _optional_text(key: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{key} must be a non-empty string, not {value!r}")
    return value


@dataclass(frozen=True)
class DiffusersSettings(GeneratorSettings):
    """``[generators.diffusers]``, checked once (the module docstring lists the keys)."""

    model: str | None = None
    batch_size: int = setting(4, low=1, help="stills of one shot rendered in one pipeline call")
    video_batch_size: int = setting(1, low=1, help="videos of one shot in one pipeline call")
    device: str | None = None
    dtype: str | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    strength: float | None = None
    lora: str | None = None
    lora_scale: float = 1.0
    ip_adapter: str | None = None
    ip_adapter_scale: float = 0.6

    def __post_init__(self) -> None:
        for key in ("model", "device", "dtype", "ip_adapter"):
            _optional_text(key, getattr(self, key))
        Options.parse(self.options)

    @property
    def options(self) -> Mapping[str, Any]:
        """The defaults of the per-take ``PARAMETERS`` keys."""
        return {key: getattr(self, key) for key in PARAMETERS}


@dataclass
class _Chunk:
    """Requests that one pipeline call renders: the same in everything but the seed."""

    indices: list[int]
    requests: list[RenderRequest]

    @property
    def first(self) -> RenderRequest:
        return self.requests[0]


class DiffusersGenerator(Generator):
    """Renders with Hugging Face diffusers pipelines loaded from local model folders."""

    name: ClassVar[str] = "diffusers"
    Settings: ClassVar[type[GeneratorSettings]] = DiffusersSettings
    settings: DiffusersSettings
    origin: ClassVar[Origin] = Origin.TRAINED
    requires: ClassVar[tuple[str, ...]] = ("torch", "diffusers", "transformers")
    install_hint: ClassVar[str | None] = "pip install 'setpiece[diffusers]'"
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset(Mode), reference_images=True
    )

    def __init__(
        self,
        settings: GeneratorSettings | Mapping[str, Any] | None = None,
        *,
        project_dir: Path | None = None,
    ) -> None:
        super().__init__(settings, project_dir=project_dir)
        self._pipelines: dict[tuple[Path, Mode], Loaded] = {}
        self._hashes: dict[tuple[Any, ...], str] = {}
        self._device: str | None = None
        self._dtype: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # Ray and process pools pickle generators: loaded pipelines stay behind.
        return {**self.__dict__, "_pipelines": {}, "_dtype": None, "_device": None}

    # What it can do ------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """The configured model's capabilities, or every mode when no model is configured.

        Raises:
            InvalidInputError: The configured folder is not a diffusers model.
        """
        if self.settings.model is None:
            return self.default_capabilities
        return self._capabilities_of(self._read(Path(self.settings.model)))

    def _capabilities_of(self, model: ModelFolder) -> Capabilities:
        return Capabilities(modes=model.modes, reference_images=model.ip_adapter is not None)

    def check(self, request: RenderRequest) -> None:
        """Refuses what the request's model cannot do, reading only its ``model_index.json``.

        Raises:
            InvalidInputError: No model folder, not a diffusers model, a mode it lacks, an init
                image missing or out of place, a bad seed or parameter.
        """
        folder = self._folder(request)
        if str(folder) != self.settings.model:  # the request names another model: check on it
            other = copy.copy(self)
            other.settings = replace(self.settings, model=str(folder))
            other.check(request)
            return
        super().check(request)
        if request.mode in _FROM_IMAGE and request.init_image is None:
            raise InvalidInputError(f"diffusers {request.mode.value} needs an init image")
        if request.mode not in _FROM_IMAGE and request.init_image is not None:
            raise InvalidInputError(f"diffusers {request.mode.value} takes no init image")
        if not 0 <= request.seed <= MAX_SEED:
            raise InvalidInputError(f"diffusers seeds run from 0 to 2**64-1, not {request.seed}")
        if request.frames < 1:
            raise InvalidInputError(f"frames must be at least 1, not {request.frames}")
        self._options(request)

    def _folder(self, request: RenderRequest) -> Path:
        name = request.model or self.settings.model
        if not name:
            raise InvalidInputError(
                "the diffusers generator needs a model folder: set model in its config"
                " ([generators.diffusers] model = '/path/to/folder') or on the request"
            )
        return Path(name).expanduser()

    def _read(self, folder: Path) -> ModelFolder:
        return read_model_folder(folder, self.settings.ip_adapter)

    def _options(self, request: RenderRequest) -> Options:
        unknown = sorted(set(request.parameters) - set(PARAMETERS))
        if unknown:
            raise InvalidInputError(
                f"diffusers takes no parameter {', '.join(unknown)}: it takes {', '.join(PARAMETERS)}"
            )
        try:
            return Options.parse({**self.settings.options, **request.parameters})
        except ValueError as exc:
            raise InvalidInputError(f"diffusers parameters: {exc}") from exc

    # Rendering -----------------------------------------------------------------------------

    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Renders one take into ``workdir`` (a batch of one).

        Raises:
            RenderError: Refused (not transient: bad model folder, mode, input or parameter)
                or failed (transient only for out-of-memory).
        """
        return self.render_batch([request], workdir, progress)[0]

    def render_batch(
        self, requests: Sequence[RenderRequest], workdir: Path, progress: Progress | None = None
    ) -> list[RenderResult]:
        """Renders takes, one pipeline call per ``batch_size`` takes that differ only in seed.

        Results come in request order, each in a file of its own.

        Raises:
            RenderError: As ``render``; the first failing call ends the batch.
        """
        chunks = self._chunks(requests)
        results: list[RenderResult | None] = [None] * len(requests)
        done = 0

        def report(fraction_of_chunk: float, size: int = 0) -> None:
            if progress:
                progress(min(1.0, (done + fraction_of_chunk * size) / len(requests)))

        workdir.mkdir(parents=True, exist_ok=True)
        for chunk in chunks:
            started = time.monotonic()
            try:
                rendered = self._render_chunk(
                    chunk, workdir, partial(report, size=len(chunk.requests))
                )
            except InvalidInputError as exc:
                raise RenderError(str(exc)) from exc
            except RenderError:
                raise
            except Exception as exc:
                if self._device is None or not _out_of_memory(exc, self._device):
                    raise
                raise RenderError(
                    f"out of memory on {self._device} ({first_line(exc)}): retry when the"
                    " device is free, or lower batch_size or the size",
                    transient=True,
                ) from exc
            cost = self._measured(time.monotonic() - started, len(rendered))
            for index, result in zip(chunk.indices, rendered, strict=True):
                results[index] = replace(result, cost=cost)
            done += len(chunk.requests)
            report(0.0)
        return [result for result in results if result is not None]

    def billing_units(self) -> tuple[str, ...]:
        """GPU-seconds on CUDA, compute seconds elsewhere (``_measured``); both while the
        device is left to choose (``auto``: chosen when the first pipeline loads)."""
        device = self._device or self.settings.device
        if device is None:
            return ("gpu_seconds", "compute_seconds")
        return ("gpu_seconds",) if device.startswith("cuda") else ("compute_seconds",)

    def _measured(self, seconds: float, takes: int) -> Cost:
        """One take's share of a pipeline call's wall time, in GPU- or compute seconds."""
        unit = "gpu_seconds" if (self._device or "").startswith("cuda") else "compute_seconds"
        return Cost(amount=Decimal(f"{seconds / max(takes, 1):.3f}"), unit=unit)

    def _chunks(self, requests: Sequence[RenderRequest]) -> list[_Chunk]:
        groups: dict[str, _Chunk] = {}
        for index, request in enumerate(requests):
            key = json.dumps(
                [
                    request.mode.value,
                    request.prompt,
                    request.negative_prompt,
                    request.width,
                    request.height,
                    str(request.fps),
                    request.frames,
                    str(request.init_image),
                    [str(p) for p in request.references],
                    request.model,
                    request.parameters,
                ],
                sort_keys=True,
                default=str,
            )
            group = groups.setdefault(key, _Chunk([], []))
            group.indices.append(index)
            group.requests.append(request)
        chunks = []
        for group in groups.values():
            size = (
                self.settings.video_batch_size if group.first.is_video else self.settings.batch_size
            )
            for start in range(0, len(group.requests), size):
                chunks.append(
                    _Chunk(
                        group.indices[start : start + size], group.requests[start : start + size]
                    )
                )
        return chunks

    def _render_chunk(
        self, chunk: _Chunk, workdir: Path, progress: Callable[[float], None]
    ) -> list[RenderResult]:
        from setpiece.generate.backends import _diffusers_runtime as runtime

        for each in chunk.requests:
            self.check(each)
        request = chunk.first
        options = self._options(request)
        model = self._read(self._folder(request))
        init_image = resized = None
        if request.init_image is not None:
            init_image, resized = _open_image(request.init_image, (request.width, request.height))
        references = [_open_image(path)[0] for path in request.references]
        loaded = self._pipeline(model, request.mode)
        runtime.set_lora(loaded, options.lora, options.lora_scale)
        runtime.set_ip_adapter(
            loaded, model.ip_adapter if references else None, options.ip_adapter_scale
        )
        call = _Call.plan(loaded, request, options, init_image, references)
        call.recorded.update(
            device=self._device, dtype=str(self._dtype).removeprefix("torch."), attention="sdpa"
        )
        if resized:
            call.recorded["init_image_resized_from"] = list(resized)
        outputs = self._run(loaded, call, [r.seed for r in chunk.requests], progress)
        return self._results(model, options, call, chunk.requests, outputs, workdir)

    def _pipeline(self, model: ModelFolder, mode: Mode) -> Loaded:
        from setpiece.generate.backends import _diffusers_runtime as runtime

        key = (model.path.resolve(), mode)
        loaded = self._pipelines.get(key)
        if loaded is None:
            if self._device is None:
                self._device = runtime.choose_device(self.settings.device)
                self._dtype = runtime.choose_dtype(self._device, self.settings.dtype)
            sibling = next((p for (f, _), p in self._pipelines.items() if f == key[0]), None)
            loaded = runtime.load_pipeline(model, mode, self._device, self._dtype, sibling)
            self._pipelines[key] = loaded
        return loaded

    def _run(
        self,
        loaded: Loaded,
        call: _Call,
        seeds: list[int],
        progress: Callable[[float], None],
    ) -> list[Any]:
        """One pipeline call for ``seeds``; on out-of-memory, two calls of half as many."""
        try:
            return call.run(loaded, seeds, progress)
        except Exception as exc:
            assert self._device is not None
            if len(seeds) == 1 or not _out_of_memory(exc, self._device):
                raise
            half = len(seeds) // 2
            log.warning("diffusers: out of memory with %d takes at once, halving", len(seeds))
            first = self._run(loaded, call, seeds[:half], lambda f: progress(f / 2))
            return first + self._run(loaded, call, seeds[half:], lambda f: progress(0.5 + f / 2))

    def _results(
        self,
        model: ModelFolder,
        options: Options,
        call: _Call,
        requests: list[RenderRequest],
        outputs: list[Any],
        workdir: Path,
    ) -> list[RenderResult]:
        from setpiece.generate.backends import _diffusers_output as output

        model_hash = self._hash(model.path, weight_files(model.path))
        extra: dict[str, Any] = {}
        if options.lora is not None:
            lora_files = weight_files(options.lora) if options.lora.is_dir() else [options.lora]
            root = options.lora if options.lora.is_dir() else options.lora.parent
            extra.update(
                lora=str(options.lora),
                lora_scale=options.lora_scale,
                lora_hash=self._hash(root, lora_files),
            )
        if requests[0].references and model.ip_adapter is not None:
            files = model.ip_adapter
            extra.update(
                ip_adapter=str(files.weights),
                ip_adapter_scale=options.ip_adapter_scale,
                ip_adapter_hash=self._hash(
                    files.folder, [files.weights, *weight_files(files.image_encoder)]
                ),
            )
        stem = _stem(model.path)
        results = []
        for request, media in zip(requests, outputs, strict=True):
            pixels = output.to_uint8(media)
            parameters = {**call.recorded, **extra, "batch": len(requests)}
            if request.is_video:
                parameters.update(
                    frames=int(pixels.shape[0]),
                    fps=str(request.fps),
                    width=int(pixels.shape[2]),
                    height=int(pixels.shape[1]),
                )
                path = output.write_mp4(pixels, request.fps, workdir, stem, request.seed)
            else:
                parameters.update(width=int(pixels.shape[1]), height=int(pixels.shape[0]))
                path = output.write_png(pixels, workdir, stem, request.seed)
            results.append(
                RenderResult(
                    path=path,
                    model=model.path.resolve().name,
                    model_hash=model_hash,
                    parameters=parameters,
                )
            )
        return results

    def _hash(self, root: Path, files: list[Path]) -> str:
        """``files_hash``, kept while every file keeps its size and modification time."""
        stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        key = (str(root.resolve()), stats)
        if key not in self._hashes:
            self._hashes[key] = files_hash(root, files)
        return self._hashes[key]

    def close(self) -> None:
        """Drops every loaded pipeline and gives their memory back."""
        self._pipelines.clear()
        if self._device is not None and "torch" in sys.modules:
            from setpiece.generate.backends import _diffusers_runtime as runtime

            runtime.free_memory(self._device)


@dataclass
class _Call:
    """The keyword arguments of one pipeline call, and what of them a take records."""

    pipeline: str
    kwargs: dict[str, Any]
    recorded: dict[str, Any]
    per_prompt: str | None  # num_images_per_prompt or num_videos_per_prompt
    scheduler: str | None
    video: bool

    @classmethod
    def plan(
        cls,
        loaded: Loaded,
        request: RenderRequest,
        options: Options,
        init_image: Any,
        references: list[Any],
    ) -> _Call:
        """Maps the request onto the pipeline's own arguments, refusing what it does not take.

        Raises:
            RenderError: The pipeline lacks an argument the request needs.
        """
        pipe = loaded.pipe
        pipeline = type(pipe).__name__
        accepted = inspect.signature(pipe.__call__).parameters

        def default(name: str) -> Any:
            value = accepted[name].default if name in accepted else None
            return None if value is inspect.Parameter.empty else value

        def need(name: str, what: str) -> None:
            if name not in accepted:
                raise RenderError(f"{pipeline} takes no {what}")

        kwargs: dict[str, Any] = {}
        recorded: dict[str, Any] = {"pipeline": pipeline}
        if "prompt" in accepted:
            kwargs["prompt"] = request.prompt
        elif request.prompt.strip():
            recorded["prompt_ignored"] = True  # Stable Video Diffusion, for one, has no prompt
        if request.negative_prompt:
            need("negative_prompt", "negative prompt")
            kwargs["negative_prompt"] = request.negative_prompt
        if "width" in accepted and "height" in accepted:
            kwargs["width"], kwargs["height"] = request.width, request.height
        if "num_inference_steps" in accepted:
            kwargs["num_inference_steps"] = options.steps or default("num_inference_steps")
            recorded["steps"] = kwargs["num_inference_steps"]
        elif options.steps is not None:
            need("num_inference_steps", "steps")
        if options.guidance is not None:
            need("guidance_scale", "guidance scale")
            kwargs["guidance_scale"] = options.guidance
        recorded["guidance"] = kwargs.get("guidance_scale", default("guidance_scale"))
        if options.strength is not None:
            need("strength", "strength (it is not an image-to-image pipeline)")
            kwargs["strength"] = options.strength
        if request.mode in _FROM_IMAGE:
            need("image", "init image")
            kwargs["image"] = init_image
            if "strength" in accepted:
                recorded["strength"] = kwargs.get("strength", default("strength"))
        if request.is_video:
            frames = next((n for n in ("num_frames", "video_length") if n in accepted), None)
            if frames is None:
                raise RenderError(f"{pipeline} takes no frame count")
            kwargs[frames] = request.frames
            if "frame_rate" in accepted:
                kwargs["frame_rate"] = float(request.fps)
            elif "fps" in accepted:
                kwargs["fps"] = round(request.fps)
        if references:
            need("ip_adapter_image", "reference images")
            kwargs["ip_adapter_image"] = [references]  # one IP-Adapter, every reference
            recorded["references"] = len(references)
        if "output_type" in accepted:
            kwargs["output_type"] = "np" if request.is_video else "pil"
        scheduler = options.scheduler or loaded.shared.scheduler_class.__name__
        recorded["scheduler"] = scheduler
        per_prompt = next(
            (n for n in ("num_images_per_prompt", "num_videos_per_prompt") if n in accepted), None
        )
        return cls(pipeline, kwargs, recorded, per_prompt, options.scheduler, request.is_video)

    def run(self, loaded: Loaded, seeds: list[int], progress: Callable[[float], None]) -> list[Any]:
        """Calls the pipeline once for ``seeds`` (one per call where it cannot batch).

        Raises:
            RenderError: The pipeline refused its arguments (``ValueError``, ``TypeError``).
        """
        if self.per_prompt is None and len(seeds) > 1:
            outputs: list[Any] = []
            for index, seed in enumerate(seeds):

                def part(fraction: float, index: int = index) -> None:
                    progress((index + fraction) / len(seeds))

                outputs += self.run(loaded, [seed], part)
            return outputs
        import diffusers
        import torch

        pipe, shared = loaded.pipe, loaded.shared
        scheduler_class: Any = shared.scheduler_class
        if self.scheduler is not None:
            scheduler_class = getattr(diffusers, self.scheduler, None)
            if not isinstance(scheduler_class, type):
                raise RenderError(f"diffusers {diffusers.__version__} has no {self.scheduler}")
        pipe.scheduler = scheduler_class.from_config(shared.scheduler_config)
        kwargs = dict(self.kwargs)
        kwargs["generator"] = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
        if self.per_prompt is not None:
            kwargs[self.per_prompt] = len(seeds)
        if "callback_on_step_end" in inspect.signature(pipe.__call__).parameters:

            def on_step(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> Any:
                total = getattr(pipe, "num_timesteps", None) or kwargs.get("num_inference_steps")
                if total:
                    progress(min(1.0, (step + 1) / total))
                return tensors

            kwargs["callback_on_step_end"] = on_step
        try:
            output = pipe(**kwargs)
        except (ValueError, TypeError) as exc:
            raise RenderError(f"{self.pipeline} refused the request: {first_line(exc)}") from exc
        media = output.frames if self.video else output.images
        return list(media)[: len(seeds)]


def _open_image(path: Path, size: tuple[int, int] | None = None) -> tuple[Any, Any]:
    """An image as RGB, resized to ``size`` if given (init images: the take's size), and its
    original size if it was resized (else None).

    Raises:
        RenderError: The file is missing or not an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as handle:
            image = handle.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise RenderError(f"cannot read image {path}: {first_line(exc)}") from exc
    if size is None or image.size == size:
        return image, None
    return image.resize(size, Image.Resampling.LANCZOS), image.size


def _out_of_memory(exc: BaseException, device: str) -> bool:
    """Whether ``exc`` is the device running out of memory; if so, frees what it can."""
    from setpiece.generate.backends import _diffusers_runtime as runtime

    if not runtime.is_out_of_memory(exc):
        return False
    runtime.free_memory(device)
    return True


def _stem(folder: Path) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in folder.resolve().name)
    return cleaned.strip("-.")[:40] or "diffusers"
